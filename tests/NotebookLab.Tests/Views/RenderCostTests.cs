using NotebookLab.Kernel.Execution;
using NotebookLab.Views;
using NotebookLab.Views.Charts;
using Xunit.Abstractions;

namespace NotebookLab.Tests.Views;

/// <summary>What one display costs: OxyPlot exports while the kernel formats a value into its mime bundle.</summary>
[Collection(nameof(LiveDisplayCollection))]
public class RenderCostTests(ITestOutputHelper output)
{
    static int ExportsFor(Func<object> make)
    {
        Formatters.Register();
        var value = make();
        var before = SvgRenderer.ExportsOnThisThread;
        MimeBundles.Format(value);
        return SvgRenderer.ExportsOnThisThread - before;
    }

    static TrainingMonitor MonitorWithCurves()
    {
        var previous = NotebookLab.Hosting.LiveDisplay.ConsoleOut;
        NotebookLab.Hosting.LiveDisplay.ConsoleOut = TextWriter.Null;
        try
        {
            var monitor = TrainingMonitor.Start(10);
            for (var s = 1; s <= 5; s++) monitor.Log(s, new Dictionary<string, double> { ["loss"] = 1.0 / s });
            return monitor;
        }
        finally { NotebookLab.Hosting.LiveDisplay.ConsoleOut = previous; }
    }

    [Fact]
    public void Report_exports_per_display()
    {
        var chart = ExportsFor(() => Charts.Lines([0, 1, 2], "t", null, null, ("y", [1, 2, 3])));
        var twoPanels = ExportsFor(() => Charts.TrainingCurves(new Dictionary<string, double[]> { ["loss"] = [1, 0.5], ["acc"] = [0.5, 0.8] }));
        var plotly = ExportsFor(() => Charts.Lines([0, 1, 2], "t", null, null, ("y", [1, 2, 3])).ToGenericChart());
        var monitor = MonitorWithCurves();
        var before = SvgRenderer.ExportsOnThisThread;
        monitor.Snapshot();
        var snapshot = SvgRenderer.ExportsOnThisThread - before;
        output.WriteLine($"exports per display: ChartView {chart}, two-panel ChartView {twoPanels}, GenericChart {plotly}; per TrainingMonitor snapshot {snapshot}");
    }
}
