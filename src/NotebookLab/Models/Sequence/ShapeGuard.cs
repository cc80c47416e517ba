// Partial <param> docs are intentional: only the non-obvious parameters are described.
#pragma warning disable CS1573

using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Models.Sequence;

/// <summary>
/// Input checks for the sequence models: a wrong shape fails with a message that names the module, the argument,
/// the expected layout and what arrived, instead of a native error from deep inside a matmul.
/// </summary>
internal static class ShapeGuard
{
    /// <summary>Requires <paramref name="t"/> to have exactly the given sizes; a null size matches anything.</summary>
    public static void Require(Tensor? t, string where, string argument, string layout, params long?[] sizes)
    {
        if (t is null) throw new ArgumentNullException(argument, $"{where}: {argument} must be a tensor of shape {layout}, got null.");
        bool ok = t.dim() == sizes.Length;
        for (int i = 0; ok && i < sizes.Length; i++)
            if (sizes[i] is long expected && t.shape[i] != expected) ok = false;
        if (!ok)
            throw new ArgumentException(
                $"{where}: {argument} must have shape {layout} = {Shapes.Format(sizes)}, got {Shapes.Format(t)}.",
                argument);
    }

    public static void RequireFloating(Tensor t, string where, string argument)
    {
        if (!t.is_floating_point())
            throw new ArgumentException($"{where}: {argument} must be a floating-point tensor, got {t.dtype}.", argument);
    }

    public static void RequireIntegral(Tensor t, string where, string argument)
    {
        if (t.dtype != ScalarType.Int64 && t.dtype != ScalarType.Int32)
            throw new ArgumentException($"{where}: {argument} must hold token ids (int64 or int32), got {t.dtype}.", argument);
    }

    public static void RequirePositive(long value, string where, string argument)
    {
        if (value <= 0) throw new ArgumentOutOfRangeException(argument, value, $"{where}: {argument} must be positive.");
    }
}
