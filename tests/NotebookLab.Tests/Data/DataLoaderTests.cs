using NotebookLab.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Tests.Data;

public class DataLoaderTests
{
    [Fact]
    public void Batches_cover_the_data_in_order_with_a_smaller_last_batch()
    {
        var loader = new DataLoader(torch.arange(10).reshape(10, 1), torch.arange(10), batchSize: 4);
        Assert.Equal(3, loader.Count);
        var batches = loader.ToList();
        Assert.Equal([4L, 4, 2], batches.Select(b => b.Y.shape[0]));
        Assert.Equal([4L, 1], batches[0].X.shape);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), batches.SelectMany(b => b.Y.data<long>().ToArray()));
        Assert.Equal(2, new DataLoader(torch.arange(10), torch.arange(10), 4, dropLast: true).Count());
    }

    [Fact]
    public void Shuffling_visits_every_example_once_in_a_new_seeded_order_each_epoch()
    {
        var loader = new DataLoader(torch.arange(50), torch.arange(50) * 10, batchSize: 7, shuffle: true, random: new Random(3));
        long[] Epoch() => loader.SelectMany(b => b.X.data<long>().ToArray()).ToArray();
        var first = Epoch();
        var second = Epoch();
        Assert.Equal(Enumerable.Range(0, 50).Select(i => (long)i), first.Order());
        Assert.NotEqual(first, second);
        Assert.NotEqual(Enumerable.Range(0, 50).Select(i => (long)i), first);
        foreach (var (x, y) in loader) Assert.True((x * 10).SameAs(y), "x and y must stay paired");
        var again = new DataLoader(torch.arange(50), torch.arange(50), 7, shuffle: true, random: new Random(3));
        Assert.Equal(first, again.SelectMany(b => b.X.data<long>().ToArray()));
    }

    [Fact]
    public void Transform_is_applied_to_inputs_only()
    {
        var loader = new DataLoader(torch.ones(6, 2), torch.zeros(6), 3, transform: x => x * 2);
        Assert.All(loader, b => { Assert.Equal(2f, b.X.max().item<float>()); Assert.Equal(0f, b.Y.max().item<float>()); });
    }

    [Fact]
    public void Mismatched_lengths_name_both_shapes()
    {
        var error = Assert.Throws<ArgumentException>(() => new DataLoader(torch.zeros(10, 3), torch.zeros(9)));
        Assert.Contains("found x [10, 3] and y [9]", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataLoader(torch.zeros(3), torch.zeros(3), batchSize: 0));
    }

    [Fact]
    public void Normalization_gives_zero_mean_and_unit_std_per_channel()
    {
        var images = torch.stack([torch.rand(20, 4, 4) * 3 + 1, torch.rand(20, 4, 4) * 0.5], 1);
        var (mean, std) = Normalization.Compute(images);
        Assert.Equal(2, mean.Length);
        var normalized = Normalization.Normalize(images, mean, std);
        var (m2, s2) = Normalization.Compute(normalized);
        Assert.All(m2, m => Assert.InRange(m, -1e-5, 1e-5));
        Assert.All(s2, s => Assert.InRange(s, 1 - 1e-4, 1 + 1e-4));
        Assert.Contains("2 channel(s)", Assert.Throws<ArgumentException>(() => Normalization.Normalize(images, [0.5], [0.2])).Message);
    }
}
