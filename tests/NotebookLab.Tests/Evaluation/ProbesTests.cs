using NotebookLab.Evaluation;
using NotebookLab.Tests.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Tests.Evaluation;

public class ProbesTests
{
    static (Tensor Train, Tensor TrainY, Tensor Test, Tensor TestY) SeparableFeatures()
    {
        var (x, y) = Problems.Blobs(400, 1);
        var (tx, ty) = Problems.Blobs(200, 2);
        // Two informative columns plus six columns of noise: a linear probe must find the informative ones.
        var train = torch.cat([x, torch.randn(400, 6, generator: new Generator(3))], 1);
        var test = torch.cat([tx, torch.randn(200, 6, generator: new Generator(4))], 1);
        return (train, y, test, ty);
    }

    [Fact]
    public void Linear_probe_separates_linearly_separable_features()
    {
        var (train, y, test, ty) = SeparableFeatures();
        var probe = Probes.LinearProbe(train, y, test, ty, seed: 0, epochs: 20, batchSize: 32);
        Assert.True(probe.TestAccuracy > 0.95, probe.ToString());
        Assert.True(probe.TrainAccuracy > 0.95, probe.ToString());
        Assert.Equal([4L, 8], probe.Head.weight!.shape);
        Assert.Equal(probe.TestAccuracy, probe.Predict(test).eq(ty).to(float64).mean().item<double>(), 12);
    }

    [Fact]
    public void Linear_probe_on_noise_stays_near_chance()
    {
        var noise = torch.randn(600, 16, generator: new Generator(5));
        var labels = torch.randint(0, 4, [600], generator: new Generator(6));
        var probe = Probes.LinearProbe(noise[..400], labels[..400], noise[400..], labels[400..], seed: 1, epochs: 20);
        Assert.InRange(probe.TestAccuracy, 0.1, 0.45);
    }

    [Fact]
    public void Linear_probe_is_deterministic_from_its_seed()
    {
        var (train, y, test, ty) = SeparableFeatures();
        var a = Probes.LinearProbe(train, y, test, ty, seed: 7, epochs: 3, batchSize: 16);
        var b = Probes.LinearProbe(train, y, test, ty, seed: 7, epochs: 3, batchSize: 16);
        var c = Probes.LinearProbe(train, y, test, ty, seed: 8, epochs: 3, batchSize: 16);
        Assert.True(a.Head.weight!.eq(b.Head.weight!).all().item<bool>());
        Assert.True(a.Head.bias!.eq(b.Head.bias!).all().item<bool>());
        Assert.False(a.Head.weight!.eq(c.Head.weight!).all().item<bool>(), "another seed gives another batch order, so another head");
    }

    [Fact]
    public void Linear_probe_names_bad_shapes()
    {
        var (train, y, test, ty) = SeparableFeatures();
        Assert.Contains("same D", Assert.Throws<ArgumentException>(() => Probes.LinearProbe(train, y, test[.., ..3], ty)).Message);
        Assert.Contains("[400]", Assert.Throws<ArgumentException>(() => Probes.LinearProbe(train, y, test, y)).Message);
    }

    [Fact]
    public void Knn_accuracy_uses_cosine_similarity()
    {
        // Same directions, very different lengths: cosine kNN ignores the length.
        var train = torch.tensor(new float[,] { { 1, 0 }, { 100, 1 }, { 0, 1 }, { 1, 100 } });
        var trainY = torch.tensor(new long[] { 0, 0, 1, 1 });
        var test = torch.tensor(new float[,] { { 0.01f, 0 }, { 0, 50 } });
        var testY = torch.tensor(new long[] { 0, 1 });
        Assert.Equal(1.0, Probes.KnnAccuracy(train, trainY, test, testY, k: 1));
        Assert.Equal(1.0, Probes.KnnAccuracy(train, trainY, test, testY, k: 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => Probes.KnnAccuracy(train, trainY, test, testY, k: 5));
    }

    [Fact]
    public void Extract_features_is_batched_in_eval_mode_without_gradients()
    {
        var encoder = nn.Sequential(nn.Flatten(), nn.Linear(4, 6), nn.BatchNorm1d(6));
        var inputs = torch.randn(10, 2, 2, generator: new Generator(9));
        var features = Probes.ExtractFeatures(encoder, inputs, batchSize: 3);
        Assert.Equal([10L, 6], features.shape);
        Assert.False(features.requires_grad);
        Assert.True(encoder.training, "the encoder's mode is restored");
        encoder.eval();
        using (torch.no_grad())
            Assert.True(features.allclose(encoder.forward(inputs)), "batched eval-mode features equal one eval-mode pass");
        var bn = (TorchSharp.Modules.BatchNorm1d)encoder[2];
        Assert.True(bn.running_mean!.abs().max().item<float>() == 0, "eval mode: running statistics untouched");
    }
}
