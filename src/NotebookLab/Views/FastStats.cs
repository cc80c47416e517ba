using System.Numerics;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace NotebookLab.Views;

/// <summary>
/// Direct reads of a contiguous CPU float32/float64 tensor's memory, so a view touches only the elements it shows and
/// computes statistics in one single-threaded SIMD pass (no torch kernels, hence no thread-pool wake-ups, which cost
/// more than the work itself for view-sized jobs on a busy machine).
/// </summary>
internal sealed class CpuFloatReader
{
    readonly Tensor tensor;
    public bool IsDouble { get; }
    public long Count { get; }

    CpuFloatReader(Tensor tensor, bool isDouble) => (this.tensor, IsDouble, Count) = (tensor, isDouble, tensor.numel());

    /// <summary>A reader when the tensor is a contiguous CPU float32/float64 tensor below 2 GB; else null.</summary>
    public static CpuFloatReader? TryCreate(Tensor t)
    {
        if (t.device_type != TorchSharp.DeviceType.CPU || !t.is_contiguous()) return null;
        var isDouble = t.dtype == ScalarType.Float64;
        if (t.dtype != ScalarType.Float32 && !isDouble) return null;
        if (t.numel() == 0 || t.numel() * (isDouble ? 8 : 4) >= int.MaxValue) return null;
        return new CpuFloatReader(t, isDouble);
    }

    public ReadOnlySpan<float> Floats => MemoryMarshal.Cast<byte, float>(tensor.bytes);
    public ReadOnlySpan<double> Doubles => MemoryMarshal.Cast<byte, double>(tensor.bytes);

    public double this[long i] => IsDouble ? Doubles[(int)i] : Floats[(int)i];

    public TensorStats Stats(long stride, string? note) =>
        IsDouble ? FastStats.Compute(Doubles, stride, note) : FastStats.Compute(Floats, stride, note);
}

internal static class FastStats
{
    const int Block = 4096;

    /// <summary>min, max, mean, unbiased std, NaN and Inf counts of every <paramref name="stride"/>-th element, in one
    /// pass: per block a SIMD sum then a centred sum of squares (block in cache), blocks merged with Chan's formula.</summary>
    public static TensorStats Compute<T>(ReadOnlySpan<T> all, long stride, string? note) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long n = 0, nan = 0, inf = 0, used = 0;
        double mean = 0, m2 = 0, min = double.PositiveInfinity, max = double.NegativeInfinity;
        var gathered = stride == 1 ? [] : new T[Block];
        for (long start = 0; start < all.Length; start += Block * stride)
        {
            ReadOnlySpan<T> block;
            if (stride == 1) block = all.Slice((int)start, (int)Math.Min(Block, all.Length - start));
            else
            {
                var k = 0;
                for (var i = start; i < all.Length && k < Block; i += stride) gathered[k++] = all[(int)i];
                block = gathered.AsSpan(0, k);
            }
            used += block.Length;
            var (bn, bmean, bm2, bmin, bmax, bnan, binf) = BlockStats(block);
            nan += bnan; inf += binf;
            if (bn == 0) continue;
            min = Math.Min(min, bmin); max = Math.Max(max, bmax);
            var total = n + bn;
            var delta = bmean - mean;
            mean += delta * bn / total;
            m2 += bm2 + delta * delta * n * bn / total;
            n = total;
        }
        return new TensorStats(n > 0 ? min : double.NaN, n > 0 ? max : double.NaN, n > 0 ? mean : double.NaN,
            n > 1 ? Math.Sqrt(m2 / (n - 1)) : double.NaN, nan, inf, used, all.Length, stride, note);
    }

    static (long N, double Mean, double M2, double Min, double Max, long NaN, long Inf) BlockStats<T>(ReadOnlySpan<T> x)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var width = Vector<T>.Count;
        var vsum = Vector<T>.Zero;
        var vmin = new Vector<T>(T.PositiveInfinity);
        var vmax = new Vector<T>(T.NegativeInfinity);
        var bad = Vector<T>.Zero;
        var i = 0;
        for (; i + width <= x.Length; i += width)
        {
            var v = new Vector<T>(x.Slice(i, width));
            vsum += v;
            vmin = Vector.Min(vmin, v);
            vmax = Vector.Max(vmax, v);
            bad |= Vector.AsVectorByte(~Vector.Equals(v - v, Vector<T>.Zero)).As<byte, T>(); // NaN or ±Inf
        }
        var anyBad = bad != Vector<T>.Zero;
        for (var j = i; j < x.Length; j++) if (!T.IsFinite(x[j])) anyBad = true;
        if (anyBad) return ScalarStats(x);

        double sum = 0, min = double.PositiveInfinity, max = double.NegativeInfinity;
        for (var l = 0; l < width; l++)
        {
            sum += double.CreateTruncating(vsum[l]);
            min = Math.Min(min, double.CreateTruncating(vmin[l]));
            max = Math.Max(max, double.CreateTruncating(vmax[l]));
        }
        for (var j = i; j < x.Length; j++)
        {
            var d = double.CreateTruncating(x[j]);
            sum += d; min = Math.Min(min, d); max = Math.Max(max, d);
        }
        // Second pass over the (cached) block around the rounded first estimate c: the deviations are small, so their
        // sum S1 and sum of squares S2 are accurate in T; then mean = c + S1/n and M2 = S2 - S1²/n.
        var centre = T.CreateTruncating(sum / x.Length);
        var vcentre = new Vector<T>(centre);
        var vs1 = Vector<T>.Zero;
        var vs2 = Vector<T>.Zero;
        i = 0;
        for (; i + width <= x.Length; i += width)
        {
            var c = new Vector<T>(x.Slice(i, width)) - vcentre;
            vs1 += c;
            vs2 += c * c;
        }
        double s1 = 0, s2 = 0;
        for (var l = 0; l < width; l++) { s1 += double.CreateTruncating(vs1[l]); s2 += double.CreateTruncating(vs2[l]); }
        var cd = double.CreateTruncating(centre);
        for (var j = i; j < x.Length; j++) { var c = double.CreateTruncating(x[j]) - cd; s1 += c; s2 += c * c; }
        var mean = cd + s1 / x.Length;
        var m2 = Math.Max(0, s2 - s1 * s1 / x.Length);
        return (x.Length, mean, m2, min, max, 0, 0);
    }

    static (long, double, double, double, double, long, long) ScalarStats<T>(ReadOnlySpan<T> x) where T : unmanaged, IFloatingPointIeee754<T>
    {
        long n = 0, nan = 0, inf = 0;
        double mean = 0, m2 = 0, min = double.PositiveInfinity, max = double.NegativeInfinity;
        foreach (var t in x)
        {
            if (T.IsNaN(t)) { nan++; continue; }
            if (T.IsInfinity(t)) { inf++; continue; }
            var d = double.CreateTruncating(t);
            n++;
            var delta = d - mean;
            mean += delta / n;
            m2 += delta * (d - mean);
            min = Math.Min(min, d); max = Math.Max(max, d);
        }
        return (n, mean, m2, min, max, nan, inf);
    }
}
