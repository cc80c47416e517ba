using Microsoft.DotNet.Interactive.Formatting;
using NotebookLab.Hosting;
using NotebookLab.Engine.Execution;
using NotebookLab.Views;
using NotebookLab.Views.Charts;
using Plotly.NET;

namespace NotebookLab.Tests.Views;

/// <summary>What one display costs: OxyPlot exports while a host formats a value (counted on the test's thread).</summary>
[Collection(nameof(LiveDisplayCollection))]
public class RenderCostTests
{
    public RenderCostTests() => Formatters.Register();

    static int Exports(Action action)
    {
        var before = SvgRenderer.ExportsOnThisThread;
        action();
        return SvgRenderer.ExportsOnThisThread - before;
    }

    static ChartView Line() => Charts.Lines([0, 1, 2], "t", null, null, ("y", [1, 2, 3]));

    internal static TrainingMonitor MonitorWithCurves()
    {
        var previous = LiveDisplay.ConsoleOut;
        LiveDisplay.ConsoleOut = TextWriter.Null;
        try
        {
            var monitor = TrainingMonitor.Start(10);
            for (var s = 1; s <= 5; s++) monitor.Log(s, new Dictionary<string, double> { ["loss"] = 1.0 / s });
            return monitor;
        }
        finally { LiveDisplay.ConsoleOut = previous; }
    }

    [Fact]
    public void A_formatter_asked_for_text_runs_no_svg_export()
    {
        var view = Line();
        var chart = Line().ToGenericChart();
        var monitor = MonitorWithCurves();
        Assert.Equal(0, Exports(() => view.ToDisplayString(MimeType.PlainText)));
        Assert.Equal(0, Exports(() => chart.ToDisplayString(MimeType.PlainText)));
        Assert.Equal(0, Exports(() => ((object)monitor).ToDisplayString(MimeType.PlainText)));
        Assert.Equal(0, Exports(() => _ = view.MimeTypes));
    }

    [Fact]
    public void One_display_exports_each_panel_once()
    {
        // Before one contract: 6 exports for a one-panel chart, 12 for two panels, 2 per training-monitor snapshot.
        Assert.Equal(1, Exports(() => MimeBundles.Format(Line())));
        var twoPanels = Charts.TrainingCurves(new Dictionary<string, double[]> { ["loss"] = [1, 0.5], ["acc"] = [0.5, 0.8] });
        Assert.Equal(2, twoPanels.Panels.Count);
        Assert.Equal(2, Exports(() => MimeBundles.Format(twoPanels)));
        // A Plotly.NET chart is read back on every request: once for the HTML, once for the SVG.
        Assert.Equal(2, Exports(() => MimeBundles.Format(Line().ToGenericChart())));
        var monitor = MonitorWithCurves();
        Assert.Equal(1, Exports(() => monitor.Snapshot()));
    }

    [Fact]
    public void Showing_a_view_live_renders_nothing_until_the_host_asks()
    {
        string[]? shownMimes = null;
        LiveDisplay.Install((value, mimes) => { shownMimes = mimes; return _ => { }; });
        try
        {
            var view = Line();
            Assert.Equal(0, Exports(() => LiveDisplay.Show(view)));
            Assert.Equal(["text/html", "image/svg+xml", "text/plain"], shownMimes);
        }
        finally { LiveDisplay.Uninstall(); }
    }
}

/// <summary>The same content renders to the same text, so a notebook executed twice has the same outputs.</summary>
public class DeterministicRenderTests
{
    static ChartView Line(string name = "y") => Charts.Lines([0, 1, 2], "t", null, null, (name, [1, 2, 3]));

    [Fact]
    public void Two_renders_of_the_same_chart_give_identical_html_and_svg()
    {
        Assert.Equal(Line().ToHtml(), Line().ToHtml());
        Assert.Equal(Line().ToSvg(), Line().ToSvg());
        var view = Line();
        Assert.Equal(view.Render(MimeType.Html), view.Render(MimeType.Html));
        Assert.Equal(Formatters.ChartHtml(Line().ToGenericChart()), Formatters.ChartHtml(Line().ToGenericChart()));
        var curves = Charts.TrainingCurves(new Dictionary<string, double[]> { ["loss"] = [1, 0.5], ["acc"] = [0.5, 0.8] });
        Assert.Equal(curves.ToHtml(), Charts.TrainingCurves(new Dictionary<string, double[]> { ["loss"] = [1, 0.5], ["acc"] = [0.5, 0.8] }).ToHtml());
    }

    [Fact]
    public void Different_charts_get_different_ids()
    {
        var a = HtmlAssert.Parse(Line("a").ToHtml()).QuerySelector(".nl-chart-interactive")!.Id;
        var b = HtmlAssert.Parse(Line("b").ToHtml()).QuerySelector(".nl-chart-interactive")!.Id;
        Assert.NotEqual(a, b);
    }
}
