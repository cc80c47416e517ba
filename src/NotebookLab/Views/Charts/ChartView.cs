using System.Globalization;
using System.Text;
using Microsoft.DotNet.Interactive.Formatting;
using Plotly.NET;

namespace NotebookLab.Views.Charts;

/// <summary>
/// A table shown under a chart (e.g. nearest neighbours), in both the HTML and the text rendition; displayed on its own
/// (<c>display(new ChartTable(...))</c>) it is a view of its own, an HTML table with a plain-text fallback.
/// </summary>
[TypeFormatterSource(typeof(MimeViewFormatterSource<ChartTable>), PreferredMimeTypes = [MimeType.Html, MimeType.PlainText])]
public sealed record ChartTable(string Caption, string[] Header, string[][] Rows) : IMimeView
{
    public IReadOnlyList<string> MimeTypes => [MimeType.Html, MimeType.PlainText];

    public string Render(string mimeType) => mimeType switch
    {
        MimeType.Html => ChartView.TableHtml(this),
        MimeType.PlainText => ChartView.TableText(this),
        _ => throw new ArgumentException($"ChartTable renders {string.Join(", ", MimeTypes)}, not {mimeType}", nameof(mimeType)),
    };

    public override string ToString() => ChartView.TableText(this);
}

/// <summary>
/// A chart (one or more panels) that formats to <c>text/html</c> (static SVG + interactive plotly.js),
/// <c>image/svg+xml</c> (static only) and <c>text/plain</c>. <see cref="ToGenericChart"/> gives the Plotly.NET chart
/// to customise further.
/// </summary>
[TypeFormatterSource(typeof(MimeViewFormatterSource<ChartView>), PreferredMimeTypes = [MimeType.Html, MimeType.Svg, MimeType.PlainText])]
public sealed class ChartView : IMimeView
{
    public IReadOnlyList<ChartSpec> Panels { get; }
    public IReadOnlyList<ChartTable> Tables { get; }
    public string? Caption { get; init; }

    public ChartView(ChartSpec spec, IReadOnlyList<ChartTable>? tables = null) : this([spec], tables) { }

    public ChartView(IReadOnlyList<ChartSpec> panels, IReadOnlyList<ChartTable>? tables = null)
    {
        if (panels.Count == 0) throw new ArgumentException("a chart needs at least one panel", nameof(panels));
        foreach (var p in panels) p.Validate();
        Panels = panels;
        Tables = tables ?? [];
        panelSvgs = new string?[panels.Count];
    }

    readonly string?[] panelSvgs;

    /// <summary>Panel <paramref name="i"/>'s static SVG, exported by OxyPlot once per view and shared by the HTML and SVG renditions.</summary>
    string PanelSvg(int i) => panelSvgs[i] ??= SvgRenderer.ToSvg(Panels[i]);

    /// <summary>The same chart with a logarithmic y axis on every panel: <c>Charts.Lines(...).LogY()</c>.</summary>
    public ChartView LogY() => WithPanels(p => p with { YAxis = p.YAxis with { Log = true } });

    /// <summary>The same chart with a logarithmic x axis on every panel (e.g. labelled examples per class).</summary>
    public ChartView LogX() => WithPanels(p => p with { XAxis = p.XAxis with { Log = true } });

    ChartView WithPanels(Func<ChartSpec, ChartSpec> change) => new([.. Panels.Select(change)], Tables) { Caption = Caption };

    /// <summary>The Plotly.NET chart of a single-panel view.</summary>
    public GenericChart ToGenericChart() => Panels.Count == 1
        ? PlotlyRenderer.ToGenericChart(Panels[0])
        : throw new InvalidOperationException($"this view has {Panels.Count} panels; use ToGenericCharts()");

    public IReadOnlyList<GenericChart> ToGenericCharts() => [.. Panels.Select(PlotlyRenderer.ToGenericChart)];

    /// <summary>The static rendition: one SVG with the panels side by side.</summary>
    public string ToSvg()
    {
        if (Panels.Count == 1) return PanelSvg(0);
        var width = Panels.Sum(p => p.Width);
        var height = Panels.Max(p => p.Height);
        var sb = new StringBuilder($"<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" version=\"1.1\" width=\"{width}\" height=\"{height}\">");
        var x = 0;
        for (var i = 0; i < Panels.Count; i++)
        {
            sb.Append($"<g transform=\"translate({x},0)\">").Append(PanelSvg(i)).Append("</g>");
            x += Panels[i].Width;
        }
        return sb.Append("</svg>").ToString();
    }

    public string ToHtml()
    {
        var sb = new StringBuilder("<div class=\"nl-chart-view\">");
        if (Caption is not null) sb.Append($"<div class=\"nl-chart-caption\" style=\"font-weight:600;margin:4px 0\">{Html.Encode(Caption)}</div>");
        sb.Append("<div style=\"display:flex;flex-wrap:wrap;gap:8px\">");
        for (var i = 0; i < Panels.Count; i++)
            sb.Append(PlotlyHtml.Render(PlotlyRenderer.ToGenericChart(Panels[i]), PanelSvg(i), Panels[i].Width, Panels[i].Height));
        sb.Append("</div>");
        foreach (var t in Tables) sb.Append(TableHtml(t));
        return sb.Append("</div>").ToString();
    }

    internal static string TableHtml(ChartTable t)
    {
        var sb = new StringBuilder();
        sb.Append("<table class=\"nl-chart-table\" style=\"border-collapse:collapse;margin-top:8px;font-size:12px\">");
        sb.Append($"<caption style=\"text-align:left;font-weight:600\">{Html.Encode(t.Caption)}</caption><thead><tr>");
        foreach (var h in t.Header) sb.Append($"<th style=\"padding:2px 8px;text-align:left;border-bottom:1px solid #ccc\">{Html.Encode(h)}</th>");
        sb.Append("</tr></thead><tbody>");
        foreach (var row in t.Rows)
        {
            sb.Append("<tr>");
            foreach (var cell in row) sb.Append($"<td style=\"padding:2px 8px\">{Html.Encode(cell)}</td>");
            sb.Append("</tr>");
        }
        return sb.Append("</tbody></table>").ToString();
    }

    internal static string TableText(ChartTable t) =>
        string.Join("\n", [t.Caption, string.Join(" | ", t.Header), .. t.Rows.Select(r => string.Join(" | ", r))]);

    public string ToPlainText()
    {
        var sb = new StringBuilder();
        if (Caption is not null) sb.AppendLine(Caption);
        foreach (var p in Panels)
        {
            sb.Append("chart");
            if (p.Title is not null) sb.Append($" '{p.Title}'");
            sb.AppendLine(": " + string.Join("; ", p.Series.Select(Describe)));
        }
        foreach (var t in Tables) sb.AppendLine(TableText(t));
        return sb.ToString().TrimEnd();
    }

    static string Describe(ChartSeries s) => s switch
    {
        LineSeries l => $"{l.Name} ({l.Y.Length} points" + (l.Y.Length > 0 ? $", last {l.Y[^1].ToString("G4", CultureInfo.InvariantCulture)})" : ")"),
        ScatterSeries p => $"{p.Name} ({p.X.Length} points)",
        Scatter3DSeries p => $"{p.Name} ({p.X.Length} points, 3-D)",
        BarSeries b => $"{b.Name}: " + string.Join(", ", b.Categories.Zip(b.Values, (c, v) => $"{c}={v.ToString("G4", CultureInfo.InvariantCulture)}")),
        HeatmapSeries m => $"{m.Name} ({m.Z.GetLength(0)}×{m.Z.GetLength(1)} heatmap)",
        _ => s.Name,
    };

    public IReadOnlyList<string> MimeTypes => MimeType.HtmlSvgAndText;

    public string Render(string mimeType) => mimeType switch
    {
        MimeType.Html => ToHtml(),
        MimeType.Svg => ToSvg(),
        MimeType.PlainText => ToPlainText(),
        _ => throw MimeViews.NotOffered(this, mimeType),
    };

    public override string ToString() => ToPlainText();
}
