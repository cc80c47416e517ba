using System.Globalization;
using static TorchSharp.torch;

namespace NotebookLab;

/// <summary>Shape text as PyTorch prints sizes, <c>[2, 3]</c>: the one place every message and view formats a shape.</summary>
public static class Shapes
{
    /// <summary><c>[2, 3]</c>; a scalar is <c>[]</c>.</summary>
    public static string Format(long[] shape) => Format((IEnumerable<long>)shape);

    /// <summary><c>[2, 3]</c>, from any list of sizes.</summary>
    public static string Format(IEnumerable<long> shape) =>
        "[" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";

    /// <summary>The shape of <paramref name="t"/>, e.g. <c>[64, 1, 28, 28]</c>.</summary>
    public static string Format(Tensor t) => Format((IEnumerable<long>)t.shape);

    /// <summary>An expected shape where any size fits a null dimension: <c>[*, 3]</c>.</summary>
    public static string Format(IEnumerable<long?> pattern) =>
        "[" + string.Join(", ", pattern.Select(d => d?.ToString(CultureInfo.InvariantCulture) ?? "*")) + "]";
}
