using NotebookLab.Views;

namespace NotebookLab.Training;

/// <summary>
/// Shows a <see cref="Learner"/>'s progress in the live <see cref="TrainingMonitor"/>: the training loss at every step,
/// and after each epoch the training accuracy and the validation loss, accuracy and (for sequence tasks) perplexity.
/// The default observer of <c>Lab.Fit</c>; the final curves stay in the saved notebook.
/// </summary>
public sealed class TrainingMonitorObserver(string? title = null) : ITrainingObserver
{
    readonly List<StepRecord> pending = [];

    /// <summary>The monitor of the current run (null before the first step is known).</summary>
    public TrainingMonitor? Monitor { get; private set; }

    public void OnTrainBegin(History history)
    {
        pending.Clear();
        Monitor = null;
        if (history.StepsPerEpoch > 0) Start(history, history.StepsPerEpoch);
    }

    public void OnStep(History history, StepRecord step)
    {
        if (Monitor is null) { pending.Add(step); return; } // loader of unknown length: start once the first epoch is counted
        Log(step);
    }

    public void OnEpoch(History history, EpochRecord epoch)
    {
        if (Monitor is null)
        {
            Start(history, Math.Max(1, pending.Count / Math.Max(1, epoch.Epoch)));
            foreach (var step in pending) Log(step);
            pending.Clear();
        }
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        if (epoch.TrainAccuracy is { } acc) metrics["acc"] = acc;
        if (epoch.ValidLoss is { } vl) metrics["val_loss"] = vl;
        if (epoch.ValidAccuracy is { } va) metrics["val_acc"] = va;
        if (history.Task == TaskKind.Sequence && epoch.ValidPerplexity is { } vp) metrics["val_ppl"] = vp;
        Monitor!.EndEpoch(epoch.Epoch, metrics);
    }

    public void OnTrainEnd(History history)
    {
        if (Monitor is null && pending.Count > 0)
        {
            Start(history, pending.Count);
            foreach (var step in pending) Log(step);
        }
        pending.Clear();
        if (Monitor is { IsComplete: false } monitor) monitor.Complete();
    }

    void Start(History history, int stepsPerEpoch) =>
        Monitor = TrainingMonitor.Start(Math.Max(1L, (long)history.PlannedEpochs * stepsPerEpoch), stepsPerEpoch,
            title ?? $"Training ({history.Task.ToString().ToLowerInvariant()})");

    void Log(StepRecord step)
    {
        if (step.Step + 1 > Monitor!.TotalSteps) return; // more batches than announced: keep the monitor consistent
        Monitor.Log(step.Step + 1, new Dictionary<string, double>(StringComparer.Ordinal) { ["loss"] = step.Loss }, step.Examples);
    }
}
