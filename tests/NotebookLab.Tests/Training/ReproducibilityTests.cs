using NotebookLab.Data;
using NotebookLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Tests.Training;

[Collection(GlobalRandomCollection.Name)]
public class ReproducibilityTests
{
    static (float[] Tensor, int[] Dotnet, long[] Shuffle, double[] Losses) Run(int seed)
    {
        Lab.Seed(seed);
        var values = torch.rand(8).data<float>().ToArray();
        var dotnet = Enumerable.Range(0, 5).Select(_ => Lab.Random.Next()).ToArray();
        var (x, y) = Problems.Blobs(40, seed: 1);
        var order = new DataLoader(torch.arange(40), torch.arange(40), batchSize: 40, shuffle: true).First().X.data<long>().ToArray();
        var model = Problems.Mlp();
        var history = Lab.Fit(model, new DataLoader(x, y, batchSize: 8, shuffle: true), epochs: 1, lr: 1e-2, observer: TrainingObservers.None,
            device: torch.CPU);
        return (values, dotnet, order, history.StepLoss);
    }

    [Fact]
    public void Same_seed_gives_identical_tensors_shuffles_and_training_losses()
    {
        var first = Run(42);
        var second = Run(42);
        Assert.Equal(first.Tensor, second.Tensor);
        Assert.Equal(first.Dotnet, second.Dotnet);
        Assert.Equal(first.Shuffle, second.Shuffle);
        Assert.Equal(5, first.Losses.Length);
        Assert.Equal(first.Losses, second.Losses);
        Assert.Equal(42, Lab.CurrentSeed);
    }

    [Fact]
    public void Different_seeds_give_different_numbers()
    {
        var first = Run(1);
        var second = Run(2);
        Assert.NotEqual(first.Tensor, second.Tensor);
        Assert.NotEqual(first.Shuffle, second.Shuffle);
        Assert.NotEqual(first.Losses, second.Losses);
    }
}
