// Partial <param> docs are intentional: only the non-obvious parameters are described.
#pragma warning disable CS1573

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookLab.Models.Sequence;

/// <summary>
/// The fixed sinusoidal positional encoding of "Attention Is All You Need":
/// <c>PE(pos, 2i) = sin(pos / 10000^{2i/d})</c>, <c>PE(pos, 2i+1) = cos(pos / 10000^{2i/d})</c>.
/// As a module it adds the table to embeddings [B, L, d] (batch first).
/// </summary>
public sealed class SinusoidalPositionalEncoding : nn.Module<Tensor, Tensor>
{
    private readonly Tensor pe;

    public long MaxLength { get; }
    public long ModelDim { get; }

    public SinusoidalPositionalEncoding(long modelDim, long maxLength = 512, string name = nameof(SinusoidalPositionalEncoding)) : base(name)
    {
        (ModelDim, MaxLength) = (modelDim, maxLength);
        pe = Table(maxLength, modelDim);
        register_buffer(nameof(pe), pe, persistent: false);
    }

    /// <summary>The table PE [maxLength, modelDim] (float32). Works for odd modelDim too (the last column is a sine).</summary>
    public static Tensor Table(long maxLength, long modelDim, double baseValue = 10000.0)
    {
        ShapeGuard.RequirePositive(maxLength, "SinusoidalPositionalEncoding.Table", nameof(maxLength));
        ShapeGuard.RequirePositive(modelDim, "SinusoidalPositionalEncoding.Table", nameof(modelDim));
        using var scope = torch.NewDisposeScope();
        var position = torch.arange(maxLength, dtype: ScalarType.Float64).unsqueeze(1);             // [L, 1]
        var evenDims = torch.arange(0, modelDim, 2, dtype: ScalarType.Float64);                     // 2i
        var angle = position / torch.pow(baseValue, evenDims / modelDim).unsqueeze(0);              // [L, ceil(d/2)]
        var table = torch.zeros(maxLength, modelDim, dtype: ScalarType.Float64);
        table[TensorIndex.Colon, TensorIndex.Slice(0, null, 2)] = torch.sin(angle);
        table[TensorIndex.Colon, TensorIndex.Slice(1, null, 2)] = torch.cos(angle)[TensorIndex.Colon, TensorIndex.Slice(0, modelDim / 2)];
        return table.to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>x [B, L, d] → x + PE[:L].</summary>
    public override Tensor forward(Tensor x)
    {
        ShapeGuard.Require(x, GetName(), "input", "[batch, length, model_dim]", null, null, ModelDim);
        if (x.shape[1] > MaxLength)
            throw new ArgumentException($"{GetName()}: sequence length {x.shape[1]} exceeds maxLength {MaxLength}; create the encoding with a larger maxLength.", nameof(x));
        return x + pe[TensorIndex.Slice(0, x.shape[1])].to(x.dtype, x.device);
    }
}

/// <summary>
/// One Transformer encoder block on [B, L, d] (batch first): self-attention and a position-wise feed-forward net
/// FFN(x) = W₂ ReLU(W₁ x + b₁) + b₂, each wrapped in a residual connection and LayerNorm.
/// <list type="bullet">
/// <item>post-norm (<c>normFirst: false</c>, the original paper and <c>nn.TransformerEncoderLayer</c>'s default):
/// x = LN₁(x + SA(x)); x = LN₂(x + FFN(x)).</item>
/// <item>pre-norm (<c>normFirst: true</c>, GPT-2 and most modern models; trains more stably when deep):
/// x = x + SA(LN₁(x)); x = x + FFN(LN₂(x)).</item>
/// </list>
/// Submodule names mirror <c>nn.TransformerEncoderLayer</c> (self_attn, linear1, linear2, norm1, norm2), so
/// <see cref="CopyWeightsFrom"/> can take its weights. The last attention weights are kept in <see cref="LastAttentionWeights"/>.
/// </summary>
public sealed class TransformerEncoderBlock : nn.Module<Tensor, Tensor?, Tensor?, Tensor>
{
    public MultiHeadAttention self_attn;
    public Linear linear1;
    public Linear linear2;
    public LayerNorm norm1;
    public LayerNorm norm2;
    public Dropout dropout;
    public Dropout dropout1;
    public Dropout dropout2;

    public long ModelDim { get; }
    public bool NormFirst { get; }
    /// <summary>Attention weights [B, L, L] (averaged over heads) of the last forward pass, detached.</summary>
    public Tensor? LastAttentionWeights { get; private set; }

    public TransformerEncoderBlock(long modelDim, long numHeads, long feedForwardDim, double dropoutRate = 0.0, bool normFirst = false,
                                   string name = nameof(TransformerEncoderBlock)) : base(name)
    {
        ShapeGuard.RequirePositive(feedForwardDim, name, nameof(feedForwardDim));
        (ModelDim, NormFirst) = (modelDim, normFirst);
        self_attn = new MultiHeadAttention(modelDim, numHeads, batchFirst: true);
        linear1 = nn.Linear(modelDim, feedForwardDim);
        linear2 = nn.Linear(feedForwardDim, modelDim);
        norm1 = nn.LayerNorm(modelDim);
        norm2 = nn.LayerNorm(modelDim);
        dropout = nn.Dropout(dropoutRate);
        dropout1 = nn.Dropout(dropoutRate);
        dropout2 = nn.Dropout(dropoutRate);
        RegisterComponents();
    }

    /// <param name="x">[B, L, d]</param>
    /// <param name="keyPaddingMask">[B, L], true at padding</param>
    /// <param name="attnMask">[L, L] (e.g. <see cref="Masks.Causal"/>), as in <see cref="MultiHeadAttention"/></param>
    public override Tensor forward(Tensor x, Tensor? keyPaddingMask = null, Tensor? attnMask = null)
    {
        ShapeGuard.Require(x, GetName(), "x", "[batch, length, model_dim]", null, null, ModelDim);
        if (NormFirst)
        {
            x = x + SelfAttention(norm1.call(x), keyPaddingMask, attnMask);
            return x + FeedForward(norm2.call(x));
        }
        x = norm1.call(x + SelfAttention(x, keyPaddingMask, attnMask));
        return norm2.call(x + FeedForward(x));
    }

    public new Tensor call(Tensor x, Tensor? keyPaddingMask = null, Tensor? attnMask = null) => base.call(x, keyPaddingMask, attnMask);

    private Tensor SelfAttention(Tensor x, Tensor? keyPaddingMask, Tensor? attnMask)
    {
        var (output, weights) = self_attn.call(x, x, x, keyPaddingMask, true, attnMask);
        LastAttentionWeights?.Dispose();
        LastAttentionWeights = weights!.detach().MoveToOuterDisposeScope();
        return dropout1.call(output);
    }

    private Tensor FeedForward(Tensor x) => dropout2.call(linear2.call(dropout.call(torch.nn.functional.relu(linear1.call(x)))));

    /// <summary>Copies the weights of a TorchSharp <c>nn.TransformerEncoderLayer</c> (ReLU, same sizes).</summary>
    public TransformerEncoderBlock CopyWeightsFrom(TransformerEncoderLayer source)
    {
        var p = source.named_parameters().ToDictionary(x => x.name, x => (Tensor)x.parameter);
        self_attn.CopyInto(p, "self_attn.");
        TransformerWeights.Copy(p, GetName(), (linear1, "linear1."), (linear2, "linear2."), (norm1, "norm1."), (norm2, "norm2."));
        return this;
    }
}

/// <summary>
/// One Transformer decoder block on [B, T, d] (batch first), three sublayers each with a residual connection and LayerNorm:
/// <list type="number">
/// <item>causal self-attention over the target so far (position t sees positions ≤ t);</item>
/// <item>cross-attention: queries from the decoder, keys and values from the encoder output ("memory");</item>
/// <item>the position-wise feed-forward net FFN(x) = W₂ ReLU(W₁ x + b₁) + b₂.</item>
/// </list>
/// Post-norm (default, like <c>nn.TransformerDecoderLayer</c>): x = LN(x + sublayer(x)); pre-norm: x = x + sublayer(LN(x)).
/// Submodule names mirror <c>nn.TransformerDecoderLayer</c> (self_attn, multihead_attn, linear1, linear2, norm1..3), so
/// <see cref="CopyWeightsFrom"/> can take its weights. The last cross-attention weights [B, T, S] are kept in
/// <see cref="LastCrossAttentionWeights"/>.
/// </summary>
public sealed class TransformerDecoderBlock : nn.Module<Tensor, Tensor, Tensor?, Tensor>
{
    public MultiHeadAttention self_attn;
    public MultiHeadAttention multihead_attn;
    public Linear linear1;
    public Linear linear2;
    public LayerNorm norm1;
    public LayerNorm norm2;
    public LayerNorm norm3;

    public long ModelDim { get; }
    public bool NormFirst { get; }
    /// <summary>Cross-attention weights [B, T, S] (averaged over heads) of the last forward pass, detached.</summary>
    public Tensor? LastCrossAttentionWeights { get; private set; }

    public TransformerDecoderBlock(long modelDim, long numHeads, long feedForwardDim, bool normFirst = false,
                                   string name = nameof(TransformerDecoderBlock)) : base(name)
    {
        ShapeGuard.RequirePositive(feedForwardDim, name, nameof(feedForwardDim));
        (ModelDim, NormFirst) = (modelDim, normFirst);
        self_attn = new MultiHeadAttention(modelDim, numHeads, batchFirst: true);
        multihead_attn = new MultiHeadAttention(modelDim, numHeads, batchFirst: true);
        linear1 = nn.Linear(modelDim, feedForwardDim);
        linear2 = nn.Linear(feedForwardDim, modelDim);
        norm1 = nn.LayerNorm(modelDim);
        norm2 = nn.LayerNorm(modelDim);
        norm3 = nn.LayerNorm(modelDim);
        RegisterComponents();
    }

    /// <param name="x">decoder input [B, T, d]</param>
    /// <param name="memory">encoder output [B, S, d]</param>
    /// <param name="memoryPaddingMask">[B, S], true at padded source positions</param>
    public override Tensor forward(Tensor x, Tensor memory, Tensor? memoryPaddingMask = null)
    {
        ShapeGuard.Require(x, GetName(), "x", "[batch, length, model_dim]", null, null, ModelDim);
        ShapeGuard.Require(memory, GetName(), "memory", "[batch, source_length, model_dim]", x.shape[0], null, ModelDim);
        var causal = Masks.Causal(x.shape[1], x.dtype, x.device);
        if (NormFirst)
        {
            var h = norm1.call(x);
            x = x + self_attn.call(h, h, h, null, false, causal).output;
            x = x + Cross(norm2.call(x), memory, memoryPaddingMask);
            return x + FeedForward(norm3.call(x));
        }
        x = norm1.call(x + self_attn.call(x, x, x, null, false, causal).output);
        x = norm2.call(x + Cross(x, memory, memoryPaddingMask));
        return norm3.call(x + FeedForward(x));
    }

    public new Tensor call(Tensor x, Tensor memory, Tensor? memoryPaddingMask = null) => base.call(x, memory, memoryPaddingMask);

    private Tensor Cross(Tensor x, Tensor memory, Tensor? memoryPaddingMask)
    {
        var (output, weights) = multihead_attn.call(x, memory, memory, memoryPaddingMask, true, null);
        LastCrossAttentionWeights?.Dispose();
        LastCrossAttentionWeights = weights!.detach().MoveToOuterDisposeScope();
        return output;
    }

    private Tensor FeedForward(Tensor x) => linear2.call(torch.nn.functional.relu(linear1.call(x)));

    /// <summary>Copies the weights of a TorchSharp <c>nn.TransformerDecoderLayer</c> (ReLU, same sizes).</summary>
    public TransformerDecoderBlock CopyWeightsFrom(TransformerDecoderLayer source)
    {
        var p = source.named_parameters().ToDictionary(x => x.name, x => (Tensor)x.parameter);
        self_attn.CopyInto(p, "self_attn.");
        multihead_attn.CopyInto(p, "multihead_attn.");
        TransformerWeights.Copy(p, GetName(), (linear1, "linear1."), (linear2, "linear2."), (norm1, "norm1."), (norm2, "norm2."), (norm3, "norm3."));
        return this;
    }
}

/// <summary>
/// An encoder–decoder Transformer (Vaswani et al. 2017) for sequence-to-sequence tasks, batch first: embeddings (× √d) plus
/// sinusoidal positions, <c>layers</c> encoder blocks over the source, <c>layers</c> decoder blocks (causal
/// self-attention + cross-attention to the encoder output), a linear layer to the target vocabulary. Pre-norm blocks
/// (with a final LayerNorm on each side) by default, which train without a warm-up at these sizes.
/// <c>forward(source, targetInput)</c> is teacher forcing and returns the last decoder block's cross-attention;
/// <see cref="Greedy"/> decodes one token at a time.
/// </summary>
public sealed class TransformerSeq2Seq : nn.Module<Tensor, Tensor, Seq2SeqOutput>
{
    public Embedding source_embedding;
    public Embedding target_embedding;
    public SinusoidalPositionalEncoding positions;
    public ModuleList<TransformerEncoderBlock> encoder;
    public ModuleList<TransformerDecoderBlock> decoder;
    public LayerNorm encoder_norm;
    public LayerNorm decoder_norm;
    public Linear output;

    public long SourceVocab { get; }
    public long TargetVocab { get; }
    public long ModelDim { get; }
    public long? SourcePadToken { get; }

    public TransformerSeq2Seq(long sourceVocab, long targetVocab, long modelDim, long numHeads, long feedForwardDim, int layers = 1,
                              long? sourcePadToken = null, long maxLength = 256, string name = nameof(TransformerSeq2Seq)) : base(name)
    {
        ShapeGuard.RequirePositive(sourceVocab, name, nameof(sourceVocab));
        ShapeGuard.RequirePositive(targetVocab, name, nameof(targetVocab));
        ShapeGuard.RequirePositive(layers, name, nameof(layers));
        (SourceVocab, TargetVocab, ModelDim, SourcePadToken) = (sourceVocab, targetVocab, modelDim, sourcePadToken);
        source_embedding = nn.Embedding(sourceVocab, modelDim);
        target_embedding = nn.Embedding(targetVocab, modelDim);
        using (torch.no_grad())   // std 1/√d, so that embedding × √d has unit scale, like the positional encoding it is added to
        {
            nn.init.normal_(source_embedding.weight!, 0, 1 / Math.Sqrt(modelDim));
            nn.init.normal_(target_embedding.weight!, 0, 1 / Math.Sqrt(modelDim));
        }
        positions = new SinusoidalPositionalEncoding(modelDim, maxLength);
        encoder = nn.ModuleList(Enumerable.Range(0, layers).Select(i => new TransformerEncoderBlock(modelDim, numHeads, feedForwardDim, normFirst: true)).ToArray());
        decoder = nn.ModuleList(Enumerable.Range(0, layers).Select(i => new TransformerDecoderBlock(modelDim, numHeads, feedForwardDim, normFirst: true)).ToArray());
        encoder_norm = nn.LayerNorm(modelDim);
        decoder_norm = nn.LayerNorm(modelDim);
        output = nn.Linear(modelDim, targetVocab);
        RegisterComponents();
    }


    /// <summary>The encoder output ("memory") [B, S, d] and the source padding mask (or null).</summary>
    public (Tensor memory, Tensor? padding) Encode(Tensor source)
    {
        ShapeGuard.RequireTokens(source, SourceVocab, GetName(), nameof(source));
        Tensor? padding = SourcePadToken is long pad ? source.eq(pad) : null;
        var x = positions.call(source_embedding.call(source) * Math.Sqrt(ModelDim));
        foreach (var block in encoder) x = block.call(x, padding, null);
        return (encoder_norm.call(x), padding);
    }

    /// <summary>Next-token logits [B, T, V] for the target prefix <paramref name="targetInput"/> [B, T].</summary>
    public Tensor Decode(Tensor targetInput, Tensor memory, Tensor? padding)
    {
        ShapeGuard.RequireTokens(targetInput, TargetVocab, GetName(), nameof(targetInput));
        var y = positions.call(target_embedding.call(targetInput) * Math.Sqrt(ModelDim));
        foreach (var block in decoder) y = block.call(y, memory, padding);
        return output.call(decoder_norm.call(y));
    }

    /// <summary>Teacher forcing: <paramref name="targetInput"/> [B, T] is the target shifted right (starting with BOS).</summary>
    public override Seq2SeqOutput forward(Tensor source, Tensor targetInput)
    {
        if (targetInput.dim() >= 1 && source.dim() >= 1 && targetInput.shape[0] != source.shape[0])
            throw new ArgumentException($"{GetName()}: source and targetInput must have the same batch size, got {Shapes.Format(source)} and {Shapes.Format(targetInput)}.");
        var (memory, padding) = Encode(source);
        var logits = Decode(targetInput, memory, padding);
        return new Seq2SeqOutput(logits, ((TransformerDecoderBlock)decoder[decoder.Count - 1]).LastCrossAttentionWeights);
    }

    /// <summary>Greedy decoding of <paramref name="steps"/> tokens after <paramref name="bosToken"/>: tokens [B, steps] and the last block's cross-attention [B, steps, S].</summary>
    public (Tensor tokens, Tensor? attention) Greedy(Tensor source, int steps, long bosToken)
    {
        ShapeGuard.RequirePositive(steps, GetName(), nameof(steps));
        using var scope = torch.NewDisposeScope();   // the step temporaries die here, not in the finalizer thread
        var (memory, padding) = Encode(source);
        var sequence = torch.full(source.shape[0], 1, bosToken, dtype: ScalarType.Int64, device: source.device);
        for (int t = 0; t < steps; t++)
        {
            var next = Decode(sequence, memory, padding)[TensorIndex.Colon, -1].argmax(-1, keepdim: true);   // the whole prefix is re-read each step
            sequence = torch.cat(new[] { sequence, next }, dim: 1);
        }
        return (sequence[TensorIndex.Colon, TensorIndex.Slice(1, null)].MoveToOuterDisposeScope(), ((TransformerDecoderBlock)decoder[decoder.Count - 1]).LastCrossAttentionWeights);
    }
}

/// <summary>
/// A Transformer over one token stream, batch first: token embedding + learned position embedding, pre-norm encoder
/// blocks, a final LayerNorm and a linear head to the vocabulary.
/// <list type="bullet">
/// <item><c>causal: true</c> — a GPT-style language model: every block uses the causal mask, so logits at position t
/// depend on tokens ≤ t only and predict token t + 1.</item>
/// <item><c>causal: false</c> — a BERT-style encoder: every position sees the whole window; trained with masked
/// language modelling, the logits at a masked position predict the token that was hidden there.</item>
/// </list>
/// <see cref="Features"/> gives the hidden states [B, T, d] (for a classifier on top). <c>normFirst: false</c> gives
/// post-norm blocks (the original paper's placement, which needs a learning-rate warm-up to train well).
/// </summary>
public sealed class TransformerLanguageModel : nn.Module<Tensor, Tensor>
{
    public Embedding token_embedding;
    public Embedding position_embedding;
    public ModuleList<TransformerEncoderBlock> blocks;
    public LayerNorm final_norm;
    public Linear head;

    public long VocabSize { get; }
    public long ModelDim { get; }
    public long MaxLength { get; }
    public bool Causal { get; }
    public bool NormFirst { get; }

    public TransformerLanguageModel(long vocabSize, long modelDim, long numHeads, int layers, long maxLength, bool causal = true,
                                    long? feedForwardDim = null, bool normFirst = true, string name = nameof(TransformerLanguageModel)) : base(name)
    {
        ShapeGuard.RequirePositive(vocabSize, name, nameof(vocabSize));
        ShapeGuard.RequirePositive(layers, name, nameof(layers));
        ShapeGuard.RequirePositive(maxLength, name, nameof(maxLength));
        (VocabSize, ModelDim, MaxLength, Causal, NormFirst) = (vocabSize, modelDim, maxLength, causal, normFirst);
        token_embedding = nn.Embedding(vocabSize, modelDim);
        position_embedding = nn.Embedding(maxLength, modelDim);
        using (torch.no_grad())
        {
            nn.init.normal_(token_embedding.weight!, 0, 0.02);
            nn.init.normal_(position_embedding.weight!, 0, 0.02);
        }
        blocks = nn.ModuleList(Enumerable.Range(0, layers).Select(i => new TransformerEncoderBlock(modelDim, numHeads, feedForwardDim ?? 4 * modelDim, normFirst: normFirst)).ToArray());
        final_norm = nn.LayerNorm(modelDim);
        head = nn.Linear(modelDim, vocabSize);
        RegisterComponents();
    }

    /// <summary>Hidden states [B, T, d] after the final LayerNorm.</summary>
    public Tensor Features(Tensor tokens)
    {
        ShapeGuard.RequireIntegral(tokens, GetName(), nameof(tokens));
        ShapeGuard.Require(tokens, GetName(), nameof(tokens), "[batch, time]", null, null);
        long length = tokens.shape[1];
        if (length > MaxLength)
            throw new ArgumentException($"{GetName()}: {length} tokens exceed maxLength {MaxLength}; crop the input or create the model with a larger maxLength.", nameof(tokens));
        long min = tokens.min().item<long>(), max = tokens.max().item<long>();
        if (min < 0 || max >= VocabSize)
            throw new ArgumentException($"{GetName()}: tokens hold ids in [{min}, {max}] but the vocabulary has {VocabSize} tokens.", nameof(tokens));
        var x = token_embedding.call(tokens) + position_embedding.call(torch.arange(length, device: tokens.device));
        var mask = Causal ? Masks.Causal(length, x.dtype, x.device) : null;
        foreach (var block in blocks) x = block.call(x, null, mask);
        return final_norm.call(x);
    }

    /// <summary>Logits [B, T, V].</summary>
    public override Tensor forward(Tensor tokens) => head.call(Features(tokens));

    /// <summary>
    /// Generates <paramref name="length"/> tokens after <paramref name="prompt"/> (causal models only), each drawn from
    /// softmax(logits / temperature) of the last <see cref="MaxLength"/> tokens, with a generator seeded by <paramref name="seed"/>.
    /// Temperature 0 picks the most likely token.
    /// </summary>
    public long[] Sample(IReadOnlyList<long> prompt, int length, double temperature = 1.0, long seed = 0)
    {
        if (!Causal) throw new InvalidOperationException($"{GetName()}: only a causal model can generate text left to right.");
        ShapeGuard.RequireSamplingArguments(prompt.Count, length, temperature, GetName());
        bool wasTraining = training;
        eval();
        try
        {
            using var noGrad = torch.no_grad();
            var generator = new Generator((ulong)seed);
            var context = prompt.ToList();
            var result = new long[length];
            for (int i = 0; i < length; i++)
            {
                using var scope = torch.NewDisposeScope();
                var window = context.Skip(Math.Max(0, context.Count - (int)MaxLength)).ToArray();
                var last = forward(torch.tensor(window, device: head.weight!.device).unsqueeze(0))[0, -1];
                long next = temperature == 0 ? last.argmax().item<long>()
                    : torch.multinomial(torch.softmax(last / temperature, 0), 1, generator: generator).item<long>();
                result[i] = next;
                context.Add(next);
            }
            return result;
        }
        finally { train(wasTraining); }
    }
}

/// <summary>Copies named parameters from a TorchSharp layer's <c>named_parameters()</c> into sub-modules, by prefix.</summary>
internal static class TransformerWeights
{
    public static void Copy(IReadOnlyDictionary<string, Tensor> source, string where, params (nn.Module Module, string Prefix)[] targets)
    {
        foreach (var (module, prefix) in targets)
            foreach (var (n, target) in module.named_parameters())
            {
                if (!source.TryGetValue(prefix + n, out var src))
                    throw new ArgumentException($"{where}: the source has no parameter '{prefix + n}'.");
                if (!src.shape.SequenceEqual(target.shape))
                    throw new ArgumentException($"{where}: source {prefix + n} has shape {Shapes.Format(src)}, this block needs {Shapes.Format(target)}.");
                using (torch.no_grad()) target.copy_(src);
            }
    }
}
