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
        foreach (var (module, prefix) in new (nn.Module, string)[] { (linear1, "linear1."), (linear2, "linear2."), (norm1, "norm1."), (norm2, "norm2.") })
        {
            foreach (var (n, target) in module.named_parameters())
            {
                if (!p.TryGetValue(prefix + n, out var src))
                    throw new ArgumentException($"{GetName()}: the source has no parameter '{prefix + n}'.");
                if (!src.shape.SequenceEqual(target.shape))
                    throw new ArgumentException($"{GetName()}: source {prefix + n} has shape {Shapes.Format(src)}, this block needs {Shapes.Format(target)}.");
                using (torch.no_grad()) target.copy_(src);
            }
        }
        return this;
    }
}
