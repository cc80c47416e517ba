using System.Globalization;
using System.Text;
using Microsoft.DotNet.Interactive.Formatting;
using NotebookLab.Views;

namespace NotebookLab.Training;

/// <summary>One optimiser step: its global index (from 0), epoch (from 1), training loss of the batch, learning rate and batch size.</summary>
public sealed record StepRecord(long Step, int Epoch, double Loss, double LearningRate, long Examples = 0);

/// <summary>
/// One epoch's averages. Accuracy is null for regression; validation numbers are null without validation data.
/// Perplexity = e^loss, meaningful for <see cref="TaskKind.Sequence"/>.
/// </summary>
public sealed record EpochRecord(
    int Epoch,
    double TrainLoss,
    double? TrainAccuracy,
    double? ValidLoss,
    double? ValidAccuracy,
    double LearningRate,
    TimeSpan Duration)
{
    public double TrainPerplexity => Math.Exp(TrainLoss);
    public double? ValidPerplexity => ValidLoss is { } loss ? Math.Exp(loss) : null;

    public string ToString(TaskKind task)
    {
        static string F(double v) => v.ToString("0.0000", CultureInfo.InvariantCulture);
        var text = new StringBuilder($"epoch {Epoch,3}  train loss {F(TrainLoss)}");
        if (TrainAccuracy is { } ta) text.Append($"  acc {F(ta)}");
        if (task == TaskKind.Sequence) text.Append($"  ppl {TrainPerplexity.ToString("0.00", CultureInfo.InvariantCulture)}");
        if (ValidLoss is { } vl) text.Append($"  | valid loss {F(vl)}");
        if (ValidAccuracy is { } va) text.Append($"  acc {F(va)}");
        if (task == TaskKind.Sequence && ValidPerplexity is { } vp) text.Append($"  ppl {vp.ToString("0.00", CultureInfo.InvariantCulture)}");
        text.Append($"  | lr {LearningRate.ToString("0.####e0", CultureInfo.InvariantCulture)}  {Duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s");
        return text.ToString();
    }
}

/// <summary>
/// Everything a training run measured: per-epoch metrics, per-step losses and learning rates, and (when tracked)
/// the gradient norm of every named parameter at every step. Plain numbers only; renders as a table.
/// </summary>
[TypeFormatterSource(typeof(MimeViewFormatterSource<History>), PreferredMimeTypes = [MimeType.Html, MimeType.PlainText])]
public sealed class History : IMimeView
{
    readonly List<EpochRecord> epochs = [];
    readonly List<StepRecord> steps = [];
    readonly Dictionary<string, List<double>> gradientNorms = new(StringComparer.Ordinal);
    readonly List<long> gradientNormSteps = [];

    public History(TaskKind task, int plannedEpochs, int stepsPerEpoch)
    {
        Task = task;
        PlannedEpochs = plannedEpochs;
        StepsPerEpoch = stepsPerEpoch;
    }

    public TaskKind Task { get; }
    /// <summary>Epochs asked for (the run may stop earlier, see <see cref="StoppedEarly"/>).</summary>
    public int PlannedEpochs { get; internal set; }
    /// <summary>Batches per epoch (0 when the loader cannot tell in advance).</summary>
    public int StepsPerEpoch { get; internal set; }
    public IReadOnlyList<EpochRecord> Epochs => epochs;
    public IReadOnlyList<StepRecord> Steps => steps;
    /// <summary>‖∇‖₂ per named parameter, one value per tracked step (see <see cref="GradientNormSteps"/>).</summary>
    public IReadOnlyDictionary<string, List<double>> GradientNorms => gradientNorms;
    /// <summary>The step index of each value in <see cref="GradientNorms"/>.</summary>
    public IReadOnlyList<long> GradientNormSteps => gradientNormSteps;
    public bool StoppedEarly { get; internal set; }
    /// <summary>The epoch (from 1) with the best monitored validation value, when early stopping was on.</summary>
    public int? BestEpoch { get; internal set; }

    public double[] TrainLoss => epochs.Select(e => e.TrainLoss).ToArray();
    public double[] ValidLoss => epochs.Select(e => e.ValidLoss ?? double.NaN).ToArray();
    public double[] TrainAccuracy => epochs.Select(e => e.TrainAccuracy ?? double.NaN).ToArray();
    public double[] ValidAccuracy => epochs.Select(e => e.ValidAccuracy ?? double.NaN).ToArray();
    public double[] StepLoss => steps.Select(s => s.Loss).ToArray();
    public EpochRecord? Last => epochs.Count == 0 ? null : epochs[^1];

    internal void Add(StepRecord step) => steps.Add(step);
    internal void Add(EpochRecord epoch) => epochs.Add(epoch);

    internal void AddGradientNorms(long step, IReadOnlyList<string> names, ReadOnlySpan<float> norms)
    {
        gradientNormSteps.Add(step);
        for (int i = 0; i < names.Count; i++)
        {
            if (!gradientNorms.TryGetValue(names[i], out var list)) gradientNorms[names[i]] = list = [];
            list.Add(norms[i]);
        }
    }

    public override string ToString()
    {
        if (epochs.Count == 0) return $"History ({Task}): no epoch finished yet, {steps.Count} steps";
        var text = new StringBuilder($"History ({Task}, {epochs.Count}/{PlannedEpochs} epochs, {steps.Count} steps)\n");
        foreach (var epoch in epochs) text.Append(epoch.ToString(Task)).Append('\n');
        if (StoppedEarly) text.Append($"stopped early; best epoch {BestEpoch}\n");
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
        static string F(double? v, string format = "0.0000") => v is { } x ? x.ToString(format, CultureInfo.InvariantCulture) : "–";
        bool accuracy = Task != TaskKind.Regression, perplexity = Task == TaskKind.Sequence;
        var header = new List<string> { "epoch", "train loss" };
        if (accuracy) header.Add("train acc");
        if (perplexity) header.Add("train ppl");
        header.Add("valid loss");
        if (accuracy) header.Add("valid acc");
        if (perplexity) header.Add("valid ppl");
        header.AddRange(["lr", "time (s)"]);
        var table = new HtmlTable($"Training history ({Task}, {epochs.Count}/{PlannedEpochs} epochs, {steps.Count} steps" +
                                  (StoppedEarly ? $", stopped early, best epoch {BestEpoch})" : ")")).Header([.. header]);
        foreach (var e in epochs)
        {
            var row = new List<string> { e.Epoch.ToString(CultureInfo.InvariantCulture), F(e.TrainLoss) };
            if (accuracy) row.Add(F(e.TrainAccuracy));
            if (perplexity) row.Add(F(e.TrainPerplexity, "0.00"));
            row.Add(F(e.ValidLoss));
            if (accuracy) row.Add(F(e.ValidAccuracy));
            if (perplexity) row.Add(F(e.ValidPerplexity, "0.00"));
            row.Add(e.LearningRate.ToString("0.####e0", CultureInfo.InvariantCulture));
            row.Add(F(e.Duration.TotalSeconds, "0.0"));
            table.Row([.. row]);
        }
        return table.ToString();
    }
}
