using static TorchSharp.torch;

namespace NotebookLab;

/// <summary>
/// A tensor's values as .NET arrays, for charts, checks and printing: detached, on the CPU, contiguous, in row-major
/// order. The one way notebooks and views read numbers out of a tensor.
/// </summary>
public static class TensorValues
{
    /// <summary>Every element as a <c>double</c>, flattened row-major: <c>loss.ToDoubles()</c>, <c>weights[0].ToDoubles()</c>.</summary>
    public static double[] ToDoubles(this Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        using var scope = NewDisposeScope();
        return t.detach().cpu().to(ScalarType.Float64).contiguous().data<double>().ToArray();
    }

    /// <summary>Every element as an <c>int</c> (e.g. class indices, token ids), flattened row-major.</summary>
    public static int[] ToInts(this Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        using var scope = NewDisposeScope();
        return [.. t.detach().cpu().to(ScalarType.Int64).contiguous().data<long>().ToArray().Select(v => checked((int)v))];
    }

    /// <summary>A 2-D tensor as a <c>double[rows, cols]</c> (e.g. a weight or attention matrix).</summary>
    public static double[,] ToMatrix(this Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        if (t.dim() != 2) throw new ArgumentException($"ToMatrix needs a 2-D tensor, got shape {Shapes.Format(t.shape)}", nameof(t));
        var v = t.ToDoubles();
        var (r, c) = ((int)t.shape[0], (int)t.shape[1]);
        var m = new double[r, c];
        for (var i = 0; i < r; i++) for (var j = 0; j < c; j++) m[i, j] = v[i * c + j];
        return m;
    }
}
