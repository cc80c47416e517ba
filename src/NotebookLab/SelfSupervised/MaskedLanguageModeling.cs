using NotebookLab.Models.Sequence;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.SelfSupervised;

/// <summary>
/// BERT's pretext task for text (Devlin et al. 2019): hide some tokens of a passage behind a <c>[MASK]</c> id and ask a
/// bidirectional encoder to guess them from both sides. The labels are the hidden tokens themselves, so any raw text will do.
/// Notebook 05 writes masking and the loss out by hand first; these are the same steps for longer runs.
/// </summary>
public static class MaskedLanguageModeling
{
    /// <summary>The target at positions that are not scored; <c>cross_entropy</c> ignores it by default.</summary>
    public const long Ignored = -100;

    /// <summary>
    /// <paramref name="count"/> passages [count, length] of consecutive tokens, each starting at a random position of the token
    /// stream <paramref name="ids"/> [N].
    /// </summary>
    public static Tensor Passages(Tensor ids, int length, int count, Generator? generator = null)
    {
        if (ids.ndim != 1) throw new ArgumentException($"MaskedLanguageModeling.Passages: expected a 1-D stream of token ids; found {Shapes.Format(ids)}.", nameof(ids));
        using var scope = NewDisposeScope();
        var index = Data.LanguageModeling.RandomPassageIndex(ids.shape[0], length, count, generator, $"{nameof(MaskedLanguageModeling)}.{nameof(Passages)}").to(ids.device);
        return ids[index].MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Chooses each position of <paramref name="tokens"/> [B, T] with probability <paramref name="rate"/>. Input: the tokens
    /// with <paramref name="maskId"/> at the chosen positions. Target: the original token at the chosen positions and
    /// <see cref="Ignored"/> everywhere else, so the loss scores the hidden tokens only.
    /// </summary>
    public static (Tensor Input, Tensor Target) Mask(Tensor tokens, long maskId, double rate = 0.15, Generator? generator = null)
    {
        ShapeGuard.RequireIntegral(tokens, nameof(MaskedLanguageModeling), nameof(tokens));
        if (rate is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(rate), rate, "The masking rate must lie strictly between 0 and 1.");
        using var scope = NewDisposeScope();
        var chosen = (rand(tokens.shape, generator: generator) < rate).to(tokens.device);
        var input = where(chosen, full_like(tokens, maskId), tokens);
        var target = where(chosen, tokens, full_like(tokens, Ignored));
        return (input.MoveToOuterDisposeScope(), target.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Mean cross-entropy of <paramref name="encoder"/>'s guesses at the scored positions of <paramref name="target"/>. The
    /// output layer (vocabulary-sized, the largest matrix product) runs at those positions only, about 15% of the tokens,
    /// which gives the same loss as scoring all positions with <see cref="Ignored"/> targets, for a fraction of the work.
    /// </summary>
    public static Tensor Loss(TransformerLanguageModel encoder, Tensor input, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        if (!input.shape.SequenceEqual(target.shape))
            throw new ArgumentException($"MaskedLanguageModeling.Loss: input {Shapes.Format(input)} and target {Shapes.Format(target)} must have the same shape.", nameof(target));
        using var scope = NewDisposeScope();
        var scored = target.reshape(-1).ne(Ignored).nonzero().flatten();
        if (scored.shape[0] == 0)
            throw new ArgumentException("MaskedLanguageModeling.Loss: no position is scored (every target is Ignored); mask at least one token.", nameof(target));
        var hidden = encoder.Features(input).reshape(-1, encoder.ModelDim).index_select(0, scored);
        var loss = nn.functional.cross_entropy(encoder.head.call(hidden), target.reshape(-1).index_select(0, scored));
        return loss.MoveToOuterDisposeScope();
    }
}
