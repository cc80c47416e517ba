using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookLab.Evaluation;

/// <summary>
/// How good is a representation? Three small tools used by the transfer-learning and self-supervised notebooks:
/// <see cref="ExtractFeatures"/> (a frozen encoder run once over the data), <see cref="LinearProbe"/> (a logistic
/// regression trained on those features) and <see cref="KnnAccuracy"/> (cosine k-nearest neighbours, no training).
/// </summary>
/// <remarks>
/// The probe is deterministic: its weights start at zero and the only randomness, the order of the mini-batches, comes
/// from <c>new Generator(seed)</c>. The same features and seed give a bit-identical head.
/// <code>
/// var train = Probes.ExtractFeatures(encoder, xTrain);           // [N, D], eval mode, no_grad, batched
/// var test = Probes.ExtractFeatures(encoder, xTest);
/// var probe = Probes.LinearProbe(train, yTrain, test, yTest, seed: seed);
/// double knn = Probes.KnnAccuracy(train, yTrain, test, yTest, k: 20);
/// </code>
/// </remarks>
public static class Probes
{
    /// <summary>
    /// Runs <paramref name="encoder"/> over <paramref name="inputs"/> in eval mode under <c>no_grad</c>, in batches of
    /// <paramref name="batchSize"/>; returns the features flattened to [N, D] on the CPU (float32). The encoder's
    /// training flag is restored afterwards.
    /// </summary>
    public static Tensor ExtractFeatures(nn.Module<Tensor, Tensor> encoder, Tensor inputs, int batchSize = 256) =>
        Metrics.ExtractFeatures(encoder, inputs, batchSize);

    /// <summary>
    /// Trains a linear classifier (multinomial logistic regression) on frozen features and reports its accuracy.
    /// </summary>
    /// <param name="trainFeatures">[N, D] features of the labelled training examples.</param>
    /// <param name="trainLabels">[N] class indices.</param>
    /// <param name="testFeatures">[M, D] features of the held-out examples.</param>
    /// <param name="testLabels">[M] class indices.</param>
    /// <param name="seed">Seeds the mini-batch order; the weights start at zero, so nothing else is random.</param>
    /// <param name="epochs">Passes over the training features.</param>
    /// <param name="lr">Adam's learning rate.</param>
    /// <param name="weightDecay">L2 penalty (Adam's weight decay).</param>
    /// <param name="batchSize">Mini-batch size; at least N means full-batch training.</param>
    /// <param name="standardize">Subtract the training mean and divide by the training std per feature first (the usual choice).</param>
    /// <param name="classes">Number of classes; default max label + 1.</param>
    public static ProbeResult LinearProbe(Tensor trainFeatures, Tensor trainLabels, Tensor testFeatures, Tensor testLabels,
        int seed = 0, int epochs = 50, double lr = 1e-2, double weightDecay = 0, int batchSize = 256, bool standardize = true,
        int? classes = null)
    {
        ArgumentNullException.ThrowIfNull(trainFeatures);
        ArgumentNullException.ThrowIfNull(testFeatures);
        if (trainFeatures.ndim != 2 || testFeatures.ndim != 2 || trainFeatures.shape[1] != testFeatures.shape[1])
            throw new ArgumentException($"Probes.LinearProbe: features must be [N, D] with the same D; found train {Shapes.Format(trainFeatures)} and test {Shapes.Format(testFeatures)}.");
        if (trainLabels.ndim != 1 || trainLabels.shape[0] != trainFeatures.shape[0] || testLabels.ndim != 1 || testLabels.shape[0] != testFeatures.shape[0])
            throw new ArgumentException($"Probes.LinearProbe: labels must be [N] matching the features; found train labels {Shapes.Format(trainLabels)} for {Shapes.Format(trainFeatures)}, test labels {Shapes.Format(testLabels)} for {Shapes.Format(testFeatures)}.");
        if (trainFeatures.shape[0] == 0) throw new ArgumentException("Probes.LinearProbe: no training features.", nameof(trainFeatures));
        if (epochs < 1) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "Train for at least one epoch.");
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be at least 1.");

        long n = trainFeatures.shape[0], d = trainFeatures.shape[1];
        int c;
        using (var labelScope = NewDisposeScope())
            c = classes ?? (int)Math.Max(trainLabels.max().item<long>(), testLabels.numel() > 0 ? testLabels.max().item<long>() : 0) + 1;

        var head = nn.Linear(d, c);
        Tensor mean, std;
        using (no_grad())
        {
            head.weight!.zero_();
            head.bias!.zero_();
        }
        using (var scope = NewDisposeScope())
        {
            var train = trainFeatures.detach().to(float32).cpu();
            if (standardize)
            {
                mean = train.mean([0], keepdim: true).MoveToOuterDisposeScope();
                std = train.std([0], keepdim: true).clamp_min(1e-6).MoveToOuterDisposeScope();
            }
            else
            {
                mean = zeros(1, d).MoveToOuterDisposeScope();
                std = ones(1, d).MoveToOuterDisposeScope();
            }
        }

        var x = ((trainFeatures.detach().to(float32).cpu() - mean) / std);
        var y = trainLabels.detach().to(int64).cpu();
        var generator = new Generator((ulong)seed);
        var optimizer = optim.Adam(head.parameters(), lr: lr, weight_decay: weightDecay);
        head.train();
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            using var epochScope = NewDisposeScope();
            var order = batchSize >= n ? null : randperm(n, generator: generator);
            for (long start = 0; start < n; start += batchSize)
            {
                using var scope = NewDisposeScope();
                long size = Math.Min(batchSize, n - start);
                Tensor xb, yb;
                if (order is null) (xb, yb) = (x, y);
                else
                {
                    var index = order.narrow(0, start, size);
                    (xb, yb) = (x.index_select(0, index), y.index_select(0, index));
                }
                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(head.forward(xb), yb);
                loss.backward();
                optimizer.step();
            }
        }
        head.eval();
        double trainAccuracy = Accuracy(head, x, y);
        double testAccuracy;
        using (var scope = NewDisposeScope())
            testAccuracy = Accuracy(head, (testFeatures.detach().to(float32).cpu() - mean) / std, testLabels.to(int64).cpu());
        x.Dispose();
        y.Dispose();
        optimizer.Dispose();
        generator.Dispose();
        return new ProbeResult(trainAccuracy, testAccuracy, head, mean, std);
    }

    /// <summary>
    /// k-nearest-neighbour accuracy with cosine similarity: each test feature takes the majority label of its
    /// <paramref name="k"/> most similar training features (ties go to the larger summed similarity). No training.
    /// </summary>
    public static double KnnAccuracy(Tensor trainFeatures, Tensor trainLabels, Tensor testFeatures, Tensor testLabels, int k = 20) =>
        Metrics.KnnAccuracy(trainFeatures, trainLabels, testFeatures, testLabels, k);

    static double Accuracy(Linear head, Tensor x, Tensor y)
    {
        if (y.shape[0] == 0) return double.NaN;
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return head.forward(x).argmax(1).eq(y).to(float64).mean().item<double>();
    }
}

/// <summary>What <see cref="Probes.LinearProbe"/> returns: accuracies, the trained head and the standardisation it expects.</summary>
public sealed record ProbeResult(double TrainAccuracy, double TestAccuracy, Linear Head, Tensor Mean, Tensor Std)
{
    /// <summary>Class scores [N, C] for raw (unstandardised) features [N, D].</summary>
    public Tensor Logits(Tensor features)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        return Head.forward((features.to(float32).cpu() - Mean) / Std).MoveToOuterDisposeScope();
    }

    /// <summary>Predicted class indices [N] for raw features [N, D].</summary>
    public Tensor Predict(Tensor features)
    {
        using var scope = NewDisposeScope();
        return Logits(features).argmax(1).MoveToOuterDisposeScope();
    }

    public override string ToString() => $"linear probe: train accuracy {TrainAccuracy:P1}, test accuracy {TestAccuracy:P1}";
}
