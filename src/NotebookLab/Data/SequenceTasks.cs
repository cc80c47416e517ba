using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Data;

/// <summary>A synthetic sequence data set: inputs, targets, what they mean, and the token vocabulary size (0 for real-valued tasks).</summary>
public sealed record SequenceData(Tensor Inputs, Tensor Targets, string Description, int VocabularySize)
{
    public void Deconstruct(out Tensor inputs, out Tensor targets) => (inputs, targets) = (Inputs, Targets);
    public override string ToString() => $"{Description}\n  inputs {Shapes.Format(Inputs)} {Inputs.dtype}, targets {Shapes.Format(Targets)} {Targets.dtype}";
}

/// <summary>
/// Seeded synthetic tasks for recurrent networks and transformers, each probing one ability (memory, order,
/// long-range credit assignment, counting). Same seed, same data. Targets that must not be scored are −100, the
/// <c>ignore_index</c> of <c>cross_entropy</c>, which <see cref="Training.TaskKind.Sequence"/> honours.
/// </summary>
public static class SequenceTasks
{
    /// <summary>Target value of positions that are not scored (cross-entropy's default ignore_index).</summary>
    public const long Ignore = -100;

    static Random Source(int? seed) => seed is { } s ? new Random(s) : Lab.NextRandom();

    static void Require(bool ok, string name, object value, string rule)
    {
        if (!ok) throw new ArgumentOutOfRangeException(name, value, rule);
    }

    /// <summary>
    /// Copy: read <paramref name="length"/> symbols, then a delimiter, then reproduce them.
    /// Tokens: 0 blank, 1…<paramref name="symbols"/> symbols, symbols+1 delimiter (vocabulary symbols+2).
    /// Inputs [N, 2L+1] int64: s₁…s_L, delimiter, L blanks. Targets [N, 2L+1] int64: −100 for the first L+1 positions, then s₁…s_L.
    /// </summary>
    public static SequenceData Copy(int count, int length = 10, int symbols = 8, int? seed = null)
    {
        Require(count > 0, nameof(count), count, "count must be positive");
        Require(length > 0, nameof(length), length, "length must be positive");
        Require(symbols > 0, nameof(symbols), symbols, "symbols must be positive");
        var random = Source(seed);
        int t = 2 * length + 1;
        var x = new long[count * t];
        var y = new long[count * t];
        for (int n = 0; n < count; n++)
        {
            for (int i = 0; i < t; i++) y[n * t + i] = Ignore;
            for (int i = 0; i < length; i++)
            {
                long s = random.Next(1, symbols + 1);
                x[n * t + i] = s;
                y[n * t + length + 1 + i] = s;
            }
            x[n * t + length] = symbols + 1;
        }
        return new SequenceData(torch.tensor(x).reshape(count, t), torch.tensor(y).reshape(count, t),
            $"Copy {length} symbols after a delimiter ({count} sequences of {t} tokens; vocabulary {symbols + 2})", symbols + 2);
    }

    /// <summary>
    /// Reverse: inputs [N, L] of symbols 1…<paramref name="symbols"/> (0 unused), targets [N, L] = the input reversed.
    /// </summary>
    public static SequenceData Reverse(int count, int length = 10, int symbols = 8, int? seed = null)
    {
        Require(count > 0, nameof(count), count, "count must be positive");
        Require(length > 0, nameof(length), length, "length must be positive");
        Require(symbols > 0, nameof(symbols), symbols, "symbols must be positive");
        var random = Source(seed);
        var x = new long[count * length];
        var y = new long[count * length];
        for (int n = 0; n < count; n++)
            for (int i = 0; i < length; i++)
            {
                long s = random.Next(1, symbols + 1);
                x[n * length + i] = s;
                y[n * length + length - 1 - i] = s;
            }
        return new SequenceData(torch.tensor(x).reshape(count, length), torch.tensor(y).reshape(count, length),
            $"Reverse {length} symbols ({count} sequences; vocabulary {symbols + 1})", symbols + 1);
    }

    /// <summary>
    /// The adding problem (Hochreiter &amp; Schmidhuber 1997): inputs [N, L, 2] float32, channel 0 uniform values in
    /// [0, 1), channel 1 a marker that is 1 at exactly two positions (one in each half); target [N, 1] float32, the sum
    /// of the two marked values. Predicting 1.0 always gives MSE ≈ 0.167; a model that remembers does far better.
    /// </summary>
    public static SequenceData Adding(int count, int length = 50, int? seed = null)
    {
        Require(count > 0, nameof(count), count, "count must be positive");
        Require(length >= 2, nameof(length), length, "length must be at least 2");
        var random = Source(seed);
        var x = new float[count * length * 2];
        var y = new float[count];
        int half = length / 2;
        for (int n = 0; n < count; n++)
        {
            for (int i = 0; i < length; i++) x[(n * length + i) * 2] = (float)random.NextDouble();
            int a = random.Next(0, half), b = random.Next(half, length);
            x[(n * length + a) * 2 + 1] = 1;
            x[(n * length + b) * 2 + 1] = 1;
            y[n] = x[(n * length + a) * 2] + x[(n * length + b) * 2];
        }
        return new SequenceData(torch.tensor(x).reshape(count, length, 2), torch.tensor(y).reshape(count, 1),
            $"Adding problem over {length} steps ({count} sequences): sum of the two marked values", 0);
    }

    /// <summary>
    /// Next-step prediction of sine waves: inputs [N, L, 1] float32 = sin(ω t + φ) (+ noise) for t = 0…L−1 with random
    /// ω ∈ [0.1, 0.5] and φ ∈ [0, 2π); targets [N, L, 1] = the same wave one step later (noise-free).
    /// </summary>
    public static SequenceData SineNextStep(int count, int length = 40, double noise = 0.0, int? seed = null)
    {
        Require(count > 0, nameof(count), count, "count must be positive");
        Require(length > 0, nameof(length), length, "length must be positive");
        Require(noise >= 0, nameof(noise), noise, "noise must not be negative");
        var random = Source(seed);
        var x = new float[count * length];
        var y = new float[count * length];
        for (int n = 0; n < count; n++)
        {
            double omega = 0.1 + 0.4 * random.NextDouble(), phi = 2 * Math.PI * random.NextDouble();
            for (int t = 0; t < length; t++)
            {
                double gaussian = noise == 0 ? 0 : noise * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                x[n * length + t] = (float)(Math.Sin(omega * t + phi) + gaussian);
                y[n * length + t] = (float)Math.Sin(omega * (t + 1) + phi);
            }
        }
        return new SequenceData(torch.tensor(x).reshape(count, length, 1), torch.tensor(y).reshape(count, length, 1),
            $"Next-step sine prediction over {length} steps ({count} waves, noise {noise})", 0);
    }

    /// <summary>
    /// Balanced brackets: inputs [N, L] int64 (1 = "(", 2 = ")", vocabulary 3 with 0 reserved for padding), targets [N]
    /// int64: 1 if the string is balanced, else 0. Half are balanced; of the rest, half have one bracket flipped and half
    /// are shuffles with equal counts that dip below zero (so counting alone does not solve it). <paramref name="length"/> must be even.
    /// </summary>
    public static SequenceData BalancedBrackets(int count, int length = 12, int? seed = null)
    {
        Require(count > 0, nameof(count), count, "count must be positive");
        Require(length >= 2 && length % 2 == 0, nameof(length), length, "length must be even and at least 2");
        var random = Source(seed);
        var x = new long[count * length];
        var y = new long[count];
        var row = new long[length];
        for (int n = 0; n < count; n++)
        {
            RandomBalanced(row, random);
            bool balanced = n % 2 == 0;
            if (!balanced)
            {
                if (random.Next(2) == 0)
                {
                    int i = random.Next(length);
                    row[i] = row[i] == 1 ? 2 : 1;
                }
                else
                {
                    do random.Shuffle(row); while (IsBalanced(row));
                }
            }
            y[n] = IsBalanced(row) ? 1 : 0;
            row.CopyTo(x, n * length);
        }
        var order = DataLoader.Permutation(count, random);
        var xs = torch.tensor(x).reshape(count, length);
        var ys = torch.tensor(y);
        using var index = torch.tensor(order);
        var data = new SequenceData(xs.index_select(0, index), ys.index_select(0, index),
            $"Balanced brackets of length {length} ({count} strings, half balanced)", 3);
        xs.Dispose(); ys.Dispose();
        return data;
    }

    /// <summary>True when the bracket string (1 = open, 2 = close) never closes more than it opened and ends at depth 0.</summary>
    public static bool IsBalanced(ReadOnlySpan<long> tokens)
    {
        int depth = 0;
        foreach (var t in tokens)
        {
            depth += t == 1 ? 1 : -1;
            if (depth < 0) return false;
        }
        return depth == 0;
    }

    static void RandomBalanced(long[] row, Random random)
    {
        int opensLeft = row.Length / 2, depth = 0;
        for (int i = 0; i < row.Length; i++)
        {
            bool open = depth == 0 || (opensLeft > 0 && random.Next(2) == 0);
            if (opensLeft == 0) open = false;
            row[i] = open ? 1 : 2;
            if (open) { opensLeft--; depth++; } else depth--;
        }
    }
}
