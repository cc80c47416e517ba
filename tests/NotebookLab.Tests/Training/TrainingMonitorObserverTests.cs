using NotebookLab.Data;
using NotebookLab.Hosting;
using NotebookLab.Training;
using NotebookLab.Views;
using TorchSharp;

namespace NotebookLab.Tests.Training;

[Collection(GlobalRandomCollection.Name)]
public class TrainingMonitorObserverTests
{
    [Fact]
    public void Fit_drives_the_live_monitor_through_the_display_bridge()
    {
        var shown = new List<object>();
        var updates = new List<object>();
        LiveDisplay.Install((value, _) => { shown.Add(value); return updates.Add; });
        try
        {
            Lab.Seed(0);
            var (x, y) = Problems.Blobs(40, 1);
            var (vx, vy) = Problems.Blobs(20, 2);
            var observer = new TrainingMonitorObserver("blobs");
            var history = Lab.Fit(Problems.Mlp(), new DataLoader(x, y, 10), new DataLoader(vx, vy, 10), epochs: 2, lr: 1e-2,
                observer: observer, device: torch.CPU);
            var monitor = observer.Monitor!;
            Assert.True(monitor.IsComplete);
            Assert.Equal(8, monitor.TotalSteps);
            Assert.Equal(8, monitor.Step);
            Assert.Equal(2, monitor.Epoch);
            Assert.Single(shown);
            Assert.True(updates.Count >= 3, $"{updates.Count} updates"); // each epoch end and the completion force a render
            var final = ((IMimeView)updates[^1]).ToMimeBundle();
            Assert.Contains("val_acc", final[MimeType.PlainText]);
            Assert.Contains("8/8", final[MimeType.PlainText]);
            Assert.Equal(history.StepLoss.Length, monitor.Step);
        }
        finally { LiveDisplay.Uninstall(); }
    }

    [Fact]
    public void A_loader_of_unknown_length_still_reaches_the_monitor()
    {
        var console = new StringWriter();
        var previous = LiveDisplay.ConsoleOut;
        LiveDisplay.ConsoleOut = console;
        try
        {
            var (x, y) = Problems.Blobs(30, 1);
            IEnumerable<(TorchSharp.torch.Tensor, TorchSharp.torch.Tensor)> Batches() { yield return (x[..15], y[..15]); yield return (x[15..], y[15..]); }
            var observer = new TrainingMonitorObserver();
            Lab.Fit(Problems.Mlp(), Batches(), epochs: 3, observer: observer, device: torch.CPU);
            Assert.Equal(6, observer.Monitor!.TotalSteps);
            Assert.Equal(6, observer.Monitor.Step);
            Assert.Contains("6/6", console.ToString());
        }
        finally { LiveDisplay.ConsoleOut = previous; }
    }
}
