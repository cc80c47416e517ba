using Microsoft.FSharp.Collections;
using Plotly.NET;

namespace NotebookLab.Views.Charts;

/// <summary>Builds a Plotly.NET <see cref="GenericChart"/> from a <see cref="ChartSpec"/>.</summary>
public static class PlotlyRenderer
{
    public static GenericChart ToGenericChart(ChartSpec spec)
    {
        spec.Validate();
        var traces = new List<Trace>();
        var is3D = spec.Series.Any(s => s is Scatter3DSeries);
        for (var i = 0; i < spec.Series.Count; i++)
        {
            var color = spec.ColorOf(i);
            switch (spec.Series[i])
            {
                case LineSeries l:
                    traces.Add(Trace2DOf("scatter", l.Name, ("x", l.X), ("y", l.Y), ("mode", l.Markers ? "lines+markers" : "lines"),
                        ("line", new Dictionary<string, object> { ["color"] = color, ["dash"] = l.Dashed ? "dash" : "solid", ["width"] = 2 }),
                        ("marker", new Dictionary<string, object> { ["color"] = color })));
                    break;
                case ScatterSeries p:
                    var scatter = Trace2DOf("scatter", p.Name, ("x", p.X), ("y", p.Y), ("mode", "markers"),
                        ("marker", new Dictionary<string, object> { ["color"] = color, ["size"] = p.MarkerSize }));
                    if (p.HoverText is not null) scatter.SetProperty("text", p.HoverText);
                    traces.Add(scatter);
                    break;
                case Scatter3DSeries p3:
                    var t3 = new Trace3D("scatter3d");
                    t3.SetProperty("name", p3.Name);
                    t3.SetProperty("x", p3.X); t3.SetProperty("y", p3.Y); t3.SetProperty("z", p3.Z);
                    t3.SetProperty("mode", "markers");
                    t3.SetProperty("marker", new Dictionary<string, object> { ["color"] = color, ["size"] = 4 });
                    if (p3.HoverText is not null) t3.SetProperty("text", p3.HoverText);
                    traces.Add(t3);
                    break;
                case BarSeries b:
                    // Horizontal, categories top to bottom, as the static rendition draws them.
                    traces.Add(Trace2DOf("bar", b.Name, ("y", b.Categories), ("x", b.Values), ("orientation", "h"),
                        ("marker", new Dictionary<string, object> { ["color"] = color })));
                    break;
                case HeatmapSeries m:
                    var z = new double[m.Z.GetLength(0)][];
                    for (var r = 0; r < z.Length; r++) { z[r] = new double[m.Z.GetLength(1)]; for (var c = 0; c < z[r].Length; c++) z[r][c] = m.Z[r, c]; }
                    var heat = Trace2DOf("heatmap", m.Name, ("z", z), ("x", m.XLabels), ("y", m.YLabels), ("colorscale", "Viridis"));
                    if (m.ZMin is { } zmin) heat.SetProperty("zmin", zmin);
                    if (m.ZMax is { } zmax) heat.SetProperty("zmax", zmax);
                    if (m.Annotate)
                    {
                        heat.SetProperty("text", CellTexts(m));
                        heat.SetProperty("texttemplate", "%{text}");
                        heat.SetProperty("hovertemplate", "%{y} → %{x}: %{text}<extra></extra>");
                    }
                    traces.Add(heat);
                    break;
                default:
                    throw new NotSupportedException($"series type {spec.Series[i].GetType().Name} has no Plotly rendition");
            }
        }

        var layout = new Layout();
        if (spec.Title is not null) layout.SetProperty("title", new Dictionary<string, object> { ["text"] = spec.Title });
        layout.SetProperty("width", spec.Width);
        layout.SetProperty("height", spec.Height);
        layout.SetProperty("showlegend", spec.ShowLegend && spec.Series.Count(s => s is not HeatmapSeries) > 1);
        layout.SetProperty("margin", new Dictionary<string, object> { ["l"] = 60, ["r"] = 20, ["t"] = spec.Title is null ? 20 : 50, ["b"] = 50 });
        var hasHeatmap = spec.Series.Any(s => s is HeatmapSeries);
        var hasBars = spec.Series.Any(s => s is BarSeries);
        if (is3D)
            layout.SetProperty("scene", new Dictionary<string, object>
            {
                ["xaxis"] = AxisOf(spec.XAxis, false), ["yaxis"] = AxisOf(spec.YAxis, false), ["zaxis"] = AxisOf(spec.ZAxis, false),
            });
        else
        {
            layout.SetProperty("xaxis", AxisOf(spec.XAxis, false));
            layout.SetProperty("yaxis", AxisOf(spec.YAxis, hasHeatmap || hasBars));
        }
        if (hasHeatmap) layout.SetProperty("yaxis", AxisOf(spec.YAxis, true));
        return GenericChart.NewMultiChart(ListModule.OfSeq(traces), layout, new Config(), new DisplayOptions());
    }

    internal static string[][] CellTexts(HeatmapSeries m)
    {
        var rows = new string[m.Z.GetLength(0)][];
        for (var r = 0; r < rows.Length; r++)
        {
            rows[r] = new string[m.Z.GetLength(1)];
            for (var c = 0; c < rows[r].Length; c++)
                rows[r][c] = m.CellText?[r, c] ?? m.Z[r, c].ToString(m.AnnotationFormat, System.Globalization.CultureInfo.InvariantCulture);
        }
        return rows;
    }

    static Dictionary<string, object> AxisOf(ChartAxis axis, bool reversed)
    {
        var d = new Dictionary<string, object>();
        if (axis.Title is not null) d["title"] = new Dictionary<string, object> { ["text"] = axis.Title };
        if (axis.Log) d["type"] = "log";
        if (axis.Min is { } min && axis.Max is { } max)
            d["range"] = axis.Log ? new[] { Math.Log10(min), Math.Log10(max) } : new[] { min, max };
        if (reversed) d["autorange"] = "reversed";
        return d;
    }

    static Trace2D Trace2DOf(string type, string name, params (string Key, object Value)[] props)
    {
        var t = new Trace2D(type);
        t.SetProperty("name", name);
        foreach (var (k, v) in props) t.SetProperty(k, v);
        return t;
    }
}
