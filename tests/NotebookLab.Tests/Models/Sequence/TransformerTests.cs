using NotebookLab.Models.Sequence;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Tests.Models.Sequence;

public class TransformerTests
{
    private static float MaxDiff(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    [Fact]
    public void PostNormBlockMatchesTorchTransformerEncoderLayer()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(20);
        var reference = nn.TransformerEncoderLayer(d_model: 16, nhead: 4, dim_feedforward: 32, dropout: 0.0);
        reference.eval();
        var block = new TransformerEncoderBlock(16, 4, 32).CopyWeightsFrom(reference);
        block.eval();
        var x = torch.randn(6, 3, 16); // [L, B, E] for TorchSharp
        var expected = reference.call(x);
        var actual = block.call(x.transpose(0, 1)).transpose(0, 1);
        Assert.True(MaxDiff(expected, actual) < 1e-5);
    }

    [Fact]
    public void ZeroSublayersReduceTheBlockToItsNormsOrIdentity()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(21);
        var x = torch.randn(2, 5, 8);
        foreach (var normFirst in new[] { false, true })
        {
            var block = new TransformerEncoderBlock(8, 2, 16, normFirst: normFirst);
            using (torch.no_grad())
            {
                block.self_attn.out_proj.weight!.zero_();
                block.self_attn.out_proj.bias!.zero_();
                block.linear2.weight!.zero_();
                block.linear2.bias!.zero_();
            }
            var y = block.call(x);
            // post-norm: LN2(LN1(x)) = LN(x) (LayerNorm is idempotent at init); pre-norm: the residual stream is x itself.
            var expected = normFirst ? x : nn.functional.layer_norm(x, new long[] { 8 });
            Assert.True(MaxDiff(expected, y) < 1e-4, $"normFirst={normFirst}");
        }
    }

    [Fact]
    public void CausalBlockDoesNotLeakTheFutureAndKeepsWeights()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(22);
        var block = new TransformerEncoderBlock(8, 2, 16, normFirst: true);
        var x = torch.randn(1, 6, 8);
        var y = block.call(x, attnMask: Masks.Causal(6));
        Assert.Equal(new long[] { 1, 6, 8 }, y.shape);
        Assert.Equal(new long[] { 1, 6, 6 }, block.LastAttentionWeights!.shape);
        Assert.Equal(0f, block.LastAttentionWeights.triu(1).abs().max().item<float>());
        var x2 = x.clone();
        x2[0, 3..] = torch.randn(3, 8);
        var y2 = block.call(x2, attnMask: Masks.Causal(6));
        Assert.True(MaxDiff(y[0, ..3], y2[0, ..3]) < 1e-6);
        Assert.True(MaxDiff(y[0, 3..], y2[0, 3..]) > 1e-3);
    }

    [Fact]
    public void BlockGradientsReachEveryParameter()
    {
        using var scope = NewDisposeScope();
        var block = new TransformerEncoderBlock(8, 2, 16);
        block.call(torch.randn(2, 4, 8)).pow(2).sum().backward();
        foreach (var (name, p) in block.named_parameters())
            Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0, $"{name} got no gradient");
    }

    [Fact]
    public void PositionalEncodingModuleAddsTheTableAndChecksLength()
    {
        using var scope = NewDisposeScope();
        var pe = new SinusoidalPositionalEncoding(6, maxLength: 10);
        var x = torch.zeros(2, 4, 6);
        Assert.True(MaxDiff(pe.call(x)[1], SinusoidalPositionalEncoding.Table(4, 6)) < 1e-6);
        var e = Assert.Throws<ArgumentException>(() => pe.call(torch.zeros(1, 11, 6)));
        Assert.Contains("maxLength", e.Message);
        Assert.Throws<ArgumentException>(() => pe.call(torch.zeros(1, 3, 5)));
    }
}
