using NotebookLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Tests.Training;

/// <summary>Tests that seed or draw from torch's global generator or Lab.Random run alone, so no other test moves the generators between.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalRandomCollection
{
    public const string Name = "Global random state";
}

/// <summary>Records every observer event, for assertions.</summary>
sealed class RecordingObserver : ITrainingObserver
{
    public List<string> Events { get; } = [];
    public List<StepRecord> Steps { get; } = [];
    public List<EpochRecord> Epochs { get; } = [];
    public Action<History, EpochRecord>? AtEpoch { get; init; }

    public void OnTrainBegin(History history) => Events.Add("begin");
    public void OnStep(History history, StepRecord step) { Events.Add("step"); Steps.Add(step); }
    public void OnEpoch(History history, EpochRecord epoch) { Events.Add("epoch"); Epochs.Add(epoch); AtEpoch?.Invoke(history, epoch); }
    public void OnTrainEnd(History history) => Events.Add("end");
}

static class Problems
{
    /// <summary>Four Gaussian blobs in 2-D, one per class: linearly separable, [N, 2] float32 and [N] int64.</summary>
    public static (Tensor X, Tensor Y) Blobs(int count, int seed)
    {
        var random = new Random(seed);
        var x = new float[count * 2];
        var y = new long[count];
        float[][] centres = [[2, 2], [-2, 2], [-2, -2], [2, -2]];
        for (int i = 0; i < count; i++)
        {
            int c = i % 4;
            y[i] = c;
            x[2 * i] = centres[c][0] + (float)(random.NextDouble() - 0.5);
            x[2 * i + 1] = centres[c][1] + (float)(random.NextDouble() - 0.5);
        }
        return (torch.tensor(x).reshape(count, 2), torch.tensor(y));
    }

    public static nn.Module<Tensor, Tensor> Mlp(int inputs = 2, int hidden = 16, int outputs = 4) =>
        nn.Sequential(("fc1", nn.Linear(inputs, hidden)), ("act", nn.ReLU()), ("fc2", nn.Linear(hidden, outputs)));
}
