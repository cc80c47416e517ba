using NotebookLab.Data;
using NotebookLab.Training;
using TorchSharp;

namespace NotebookLab.Tests.Training;

[Collection(GlobalRandomCollection.Name)]
public class DisposalTests
{
    [Fact]
    public void Training_steps_leave_no_live_tensors_behind()
    {
        Lab.Seed(0);
        var (x, y) = Problems.Blobs(64, 1);
        var (vx, vy) = Problems.Blobs(32, 2);
        var learner = new Learner(Problems.Mlp(), new DataLoader(x, y, 8, shuffle: true), new DataLoader(vx, vy, 8), device: torch.CPU)
        {
            TrackGradientNorms = true,
            ClipGradNorm = 1.0,
            Schedule = LrSchedule.Cosine(),
            EarlyStopping = new EarlyStopping(Patience: 100),
        };
        learner.Observers.Add(TrainingObservers.None);
        learner.Fit(1); // optimiser state and the first snapshot exist from here on
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        learner.Fit(3);
        long after = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        Assert.True(after - before <= 0, $"{after - before} tensors leaked over 24 steps and 12 validation batches");
    }
}
