using NotebookLab.Models.Sequence;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Tests.Models.Sequence;

public class TransformerModelsTests
{
    private static float MaxDiff(Tensor a, Tensor b) => (a - b).abs().max().item<float>();

    [Fact]
    public void PostNormDecoderBlockMatchesTorchTransformerDecoderLayer()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(30);
        var reference = nn.TransformerDecoderLayer(d_model: 16, nhead: 4, dim_feedforward: 32, dropout: 0.0);
        reference.eval();
        var block = new TransformerDecoderBlock(16, 4, 32).CopyWeightsFrom(reference);
        block.eval();
        var target = torch.randn(5, 2, 16);   // [T, B, E] for TorchSharp
        var memory = torch.randn(7, 2, 16);
        var expected = reference.call(target, memory, Masks.Causal(5), null, null, null);
        var actual = block.call(target.transpose(0, 1), memory.transpose(0, 1)).transpose(0, 1);
        Assert.True(MaxDiff(expected, actual) < 1e-5, $"max difference {MaxDiff(expected, actual)}");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DecoderBlockIsCausalInTheTargetAndReadsTheWholeMemory(bool normFirst)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(31);
        var block = new TransformerDecoderBlock(8, 2, 16, normFirst: normFirst);
        var target = torch.randn(1, 6, 8);
        var memory = torch.randn(1, 4, 8);
        var before = block.call(target, memory);
        var changedFuture = target.clone();
        changedFuture[0, 4..] = torch.randn(2, 8);
        var after = block.call(changedFuture, memory);
        Assert.True(MaxDiff(after[0, ..4], before[0, ..4]) < 1e-6);
        Assert.True(MaxDiff(after[0, 4..], before[0, 4..]) > 1e-3);
        var changedMemory = memory.clone();
        changedMemory[0, 3] = torch.randn(8);
        Assert.True(MaxDiff(block.call(target, changedMemory)[0, 0], before[0, 0]) > 1e-4, "the first target position reads the last source position");
        var weights = block.LastCrossAttentionWeights!;
        Assert.Equal(new long[] { 1, 6, 4 }, weights.shape);
    }

    [Fact]
    public void DecoderBlockRejectsMemoryOfAnotherWidth()
    {
        using var scope = NewDisposeScope();
        var block = new TransformerDecoderBlock(8, 2, 16);
        var error = Assert.Throws<ArgumentException>(() => block.call(torch.randn(1, 3, 8), torch.randn(1, 4, 6)));
        Assert.Contains("memory", error.Message);
    }

    [Fact]
    public void Seq2SeqTransformerGreedyAgreesWithTeacherForcingOnItsOwnOutput()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(32);
        var model = new TransformerSeq2Seq(sourceVocab: 9, targetVocab: 7, modelDim: 16, numHeads: 2, feedForwardDim: 32, layers: 2, sourcePadToken: 0);
        model.eval();
        var source = torch.tensor(new long[,] { { 3, 4, 5, 0 }, { 8, 1, 2, 6 } });
        var (tokens, attention) = model.Greedy(source, steps: 5, bosToken: 1);
        Assert.Equal(new long[] { 2, 5 }, tokens.shape);
        Assert.Equal(new long[] { 2, 5, 4 }, attention!.shape);
        Assert.True(attention[0, .., 3].abs().max().item<float>() == 0, "padding gets no cross-attention");
        var input = torch.cat(new[] { torch.ones(2, 1, dtype: ScalarType.Int64), tokens[.., ..^1] }, dim: 1);
        var teacherForced = model.call(source, input).Logits.argmax(-1);
        Assert.True(teacherForced.eq(tokens).all().item<bool>());
        Assert.Throws<ArgumentException>(() => model.call(source, torch.tensor(new long[,] { { 1, 7 }, { 1, 2 } })));
    }

    [Fact]
    public void CausalLanguageModelCannotSeeTheFutureAndTheEncoderCan()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(33);
        var tokens = torch.tensor(new long[,] { { 1, 2, 3, 4, 5, 6 } });
        var changed = torch.tensor(new long[,] { { 1, 2, 3, 4, 0, 0 } });
        var gpt = new TransformerLanguageModel(vocabSize: 8, modelDim: 16, numHeads: 2, layers: 2, maxLength: 6, causal: true);
        Assert.True(MaxDiff(gpt.call(tokens)[0, ..4], gpt.call(changed)[0, ..4]) < 1e-6);
        Assert.True(MaxDiff(gpt.call(tokens)[0, 4..], gpt.call(changed)[0, 4..]) > 1e-4);
        var bert = new TransformerLanguageModel(vocabSize: 8, modelDim: 16, numHeads: 2, layers: 2, maxLength: 6, causal: false);
        Assert.True(MaxDiff(bert.call(tokens)[0, 0], bert.call(changed)[0, 0]) > 1e-4);
        Assert.Equal(new long[] { 1, 6, 8 }, gpt.call(tokens).shape);
        Assert.Throws<InvalidOperationException>(() => bert.Sample(new long[] { 1 }, 3));
    }

    [Fact]
    public void LanguageModelSamplesReproduciblyAndRejectsTooLongInput()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(34);
        var gpt = new TransformerLanguageModel(vocabSize: 8, modelDim: 16, numHeads: 2, layers: 1, maxLength: 4);
        var a = gpt.Sample(new long[] { 1, 2 }, 10, temperature: 1.0, seed: 5);
        var b = gpt.Sample(new long[] { 1, 2 }, 10, temperature: 1.0, seed: 5);
        Assert.Equal(a, b);
        Assert.All(a, t => Assert.InRange(t, 0, 7));
        var error = Assert.Throws<ArgumentException>(() => gpt.call(torch.zeros(1, 5, dtype: ScalarType.Int64)));
        Assert.Contains("maxLength", error.Message);
        Assert.Throws<ArgumentException>(() => gpt.call(torch.full(1, 3, 8, dtype: ScalarType.Int64)));
    }
}
