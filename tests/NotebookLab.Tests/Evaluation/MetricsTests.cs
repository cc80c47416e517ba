using Microsoft.DotNet.Interactive.Formatting;
using NotebookLab.Evaluation;
using NotebookLab.Tests.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Tests.Evaluation;

public class MetricsTests
{
    static readonly Tensor Logits = torch.tensor(new float[,] { { 2, 1, 0 }, { 0, 3, 1 }, { 1, 0, 4 }, { 5, 0, 4 } });
    static readonly Tensor Targets = torch.tensor(new long[] { 0, 1, 1, 2 });

    [Fact]
    public void Accuracy_from_logits_or_labels()
    {
        Assert.Equal(0.5, Metrics.Accuracy(Logits, Targets));
        Assert.Equal(0.75, Metrics.Accuracy(torch.tensor(new long[] { 0, 1, 1, 0 }), Targets));
        Assert.Contains("found [4, 3, 1]", Assert.Throws<ArgumentException>(() => Metrics.Accuracy(Logits.unsqueeze(2), Targets)).Message);
    }

    [Fact]
    public void Top_k_accuracy_grows_with_k()
    {
        Assert.Equal(0.5, Metrics.TopKAccuracy(Logits, Targets, 1));
        Assert.Equal(0.75, Metrics.TopKAccuracy(Logits, Targets, 2));
        Assert.Equal(1.0, Metrics.TopKAccuracy(Logits, Targets, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => Metrics.TopKAccuracy(Logits, Targets, 4));
    }

    [Fact]
    public void Confusion_matrix_counts_true_by_predicted()
    {
        var cm = Metrics.ConfusionMatrix(Logits, Targets, classNames: ["cat", "dog", "fox"]);
        Assert.Equal(new long[,] { { 1, 0, 0 }, { 0, 1, 1 }, { 1, 0, 0 } }, cm.Counts);
        Assert.Equal(0.5, cm.Accuracy);
        Assert.Equal([1.0, 0.5, 0.0], cm.Recall);
        Assert.Equal([("dog", "fox", 1L), ("fox", "cat", 1L)], cm.TopConfusions());
        Assert.Contains("cat", cm.ToString());
        var html = cm.ToDisplayString("text/html");
        Assert.StartsWith("<table", html);
        Assert.Contains(">fox</th>", html);
        Assert.Contains("3 class names given for 4 classes", Assert.Throws<ArgumentException>(() => Metrics.ConfusionMatrix(Logits, Targets, 4, ["a", "b", "c"])).Message);
    }

    [Fact]
    public void Knn_accuracy_is_perfect_on_separated_clusters_and_near_chance_on_noise()
    {
        var (x, y) = Problems.Blobs(200, 1);
        var (tx, ty) = Problems.Blobs(100, 2);
        Assert.Equal(1.0, Metrics.KnnAccuracy(x, y, tx, ty, k: 5));
        var noise = torch.randn(400, 16, generator: new Generator(1));
        var labels = torch.randint(0, 4, [400], generator: new Generator(2));
        Assert.InRange(Metrics.KnnAccuracy(noise[..300], labels[..300], noise[300..], labels[300..], k: 5), 0.1, 0.45);
        Assert.Contains("same D", Assert.Throws<ArgumentException>(() => Metrics.KnnAccuracy(x, y, torch.zeros(3, 5), ty[..3])).Message);
    }

    [Fact]
    public void Linear_probe_separates_linearly_separable_features()
    {
        var (x, y) = Problems.Blobs(400, 1);
        var (tx, ty) = Problems.Blobs(200, 2);
        var features = torch.cat([x, torch.randn(400, 6, generator: new Generator(3))], 1);
        var testFeatures = torch.cat([tx, torch.randn(200, 6, generator: new Generator(4))], 1);
        var probe = Metrics.LinearProbe(features, y, testFeatures, ty, epochs: 20, batchSize: 32, device: torch.CPU);
        Assert.True(probe.TestAccuracy > 0.95, probe.ToString());
        Assert.True(probe.TrainAccuracy > 0.95, probe.ToString());
        Assert.Equal(20, probe.History.Epochs.Count);
    }

    [Fact]
    public void Extract_features_runs_the_encoder_without_gradients()
    {
        var encoder = nn.Sequential(nn.Flatten(), nn.Linear(4, 3));
        var features = Metrics.ExtractFeatures(encoder, torch.ones(10, 2, 2), batchSize: 4);
        Assert.Equal([10L, 3], features.shape);
        Assert.False(features.requires_grad);
        Assert.True(encoder.training);
    }

    [Fact]
    public void Pca_finds_the_direction_of_largest_variance()
    {
        var t = torch.randn(500, 1, dtype: float64, generator: new Generator(5)) * 3;
        var direction = torch.tensor(new[] { 0.6, 0.8, 0.0 }, dtype: float64);
        var data = t * direction + torch.randn(500, 3, dtype: float64, generator: new Generator(6)) * 0.1 + 5;
        var pca = Metrics.Pca(data, components: 2);
        Assert.True(pca.Components[0].to(float64).allclose(direction, atol: 0.02), pca.Components.ToString(TorchSharp.TensorStringStyle.Numpy));
        Assert.True(pca.ExplainedVarianceRatio[0] > 0.99);
        Assert.True(pca.Components.matmul(pca.Components.T).allclose(torch.eye(2), atol: 1e-5), "components must be orthonormal");
        var projected = pca.Transform(data);
        Assert.Equal([500L, 2], projected.shape);
        Assert.InRange(projected[.., 0].mean().item<float>(), -1e-3, 1e-3);
        Assert.Contains("fitted on data [N, 3]", Assert.Throws<ArgumentException>(() => pca.Transform(torch.zeros(2, 4))).Message);
    }
}
