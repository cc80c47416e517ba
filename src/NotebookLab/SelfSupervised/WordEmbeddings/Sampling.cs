using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.SelfSupervised.WordEmbeddings;

/// <summary>
/// Subsampling of frequent words (Mikolov et al., 2013): each occurrence of a word with corpus frequency
/// f = count / total is kept with probability min(1, √(t / f)), so "the" and "of" are mostly dropped while rare
/// words are always kept.
/// </summary>
public static class Subsampling
{
    /// <summary>The keep probability of every word, min(1, √(t / f)), as float64 [V].</summary>
    public static Tensor KeepProbabilities(IReadOnlyList<long> counts, double threshold = 1e-4)
    {
        ArgumentNullException.ThrowIfNull(counts);
        if (threshold <= 0) throw new ArgumentOutOfRangeException(nameof(threshold), threshold, "must be positive");
        if (counts.Count == 0 || counts.Any(c => c < 1)) throw new ArgumentException("Counts must be non-empty and at least 1 each.", nameof(counts));
        double total = counts.Sum();
        return torch.tensor(counts.Select(c => Math.Min(1.0, Math.Sqrt(threshold / (c / total)))).ToArray());
    }

    /// <summary>Keeps each position of <paramref name="ids"/> [N] with the keep probability of its word; the order is kept.</summary>
    public static Tensor Apply(Tensor ids, Tensor keepProbabilities, Generator? generator = null)
    {
        if (ids.ndim != 1) throw new ArgumentException($"Subsampling expects a 1-D tensor of word ids; found {Shapes.Format(ids)}.", nameof(ids));
        using var scope = torch.NewDisposeScope();
        var keep = keepProbabilities.index_select(0, ids.to(int64)).to(float64);
        var mask = torch.rand(ids.shape[0], dtype: float64, generator: generator) < keep;
        return ids[mask].MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The noise distribution of negative sampling, P(w) ∝ count(w)^power (power 0.75 in word2vec), kept as word2vec
/// keeps it: a long table in which word w fills a share P(w) of the entries, so a noise word is one uniform index
/// into the table.
/// </summary>
public sealed class NoiseTable
{
    /// <summary>P(w) for every word, float64 [V].</summary>
    public Tensor Probabilities { get; }
    /// <summary>The table of word ids, int64 [size].</summary>
    public Tensor Table { get; }

    public NoiseTable(IReadOnlyList<long> counts, double power = 0.75, int size = 1_000_000)
    {
        ArgumentNullException.ThrowIfNull(counts);
        if (counts.Count == 0 || counts.Any(c => c < 1)) throw new ArgumentException("Counts must be non-empty and at least 1 each.", nameof(counts));
        if (size < counts.Count) throw new ArgumentOutOfRangeException(nameof(size), size, $"The table needs at least one entry per word ({counts.Count}).");
        var weights = counts.Select(c => Math.Pow(c, power)).ToArray();
        double sum = weights.Sum();
        Probabilities = torch.tensor(weights.Select(w => w / sum).ToArray());
        // Word w fills entries [round(size·cdf(w−1)), round(size·cdf(w))): its share is P(w) to within one entry.
        var table = new long[size];
        double cumulative = 0;
        int start = 0;
        for (int w = 0; w < weights.Length; w++)
        {
            cumulative += weights[w] / sum;
            int end = w == weights.Length - 1 ? size : Math.Min(size, (int)Math.Round(cumulative * size));
            for (int i = start; i < end; i++) table[i] = w;
            start = Math.Max(start, end);
        }
        Table = torch.tensor(table);
    }

    /// <summary>Noise word ids [rows, k], drawn independently from P.</summary>
    public Tensor Sample(long rows, int k, Generator? generator = null)
    {
        if (rows < 0 || k < 1) throw new ArgumentOutOfRangeException(nameof(k), $"Need rows ≥ 0 and k ≥ 1; got rows = {rows}, k = {k}.");
        using var scope = torch.NewDisposeScope();
        var index = torch.randint(0, Table.shape[0], [rows, k], dtype: int64, generator: generator);
        return Table[index].MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The lectures' choices of context, as (input, target) training pairs cut from a stream of word ids [N].
/// </summary>
public static class ContextPairs
{
    static void CheckStream(Tensor ids, int need, string what)
    {
        if (ids.ndim != 1) throw new ArgumentException($"{what} expects a 1-D tensor of word ids; found {Shapes.Format(ids)}.", nameof(ids));
        if (ids.shape[0] < need) throw new ArgumentException($"{what} needs at least {need} words; the stream has {ids.shape[0]}.", nameof(ids));
    }

    /// <summary>The previous <paramref name="n"/> words → the next word (a language model's context): inputs [N − n, n], targets [N − n].</summary>
    public static (Tensor Context, Tensor Target) Previous(Tensor ids, int n)
    {
        if (n < 1) throw new ArgumentOutOfRangeException(nameof(n), n, "must be at least 1");
        CheckStream(ids, n + 1, "Previous");
        using var scope = torch.NewDisposeScope();
        var count = ids.shape[0] - n;
        var index = torch.arange(count, dtype: int64).unsqueeze(1) + torch.arange(n, dtype: int64).unsqueeze(0);
        var source = ids.to(int64);
        return (source[index].MoveToOuterDisposeScope(), source[n..].clone().MoveToOuterDisposeScope());
    }

    /// <summary>
    /// <paramref name="window"/> words either side → the middle word (CBOW's context): inputs [N − 2w, 2w] (the w words
    /// before, then the w after), targets [N − 2w].
    /// </summary>
    public static (Tensor Context, Tensor Target) Window(Tensor ids, int window)
    {
        if (window < 1) throw new ArgumentOutOfRangeException(nameof(window), window, "must be at least 1");
        CheckStream(ids, 2 * window + 1, "Window");
        using var scope = torch.NewDisposeScope();
        var count = ids.shape[0] - 2 * window;
        var offsets = torch.cat([torch.arange(0, window, dtype: int64), torch.arange(window + 1, 2 * window + 1, dtype: int64)]);
        var index = torch.arange(count, dtype: int64).unsqueeze(1) + offsets.unsqueeze(0);
        var source = ids.to(int64);
        return (source[index].MoveToOuterDisposeScope(), source[window..(int)(window + count)].clone().MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Skip-gram pairs: every word → each nearby word at most <paramref name="window"/> positions away, one pair each
    /// (centre [P], context [P]), grouped by offset −w … −1, 1 … w.
    /// </summary>
    public static (Tensor Center, Tensor Context) SkipGram(Tensor ids, int window)
    {
        if (window < 1) throw new ArgumentOutOfRangeException(nameof(window), window, "must be at least 1");
        CheckStream(ids, 2, "SkipGram");
        using var scope = torch.NewDisposeScope();
        var source = ids.to(int64);
        long n = source.shape[0];
        var centers = new List<Tensor>();
        var contexts = new List<Tensor>();
        foreach (var offset in Enumerable.Range(-window, 2 * window + 1).Where(o => o != 0 && Math.Abs(o) < n))
        {
            var a = Math.Abs(offset);
            centers.Add(offset > 0 ? source[..(int)(n - a)] : source[a..]);
            contexts.Add(offset > 0 ? source[a..] : source[..(int)(n - a)]);
        }
        return (torch.cat(centers).MoveToOuterDisposeScope(), torch.cat(contexts).MoveToOuterDisposeScope());
    }
}
