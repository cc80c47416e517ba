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

    /// <summary>Requires a [batch, length] tensor of token ids inside the vocabulary 0..vocab-1, and not empty.</summary>
    public static void RequireTokens(Tensor tokens, long vocab, string where, string argument)
    {
        RequireIntegral(tokens, where, argument);
        Require(tokens, where, argument, "[batch, length]", null, null);
        if (tokens.numel() == 0) throw new ArgumentException($"{where}: {argument} is empty: {Shapes.Format(tokens)}.", argument);
        long min = tokens.min().item<long>(), max = tokens.max().item<long>();
        if (min < 0 || max >= vocab)
            throw new ArgumentException($"{where}: {argument} holds token ids in [{min}, {max}] but the vocabulary has {vocab} tokens (ids 0..{vocab - 1}).", argument);
    }

    /// <summary>The arguments every language model's <c>Sample</c> takes: a non-empty prompt, a length ≥ 0, a finite temperature ≥ 0.</summary>
    public static void RequireSamplingArguments(int promptLength, int length, double temperature, string where)
    {
        if (promptLength == 0) throw new ArgumentException($"{where}: the prompt must hold at least one token.", "prompt");
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length), length, $"{where}: length must be ≥ 0.");
        if (!(temperature >= 0) || double.IsInfinity(temperature))
            throw new ArgumentOutOfRangeException(nameof(temperature), temperature, $"{where}: temperature must be a finite number ≥ 0.");
    }
}
