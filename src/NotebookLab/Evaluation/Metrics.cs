using System.Globalization;
using System.Text;
using Microsoft.DotNet.Interactive.Formatting;
using NotebookLab.Data;
using NotebookLab.Training;
using NotebookLab.Views;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Evaluation;

/// <summary>Classification metrics, embedding quality (kNN, linear probe) and PCA.</summary>
public static class Metrics
{
    /// <summary>
    /// Fraction of correct predictions. <paramref name="outputs"/> are logits/scores [N, C] (argmax is taken) or
    /// predicted labels [N]; <paramref name="targets"/> are labels [N].
    /// </summary>
    public static double Accuracy(Tensor outputs, Tensor targets)
    {
        using var scope = torch.NewDisposeScope();
        var predictions = Predictions(outputs, targets);
        return predictions.eq(targets.to(predictions.device)).to(float64).mean().item<double>();
    }

    /// <summary>Fraction of examples whose label is among the <paramref name="k"/> highest scores of [N, C] logits.</summary>
    public static double TopKAccuracy(Tensor logits, Tensor targets, int k = 5)
    {
        if (logits.ndim != 2 || targets.ndim != 1 || logits.shape[0] != targets.shape[0])
            throw new ArgumentException($"Top-k accuracy expects logits [N, C] and targets [N]; found {Shapes.Format(logits)} and {Shapes.Format(targets)}.");
        if (k < 1 || k > logits.shape[1])
            throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be between 1 and the number of classes ({logits.shape[1]}).");
        using var scope = torch.NewDisposeScope();
        var top = logits.topk(k, dim: 1).indexes;
        return top.eq(targets.to(top.device).unsqueeze(1)).any(1).to(float64).mean().item<double>();
    }

    /// <summary>Counts[true, predicted] over <paramref name="classes"/> classes (default: inferred from the data).</summary>
    public static ConfusionMatrix ConfusionMatrix(Tensor outputs, Tensor targets, int? classes = null, IReadOnlyList<string>? classNames = null)
    {
        using var scope = torch.NewDisposeScope();
        var predictions = Predictions(outputs, targets).cpu().to(int64).data<long>().Select(v => (int)v).ToArray();
        var truth = targets.cpu().to(int64).data<long>().Select(v => (int)v).ToArray();
        // With logits [N, C] there are C classes even when some never occur.
        classes ??= classNames is null && outputs.ndim == 2 ? (int)Math.Max(outputs.shape[1], Math.Max(predictions.DefaultIfEmpty().Max(), truth.DefaultIfEmpty().Max()) + 1) : null;
        return ConfusionMatrix(truth, predictions, classes, classNames);
    }

    /// <summary>
    /// Counts[true, predicted] of class indices; <paramref name="classes"/> defaults to the number of class names, else
    /// the largest index + 1. <see cref="Views.Charts.Charts.ConfusionMatrix(int[], int[], string[], bool)"/> draws it.
    /// </summary>
    public static ConfusionMatrix ConfusionMatrix(int[] actual, int[] predicted, int? classes = null, IReadOnlyList<string>? classNames = null)
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(predicted);
        if (actual.Length != predicted.Length)
            throw new ArgumentException($"Confusion matrix: {actual.Length} true labels but {predicted.Length} predictions.");
        int n = classes ?? classNames?.Count ?? Math.Max(actual.DefaultIfEmpty(-1).Max(), predicted.DefaultIfEmpty(-1).Max()) + 1;
        if (classNames is not null && classNames.Count != n)
            throw new ArgumentException($"{classNames.Count} class names given for {n} classes.", nameof(classNames));
        var counts = new long[n, n];
        for (int i = 0; i < actual.Length; i++)
        {
            var (a, p) = (actual[i], predicted[i]);
            if (a < 0 || a >= n || p < 0 || p >= n)
                throw new ArgumentOutOfRangeException(nameof(actual), $"Confusion matrix: item {i} has label {a} and prediction {p}, outside 0…{n - 1}.");
            counts[a, p]++;
        }
        return new ConfusionMatrix(counts, classNames ?? Enumerable.Range(0, n).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList());
    }

    static Tensor Predictions(Tensor outputs, Tensor targets)
    {
        if (targets.ndim != 1) throw new ArgumentException($"Targets must be labels [N]; found {Shapes.Format(targets)}.", nameof(targets));
        if (outputs.ndim == 2 && outputs.shape[0] == targets.shape[0]) return outputs.argmax(1);
        if (outputs.ndim == 1 && outputs.shape[0] == targets.shape[0]) return outputs.to(int64);
        throw new ArgumentException($"Expected logits [N, C] or predicted labels [N] for targets {Shapes.Format(targets)}; found {Shapes.Format(outputs)}.", nameof(outputs));
    }

    /// <summary>
    /// k-nearest-neighbour accuracy with cosine similarity: each test embedding takes the majority label of its
    /// <paramref name="k"/> most similar training embeddings (ties go to the label with the larger summed similarity).
    /// The standard quick test of self-supervised representations.
    /// </summary>
    public static double KnnAccuracy(Tensor trainEmbeddings, Tensor trainLabels, Tensor testEmbeddings, Tensor testLabels, int k = 5)
    {
        if (trainEmbeddings.ndim != 2 || testEmbeddings.ndim != 2 || trainEmbeddings.shape[1] != testEmbeddings.shape[1])
            throw new ArgumentException($"Embeddings must be [N, D] with the same D; found train {Shapes.Format(trainEmbeddings)} and test {Shapes.Format(testEmbeddings)}.");
        if (trainLabels.ndim != 1 || trainLabels.shape[0] != trainEmbeddings.shape[0] || testLabels.ndim != 1 || testLabels.shape[0] != testEmbeddings.shape[0])
            throw new ArgumentException($"Labels must be [N] matching the embeddings; found train labels {Shapes.Format(trainLabels)}, test labels {Shapes.Format(testLabels)}.");
        if (k < 1 || k > trainEmbeddings.shape[0]) throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be between 1 and {trainEmbeddings.shape[0]}.");
        using var scope = torch.NewDisposeScope();
        var train = nn.functional.normalize(trainEmbeddings.detach().to(float32), dim: 1);
        var test = nn.functional.normalize(testEmbeddings.detach().to(float32).to(train.device), dim: 1);
        var labels = trainLabels.cpu().to(int64).data<long>().ToArray();
        var truth = testLabels.cpu().to(int64).data<long>().ToArray();
        long correct = 0;
        const int chunk = 1024;
        for (long start = 0; start < test.shape[0]; start += chunk)
        {
            using var inner = torch.NewDisposeScope();
            long size = Math.Min(chunk, test.shape[0] - start);
            var (values, indices) = test.narrow(0, start, size).matmul(train.T).topk(k, dim: 1);
            var sims = values.cpu().data<float>().ToArray();
            var idx = indices.cpu().data<long>().ToArray();
            for (int i = 0; i < size; i++)
            {
                var votes = new Dictionary<long, (int Count, double Sum)>();
                for (int j = 0; j < k; j++)
                {
                    var label = labels[idx[i * k + j]];
                    var v = votes.GetValueOrDefault(label);
                    votes[label] = (v.Count + 1, v.Sum + sims[i * k + j]);
                }
                var winner = votes.OrderByDescending(kv => kv.Value.Count).ThenByDescending(kv => kv.Value.Sum).First().Key;
                if (winner == truth[start + i]) correct++;
            }
        }
        return (double)correct / truth.Length;
    }

    /// <summary>
    /// Linear probe: freezes the features (they are plain tensors here), standardises them with the training mean and
    /// std, trains a logistic-regression layer with <see cref="Learner"/> and reports train and test accuracy.
    /// </summary>
    public static LinearProbeResult LinearProbe(Tensor trainFeatures, Tensor trainLabels, Tensor testFeatures, Tensor testLabels,
        int epochs = 30, double lr = 1e-2, int batchSize = 256, int? classes = null, Device? device = null)
    {
        if (trainFeatures.ndim != 2 || testFeatures.ndim != 2 || trainFeatures.shape[1] != testFeatures.shape[1])
            throw new ArgumentException($"Features must be [N, D] with the same D; found train {Shapes.Format(trainFeatures)} and test {Shapes.Format(testFeatures)}.");
        if (trainLabels.ndim != 1 || trainLabels.shape[0] != trainFeatures.shape[0] || testLabels.ndim != 1 || testLabels.shape[0] != testFeatures.shape[0])
            throw new ArgumentException($"Labels must be [N] matching the features; found train labels {Shapes.Format(trainLabels)}, test labels {Shapes.Format(testLabels)}.");
        var dev = device ?? torch.CPU;
        int n;
        using (var labelScope = torch.NewDisposeScope())
            n = classes ?? (int)Math.Max(trainLabels.max().item<long>(), testLabels.max().item<long>()) + 1;
        Tensor xTrain, xTest, yTrain, yTest;
        using (var scope = torch.NewDisposeScope())
        {
            var train = trainFeatures.detach().to(float32).cpu();
            var mean = train.mean([0], keepdim: true);
            var std = train.std([0], keepdim: true).clamp_min(1e-6);
            xTrain = ((train - mean) / std).MoveToOuterDisposeScope();
            xTest = ((testFeatures.detach().to(float32).cpu() - mean) / std).MoveToOuterDisposeScope();
            yTrain = trainLabels.to(int64).cpu().MoveToOuterDisposeScope();
            yTest = testLabels.to(int64).cpu().MoveToOuterDisposeScope();
        }
        var probe = nn.Linear(trainFeatures.shape[1], n);
        var learner = new Learner(probe, new DataLoader(xTrain, yTrain, batchSize, shuffle: true), new DataLoader(xTest, yTest, 1024), lr: lr, device: dev);
        learner.Observers.Add(TrainingObservers.None);
        var history = learner.Fit(epochs);
        double trainAccuracy = learner.Evaluate(new DataLoader(xTrain, yTrain, 1024)).Accuracy!.Value;
        double testAccuracy = learner.Evaluate(new DataLoader(xTest, yTest, 1024)).Accuracy!.Value;
        foreach (var t in new[] { xTrain, xTest, yTrain, yTest }) t.Dispose();
        return new LinearProbeResult(trainAccuracy, testAccuracy, history, probe);
    }

    /// <summary>
    /// Runs a frozen encoder over <paramref name="inputs"/> in eval mode without gradients, in batches; returns
    /// features [N, D] on the CPU. Use before <see cref="KnnAccuracy"/> or <see cref="LinearProbe"/>.
    /// </summary>
    public static Tensor ExtractFeatures(nn.Module<Tensor, Tensor> encoder, Tensor inputs, int batchSize = 256)
    {
        bool wasTraining = encoder.training;
        encoder.eval();
        try
        {
            var device = encoder.parameters().FirstOrDefault()?.device ?? torch.CPU;
            var parts = new List<Tensor>();
            using var noGrad = torch.no_grad();
            for (long start = 0; start < inputs.shape[0]; start += batchSize)
            {
                using var scope = torch.NewDisposeScope();
                var batch = inputs.narrow(0, start, Math.Min(batchSize, inputs.shape[0] - start)).to(device);
                parts.Add(encoder.forward(batch).flatten(1).cpu().MoveToOuterDisposeScope());
            }
            var features = torch.cat(parts, 0);
            foreach (var p in parts) p.Dispose();
            return features;
        }
        finally
        {
            if (wasTraining) Freezing.Train(encoder);
        }
    }

    /// <summary>Principal component analysis by SVD of the centred data [N, D], keeping <paramref name="components"/> directions.</summary>
    public static PcaResult Pca(Tensor data, int components = 2)
    {
        if (data.ndim != 2) throw new ArgumentException($"PCA expects data [N, D]; found {Shapes.Format(data)}.", nameof(data));
        if (components < 1 || components > Math.Min(data.shape[0], data.shape[1]))
            throw new ArgumentOutOfRangeException(nameof(components), components, $"Between 1 and min(N, D) = {Math.Min(data.shape[0], data.shape[1])}.");
        using var scope = torch.NewDisposeScope();
        var x = data.detach().to(float64).cpu();
        var mean = x.mean([0]);
        var centred = x - mean;
        var (_, s, vh) = torch.linalg.svd(centred, fullMatrices: false);
        var variance = s.square() / Math.Max(1, data.shape[0] - 1);
        var ratio = variance / variance.sum();
        var basis = vh.narrow(0, 0, components);
        // Fix each direction's sign (largest |loading| positive) so results are reproducible across LAPACK builds.
        var pivot = basis.abs().argmax(1, keepdim: true);
        var signs = basis.gather(1, pivot).sign();
        basis = basis * signs;
        return new PcaResult(
            mean.to(float32).MoveToOuterDisposeScope(),
            basis.to(float32).MoveToOuterDisposeScope(),
            variance.narrow(0, 0, components).data<double>().ToArray(),
            ratio.narrow(0, 0, components).data<double>().ToArray());
    }
}

/// <summary>Counts[true, predicted], with per-class recall and precision; renders as a shaded table.</summary>
[TypeFormatterSource(typeof(MimeViewFormatterSource<ConfusionMatrix>), PreferredMimeTypes = [MimeType.Html, MimeType.PlainText])]
public sealed class ConfusionMatrix(long[,] counts, IReadOnlyList<string> classNames) : IMimeView
{
    public long[,] Counts { get; } = counts;
    public IReadOnlyList<string> ClassNames { get; } = classNames;
    public int Classes => Counts.GetLength(0);
    public long Total => Enumerable.Range(0, Classes).Sum(i => Enumerable.Range(0, Classes).Sum(j => Counts[i, j]));
    public double Accuracy => Total == 0 ? double.NaN : (double)Enumerable.Range(0, Classes).Sum(i => Counts[i, i]) / Total;

    /// <summary>Per class: correct / examples of that class.</summary>
    public double[] Recall => Enumerable.Range(0, Classes).Select(i =>
    {
        long row = Enumerable.Range(0, Classes).Sum(j => Counts[i, j]);
        return row == 0 ? double.NaN : (double)Counts[i, i] / row;
    }).ToArray();

    /// <summary>Per class: correct / predictions of that class.</summary>
    public double[] Precision => Enumerable.Range(0, Classes).Select(j =>
    {
        long column = Enumerable.Range(0, Classes).Sum(i => Counts[i, j]);
        return column == 0 ? double.NaN : (double)Counts[j, j] / column;
    }).ToArray();

    /// <summary>Per class: the harmonic mean of precision and recall, 2PR / (P + R); 0 when the class is never predicted correctly, NaN when it never occurs.</summary>
    public double[] F1 => Recall.Zip(Precision, (recall, precision) =>
        double.IsNaN(recall) ? double.NaN                                  // the class never occurs
        : double.IsNaN(precision) || recall + precision == 0 ? 0          // never predicted, or never right
        : 2 * precision * recall / (precision + recall)).ToArray();

    /// <summary>The most frequent confusions (true, predicted, count), largest first.</summary>
    public IReadOnlyList<(string True, string Predicted, long Count)> TopConfusions(int n = 5) =>
        (from i in Enumerable.Range(0, Classes) from j in Enumerable.Range(0, Classes)
         where i != j && Counts[i, j] > 0 orderby Counts[i, j] descending, i, j
         select (ClassNames[i], ClassNames[j], Counts[i, j])).Take(n).ToList();

    public override string ToString()
    {
        int width = Math.Max(6, ClassNames.Max(c => c.Length));
        int cell = Math.Max(5, Total.ToString(CultureInfo.InvariantCulture).Length + 1);
        var text = new StringBuilder($"Confusion matrix (rows: true, columns: predicted), accuracy {Accuracy.ToString("0.0000", CultureInfo.InvariantCulture)}\n");
        text.Append(new string(' ', width + 2));
        for (int j = 0; j < Classes; j++) text.Append(j.ToString(CultureInfo.InvariantCulture).PadLeft(cell));
        text.Append('\n');
        for (int i = 0; i < Classes; i++)
        {
            text.Append(ClassNames[i].PadRight(width)).Append($"{i,2}");
            for (int j = 0; j < Classes; j++) text.Append(Counts[i, j].ToString(CultureInfo.InvariantCulture).PadLeft(cell));
            text.Append('\n');
        }
        return text.ToString().TrimEnd('\n');
    }

    public IReadOnlyList<string> MimeTypes => MimeType.HtmlAndText;

    public string Render(string mimeType) => mimeType switch
    {
        MimeType.Html => ToHtml(),
        MimeType.PlainText => ToString(),
        _ => throw MimeViews.NotOffered(this, mimeType),
    };

    public string ToHtml()
    {
        long max = Math.Max(1, Enumerable.Range(0, Classes).SelectMany(i => Enumerable.Range(0, Classes).Select(j => Counts[i, j])).Max());
        var html = new StringBuilder("<table class=\"notebooklab-confusion\" style=\"border-collapse:collapse;font-family:sans-serif;font-size:12px\">");
        html.Append($"<caption style=\"text-align:left;font-weight:bold\">Confusion matrix (rows: true, columns: predicted), accuracy {Accuracy.ToString("0.0000", CultureInfo.InvariantCulture)}</caption><tr><th></th>");
        foreach (var name in ClassNames) html.Append("<th style=\"padding:2px 4px\">").Append(Views.Html.Encode(name)).Append("</th>");
        html.Append("</tr>");
        for (int i = 0; i < Classes; i++)
        {
            html.Append("<tr><th style=\"text-align:right;padding:2px 4px\">").Append(Views.Html.Encode(ClassNames[i])).Append("</th>");
            for (int j = 0; j < Classes; j++)
            {
                double shade = (double)Counts[i, j] / max;
                string colour = i == j ? $"rgba(31,119,180,{shade:0.###})" : $"rgba(214,39,40,{shade:0.###})";
                html.Append($"<td style=\"text-align:right;padding:2px 6px;background:{colour}\">{Counts[i, j]}</td>");
            }
            html.Append("</tr>");
        }
        return html.Append("</table>").ToString();
    }
}

/// <summary>Train and test accuracy of a linear probe, its training history and the trained layer.</summary>
public sealed record LinearProbeResult(double TrainAccuracy, double TestAccuracy, History History, nn.Module<Tensor, Tensor> Classifier)
{
    public override string ToString() =>
        $"Linear probe: train accuracy {TrainAccuracy.ToString("0.0000", CultureInfo.InvariantCulture)}, test accuracy {TestAccuracy.ToString("0.0000", CultureInfo.InvariantCulture)}";
}

/// <summary>A PCA fit: the mean [D], the principal directions [k, D] (rows, unit length) and explained variance.</summary>
public sealed record PcaResult(Tensor Mean, Tensor Components, double[] ExplainedVariance, double[] ExplainedVarianceRatio)
{
    /// <summary>Projects data [N, D] onto the components: [N, k].</summary>
    public Tensor Transform(Tensor data)
    {
        if (data.ndim != 2 || data.shape[1] != Mean.shape[0])
            throw new ArgumentException($"PCA was fitted on data [N, {Mean.shape[0]}]; found {Shapes.Format(data)}.", nameof(data));
        using var scope = torch.NewDisposeScope();
        return (data.to(float32).to(Mean.device) - Mean).matmul(Components.T).MoveToOuterDisposeScope();
    }

    public override string ToString() =>
        $"PCA: {Components.shape[0]} components of {Mean.shape[0]} dimensions, explained variance ratio " +
        string.Join(", ", ExplainedVarianceRatio.Select(r => r.ToString("0.000", CultureInfo.InvariantCulture)));
}
