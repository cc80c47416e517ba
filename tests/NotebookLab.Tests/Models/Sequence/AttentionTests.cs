using NotebookLab.Models.Sequence;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Tests.Models.Sequence;

public class AttentionTests
{
    private static float MaxDiff(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    [Fact]
    public void ScaledDotProductIsSoftmaxOfScaledScoresAndMatchesTorch()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(10);
        var q = torch.randn(2, 3, 4, 8);
        var k = torch.randn(2, 3, 6, 8);
        var v = torch.randn(2, 3, 6, 5);
        var (output, weights) = Attention.ScaledDotProduct(q, k, v);
        Assert.Equal(new long[] { 2, 3, 4, 5 }, output.shape);
        Assert.Equal(new long[] { 2, 3, 4, 6 }, weights.shape);
        Assert.True(MaxDiff(weights.sum(-1), torch.ones(2, 3, 4)) < 1e-6);
        var byHand = torch.softmax(q.matmul(k.transpose(-2, -1)) / Math.Sqrt(8), -1).matmul(v);
        Assert.True(MaxDiff(byHand, output) < 1e-5);
        var reference = nn.functional.scaled_dot_product_attention(q, k, v);
        Assert.True(MaxDiff(reference, output) < 1e-5);
        var causalRef = nn.functional.scaled_dot_product_attention(q, k[.., .., ..4], v[.., .., ..4], is_casual: true);
        var (causal, _) = Attention.ScaledDotProduct(q, k[.., .., ..4], v[.., .., ..4], isCausal: true);
        Assert.True(MaxDiff(causalRef, causal) < 1e-5);
    }

    [Fact]
    public void PaddedKeysGetZeroWeightAndDoNotChangeTheOutput()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(11);
        var q = torch.randn(2, 3, 4);
        var k = torch.randn(2, 5, 4);
        var v = torch.randn(2, 5, 4);
        var pad = Masks.PaddingFromLengths(new long[] { 5, 2 }, 5);
        var (out1, w1) = Attention.ScaledDotProduct(q, k, v, keyPaddingMask: pad);
        Assert.Equal(0f, w1[1, .., 2..].abs().max().item<float>());
        Assert.True(MaxDiff(w1.sum(-1), torch.ones(2, 3)) < 1e-6);
        // Garbage in the padded positions changes nothing.
        var k2 = k.clone(); var v2 = v.clone();
        k2[1, 2..] = torch.randn(3, 4) * 100; v2[1, 2..] = torch.randn(3, 4) * 100;
        var (out2, _) = Attention.ScaledDotProduct(q, k2, v2, keyPaddingMask: pad);
        Assert.True(MaxDiff(out1, out2) < 1e-6);
        // ...and the unpadded sequence equals attention over its true length only.
        var (trimmed, _) = Attention.ScaledDotProduct(q[1..2], k[1..2, ..2], v[1..2, ..2]);
        Assert.True(MaxDiff(trimmed, out1[1..2]) < 1e-6);
    }

    [Fact]
    public void CausalMaskMakesEarlierOutputsIndependentOfFutureTokens()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(12);
        var mha = new MultiHeadAttention(8, 2, batchFirst: true);
        var x = torch.randn(1, 6, 8);
        var mask = Masks.Causal(6);
        var (before, w) = mha.call(x, x, x, attn_mask: mask);
        var changed = x.clone();
        changed[0, 4..] = torch.randn(2, 8) * 10;
        var (after, _) = mha.call(changed, changed, changed, attn_mask: mask);
        Assert.True(MaxDiff(before[0, ..4], after[0, ..4]) < 1e-6, "outputs before position 4 changed");
        Assert.True(MaxDiff(before[0, 4..], after[0, 4..]) > 1e-2, "later outputs should change (the test can fail)");
        Assert.Equal(0f, w!.triu(1).abs().max().item<float>());
    }

    [Fact]
    public void SelfAttentionWithoutPositionsIsPermutationEquivariant()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(13);
        var mha = new MultiHeadAttention(8, 4, batchFirst: true);
        var x = torch.randn(2, 7, 8);
        var perm = torch.randperm(7);
        var (y, _) = mha.call(x, x, x);
        var xp = x.index_select(1, perm);
        var (yp, _) = mha.call(xp, xp, xp);
        Assert.True(MaxDiff(y.index_select(1, perm), yp) < 1e-5);
        // With positional encodings added, equivariance is broken.
        var pe = new SinusoidalPositionalEncoding(8, 16);
        var xe = pe.call(x);
        var xpe = pe.call(xp);
        var (ye, _) = mha.call(xe, xe, xe);
        var (ype, _) = mha.call(xpe, xpe, xpe);
        Assert.True(MaxDiff(ye.index_select(1, perm), ype) > 1e-3);
    }

    [Fact]
    public void MultiHeadAttentionMatchesTorchWithCopiedWeights()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(14);
        var reference = nn.MultiheadAttention(12, 3);
        var mine = new MultiHeadAttention(12, 3).CopyWeightsFrom(reference);
        var q = torch.randn(5, 2, 12);   // [L, B, E]
        var kv = torch.randn(7, 2, 12);
        var (refOut, refW) = reference.call(q, kv, kv);
        var (out_, w) = mine.call(q, kv, kv);
        Assert.True(MaxDiff(refOut, out_) < 1e-5);
        Assert.True(MaxDiff(refW, w!) < 1e-5);

        var pad = Masks.PaddingFromLengths(new long[] { 7, 4 }, 7);
        var (refPad, refPadW) = reference.call(q, kv, kv, key_padding_mask: pad);
        var (minePad, minePadW) = mine.call(q, kv, kv, key_padding_mask: pad);
        Assert.True(MaxDiff(refPad, minePad) < 1e-5);
        Assert.True(MaxDiff(refPadW, minePadW!) < 1e-5);

        var x = torch.randn(5, 2, 12);
        var causal = Masks.Causal(5);
        var (refCausal, _) = reference.call(x, x, x, attn_mask: causal);
        var (mineCausal, _) = mine.call(x, x, x, attn_mask: causal);
        Assert.True(MaxDiff(refCausal, mineCausal) < 1e-5);

        // Boolean attn_mask: true = not allowed, as in PyTorch. (TorchSharp 0.107's native module adds a bool mask
        // as 0/1 instead, so we compare with the float mask, which both agree on.)
        var boolMask = torch.ones(5, 5, dtype: ScalarType.Bool).triu(1);
        var (mineBool, _) = mine.call(x, x, x, attn_mask: boolMask);
        Assert.True(MaxDiff(refCausal, mineBool) < 1e-5);
    }

    [Fact]
    public void MultiHeadAttentionHasFourDSquaredPlusFourDParameters()
    {
        var mha = new MultiHeadAttention(16, 4);
        Assert.Equal(4 * 16 * 16 + 4 * 16, mha.parameters().Sum(p => p.numel()));
        mha.AverageAttentionWeights = false;
        using var scope = NewDisposeScope();
        var x = torch.randn(3, 2, 16);
        var (_, w) = mha.call(x, x, x);
        Assert.Equal(new long[] { 2, 4, 3, 3 }, w!.shape);
    }

    [Fact]
    public void AdditiveAttentionWeightsAreADistributionOverUnpaddedKeys()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(15);
        var attention = new AdditiveAttention(querySize: 6, keySize: 4, attentionSize: 5);
        var keys = torch.randn(3, 7, 4);
        var query = torch.randn(3, 6);
        var pad = Masks.PaddingFromLengths(new long[] { 7, 3, 1 }, 7);
        var (context, weights) = attention.call(query, keys, pad);
        Assert.Equal(new long[] { 3, 4 }, context.shape);
        Assert.Equal(new long[] { 3, 7 }, weights.shape);
        Assert.True(MaxDiff(weights.sum(-1), torch.ones(3)) < 1e-6);
        Assert.Equal(0f, weights[1, 3..].abs().max().item<float>());
        Assert.True(MaxDiff(weights[2, 0], torch.tensor(1f)) < 1e-6);
        // The equation by hand.
        var e = attention.score.call(torch.tanh(attention.query_proj.call(query).unsqueeze(1) + attention.key_proj.call(keys))).squeeze(-1);
        var alpha = torch.softmax(e[0], -1);
        Assert.True(MaxDiff(alpha, weights[0]) < 1e-6);
        Assert.True(MaxDiff(alpha.matmul(keys[0]), context[0]) < 1e-5);
        // A sequence of queries gives one distribution per query.
        var (ctxSeq, wSeq) = attention.call(torch.randn(3, 2, 6), keys, pad);
        Assert.Equal(new long[] { 3, 2, 4 }, ctxSeq.shape);
        Assert.Equal(new long[] { 3, 2, 7 }, wSeq.shape);
    }

    [Fact]
    public void AttentionGradientsFlowToQueriesKeysAndValues()
    {
        using var scope = NewDisposeScope();
        var q = torch.randn(1, 3, 4, requires_grad: true);
        var k = torch.randn(1, 5, 4, requires_grad: true);
        var v = torch.randn(1, 5, 4, requires_grad: true);
        var pad = Masks.PaddingFromLengths(new long[] { 3 }, 5);
        Attention.ScaledDotProduct(q, k, v, keyPaddingMask: pad).output.pow(2).sum().backward();
        foreach (var t in new[] { q, k, v }) Assert.True(t.grad!.abs().sum().item<float>() > 0);
        Assert.Equal(0f, v.grad![0, 3..].abs().max().item<float>()); // padded values get no gradient
        Assert.False(torch.isnan(k.grad!).any().item<bool>());
    }

    [Fact]
    public void FullyMaskedQueriesAttendToNothingInsteadOfNaN()
    {
        using var scope = NewDisposeScope();
        var q = torch.randn(1, 2, 4);
        var k = torch.randn(1, 3, 4);
        var allowed = torch.tensor(new bool[] { false, false, false, true, true, false }).view(2, 3);
        var (output, weights) = Attention.ScaledDotProduct(q, k, k, attnMask: allowed);
        Assert.Equal(0f, weights[0, 0].abs().sum().item<float>());
        Assert.Equal(0f, output[0, 0].abs().sum().item<float>());
        Assert.True(MaxDiff(weights[0, 1].sum(), torch.tensor(1f)) < 1e-6);
    }

    [Fact]
    public void SinusoidalTableFollowsTheFormula()
    {
        using var scope = NewDisposeScope();
        var pe = SinusoidalPositionalEncoding.Table(50, 16);
        Assert.Equal(new long[] { 50, 16 }, pe.shape);
        for (int pos = 0; pos < 50; pos += 7)
            for (int i = 0; i < 8; i++)
            {
                double angle = pos / Math.Pow(10000, 2.0 * i / 16);
                Assert.Equal(Math.Sin(angle), pe[pos, 2 * i].item<float>(), 5);
                Assert.Equal(Math.Cos(angle), pe[pos, 2 * i + 1].item<float>(), 5);
            }
        // ||PE(p)||² = d/2 for every position.
        Assert.True(MaxDiff(pe.pow(2).sum(-1), torch.full(50, 8f)) < 1e-4);
        Assert.Equal(new long[] { 9, 7 }, SinusoidalPositionalEncoding.Table(9, 7).shape);
    }

    [Fact]
    public void WrongShapesGiveClearErrors()
    {
        using var scope = NewDisposeScope();
        var mha = new MultiHeadAttention(8, 2, batchFirst: true);
        var x = torch.randn(2, 5, 8);
        var e1 = Assert.Throws<ArgumentException>(() => mha.call(torch.randn(2, 5, 6), x, x));
        Assert.Contains("query", e1.Message);
        Assert.Contains("[2, 5, 6]", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => mha.call(x, x, x, attn_mask: Masks.Causal(4)));
        Assert.Contains("attn_mask", e2.Message);
        var e3 = Assert.Throws<ArgumentException>(() => mha.call(x, x, x, key_padding_mask: torch.zeros(2, 4, dtype: ScalarType.Bool)));
        Assert.Contains("PaddingMask", e3.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Throws<ArgumentException>(() => new MultiHeadAttention(10, 3));
        var e4 = Assert.Throws<ArgumentException>(() => Attention.ScaledDotProduct(torch.randn(3, 4), torch.randn(5, 3), torch.randn(5, 2)));
        Assert.Contains("d_k", e4.Message);
        Assert.Throws<ArgumentException>(() => new MultiHeadAttention(8, 2).CopyWeightsFrom(nn.MultiheadAttention(12, 2)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Masks.PaddingFromLengths(new long[] { 6 }, 5));
    }
}
