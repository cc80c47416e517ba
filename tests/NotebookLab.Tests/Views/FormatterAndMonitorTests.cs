using Microsoft.DotNet.Interactive.Formatting;
using NotebookLab.Hosting;
using NotebookLab.Views;
using NotebookLab.Views.Charts;
using Plotly.NET;
using static TorchSharp.torch;

namespace NotebookLab.Tests.Views;

[Collection(nameof(LiveDisplayCollection))]
public class FormatterTests
{
    public FormatterTests() => Formatters.Register();

    [Fact]
    public void Tensor_formats_to_the_tensor_view_in_html_and_text()
    {
        using var t = ones(2, 3);
        var doc = HtmlAssert.Parse(t.ToDisplayString("text/html"));
        Assert.Equal("[2, 3]", doc.QuerySelector(".nl-tensor .nl-shape")!.TextContent);
        Assert.StartsWith("tensor[2, 3] float32", t.ToDisplayString("text/plain"));
        Assert.Contains("text/html", Formatter.GetPreferredMimeTypesFor(typeof(Tensor)));
    }

    [Fact]
    public void Module_formats_to_its_tree_with_parameter_counts()
    {
        using var model = nn.Sequential(("fc1", nn.Linear(3, 4)), ("fc2", nn.Linear(4, 1)));
        var doc = HtmlAssert.Parse(((object)model).ToDisplayString("text/html"));
        Assert.Equal("16", doc.QuerySelector("tr[data-name=fc1] .nl-params")!.TextContent);
        Assert.Contains("Total params: 21", ((object)model).ToDisplayString("text/plain"));
    }

    [Fact]
    public void Chart_views_prefer_html_and_svg_and_any_plotly_chart_gets_both()
    {
        var view = Charts.Lines([0, 1, 2], "t", null, null, ("y", [1, 2, 3]));
        Assert.Equal(["text/html", "image/svg+xml", "text/plain"], Formatter.GetPreferredMimeTypesFor(typeof(ChartView)));
        Assert.StartsWith("<svg", view.ToDisplayString("image/svg+xml"));
        HtmlAssert.ParseSvg(view.ToDisplayString("image/svg+xml"));

        var chart = view.ToGenericChart();
        Assert.Contains("image/svg+xml", Formatter.GetPreferredMimeTypesFor(chart.GetType()));
        var html = HtmlAssert.Parse(chart.ToDisplayString("text/html"));
        Assert.NotNull(html.QuerySelector(".nl-chart .nl-chart-static svg"));
        Assert.NotNull(html.QuerySelector(".nl-chart script"));
        var svg = HtmlAssert.ParseSvg(chart.ToDisplayString("image/svg+xml"));
        Assert.NotEmpty(svg.Descendants(HtmlAssert.Svg + "polyline"));
    }
}

[CollectionDefinition(nameof(LiveDisplayCollection), DisableParallelization = true)]
public class LiveDisplayCollection;

[Collection(nameof(LiveDisplayCollection))]
public class TrainingMonitorTests
{
    sealed class FakeHost
    {
        public List<(object Value, string[] Mimes)> Shown = [];
        public List<object> Updates = [];
        public Func<object, string[], Action<object>> Display => (value, mimes) =>
        {
            Shown.Add((value, mimes));
            return update => Updates.Add(update);
        };
    }

    [Fact]
    public void Updates_go_through_the_bridge_throttled_and_end_as_a_static_and_interactive_chart()
    {
        var host = new FakeHost();
        LiveDisplay.Install(host.Display);
        try
        {
            var monitor = TrainingMonitor.Start(totalSteps: 400, stepsPerEpoch: 100, maxUpdatesPerSecond: 4);
            var (shownValue, mimes) = Assert.Single(host.Shown);
            Assert.Equal(["text/html", "image/svg+xml", "text/plain"], mimes);
            var sw = System.Diagnostics.Stopwatch.StartNew();
            for (var step = 1; step <= 400; step++)
            {
                monitor.Log(step, new Dictionary<string, double> { ["loss"] = 2.0 / step }, examples: 32);
                if (step % 100 == 0) monitor.EndEpoch(step / 100, new Dictionary<string, double> { ["val_loss"] = 1.0 / step });
            }
            var seconds = sw.Elapsed.TotalSeconds;
            var chart = monitor.Complete()!;
            // 400 logs: at most ~4 renders per second of run time, plus one per epoch end and the final one.
            Assert.InRange(host.Updates.Count, 5, 4 * Math.Ceiling(seconds) + 4 + 1 + 1);

            var final = Assert.IsAssignableFrom<IMimeView>(host.Updates[^1]).ToMimeBundle();
            var doc = HtmlAssert.Parse(final["text/html"]);
            Assert.Equal("400", doc.QuerySelector("progress.nl-progress")!.GetAttribute("value"));
            Assert.NotNull(doc.QuerySelector(".nl-done"));
            Assert.NotNull(doc.QuerySelector(".nl-chart .nl-chart-static svg"));
            Assert.NotNull(doc.QuerySelector(".nl-chart script"));
            Assert.NotNull(doc.QuerySelector(".nl-rate"));
            var svg = HtmlAssert.ParseSvg(final["image/svg+xml"]);
            Assert.Contains(svg.Descendants(HtmlAssert.Svg + "polyline"), p => p.Attribute("points")!.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 400);

            var panel = Assert.Single(chart.Panels);
            Assert.Equal("epoch", panel.XAxis.Title);
            var val = panel.Series.OfType<LineSeries>().Single(s => s.Name == "val");
            Assert.Equal([1.0, 2, 3, 4], val.X);
            Assert.True(val.Dashed);
        }
        finally { LiveDisplay.Uninstall(); }
    }

    [Fact]
    public void Without_a_bridge_progress_goes_to_the_console_as_text()
    {
        LiveDisplay.Uninstall();
        var console = new StringWriter();
        var previous = LiveDisplay.ConsoleOut;
        LiveDisplay.ConsoleOut = console;
        try
        {
            var monitor = TrainingMonitor.Start(10);
            for (var s = 1; s <= 10; s++) monitor.Log(s, new Dictionary<string, double> { ["loss"] = 1.0 / s }, 8);
            monitor.Complete();
            var lines = console.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.InRange(lines.Length, 1, 3);
            Assert.Contains("10/10 (100%)", lines[^1]);
            Assert.Contains("done", lines[^1]);
            Assert.Contains("loss 0.1", lines[^1]);
            Assert.Throws<InvalidOperationException>(() => monitor.Log(11, new Dictionary<string, double>()));
        }
        finally { LiveDisplay.ConsoleOut = previous; }
    }

    [Fact]
    public void Bad_arguments_are_clear_errors()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => TrainingMonitor.Start(0));
        var m = TrainingMonitor.Start(5);
        m.Log(3, new Dictionary<string, double>());
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => m.Log(2, new Dictionary<string, double>()));
        Assert.Contains("backwards", e.Message);
    }
}
