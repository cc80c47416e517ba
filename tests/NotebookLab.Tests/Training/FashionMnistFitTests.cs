using NotebookLab.Data;
using NotebookLab.Evaluation;
using NotebookLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Tests.Training;

/// <summary>End to end on real data: the shipped Fashion-MNIST subset, an MLP and one Fit call, as notebook 00 does.</summary>
[Collection(GlobalRandomCollection.Name)]
public class FashionMnistFitTests
{
    [Fact]
    public void An_mlp_learns_fashion_mnist_from_the_shipped_subset()
    {
        Lab.Seed(0);
        var train = FashionMnist.Load(train: true);
        var test = FashionMnist.Load(train: false);
        var model = nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10));
        var history = Lab.Fit(model, new DataLoader(train.Images, train.Labels, 64, shuffle: true), new DataLoader(test.Images, test.Labels, 250),
            epochs: 3, lr: 3e-3, schedule: LrSchedule.OneCycle(), observer: TrainingObservers.None, device: torch.CPU);
        Assert.True(history.Epochs[^1].ValidAccuracy > 0.72, history.ToString());
        using var noGrad = torch.no_grad();
        model.eval();
        var logits = model.forward(test.Images);
        var confusion = Metrics.ConfusionMatrix(logits, test.Labels, classNames: test.ClassNames);
        Assert.Equal(history.Epochs[^1].ValidAccuracy!.Value, confusion.Accuracy, 6);
        Assert.True(confusion.Recall[1] > 0.8, confusion.ToString()); // trousers are easy
    }
}
