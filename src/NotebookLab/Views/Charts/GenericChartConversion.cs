using System.Collections;
using DynamicObj;
using Plotly.NET;

namespace NotebookLab.Views.Charts;

/// <summary>
/// Reads a Plotly.NET chart built elsewhere back into a <see cref="ChartSpec"/> so it gets a static rendition too.
/// Covers scatter/line, bar and heatmap traces; charts with other trace types get no static rendition (and say so).
/// </summary>
public static class GenericChartConversion
{
    public static ChartSpec? TryToSpec(GenericChart chart, out string? whyNot)
    {
        var series = new List<ChartSeries>();
        var i = 0;
        foreach (var trace in GenericChart.getTraces(chart))
        {
            var type = Get(trace, "type") as string ?? "scatter";
            var name = Get(trace, "name") as string ?? $"trace {i}";
            var color = ColorOf(trace);
            i++;
            switch (type)
            {
                case "scatter" or "scattergl":
                    var x = Numbers(Get(trace, "x"));
                    var y = Numbers(Get(trace, "y"));
                    if (y is null) { whyNot = $"trace '{name}' has no numeric y"; return null; }
                    x ??= [.. Enumerable.Range(0, y.Length).Select(k => (double)k)];
                    var mode = Get(trace, "mode")?.ToString() ?? "lines";
                    var dashed = (Get(trace, "line") is DynamicObj.DynamicObj line && line.TryGetPropertyValue("dash") is { } d && d.Value?.ToString() is { } ds && ds != "solid");
                    series.Add(mode.Contains("lines", StringComparison.OrdinalIgnoreCase)
                        ? new LineSeries(name, x, y) { Color = color, Markers = mode.Contains("markers"), Dashed = dashed }
                        : new ScatterSeries(name, x, y) { Color = color });
                    break;
                case "bar":
                    var horizontal = Get(trace, "orientation")?.ToString() is "h" or "H";
                    var cats = Strings(Get(trace, horizontal ? "y" : "x"));
                    var vals = Numbers(Get(trace, horizontal ? "x" : "y"));
                    if (cats is null || vals is null) { whyNot = $"bar trace '{name}' has no categories/values"; return null; }
                    series.Add(new BarSeries(name, cats, vals) { Color = color });
                    break;
                case "heatmap":
                    if (Get(trace, "z") is not IEnumerable rowsObj) { whyNot = $"heatmap '{name}' has no z"; return null; }
                    var rows = rowsObj.Cast<object>().Select(Numbers).ToList();
                    if (rows.Count == 0 || rows.Any(r => r is null || r.Length != rows[0]!.Length)) { whyNot = $"heatmap '{name}' z is not a numeric matrix"; return null; }
                    var z = new double[rows.Count, rows[0]!.Length];
                    for (var r = 0; r < rows.Count; r++) for (var c = 0; c < rows[r]!.Length; c++) z[r, c] = rows[r]![c];
                    var xl = Strings(Get(trace, "x")) ?? [.. Enumerable.Range(0, z.GetLength(1)).Select(k => k.ToString())];
                    var yl = Strings(Get(trace, "y")) ?? [.. Enumerable.Range(0, z.GetLength(0)).Select(k => k.ToString())];
                    series.Add(new HeatmapSeries(name, z, xl, yl));
                    break;
                default:
                    whyNot = $"trace type '{type}' has no static rendition";
                    return null;
            }
        }
        var layout = GenericChart.getLayout(chart);
        whyNot = null;
        return new ChartSpec
        {
            Title = TitleText(Get(layout, "title")),
            XAxis = new ChartAxis { Title = TitleText(Get(Get(layout, "xaxis"), "title")) },
            YAxis = new ChartAxis { Title = TitleText(Get(Get(layout, "yaxis"), "title")) },
            Series = series,
            Width = Get(layout, "width") is { } w ? Convert.ToInt32(w) : 640,
            Height = Get(layout, "height") is { } h ? Convert.ToInt32(h) : 380,
        };
    }

    static object? Get(object? obj, string name) => obj switch
    {
        DynamicObj.DynamicObj d => d.TryGetPropertyValue(name) is { } v ? v.Value : null,
        IDictionary dict => dict.Contains(name) ? dict[name] : null,
        _ => null,
    };

    static string? TitleText(object? title) => title switch
    {
        null => null,
        string s => s,
        _ => Get(title, "text")?.ToString(),
    };

    static string? ColorOf(object trace)
    {
        foreach (var part in new[] { "line", "marker" })
            if (Get(Get(trace, part), "color") is { } c)
            {
                var s = c.ToString();
                if (s is not null && s.StartsWith('#') && s.Length == 7) return s;
            }
        return null;
    }

    static double[]? Numbers(object? value)
    {
        if (value is null or string || value is not IEnumerable e) return null;
        var list = new List<double>();
        foreach (var item in e)
        {
            if (item is null || item is string || item is not IConvertible conv) return null;
            try { list.Add(conv.ToDouble(System.Globalization.CultureInfo.InvariantCulture)); }
            catch (FormatException) { return null; }
        }
        return [.. list];
    }

    static string[]? Strings(object? value) =>
        value is null or string || value is not IEnumerable e ? null : [.. e.Cast<object?>().Select(o => Convert.ToString(o, System.Globalization.CultureInfo.InvariantCulture) ?? "")];
}
