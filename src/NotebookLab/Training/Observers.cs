namespace NotebookLab.Training;

/// <summary>
/// Receives a <see cref="Learner"/>'s progress. The live training monitor of <c>NotebookLab.Views</c> is one observer;
/// tests and custom logging are others. Calls arrive on the training thread, in order:
/// <see cref="OnTrainBegin"/>, then <see cref="OnStep"/> after every optimiser step and <see cref="OnEpoch"/> after
/// each epoch's validation, then <see cref="OnTrainEnd"/> (also after early stopping or an exception).
/// The <see cref="History"/> passed in is the live object: read it, don't keep tensors from it (it holds none).
/// </summary>
public interface ITrainingObserver
{
    void OnTrainBegin(History history);
    void OnStep(History history, StepRecord step);
    void OnEpoch(History history, EpochRecord epoch);
    void OnTrainEnd(History history);
}

/// <summary>An observer that ignores every event; derive from it to handle only some.</summary>
public class TrainingObserver : ITrainingObserver
{
    public virtual void OnTrainBegin(History history) { }
    public virtual void OnStep(History history, StepRecord step) { }
    public virtual void OnEpoch(History history, EpochRecord epoch) { }
    public virtual void OnTrainEnd(History history) { }
}

/// <summary>Where training progress goes when <c>Fit</c> is given no observer.</summary>
public static class TrainingObservers
{
    /// <summary>
    /// Makes the observer a <see cref="Learner"/> uses when none was added: by default the live
    /// <see cref="Views.TrainingMonitor"/> (<see cref="TrainingMonitorObserver"/>), which updates in place in a notebook
    /// and prints throttled progress lines elsewhere. Replace it to log differently; return null for silence.
    /// </summary>
    public static Func<ITrainingObserver?> Default { get; set; } = () => new TrainingMonitorObserver();

    /// <summary>An observer that reports nothing.</summary>
    public static ITrainingObserver None { get; } = new TrainingObserver();
}

/// <summary>Writes one line per epoch (the text fallback of the live monitor).</summary>
public sealed class ConsoleObserver(TextWriter writer) : TrainingObserver
{
    public override void OnEpoch(History history, EpochRecord epoch) => writer.WriteLine(epoch.ToString(history.Task));

    public override void OnTrainEnd(History history)
    {
        if (history.StoppedEarly) writer.WriteLine($"early stopping after epoch {history.Epochs.Count}; best epoch {history.BestEpoch}");
    }
}
