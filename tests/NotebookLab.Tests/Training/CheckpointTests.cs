using NotebookLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Tests.Training;

public sealed class CheckpointTests : IDisposable
{
    readonly string folder = Directory.CreateTempSubdirectory("notebooklab-ckpt").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    static nn.Module<Tensor, Tensor> Net(int hidden = 8) =>
        nn.Sequential(("fc1", nn.Linear(4, hidden)), ("bn", nn.BatchNorm1d(hidden)), ("fc2", nn.Linear(hidden, 3)));

    [Fact]
    public void Save_then_load_restores_parameters_and_buffers()
    {
        var source = Net();
        source.train();
        using (torch.no_grad()) source.forward(torch.randn(16, 4) * 3 + 1); // moves BatchNorm running stats
        var path = Path.Combine(folder, "sub", "net.ckpt");
        Checkpoint.Save(source, path);

        var target = Net();
        Checkpoint.Load(target, path);
        var expected = source.state_dict();
        var actual = target.state_dict();
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, tensor) in expected)
            Assert.True(tensor.SameAs(actual[name]), $"{name} differs after loading");
        Assert.Contains(("bn.running_mean", ScalarType.Float32, new long[] { 8 }), Checkpoint.Describe(path).Tensors,
            EqualityComparer<(string, ScalarType, long[])>.Create((a, b) => a.Item1 == b.Item1 && a.Item2 == b.Item2 && a.Item3.SequenceEqual(b.Item3)));
    }

    [Fact]
    public void Loading_into_another_architecture_names_every_mismatch_and_changes_nothing()
    {
        var path = Path.Combine(folder, "net.ckpt");
        Checkpoint.Save(Net(hidden: 8), path);
        var other = nn.Sequential(("fc1", nn.Linear(4, 16)), ("bn", nn.BatchNorm1d(16)), ("head", nn.Linear(16, 3)));
        var before = other.state_dict()["fc1.weight"].clone();
        var error = Assert.Throws<CheckpointMismatchException>(() => Checkpoint.Load(other, path));
        Assert.Contains("fc1.weight: checkpoint [8, 4], model [16, 4]", error.Message);
        Assert.Contains("in the model but not in the checkpoint (2): head.weight [3, 16]; head.bias [3]", error.Message);
        Assert.Contains("in the checkpoint but not in the model (2): fc2.weight [3, 8]; fc2.bias [3]", error.Message);
        Assert.Contains("nothing was loaded", error.Message);
        Assert.True(before.SameAs(other.state_dict()["fc1.weight"]));
    }

    [Fact]
    public void Missing_and_foreign_files_get_clear_errors()
    {
        var missing = Path.Combine(folder, "nope.ckpt");
        var notFound = Assert.Throws<FileNotFoundException>(() => Checkpoint.Load(Net(), missing));
        Assert.Contains(missing, notFound.Message);

        var foreign = Path.Combine(folder, "foreign.bin");
        File.WriteAllBytes(foreign, [1, 2, 3, 4, 5]);
        Assert.Contains("is not a NotebookLab checkpoint", Assert.Throws<InvalidDataException>(() => Checkpoint.Load(Net(), foreign)).Message);
    }

    [Fact]
    public void Learner_save_and_load_round_trip()
    {
        var (x, y) = Problems.Blobs(8, 1);
        var learner = new Learner(Problems.Mlp(), [(x, y)], device: torch.CPU);
        var path = Path.Combine(folder, "learner.ckpt");
        learner.Save(path);
        var copy = new Learner(Problems.Mlp(), [(x, y)], device: torch.CPU);
        copy.Load(path);
        Assert.True(learner.Predict(x).SameAs(copy.Predict(x)));
    }
}
