using System.Globalization;
using System.Text.RegularExpressions;
using NotebookLab.Evaluation;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Views.Charts;

/// <summary>A named series of metric values against steps or (fractional) epochs.</summary>
public sealed record MetricSeries(string Name, double[] X, double[] Y);

/// <summary>
/// Teaching charts. Each returns a view that shows interactively where scripts run and as a static SVG everywhere
/// else (GitHub, exported HTML, grading reports); <c>ToGenericChart()</c> gives the Plotly.NET chart to customise.
/// </summary>
public static partial class Charts
{
    // ---------- training curves ----------

    /// <summary>Per-epoch metrics, e.g. <c>{"train_loss": [...], "val_loss": [...], "val_acc": [...]}</c>: one panel per
    /// metric (loss, acc, ...), training solid and validation dashed, x = epoch (1-based).</summary>
    public static ChartView TrainingCurves<TValues>(IReadOnlyDictionary<string, TValues> history, bool logY = false)
        where TValues : IEnumerable<double>
    {
        ArgumentNullException.ThrowIfNull(history);
        return TrainingCurves(history.Select(kv =>
        {
            var y = kv.Value.ToArray();
            return new MetricSeries(kv.Key, [.. Enumerable.Range(1, y.Length).Select(i => (double)i)], y);
        }), "epoch", logY);
    }

    /// <summary>Metric series against any x (steps, fractional epochs): grouped into one panel per metric family.</summary>
    public static ChartView TrainingCurves(IEnumerable<MetricSeries> series, string xTitle = "epoch", bool logY = false)
    {
        var all = series.ToList();
        if (all.Count == 0) throw new ArgumentException("TrainingCurves: no metric series given", nameof(series));
        var panels = all.GroupBy(s => SplitMetricName(s.Name).Family).Select(family =>
        {
            var lines = family.Select(s =>
            {
                var (split, _) = SplitMetricName(s.Name);
                return (ChartSeries)new LineSeries(split, s.X, s.Y)
                {
                    Dashed = split != "train",
                    Color = Palette.At(SplitColor(split)),
                    Markers = s.X.Length <= 30,
                };
            }).ToList();
            return new ChartSpec
            {
                Title = family.Key,
                XAxis = new ChartAxis { Title = xTitle },
                YAxis = new ChartAxis { Title = family.Key, Log = logY && family.Key.Contains("loss") },
                Series = lines,
                Width = all.Select(s => SplitMetricName(s.Name).Family).Distinct().Count() > 1 ? 460 : 640,
                Height = 320,
            };
        }).ToList();
        return new ChartView(panels);
    }

    static int SplitColor(string split) => split switch { "train" => 0, "val" => 1, "test" => 2, _ => 4 };

    /// <summary>"val_loss" → (val, loss); "train/acc" → (train, acc); "loss" → (train, loss).</summary>
    public static (string Split, string Family) SplitMetricName(string name)
    {
        var m = MetricName().Match(name);
        if (!m.Success) return ("train", name);
        var split = m.Groups[1].Value.ToLowerInvariant() switch { "valid" or "validation" => "val", var s => s };
        return (split, m.Groups[2].Value);
    }

    [GeneratedRegex("^(train|val|valid|validation|test)[_/ .-](.+)$", RegexOptions.IgnoreCase)]
    private static partial Regex MetricName();

    // ---------- heatmaps ----------

    /// <summary>A labelled heatmap, e.g. attention weights (rows = queries, columns = keys).</summary>
    public static ChartView Heatmap(double[,] weights, string[]? xLabels = null, string[]? yLabels = null, string? title = null,
        bool? annotate = null, string xTitle = "key", string yTitle = "query")
    {
        ArgumentNullException.ThrowIfNull(weights);
        var (rows, cols) = (weights.GetLength(0), weights.GetLength(1));
        xLabels ??= [.. Enumerable.Range(0, cols).Select(i => i.ToString(CultureInfo.InvariantCulture))];
        yLabels ??= [.. Enumerable.Range(0, rows).Select(i => i.ToString(CultureInfo.InvariantCulture))];
        var spec = new ChartSpec
        {
            Title = title,
            XAxis = new ChartAxis { Title = xTitle },
            YAxis = new ChartAxis { Title = yTitle },
            Series = [new HeatmapSeries(title ?? "weights", weights, xLabels, yLabels) { Annotate = annotate ?? (rows <= 16 && cols <= 16) }],
            Width = Math.Clamp(120 + cols * 40, 360, 900),
            Height = Math.Clamp(100 + rows * 34, 260, 800),
        };
        return new ChartView(spec);
    }

    /// <summary>A labelled heatmap of a 2-D tensor (at most 256×256).</summary>
    public static ChartView Heatmap(Tensor weights, string[]? xLabels = null, string[]? yLabels = null, string? title = null,
        bool? annotate = null, string xTitle = "key", string yTitle = "query") =>
        Heatmap(ToMatrix(weights, nameof(weights)), xLabels, yLabels, title, annotate, xTitle, yTitle);

    internal static double[,] ToMatrix(Tensor t, string what)
    {
        ArgumentNullException.ThrowIfNull(t, what);
        if (t.dim() != 2) throw new ArgumentException($"{what} must be 2-D, got shape {Shapes.Format(t.shape)}", what);
        if (t.shape[0] > 256 || t.shape[1] > 256)
            throw new ArgumentException($"{what} is {t.shape[0]}×{t.shape[1]}; a labelled heatmap takes at most 256×256 (slice it first)", what);
        return t.ToMatrix();
    }

    // ---------- confusion matrix ----------

    /// <summary>Rows = true class, columns = predicted; colour = row-normalised rate, cells show counts.</summary>
    public static ChartView ConfusionMatrix(int[] actual, int[] predicted, string[]? classNames = null, bool normalize = true) =>
        ConfusionMatrix(Metrics.ConfusionMatrix(actual, predicted, classNames: classNames), normalize);

    /// <summary>A confusion matrix counted by <see cref="Metrics.ConfusionMatrix(int[], int[], int?, IReadOnlyList{string})"/>, drawn as a heatmap.</summary>
    public static ChartView ConfusionMatrix(Evaluation.ConfusionMatrix matrix, bool normalize = true)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        var (k, counts) = (matrix.Classes, matrix.Counts);
        var z = new double[k, k];
        var text = new string[k, k];
        for (var r = 0; r < k; r++)
        {
            long rowTotal = 0;
            for (var c = 0; c < k; c++) rowTotal += counts[r, c];
            for (var c = 0; c < k; c++)
            {
                z[r, c] = normalize ? (rowTotal > 0 ? (double)counts[r, c] / rowTotal : 0) : counts[r, c];
                text[r, c] = counts[r, c].ToString(CultureInfo.InvariantCulture);
            }
        }
        string[] names = [.. matrix.ClassNames];
        var spec = new ChartSpec
        {
            Title = $"Confusion matrix: accuracy {(matrix.Accuracy * 100).ToString("F1", CultureInfo.InvariantCulture)}% of {matrix.Total:N0}",
            XAxis = new ChartAxis { Title = "predicted" },
            YAxis = new ChartAxis { Title = "true" },
            Series = [new HeatmapSeries(normalize ? "row-normalised rate" : "count", z, names, names)
            {
                Annotate = k <= 20, CellText = text, ZMin = normalize ? 0 : null, ZMax = normalize ? 1 : null,
            }],
            Width = Math.Clamp(160 + k * 48, 380, 900),
            Height = Math.Clamp(120 + k * 40, 320, 860),
        };
        return new ChartView(spec);
    }

    public static ChartView ConfusionMatrix(Tensor actual, Tensor predicted, string[]? classNames = null, bool normalize = true) =>
        ConfusionMatrix(ToInts(actual, nameof(actual)), ToInts(predicted, nameof(predicted)), classNames, normalize);

    internal static int[] ToInts(Tensor t, string what)
    {
        ArgumentNullException.ThrowIfNull(t, what);
        if (t.dim() != 1) throw new ArgumentException($"{what} must be 1-D class indices, got shape {Shapes.Format(t.shape)}", what);
        return t.ToInts();
    }

    // ---------- bars ----------

    /// <summary>One bar per entry, e.g. accuracy per model.</summary>
    public static ChartView Bars(IReadOnlyDictionary<string, double> values, string? title = null, string? valueTitle = null) =>
        Bars([.. values.Keys], title, valueTitle, ("value", values.Values.ToArray()));

    /// <summary>Grouped bars: one series per (name, values), values aligned with <paramref name="categories"/>.</summary>
    public static ChartView Bars(string[] categories, string? title, string? valueTitle, params (string Name, double[] Values)[] series)
    {
        if (series.Length == 0) throw new ArgumentException("Bars: no series given", nameof(series));
        var spec = new ChartSpec
        {
            Title = title,
            XAxis = new ChartAxis { Title = valueTitle },
            Series = [.. series.Select(s => (ChartSeries)new BarSeries(s.Name, categories, s.Values))],
            Height = Math.Clamp(90 + categories.Length * series.Length * 26, 220, 900),
        };
        return new ChartView(spec);
    }

    // ---------- line / scatter ----------

    /// <summary>Lines y(x), one per named series.</summary>
    public static ChartView Lines(double[] x, string? title = null, string? xTitle = null, string? yTitle = null, params (string Name, double[] Y)[] series) =>
        new(new ChartSpec
        {
            Title = title,
            XAxis = new ChartAxis { Title = xTitle },
            YAxis = new ChartAxis { Title = yTitle },
            Series = [.. series.Select(s => (ChartSeries)new LineSeries(s.Name, x, s.Y))],
        });

    /// <summary>A scatter plot coloured by group label.</summary>
    public static ChartView Scatter(double[] x, double[] y, IReadOnlyList<string> groups, string? title = null, string? xTitle = null, string? yTitle = null, string[]? hoverText = null)
    {
        if (x.Length != y.Length || x.Length != groups.Count)
            throw new ArgumentException($"Scatter: x, y and groups lengths differ ({x.Length}, {y.Length}, {groups.Count})");
        var series = groups.Select((g, i) => (g, i)).GroupBy(p => p.g).Select(grp =>
        {
            var idx = grp.Select(p => p.i).ToArray();
            return (ChartSeries)new ScatterSeries(grp.Key, [.. idx.Select(i => x[i])], [.. idx.Select(i => y[i])])
            {
                HoverText = hoverText is null ? null : [.. idx.Select(i => hoverText[i])],
            };
        }).ToList();
        return new ChartView(new ChartSpec { Title = title, XAxis = new() { Title = xTitle }, YAxis = new() { Title = yTitle }, Series = series });
    }
}
