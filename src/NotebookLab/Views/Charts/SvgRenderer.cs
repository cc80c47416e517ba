using System.Globalization;
using System.Text.RegularExpressions;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using Oxy = OxyPlot.Series;

namespace NotebookLab.Views.Charts;

/// <summary>
/// The static rendition of a <see cref="ChartSpec"/>: an OxyPlot model exported by OxyPlot's managed SVG exporter,
/// so charts show where no script runs (GitHub, nbconvert HTML, grading reports).
/// </summary>
public static partial class SvgRenderer
{
    public static PlotModel ToPlotModel(ChartSpec spec)
    {
        spec.Validate();
        var model = new PlotModel
        {
            Title = spec.Title,
            TitleFontSize = 14,
            TitleFontWeight = FontWeights.Normal,
            DefaultFont = "Arial",
            PlotAreaBorderColor = OxyColor.FromRgb(200, 200, 200),
            Background = OxyColors.White,
        };
        var heatmap = spec.Series.OfType<HeatmapSeries>().FirstOrDefault();
        var bars = spec.Series.OfType<BarSeries>().ToList();
        var is3D = spec.Series.Any(s => s is Scatter3DSeries);

        if (heatmap is not null) AddHeatmap(model, spec, heatmap);
        else if (bars.Count > 0) AddBars(model, spec, bars);
        else
        {
            model.Axes.Add(AxisOf(spec.XAxis, AxisPosition.Bottom));
            model.Axes.Add(AxisOf(spec.YAxis, AxisPosition.Left));
            for (var i = 0; i < spec.Series.Count; i++)
            {
                var color = OxyColor.Parse(spec.ColorOf(i));
                switch (spec.Series[i])
                {
                    case LineSeries l:
                        var line = new Oxy.LineSeries
                        {
                            Title = l.Name, Color = color, StrokeThickness = 2, MinimumSegmentLength = 0,
                            LineStyle = l.Dashed ? LineStyle.Dash : LineStyle.Solid,
                            MarkerType = l.Markers ? MarkerType.Circle : MarkerType.None, MarkerFill = color, MarkerSize = 3,
                        };
                        for (var k = 0; k < l.X.Length; k++) line.Points.Add(new DataPoint(l.X[k], l.Y[k]));
                        model.Series.Add(line);
                        break;
                    case ScatterSeries p:
                        model.Series.Add(ScatterOf(p.Name, p.X, p.Y, color, p.MarkerSize / 2));
                        break;
                    case Scatter3DSeries p3:
                        model.Series.Add(ScatterOf(p3.Name, p3.X, p3.Y, color, 3));
                        break;
                }
            }
            if (is3D) model.Subtitle = "static view: projection onto the first two axes (rotate the interactive view for the third)";
        }
        if (spec.ShowLegend && spec.Series.Count(s => s is not HeatmapSeries) > 1)
            model.Legends.Add(new Legend
            {
                LegendPosition = LegendPosition.TopRight, LegendPlacement = LegendPlacement.Inside,
                LegendBorder = OxyColors.Transparent, LegendBackground = OxyColor.FromAColor(220, OxyColors.White), LegendPadding = 10,
            });
        return model;
    }

    static Oxy.ScatterSeries ScatterOf(string name, double[] x, double[] y, OxyColor color, double size)
    {
        var s = new Oxy.ScatterSeries { Title = name, MarkerType = MarkerType.Circle, MarkerFill = color, MarkerSize = size, MarkerStroke = OxyColors.Undefined };
        for (var k = 0; k < x.Length; k++) s.Points.Add(new Oxy.ScatterPoint(x[k], y[k]));
        return s;
    }

    static Axis AxisOf(ChartAxis a, AxisPosition position)
    {
        Axis axis = a.Log ? new LogarithmicAxis() : new LinearAxis();
        axis.Position = position;
        axis.Title = a.Title;
        axis.MajorGridlineStyle = LineStyle.Solid;
        axis.MajorGridlineColor = OxyColor.FromRgb(235, 235, 235);
        axis.TickStyle = TickStyle.Outside;
        axis.AxisTitleDistance = position == AxisPosition.Left ? 16 : 4;
        if (a.Min is { } min) axis.Minimum = min;
        if (a.Max is { } max) axis.Maximum = max;
        return axis;
    }

    static void AddBars(PlotModel model, ChartSpec spec, List<BarSeries> bars)
    {
        // Horizontal bars drawn as rectangles on numeric axes: category i sits at y = i, first category at the top
        // (as in the interactive chart, whose category axis is reversed).
        var categories = bars.SelectMany(b => b.Categories).Distinct().ToList();
        // Category names are not what OxyPlot measures for this numeric axis: reserve their width explicitly.
        model.PlotMargins = new OxyThickness(Math.Min(260, 16 + 7 * categories.Max(c => c.Length)) + (spec.YAxis.Title is null ? 0 : 18), double.NaN, double.NaN, double.NaN);
        model.Axes.Add(new LinearAxis
        {
            Position = AxisPosition.Left, Title = spec.YAxis.Title, StartPosition = 1, EndPosition = 0,
            Minimum = -0.5, Maximum = categories.Count - 0.5, MajorStep = 1, MinorStep = 1, TickStyle = TickStyle.None,
            LabelFormatter = v => Math.Abs(v - Math.Round(v)) < 1e-9 && Math.Round(v) >= 0 && Math.Round(v) < categories.Count ? categories[(int)Math.Round(v)] : "",
        });
        var values = bars.SelectMany(b => b.Values).Where(double.IsFinite).DefaultIfEmpty(0).ToList();
        var valueAxis = (LinearAxis)AxisOf(spec.XAxis with { Log = false }, AxisPosition.Bottom);
        valueAxis.Minimum = spec.XAxis.Min ?? Math.Min(0, values.Min());
        valueAxis.MaximumPadding = 0.12;
        model.Axes.Add(valueAxis);
        var band = 0.8 / bars.Count;
        var k = 0;
        for (var i = 0; i < spec.Series.Count; i++)
        {
            if (spec.Series[i] is not BarSeries b) continue;
            var series = new Oxy.RectangleBarSeries { Title = b.Name, FillColor = OxyColor.Parse(spec.ColorOf(i)), StrokeThickness = 0 };
            for (var j = 0; j < b.Categories.Length; j++)
            {
                if (!double.IsFinite(b.Values[j])) continue;
                var y0 = categories.IndexOf(b.Categories[j]) - 0.4 + k * band;
                series.Items.Add(new Oxy.RectangleBarItem(0, y0, b.Values[j], y0 + band));
                model.Annotations.Add(new OxyPlot.Annotations.TextAnnotation
                {
                    Text = b.Values[j].ToString("G4", CultureInfo.InvariantCulture), TextPosition = new DataPoint(b.Values[j], y0 + band / 2),
                    Stroke = OxyColors.Transparent, FontSize = 10, TextHorizontalAlignment = HorizontalAlignment.Left,
                    TextVerticalAlignment = VerticalAlignment.Middle, Offset = new ScreenVector(4, 0),
                });
            }
            model.Series.Add(series);
            k++;
        }
    }

    static void AddHeatmap(PlotModel model, ChartSpec spec, HeatmapSeries m)
    {
        var (rows, cols) = (m.Z.GetLength(0), m.Z.GetLength(1));
        model.Axes.Add(new CategoryAxis { Position = AxisPosition.Bottom, Title = spec.XAxis.Title, ItemsSource = m.XLabels, Angle = m.XLabels.Any(l => l.Length > 3) && cols > 6 ? -45 : 0, GapWidth = 0 });
        model.Axes.Add(new CategoryAxis { Position = AxisPosition.Left, Title = spec.YAxis.Title, ItemsSource = m.YLabels, StartPosition = 1, EndPosition = 0, GapWidth = 0, AxisTitleDistance = 10 });
        var data = new double[cols, rows];
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        for (var r = 0; r < rows; r++)
            for (var c = 0; c < cols; c++)
            {
                data[c, r] = m.Z[r, c];
                if (double.IsFinite(m.Z[r, c])) { lo = Math.Min(lo, m.Z[r, c]); hi = Math.Max(hi, m.Z[r, c]); }
            }
        var colorAxis = new LinearColorAxis { Position = AxisPosition.Right, Palette = OxyPalettes.Viridis(200), HighColor = OxyColors.Gray, LowColor = OxyColors.Gray };
        if (m.ZMin is { } zmin) colorAxis.Minimum = zmin;
        if (m.ZMax is { } zmax) colorAxis.Maximum = zmax;
        model.Axes.Add(colorAxis);
        model.Series.Add(new Oxy.HeatMapSeries
        {
            Title = m.Name, X0 = 0, X1 = cols - 1, Y0 = 0, Y1 = rows - 1, Data = data,
            CoordinateDefinition = Oxy.HeatMapCoordinateDefinition.Center, RenderMethod = Oxy.HeatMapRenderMethod.Rectangles,
        });
        if (m.Annotate)
        {
            var texts = PlotlyRenderer.CellTexts(m);
            var (zlo, zhi) = (m.ZMin ?? lo, m.ZMax ?? hi);
            for (var r = 0; r < rows; r++)
                for (var c = 0; c < cols; c++)
                {
                    var bright = zhi > zlo && (m.Z[r, c] - zlo) / (zhi - zlo) > 0.6; // viridis is light at the top
                    model.Annotations.Add(new OxyPlot.Annotations.TextAnnotation
                    {
                        Text = texts[r][c], TextPosition = new DataPoint(c, r), Stroke = OxyColors.Transparent,
                        TextColor = bright ? OxyColors.Black : OxyColors.White, FontSize = 10,
                        TextHorizontalAlignment = HorizontalAlignment.Center, TextVerticalAlignment = VerticalAlignment.Middle,
                    });
                }
        }
    }

    /// <summary>The chart as a standalone SVG document (no XML declaration or DOCTYPE, so it also embeds in HTML).</summary>
    public static string ToSvg(ChartSpec spec)
    {
        exportsOnThisThread++;
        // The vertical-alignment workaround writes explicit offsets instead of dominant-baseline, which several SVG
        // renderers (GitHub's image proxy, librsvg) ignore: titles would be clipped and tick labels overlap ticks.
        var svg = new SvgExporter
        {
            Width = spec.Width, Height = spec.Height, UseVerticalTextAlignmentWorkaround = true, TextMeasurer = new LatinTextMeasurer(),
        }.ExportToString(ToPlotModel(spec));
        return MakeEmbeddable(svg);
    }

    /// <summary>How many OxyPlot exports ran on the calling thread (tests count the work one display costs).</summary>
    internal static int ExportsOnThisThread => exportsOnThisThread;
    [ThreadStatic] static int exportsOnThisThread;

    /// <summary>
    /// Strips the prologue and prefixes element ids with a hash of the SVG, so several charts can live in one HTML page
    /// and the same chart always gets the same ids (the same chart twice in a page shares identical clip paths).
    /// </summary>
    internal static string MakeEmbeddable(string svg)
    {
        var start = svg.IndexOf("<svg", StringComparison.Ordinal);
        if (start > 0) svg = svg[start..];
        var prefix = Html.ContentId("nl", svg, 10) + "-";
        return ClipPathId().Replace(svg, m => m.Groups[1].Value + prefix + "clip" + m.Groups[2].Value);
    }

    [GeneratedRegex("(id=\"|url\\(#)clipPath(\\d+)")]
    private static partial Regex ClipPathId();
}
