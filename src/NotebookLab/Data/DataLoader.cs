using System.Collections;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Data;

/// <summary>
/// Batches of (x, y) from two tensors whose first dimension indexes examples, optionally shuffled every epoch
/// (seeded) and transformed (e.g. augmented) batch by batch. Enumerate it once per epoch.
/// </summary>
/// <remarks>
/// Batch tensors are created when the enumerator moves, so a training loop that opens a
/// <c>torch.NewDisposeScope()</c> before <c>MoveNext()</c> (as <see cref="Training.Learner"/> does) frees them each step.
/// The shuffle order comes from the loader's own <see cref="System.Random"/>, drawn from <c>Lab.Random</c> when none is
/// given, so <c>Lab.Seed(n)</c> makes every epoch's order reproducible.
/// </remarks>
public sealed class DataLoader : IEnumerable<(Tensor X, Tensor Y)>
{
    readonly Random random;

    /// <param name="x">Inputs, first dimension = examples (kept on its device; batches are cut from it).</param>
    /// <param name="y">Targets, first dimension = examples.</param>
    /// <param name="batchSize">Examples per batch.</param>
    /// <param name="shuffle">A new random order every epoch.</param>
    /// <param name="dropLast">Skip the last, smaller batch.</param>
    /// <param name="random">Source of the shuffle order; default one seeded from <c>Lab.Random</c>.</param>
    /// <param name="transform">Applied to each input batch (e.g. <see cref="Augmentation"/>).</param>
    public DataLoader(Tensor x, Tensor y, int batchSize = 64, bool shuffle = false, bool dropLast = false,
        Random? random = null, Func<Tensor, Tensor>? transform = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        if (x.ndim == 0 || y.ndim == 0)
            throw new ArgumentException($"x and y need a first dimension that indexes examples; found x {Shapes.Format(x)} and y {Shapes.Format(y)}.");
        if (x.shape[0] != y.shape[0])
            throw new ArgumentException($"x and y must hold the same number of examples (first dimension); found x {Shapes.Format(x)} and y {Shapes.Format(y)}.");
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "The batch size must be at least 1.");
        X = x;
        Y = y;
        BatchSize = batchSize;
        Shuffle = shuffle;
        DropLast = dropLast;
        Transform = transform;
        this.random = random ?? Lab.NextRandom();
    }

    public Tensor X { get; }
    public Tensor Y { get; }
    public int BatchSize { get; }
    public bool Shuffle { get; }
    public bool DropLast { get; }
    public Func<Tensor, Tensor>? Transform { get; }

    /// <summary>Number of examples.</summary>
    public long Length => X.shape[0];

    /// <summary>Batches per epoch.</summary>
    public int Count => (int)(DropLast ? Length / BatchSize : (Length + BatchSize - 1) / BatchSize);

    public IEnumerator<(Tensor X, Tensor Y)> GetEnumerator()
    {
        long n = Length;
        long[]? order = Shuffle ? Permutation(n, random) : null;
        for (long start = 0; start < n; start += BatchSize)
        {
            long size = Math.Min(BatchSize, n - start);
            if (size < BatchSize && DropLast) yield break;
            Tensor xb, yb;
            if (order is null)
            {
                xb = X.narrow(0, start, size);
                yb = Y.narrow(0, start, size);
            }
            else
            {
                var index = torch.tensor(order.AsSpan((int)start, (int)size).ToArray(), device: X.device);
                xb = X.index_select(0, index);
                yb = Y.index_select(0, index.device == Y.device ? index : index.to(Y.device));
            }
            if (Transform is not null) xb = Transform(xb);
            yield return (xb, yb);
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>A Fisher–Yates permutation of 0…n−1 from <paramref name="random"/>.</summary>
    public static long[] Permutation(long n, Random random)
    {
        var order = new long[n];
        for (long i = 0; i < n; i++) order[i] = i;
        for (long i = n - 1; i > 0; i--)
        {
            long j = random.NextInt64(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

}

/// <summary>Per-channel standardisation of image batches [N, C, H, W].</summary>
public static class Normalization
{
    /// <summary>Per-channel mean and standard deviation over examples and pixels of [N, C, H, W] images.</summary>
    public static (double[] Mean, double[] Std) Compute(Tensor images)
    {
        if (images.ndim != 4) throw new ArgumentException($"Expected images [N, C, H, W]; found {Shapes.Format(images)}.", nameof(images));
        using var scope = torch.NewDisposeScope();
        var x = images.to(float64);
        var mean = x.mean([0, 2, 3]).data<double>().ToArray();
        var std = x.std([0, 2, 3]).data<double>().ToArray();
        return (mean, std);
    }

    /// <summary>(x − mean) / std per channel; <paramref name="mean"/> and <paramref name="std"/> have one value per channel.</summary>
    public static Tensor Normalize(Tensor images, double[] mean, double[] std)
    {
        if (images.ndim != 4) throw new ArgumentException($"Expected images [N, C, H, W]; found {Shapes.Format(images)}.", nameof(images));
        if (mean.Length != images.shape[1] || std.Length != images.shape[1])
            throw new ArgumentException($"Images have {images.shape[1]} channel(s) but mean has {mean.Length} and std {std.Length} values.");
        if (std.Any(s => !(s > 0))) throw new ArgumentException("Every std must be positive.", nameof(std));
        using var scope = torch.NewDisposeScope();
        var m = torch.tensor(mean, dtype: images.dtype, device: images.device).reshape(1, -1, 1, 1);
        var s = torch.tensor(std, dtype: images.dtype, device: images.device).reshape(1, -1, 1, 1);
        return ((images - m) / s).MoveToOuterDisposeScope();
    }
}
