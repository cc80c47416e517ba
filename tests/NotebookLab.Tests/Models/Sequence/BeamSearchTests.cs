using NotebookLab.Models.Sequence;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Tests.Models.Sequence;

public class BeamSearchTests
{
    const long Start = 0, Eos = 1, A = 2, B = 3;

    /// <summary>A model whose next-token distribution depends only on the last token: rows of a [vocab, vocab] table.</summary>
    static Func<Tensor, Tensor> Markov(double[,] probabilities)
    {
        var table = torch.tensor(probabilities).log();
        return prefixes => table.index_select(0, prefixes[.., -1]);
    }

    /// <summary>Start → A 0.6, B 0.4; after A nothing is likely (each token 1/3); after B, eos 0.9.</summary>
    static readonly double[,] Trap =
    {
        { 0.0, 0.0, 0.6, 0.4 },
        { 0.25, 0.25, 0.25, 0.25 },
        { 0.0, 1.0 / 3, 1.0 / 3, 1.0 / 3 },
        { 0.0, 0.9, 0.05, 0.05 },
    };

    [Fact]
    public void BeamFindsTheLikelierSequenceThatGreedyMisses()
    {
        using var scope = NewDisposeScope();
        var greedy = BeamSearch.Decode(Markov(Trap), Start, Eos, beamWidth: 1, maxSteps: 10);
        Assert.Equal(A, greedy.Tokens[0]);                          // greedy takes the likelier first token ...
        Assert.True(greedy.LogProb < Math.Log(0.6 / 3) + 1e-9);     // ... and everything after it is unlikely
        var beam = BeamSearch.Decode(Markov(Trap), Start, Eos, beamWidth: 2, maxSteps: 10);
        Assert.Equal(new[] { B }, beam.Tokens);
        Assert.True(beam.Finished);
        Assert.Equal(Math.Log(0.4 * 0.9), beam.LogProb, 9);
    }

    [Fact]
    public void WidthOneIsGreedyDecoding()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(40);
        var probabilities = torch.softmax(torch.randn(5, 5, dtype: ScalarType.Float64) * 2, 1);
        probabilities[.., Start] = 0;                                // the start token is never produced
        probabilities = probabilities / probabilities.sum(1, keepdim: true);
        var table = new double[5, 5];
        for (int i = 0; i < 5; i++) for (int j = 0; j < 5; j++) table[i, j] = probabilities[i, j].item<double>();

        var tokens = new List<long>();
        long last = Start;
        double logProb = 0;
        for (int t = 0; t < 8; t++)
        {
            long next = Enumerable.Range(0, 5).MaxBy(j => table[last, j]);
            logProb += Math.Log(table[last, next]);
            if (next == Eos) break;
            tokens.Add(next);
            last = next;
        }
        var beam = BeamSearch.Decode(Markov(table), Start, Eos, beamWidth: 1, maxSteps: 8);
        Assert.Equal(tokens, beam.Tokens);
        Assert.Equal(logProb, beam.LogProb, 9);
    }

    [Fact]
    public void AWideBeamFindsTheMostLikelySequenceByEnumeration()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(41);
        for (int trial = 0; trial < 5; trial++)
        {
            var probabilities = torch.softmax(torch.randn(4, 4, dtype: ScalarType.Float64) * 1.5, 1);
            probabilities[.., Start] = 0;
            probabilities = probabilities / probabilities.sum(1, keepdim: true);
            var table = new double[4, 4];
            for (int i = 0; i < 4; i++) for (int j = 0; j < 4; j++) table[i, j] = probabilities[i, j].item<double>();

            // Every finished sequence of at most 4 tokens (the last one eos), by brute force.
            double bestLogProb = double.NegativeInfinity;
            void Enumerate(long last, double logProb, int length)
            {
                if (length == 4) return;
                bestLogProb = Math.Max(bestLogProb, logProb + Math.Log(table[last, Eos]));
                foreach (var token in new[] { A, B }) Enumerate(token, logProb + Math.Log(table[last, token]), length + 1);
            }
            Enumerate(Start, 0, 0);
            var beam = BeamSearch.Decode(Markov(table), Start, Eos, beamWidth: 64, maxSteps: 4);
            Assert.True(beam.Finished);
            Assert.Equal(bestLogProb, beam.LogProb, 9);
        }
    }

    [Fact]
    public void WithoutEosItReturnsTheBestUnfinishedSequence()
    {
        using var scope = NewDisposeScope();
        var never = new double[,] { { 0, 0, 0.7, 0.3 }, { 0.25, 0.25, 0.25, 0.25 }, { 0, 0, 0.5, 0.5 }, { 0, 0, 0.1, 0.9 } };
        var beam = BeamSearch.Decode(Markov(never), Start, Eos, beamWidth: 3, maxSteps: 3);
        Assert.False(beam.Finished);
                Assert.Equal(new[] { A, B, B }, beam.Tokens);                 // 0.7 · 0.5 · 0.9 beats B B B (0.3 · 0.81) and A A A (0.175)
        Assert.Equal(Math.Log(0.7 * 0.5 * 0.9), beam.LogProb, 9);
    }

    [Fact]
    public void BadArgumentsAreNamed()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentOutOfRangeException>(() => BeamSearch.Decode(Markov(Trap), Start, Eos, beamWidth: 0, maxSteps: 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => BeamSearch.Decode(Markov(Trap), Start, Eos, beamWidth: 2, maxSteps: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => BeamSearch.Decode(Markov(Trap), Start, eosToken: 9, beamWidth: 2, maxSteps: 3));
        var wrong = Assert.Throws<ArgumentException>(() => BeamSearch.Decode(_ => torch.zeros(4), Start, Eos, beamWidth: 2, maxSteps: 3));
        Assert.Contains("nextLogProbs(prefixes)", wrong.Message);
        Assert.Contains("[4]", wrong.Message);
    }

    [Fact]
    public void AttentionDecoderStepReproducesTeacherForcing()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(42);
        var model = new AttentionSeq2Seq(10, 8, 12, 16, sourcePadToken: 0);
        var source = torch.tensor(new long[,] { { 3, 4, 5, 6 }, { 7, 8, 0, 0 } });
        var targetIn = torch.tensor(new long[,] { { 1, 2, 3 }, { 1, 4, 2 } });
        var full = model.call(source, targetIn);
        var (states, state, padding) = model.Encode(source);
        for (int t = 0; t < 3; t++)
        {
            var (logits, next, weights) = model.Step(targetIn[.., t], state, states, padding);
            Assert.True((logits - full.Logits[.., t]).abs().max().item<float>() < 1e-6);
            Assert.True((weights - full.Attention![.., t]).abs().max().item<float>() < 1e-6);
            state = next;
        }
        var bad = Assert.Throws<ArgumentException>(() => model.Step(targetIn[.., 0], torch.zeros(2, 5), states, padding));
        Assert.Contains("state", bad.Message);
    }
}
