// Partial <param> docs are intentional: only the non-obvious parameters are described.
#pragma warning disable CS1573

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NotebookLab.Models.Sequence;

/// <summary>Masks for attention.</summary>
public static class Masks
{
    /// <summary>
    /// The causal mask as an additive float mask [length, length]: 0 where position i may see position j (j ≤ i) and −∞
    /// above the diagonal. An additive mask means the same thing to <see cref="Attention.ScaledDotProduct"/>,
    /// <see cref="MultiHeadAttention"/> and TorchSharp's <c>nn.MultiheadAttention</c>, unlike boolean masks whose
    /// meaning differs between PyTorch APIs.
    /// </summary>
    public static Tensor Causal(long length, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        ShapeGuard.RequirePositive(length, "Masks.Causal", nameof(length));
        return torch.full(length, length, double.NegativeInfinity, dtype: dtype, device: device).triu(1);
    }

    /// <summary>
    /// A key-padding mask [batch, maxLength] from sequence lengths: <c>true</c> at padded positions (t ≥ length), the
    /// convention of <c>key_padding_mask</c> in <c>nn.MultiheadAttention</c>.
    /// </summary>
    public static Tensor PaddingFromLengths(IReadOnlyList<long> lengths, long maxLength, Device? device = null)
    {
        for (int b = 0; b < lengths.Count; b++)
            if (lengths[b] < 0 || lengths[b] > maxLength)
                throw new ArgumentOutOfRangeException(nameof(lengths), $"Masks.PaddingFromLengths: lengths[{b}] = {lengths[b]} is outside [0, {maxLength}].");
        var positions = torch.arange(maxLength, device: device).unsqueeze(0);
        var lens = torch.tensor(lengths.ToArray(), device: device).unsqueeze(1);
        return positions >= lens;
    }

    /// <summary>A key-padding mask from token ids: <c>true</c> where <paramref name="tokens"/> equals <paramref name="padToken"/>.</summary>
    public static Tensor PaddingFromTokens(Tensor tokens, long padToken) => tokens.eq(padToken);
}

/// <summary>Attention as functions: score, softmax, weighted average.</summary>
public static class Attention
{
    /// <summary>
    /// Scaled dot-product attention, <c>softmax(Q Kᵀ · scale + M) V</c> with scale = 1/√d_k by default.
    /// Shapes: query [..., L_q, d_k], key [..., L_k, d_k], value [..., L_k, d_v]; leading dimensions (batch, heads)
    /// broadcast. Returns the output [..., L_q, d_v] and the weights [..., L_q, L_k] (each row sums to 1).
    /// </summary>
    /// <param name="attnMask">as in <c>F.scaled_dot_product_attention</c>: boolean with <c>true</c> = may attend, or a
    /// float mask added to the scores (e.g. <see cref="Masks.Causal"/>); broadcastable to [..., L_q, L_k].</param>
    /// <param name="keyPaddingMask">[batch, L_k], <c>true</c> at padded keys (which then get weight 0).</param>
    /// <param name="isCausal">query i sees keys j ≤ i only.</param>
    /// <param name="scale">score scale; null means 1/√d_k, 1.0 gives plain dot-product attention.</param>
    /// <remarks>A query that may see no key at all gets weights 0 and output 0 (instead of NaN).</remarks>
    public static (Tensor output, Tensor weights) ScaledDotProduct(Tensor query, Tensor key, Tensor value,
        Tensor? attnMask = null, Tensor? keyPaddingMask = null, bool isCausal = false, double? scale = null)
    {
        const string where = "Attention.ScaledDotProduct";
        CheckQkv(query, key, value, where);
        Tensor? blocked = null, additive = null;
        if (attnMask is not null)
        {
            if (attnMask.dtype == ScalarType.Bool) blocked = attnMask.logical_not();
            else additive = attnMask;
        }
        if (keyPaddingMask is not null) blocked = Or(blocked, PaddingAsBlocked(keyPaddingMask, query.dim(), key, where));
        if (isCausal)
        {
            long lq = query.shape[^2], lk = key.shape[^2];
            blocked = Or(blocked, torch.ones(lq, lk, dtype: ScalarType.Bool, device: query.device).triu(1));
        }
        return Core(query, key, value, blocked, additive, scale ?? 1.0 / Math.Sqrt(query.shape[^1]));
    }

    internal static void CheckQkv(Tensor query, Tensor key, Tensor value, string where)
    {
        foreach (var (t, name) in new[] { (query, "query"), (key, "key"), (value, "value") })
        {
            if (t.dim() < 2) throw new ArgumentException($"{where}: {name} must be [..., length, features], got {Shapes.Format(t)}.", name);
            ShapeGuard.RequireFloating(t, where, name);
        }
        if (query.shape[^1] != key.shape[^1])
            throw new ArgumentException($"{where}: query and key must have the same feature size d_k, got query {Shapes.Format(query)} and key {Shapes.Format(key)}.");
        if (key.shape[^2] != value.shape[^2])
            throw new ArgumentException($"{where}: key and value must have the same length L_k, got key {Shapes.Format(key)} and value {Shapes.Format(value)}.");
    }

    /// <summary>Turns a [B, L_k] padding mask into one that broadcasts over scores of rank <paramref name="rank"/>.</summary>
    internal static Tensor PaddingAsBlocked(Tensor keyPaddingMask, long rank, Tensor key, string where)
    {
        if (keyPaddingMask.dtype != ScalarType.Bool)
            throw new ArgumentException($"{where}: keyPaddingMask must be boolean (true = padding), got {keyPaddingMask.dtype}.", nameof(keyPaddingMask));
        if (rank < 3 || keyPaddingMask.dim() != 2 || keyPaddingMask.shape[0] != key.shape[0] || keyPaddingMask.shape[1] != key.shape[^2])
            throw new ArgumentException(
                $"{where}: keyPaddingMask must be [batch, L_k] = [{(key.dim() >= 3 ? key.shape[0].ToString() : "batch")}, {key.shape[^2]}] for batched keys, got {Shapes.Format(keyPaddingMask)} with key {Shapes.Format(key)}.",
                nameof(keyPaddingMask));
        var shape = new long[rank];
        Array.Fill(shape, 1L);
        shape[0] = keyPaddingMask.shape[0];
        shape[^1] = keyPaddingMask.shape[1];
        return keyPaddingMask.view(shape);
    }

    internal static Tensor? Or(Tensor? a, Tensor b) => a is null ? b : a.logical_or(b);

    /// <summary>The computation itself: scores, masks, softmax, weighted average.</summary>
    internal static (Tensor output, Tensor weights) Core(Tensor query, Tensor key, Tensor value, Tensor? blocked, Tensor? additive, double scale)
    {
        var scores = torch.matmul(query, key.transpose(-2, -1)) * scale;
        if (additive is not null) scores = scores + additive;
        if (blocked is not null) scores = scores.masked_fill(blocked, double.NegativeInfinity);
        var weights = torch.softmax(scores, dim: -1);
        if (blocked is not null || additive is not null)
        {
            // Rows with every key masked are NaN after softmax; they attend to nothing instead.
            weights = torch.where(weights.isnan(), torch.zeros_like(weights), weights);
        }
        return (torch.matmul(weights, value), weights);
    }
}

/// <summary>
/// Additive (Bahdanau) attention: <c>e_j = vᵀ tanh(W_q q + W_k k_j)</c>, α = softmax(e), context = Σ_j α_j v_j.
/// The keys double as the values (as in Bahdanau et al., where both are the encoder states).
/// Call with query [B, d_q] (one decoder state) or [B, L_q, d_q], keys [B, L_k, d_k] and an optional key-padding mask
/// [B, L_k] (true = padding); returns the context ([B, d_k] or [B, L_q, d_k]) and the weights ([B, L_k] or [B, L_q, L_k]).
/// </summary>
public sealed class AdditiveAttention : nn.Module<Tensor, Tensor, Tensor?, (Tensor context, Tensor weights)>
{
    public Linear query_proj;
    public Linear key_proj;
    public Linear score;

    public long QuerySize { get; }
    public long KeySize { get; }
    public long AttentionSize { get; }

    public AdditiveAttention(long querySize, long keySize, long attentionSize, string name = nameof(AdditiveAttention)) : base(name)
    {
        ShapeGuard.RequirePositive(querySize, name, nameof(querySize));
        ShapeGuard.RequirePositive(keySize, name, nameof(keySize));
        ShapeGuard.RequirePositive(attentionSize, name, nameof(attentionSize));
        (QuerySize, KeySize, AttentionSize) = (querySize, keySize, attentionSize);
        query_proj = nn.Linear(querySize, attentionSize, hasBias: false);
        key_proj = nn.Linear(keySize, attentionSize, hasBias: true);
        score = nn.Linear(attentionSize, 1, hasBias: false);
        RegisterComponents();
    }

    public override (Tensor context, Tensor weights) forward(Tensor query, Tensor keys, Tensor? keyPaddingMask = null)
    {
        var where = GetName();
        ShapeGuard.Require(keys, where, "keys", "[batch, L_k, key_size]", null, null, KeySize);
        bool single = query.dim() == 2;
        if (single) ShapeGuard.Require(query, where, "query", "[batch, query_size]", keys.shape[0], QuerySize);
        else ShapeGuard.Require(query, where, "query", "[batch, L_q, query_size]", keys.shape[0], null, QuerySize);
        var q = single ? query.unsqueeze(1) : query;                       // [B, Lq, dq]
        var features = torch.tanh(query_proj.call(q).unsqueeze(2)          // [B, Lq, 1, A]
                                  + key_proj.call(keys).unsqueeze(1));     // [B, 1, Lk, A]
        var scores = score.call(features).squeeze(-1);                     // [B, Lq, Lk]
        Tensor? blocked = keyPaddingMask is null ? null : Attention.PaddingAsBlocked(keyPaddingMask, 3, keys, where);
        if (blocked is not null) scores = scores.masked_fill(blocked, double.NegativeInfinity);
        var weights = torch.softmax(scores, dim: -1);
        if (blocked is not null) weights = torch.where(weights.isnan(), torch.zeros_like(weights), weights);
        var context = torch.matmul(weights, keys);                         // [B, Lq, dk]
        return single ? (context.squeeze(1), weights.squeeze(1)) : (context, weights);
    }

    public new (Tensor context, Tensor weights) call(Tensor query, Tensor keys, Tensor? keyPaddingMask = null) => base.call(query, keys, keyPaddingMask);
}

/// <summary>
/// Multi-head attention from its equations: <c>head_i = Attention(Q W_i^Q, K W_i^K, V W_i^V)</c>,
/// <c>MultiHead = Concat(head_1..head_h) W^O</c>. Parameters use <c>nn.MultiheadAttention</c>'s layout:
/// <c>in_proj_weight</c> [3E, E] with row blocks (q, k, v), <c>in_proj_bias</c> [3E], and <c>out_proj</c> (Linear E→E);
/// head i uses rows i·E/h … (i+1)·E/h − 1 of each block. Default layout is [L, B, E] like TorchSharp; pass
/// <c>batchFirst: true</c> for [B, L, E].
/// Masks mirror <c>nn.MultiheadAttention</c>: key_padding_mask [B, S] true = padding; attn_mask [L, S] or [B·h, L, S],
/// boolean true = <em>not</em> allowed (PyTorch semantics; note TorchSharp 0.107's native <c>nn.MultiheadAttention</c> adds a boolean
/// attn_mask as 0/1 instead, so prefer the float <see cref="Masks.Causal"/>, which means the same to both), or float added to the scores. Weights come back averaged over heads [B, L, S]
/// (set <see cref="AverageAttentionWeights"/> = false for [B, h, L, S]).
/// </summary>
public sealed class MultiHeadAttention : nn.Module<Tensor, Tensor, Tensor, Tensor?, bool, Tensor?, (Tensor output, Tensor? weights)>
{
    public Parameter in_proj_weight;
    public Parameter? in_proj_bias;
    public Linear out_proj;

    public long EmbedDim { get; }
    public long NumHeads { get; }
    public long HeadDim => EmbedDim / NumHeads;
    public bool BatchFirst { get; }
    /// <summary>Whether returned weights are averaged over heads (true, like PyTorch's default) or per head.</summary>
    public bool AverageAttentionWeights { get; set; } = true;

    public MultiHeadAttention(long embedDim, long numHeads, bool bias = true, bool batchFirst = false, string name = nameof(MultiHeadAttention)) : base(name)
    {
        ShapeGuard.RequirePositive(embedDim, name, nameof(embedDim));
        ShapeGuard.RequirePositive(numHeads, name, nameof(numHeads));
        if (embedDim % numHeads != 0)
            throw new ArgumentException($"{name}: embedDim ({embedDim}) must be divisible by numHeads ({numHeads}).", nameof(numHeads));
        (EmbedDim, NumHeads, BatchFirst) = (embedDim, numHeads, batchFirst);
        in_proj_weight = nn.Parameter(nn.init.xavier_uniform_(torch.empty(3 * embedDim, embedDim)));
        if (bias) in_proj_bias = nn.Parameter(torch.zeros(3 * embedDim));
        out_proj = nn.Linear(embedDim, embedDim, hasBias: bias);
        if (bias) using (torch.no_grad()) out_proj.bias!.zero_();
        RegisterComponents();
    }

    public override (Tensor output, Tensor? weights) forward(Tensor query, Tensor key, Tensor value,
        Tensor? key_padding_mask = null, bool need_weights = true, Tensor? attn_mask = null)
    {
        var where = GetName();
        var layout = BatchFirst ? "[batch, length, embed_dim]" : "[length, batch, embed_dim]";
        ShapeGuard.Require(query, where, "query", layout, null, null, EmbedDim);
        ShapeGuard.Require(key, where, "key", layout, null, null, EmbedDim);
        ShapeGuard.Require(value, where, "value", layout, null, null, EmbedDim);
        var (q, k, v) = BatchFirst ? (query, key, value) : (query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1));
        long batch = q.shape[0], lq = q.shape[1], lk = k.shape[1];
        if (k.shape[0] != batch || v.shape[0] != batch)
            throw new ArgumentException($"{where}: query, key and value must have the same batch size, got {Shapes.Format(query)}, {Shapes.Format(key)}, {Shapes.Format(value)}.");
        if (v.shape[1] != lk)
            throw new ArgumentException($"{where}: key and value must have the same length, got {Shapes.Format(key)} and {Shapes.Format(value)}.");

        var w = in_proj_weight.chunk(3, dim: 0);
        var b = in_proj_bias?.chunk(3, dim: 0);
        var heads = (Tensor x, int i, long len) => F.linear(x, w[i], b?[i]).view(batch, len, NumHeads, HeadDim).transpose(1, 2); // [B, h, len, d]
        var qh = heads(q, 0, lq);
        var kh = heads(k, 1, lk);
        var vh = heads(v, 2, lk);

        Tensor? blocked = null, additive = null;
        if (attn_mask is not null)
        {
            var mask = attn_mask.dim() switch
            {
                2 when attn_mask.shape[0] == lq && attn_mask.shape[1] == lk => attn_mask,
                3 when attn_mask.shape[0] == batch * NumHeads && attn_mask.shape[1] == lq && attn_mask.shape[2] == lk
                    => attn_mask.view(batch, NumHeads, lq, lk),
                _ => throw new ArgumentException($"{where}: attn_mask must be [L, S] = [{lq}, {lk}] or [batch·heads, L, S] = [{batch * NumHeads}, {lq}, {lk}], got {Shapes.Format(attn_mask)}.", nameof(attn_mask)),
            };
            if (mask.dtype == ScalarType.Bool) blocked = mask; else additive = mask;
        }
        if (key_padding_mask is not null)
        {
            if (key_padding_mask.dtype == ScalarType.Bool) blocked = Attention.Or(blocked, Attention.PaddingAsBlocked(key_padding_mask, 4, k, where));
            else
            {
                ShapeGuard.Require(key_padding_mask, where, "key_padding_mask", "[batch, S]", batch, lk);
                var padAdd = key_padding_mask.view(batch, 1, 1, lk);
                additive = additive is null ? padAdd : additive + padAdd;
            }
        }

        var (attended, weights) = Attention.Core(qh, kh, vh, blocked, additive, 1.0 / Math.Sqrt(HeadDim));
        var merged = attended.transpose(1, 2).reshape(batch, lq, EmbedDim);
        var output = out_proj.call(merged);
        if (!BatchFirst) output = output.transpose(0, 1);
        Tensor? returned = need_weights ? (AverageAttentionWeights ? weights.mean(new long[] { 1 }) : weights) : null;
        return (output, returned);
    }

    public new (Tensor output, Tensor? weights) call(Tensor query, Tensor key, Tensor value,
        Tensor? key_padding_mask = null, bool need_weights = true, Tensor? attn_mask = null)
        => base.call(query, key, value, key_padding_mask, need_weights, attn_mask);

    /// <summary>Copies in_proj and out_proj weights from a TorchSharp <c>nn.MultiheadAttention</c> of the same size.</summary>
    public MultiHeadAttention CopyWeightsFrom(TorchSharp.Modules.MultiheadAttention source)
    {
        var p = source.named_parameters().ToDictionary(x => x.name, x => (Tensor)x.parameter);
        CopyInto(p, "");
        return this;
    }

    internal void CopyInto(IReadOnlyDictionary<string, Tensor> p, string prefix)
    {
        var where = GetName();
        if (p.ContainsKey(prefix + "q_proj_weight"))
            throw new ArgumentException($"{where}: the source uses separate q/k/v projections (kdim or vdim ≠ embed_dim); this module needs kdim = vdim = embed_dim.");
        if (p.ContainsKey(prefix + "bias_k"))
            throw new ArgumentException($"{where}: the source was created with add_bias_kv, which this module does not have.");
        void Copy(Tensor target, string key)
        {
            if (!p.TryGetValue(prefix + key, out var src))
                throw new ArgumentException($"{where}: the source has no parameter '{prefix + key}' (it has: {string.Join(", ", p.Keys)}).");
            if (!src.shape.SequenceEqual(target.shape))
                throw new ArgumentException($"{where}: source {prefix + key} has shape {Shapes.Format(src)}, this module needs {Shapes.Format(target)} (embed_dim {EmbedDim}).");
            using (torch.no_grad()) target.copy_(src);
        }
        Copy(in_proj_weight, "in_proj_weight");
        Copy(out_proj.weight!, "out_proj.weight");
        if (in_proj_bias is not null) { Copy(in_proj_bias, "in_proj_bias"); Copy(out_proj.bias!, "out_proj.bias"); }
        else if (p.ContainsKey(prefix + "in_proj_bias"))
            throw new ArgumentException($"{where}: the source has biases but this module was created with bias: false.");
    }
}
