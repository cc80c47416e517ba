namespace NotebookLab.Views.Charts;

/// <summary>An axis of a <see cref="ChartSpec"/>.</summary>
public sealed record ChartAxis
{
    public string? Title { get; init; }
    public bool Log { get; init; }
    public double? Min { get; init; }
    public double? Max { get; init; }
}

/// <summary>A series of a chart. Colours are CSS hex (<c>#rrggbb</c>); null takes the next colour of <see cref="Palette"/>.</summary>
public abstract record ChartSeries(string Name)
{
    public string? Color { get; init; }
}

/// <summary>A line through (X[i], Y[i]); dashed lines are the convention for validation metrics.</summary>
public sealed record LineSeries(string Name, double[] X, double[] Y) : ChartSeries(Name)
{
    public bool Dashed { get; init; }
    public bool Markers { get; init; }
}

/// <summary>Markers at (X[i], Y[i]), with optional hover text per point.</summary>
public sealed record ScatterSeries(string Name, double[] X, double[] Y) : ChartSeries(Name)
{
    public string[]? HoverText { get; init; }
    public double MarkerSize { get; init; } = 6;
}

/// <summary>Markers in 3-D. The static rendition shows the X–Y projection (and says so).</summary>
public sealed record Scatter3DSeries(string Name, double[] X, double[] Y, double[] Z) : ChartSeries(Name)
{
    public string[]? HoverText { get; init; }
}

/// <summary>Horizontal bars, one per category (several bar series are grouped).</summary>
public sealed record BarSeries(string Name, string[] Categories, double[] Values) : ChartSeries(Name);

/// <summary>A matrix drawn as coloured cells; row 0 at the top. <c>Z[row, column]</c>.</summary>
public sealed record HeatmapSeries(string Name, double[,] Z, string[] XLabels, string[] YLabels) : ChartSeries(Name)
{
    /// <summary>Write each cell's value (formatted with <see cref="AnnotationFormat"/>) on the cell.</summary>
    public bool Annotate { get; init; }
    public string AnnotationFormat { get; init; } = "0.00";
    /// <summary>Optional per-cell text shown instead of the value (e.g. counts when colour is row-normalised).</summary>
    public string[,]? CellText { get; init; }
    public double? ZMin { get; init; }
    public double? ZMax { get; init; }
}

/// <summary>
/// One chart, described once and rendered twice: interactively with Plotly.NET/plotly.js and statically with
/// OxyPlot's SVG exporter. Both renderers read only this description, so both show the same data.
/// </summary>
public sealed record ChartSpec
{
    public string? Title { get; init; }
    public ChartAxis XAxis { get; init; } = new();
    public ChartAxis YAxis { get; init; } = new();
    public ChartAxis ZAxis { get; init; } = new();
    public IReadOnlyList<ChartSeries> Series { get; init; } = [];
    public int Width { get; init; } = 640;
    public int Height { get; init; } = 380;
    public bool ShowLegend { get; init; } = true;

    /// <summary>The colour of series <paramref name="index"/>: its own, or the palette's.</summary>
    public string ColorOf(int index) => Series[index].Color ?? Palette.At(PaletteIndexOf(index));

    int PaletteIndexOf(int index) => Series.Take(index).Count(s => s.Color is null);

    internal void Validate()
    {
        foreach (var s in Series)
            switch (s)
            {
                case LineSeries l when l.X.Length != l.Y.Length:
                    throw new ArgumentException($"line series '{l.Name}': {l.X.Length} x values but {l.Y.Length} y values");
                case ScatterSeries p when p.X.Length != p.Y.Length || (p.HoverText is { } h && h.Length != p.X.Length):
                    throw new ArgumentException($"scatter series '{p.Name}': x, y and hover text lengths differ ({p.X.Length}, {p.Y.Length}, {p.HoverText?.Length})");
                case Scatter3DSeries p when p.X.Length != p.Y.Length || p.X.Length != p.Z.Length:
                    throw new ArgumentException($"3-D scatter series '{p.Name}': x, y, z lengths differ ({p.X.Length}, {p.Y.Length}, {p.Z.Length})");
                case BarSeries b when b.Categories.Length != b.Values.Length:
                    throw new ArgumentException($"bar series '{b.Name}': {b.Categories.Length} categories but {b.Values.Length} values");
                case HeatmapSeries m when m.Z.GetLength(0) != m.YLabels.Length || m.Z.GetLength(1) != m.XLabels.Length:
                    throw new ArgumentException($"heatmap '{m.Name}': matrix is {m.Z.GetLength(0)}×{m.Z.GetLength(1)} but there are {m.YLabels.Length} row labels and {m.XLabels.Length} column labels");
            }
    }
}

/// <summary>The categorical colours used by both renderers (Tableau 10, as matplotlib and Plotly use).</summary>
public static class Palette
{
    public static readonly string[] Colors =
        ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    public static string At(int i) => Colors[((i % Colors.Length) + Colors.Length) % Colors.Length];
}
