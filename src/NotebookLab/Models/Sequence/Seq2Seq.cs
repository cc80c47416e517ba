// Partial <param> docs are intentional: only the non-obvious parameters are described.
#pragma warning disable CS1573

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookLab.Models.Sequence;

/// <summary>Decoder output: logits [B, T, target_vocab] and, for attention models, the weights [B, T, S] (else null).</summary>
public sealed record Seq2SeqOutput(Tensor Logits, Tensor? Attention);

/// <summary>How an attention decoder scores decoder state s against encoder state h_j.</summary>
public enum AttentionScore
{
    /// <summary>Bahdanau: vᵀ tanh(W s + U h_j).</summary>
    Additive,
    /// <summary>Luong: sᵀ h_j.</summary>
    Dot,
}

/// <summary>
/// Shared parts of the GRU encoder–decoders: token embeddings, an encoder GRU over the source (batch first),
/// teacher-forced training (<c>forward(source, targetInput)</c>) and greedy decoding (<see cref="Greedy"/>).
/// Source padding is given by <see cref="SourcePadToken"/>: padded positions are skipped by the context vector and masked
/// out of attention.
/// </summary>
public abstract class Seq2SeqBase : nn.Module<Tensor, Tensor, Seq2SeqOutput>
{
    public Embedding source_embedding;
    public Embedding target_embedding;
    public GRU encoder;

    public long SourceVocab { get; }
    public long TargetVocab { get; }
    public long HiddenSize { get; }
    public long? SourcePadToken { get; }

    protected Seq2SeqBase(string name, long sourceVocab, long targetVocab, long embeddingDim, long hiddenSize, long? sourcePadToken) : base(name)
    {
        ShapeGuard.RequirePositive(sourceVocab, name, nameof(sourceVocab));
        ShapeGuard.RequirePositive(targetVocab, name, nameof(targetVocab));
        ShapeGuard.RequirePositive(embeddingDim, name, nameof(embeddingDim));
        ShapeGuard.RequirePositive(hiddenSize, name, nameof(hiddenSize));
        (SourceVocab, TargetVocab, HiddenSize, SourcePadToken) = (sourceVocab, targetVocab, hiddenSize, sourcePadToken);
        source_embedding = nn.Embedding(sourceVocab, embeddingDim);
        target_embedding = nn.Embedding(targetVocab, embeddingDim);
        encoder = nn.GRU(embeddingDim, hiddenSize, batchFirst: true);
    }

    /// <summary>Encoder states [B, S, H], the context (state at each sequence's last real token) [B, H], and the padding mask
    /// [B, S] (true at padding; null without <see cref="SourcePadToken"/>).</summary>
    public (Tensor states, Tensor context, Tensor? padding) Encode(Tensor source)
    {
        ShapeGuard.RequireTokens(source, SourceVocab, GetName(), "source");
        var (states, _) = encoder.call(source_embedding.call(source));
        Tensor? padding = SourcePadToken is long pad ? source.eq(pad) : null;
        Tensor context;
        if (padding is null) context = states[TensorIndex.Colon, -1];
        else
        {
            var lengths = padding.logical_not().sum(1);
            if (lengths.min().item<long>() == 0)
                throw new ArgumentException($"{GetName()}: a source sequence consists of padding only.", nameof(source));
            var last = (lengths - 1).view(-1, 1, 1).expand(-1, 1, HiddenSize);
            context = states.gather(1, last).squeeze(1);
        }
        return (states, context, padding);
    }


    /// <summary>Teacher forcing: <paramref name="targetInput"/> [B, T] is the target shifted right (starting with BOS).</summary>
    public abstract override Seq2SeqOutput forward(Tensor source, Tensor targetInput);

    /// <summary>Greedy decoding of <paramref name="steps"/> tokens after <paramref name="bosToken"/>: tokens [B, steps] and attention [B, steps, S] (or null).</summary>
    public abstract (Tensor tokens, Tensor? attention) Greedy(Tensor source, int steps, long bosToken);
}

/// <summary>
/// Encoder–decoder with a single context vector (Sutskever et al. / Cho et al.): the encoder's last state c both
/// initialises the decoder and is fed to it at every step, <c>s_t = GRU([emb(y_{t−1}); c], s_{t−1})</c>,
/// <c>p(y_t) = softmax(W s_t)</c>. Everything about the source must squeeze through c.
/// </summary>
public sealed class ContextVectorSeq2Seq : Seq2SeqBase
{
    public GRU decoder;
    public Linear output;

    public ContextVectorSeq2Seq(long sourceVocab, long targetVocab, long embeddingDim, long hiddenSize, long? sourcePadToken = null,
                                string name = nameof(ContextVectorSeq2Seq))
        : base(name, sourceVocab, targetVocab, embeddingDim, hiddenSize, sourcePadToken)
    {
        decoder = nn.GRU(embeddingDim + hiddenSize, hiddenSize, batchFirst: true);
        output = nn.Linear(hiddenSize, targetVocab);
        RegisterComponents();
    }

    public override Seq2SeqOutput forward(Tensor source, Tensor targetInput)
    {
        var (_, context, _) = Encode(source);
        ShapeGuard.RequireTokens(targetInput, TargetVocab, GetName(), nameof(targetInput));
        if (targetInput.shape[0] != source.shape[0])
            throw new ArgumentException($"{GetName()}: source and targetInput must have the same batch size, got {Shapes.Format(source)} and {Shapes.Format(targetInput)}.");
        var steps = targetInput.shape[1];
        var inputs = torch.cat(new[] { target_embedding.call(targetInput), context.unsqueeze(1).expand(-1, steps, -1) }, dim: 2);
        var (states, _) = decoder.call(inputs, context.unsqueeze(0));
        return new Seq2SeqOutput(output.call(states), null);
    }

    public override (Tensor tokens, Tensor? attention) Greedy(Tensor source, int steps, long bosToken)
    {
        ShapeGuard.RequirePositive(steps, GetName(), nameof(steps));
        using var scope = torch.NewDisposeScope();   // the step temporaries die here, not in the finalizer thread
        var (_, context, _) = Encode(source);
        var batch = source.shape[0];
        var previous = torch.full(batch, 1, bosToken, dtype: ScalarType.Int64, device: source.device);
        var state = context.unsqueeze(0);
        var tokens = new List<Tensor>();
        for (int t = 0; t < steps; t++)
        {
            var input = torch.cat(new[] { target_embedding.call(previous), context.unsqueeze(1) }, dim: 2);
            var (s, h) = decoder.call(input, state);
            state = h;
            previous = output.call(s).argmax(-1); // [B, 1]
            tokens.Add(previous);
        }
        return (torch.cat(tokens, dim: 1).MoveToOuterDisposeScope(), null);
    }
}

/// <summary>
/// Encoder–decoder with attention (Bahdanau et al. 2015): at every step the decoder compares its state with every
/// encoder state, α_t = softmax_j(score(s_{t−1}, h_j)), reads c_t = Σ_j α_{t,j} h_j, then
/// <c>s_t = GRUCell([emb(y_{t−1}); c_t], s_{t−1})</c> and <c>p(y_t) = softmax(W [s_t; c_t])</c>. Returns α for heatmaps.
/// </summary>
public sealed class AttentionSeq2Seq : Seq2SeqBase
{
    public GRUCell decoder;
    public AdditiveAttention? attention;
    public Linear output;

    public AttentionScore Score { get; }

    public AttentionSeq2Seq(long sourceVocab, long targetVocab, long embeddingDim, long hiddenSize, long? sourcePadToken = null,
                            AttentionScore score = AttentionScore.Additive, string name = nameof(AttentionSeq2Seq))
        : base(name, sourceVocab, targetVocab, embeddingDim, hiddenSize, sourcePadToken)
    {
        Score = score;
        decoder = nn.GRUCell(embeddingDim + hiddenSize, hiddenSize);
        if (score == AttentionScore.Additive) attention = new AdditiveAttention(hiddenSize, hiddenSize, hiddenSize);
        output = nn.Linear(2 * hiddenSize, targetVocab);
        RegisterComponents();
    }

    private (Tensor context, Tensor weights) Attend(Tensor state, Tensor encoderStates, Tensor? padding)
    {
        if (attention is not null) return attention.call(state, encoderStates, padding);
        var (context, weights) = Attention.ScaledDotProduct(state.unsqueeze(1), encoderStates, encoderStates, keyPaddingMask: padding, scale: 1.0);
        return (context.squeeze(1), weights.squeeze(1));
    }

    /// <summary>
    /// One decoder step: attend with the previous state s_{t−1} [B, H] over <paramref name="encoderStates"/> [B, S, H]
    /// (from <see cref="Seq2SeqBase.Encode"/>), update the state with the previous tokens [B], and predict: returns the
    /// logits [B, target_vocab], the new state s_t [B, H] and the attention weights α_t [B, S]. The first step starts from
    /// the encoder's context vector.
    /// </summary>
    public (Tensor logits, Tensor state, Tensor weights) Step(Tensor previousTokens, Tensor state, Tensor encoderStates, Tensor? padding)
    {
        var where = GetName();
        ShapeGuard.Require(encoderStates, where, nameof(encoderStates), "[batch, source_length, hidden]", null, null, HiddenSize);
        ShapeGuard.Require(state, where, nameof(state), "[batch, hidden]", encoderStates.shape[0], HiddenSize);
        ShapeGuard.RequireIntegral(previousTokens, where, nameof(previousTokens));
        ShapeGuard.Require(previousTokens, where, nameof(previousTokens), "[batch]", encoderStates.shape[0]);
        var (context, weights) = Attend(state, encoderStates, padding);
        var next = decoder.call(torch.cat(new[] { target_embedding.call(previousTokens), context }, dim: 1), state);
        var logits = output.call(torch.cat(new[] { next, context }, dim: 1));
        return (logits, next, weights);
    }

    public override Seq2SeqOutput forward(Tensor source, Tensor targetInput)
    {
        var (states, context, padding) = Encode(source);
        ShapeGuard.RequireTokens(targetInput, TargetVocab, GetName(), nameof(targetInput));
        if (targetInput.shape[0] != source.shape[0])
            throw new ArgumentException($"{GetName()}: source and targetInput must have the same batch size, got {Shapes.Format(source)} and {Shapes.Format(targetInput)}.");
        var state = context;
        var logits = new List<Tensor>();
        var weights = new List<Tensor>();
        for (long t = 0; t < targetInput.shape[1]; t++)
        {
            var (l, s, w) = Step(targetInput[TensorIndex.Colon, t], state, states, padding);
            state = s;
            logits.Add(l);
            weights.Add(w);
        }
        return new Seq2SeqOutput(torch.stack(logits, dim: 1), torch.stack(weights, dim: 1));
    }

    public override (Tensor tokens, Tensor? attention) Greedy(Tensor source, int steps, long bosToken)
    {
        ShapeGuard.RequirePositive(steps, GetName(), nameof(steps));
        using var scope = torch.NewDisposeScope();
        var (states, context, padding) = Encode(source);
        var previous = torch.full(source.shape[0], bosToken, dtype: ScalarType.Int64, device: source.device);
        var state = context;
        var tokens = new List<Tensor>();
        var weights = new List<Tensor>();
        for (int t = 0; t < steps; t++)
        {
            var (l, s, w) = Step(previous, state, states, padding);
            state = s;
            previous = l.argmax(-1);
            tokens.Add(previous);
            weights.Add(w);
        }
        return (torch.stack(tokens, dim: 1).MoveToOuterDisposeScope(), torch.stack(weights, dim: 1).MoveToOuterDisposeScope());
    }
}
