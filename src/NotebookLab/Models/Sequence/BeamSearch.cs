using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Models.Sequence;

/// <summary>One decoded sequence: its tokens (without the start token, without <c>&lt;eos&gt;</c>), the sum of their
/// log-probabilities (the <c>&lt;eos&gt;</c> step included when <see cref="Finished"/>), and whether it ended with
/// <c>&lt;eos&gt;</c> (false: it ran out of steps).</summary>
public sealed record Hypothesis(long[] Tokens, double LogProb, bool Finished);

/// <summary>
/// Beam search for one source sequence. The model is given as a function from a batch of prefixes [k, t] (each
/// starting with the start token) to the log-probabilities of the next token [k, vocab]. Each step extends every
/// prefix on the beam by every token, keeps the <c>beamWidth</c> best by total log-probability, and sets aside the ones
/// that end with <c>&lt;eos&gt;</c>. It stops when no prefix on the beam can still beat the best finished sequence
/// (log-probabilities only go down as a sequence grows), or after <c>maxSteps</c> tokens. With <c>beamWidth = 1</c> it
/// is greedy decoding. Scores are plain sums of log-probabilities, without length normalisation. Returns the best
/// finished sequence, or the best unfinished one if none finished within <c>maxSteps</c>.
/// </summary>
public static class BeamSearch
{
    public static Hypothesis Decode(Func<Tensor, Tensor> nextLogProbs, long startToken, long eosToken, int beamWidth, int maxSteps)
    {
        const string where = "BeamSearch.Decode";
        ArgumentNullException.ThrowIfNull(nextLogProbs);
        ShapeGuard.RequirePositive(beamWidth, where, nameof(beamWidth));
        ShapeGuard.RequirePositive(maxSteps, where, nameof(maxSteps));
        var alive = new List<Hypothesis> { new([], 0.0, false) };
        var finished = new List<Hypothesis>();
        for (int step = 0; step < maxSteps && alive.Count > 0; step++)
        {
            using var scope = torch.NewDisposeScope();
            var prefixes = torch.tensor(alive.SelectMany(h => h.Tokens.Prepend(startToken)).ToArray(), new long[] { alive.Count, step + 1 });
            var logProbs = nextLogProbs(prefixes);
            ShapeGuard.Require(logProbs, where, "nextLogProbs(prefixes)", "[beam, vocab]", alive.Count, null);
            long vocab = logProbs.shape[1];
            if (eosToken < 0 || eosToken >= vocab)
                throw new ArgumentOutOfRangeException(nameof(eosToken), $"{where}: eosToken {eosToken} is outside the vocabulary 0..{vocab - 1} returned by nextLogProbs.");
            var totals = torch.tensor(alive.Select(h => h.LogProb).ToArray()).unsqueeze(1) + logProbs.to(ScalarType.Float64);   // [k, vocab]
            var best = totals.view(-1).topk((int)Math.Min(beamWidth, totals.numel()));
            var scores = best.values.data<double>().ToArray();
            var indices = best.indexes.data<long>().ToArray();
            var next = new List<Hypothesis>();
            for (int i = 0; i < scores.Length; i++)
            {
                if (double.IsNegativeInfinity(scores[i])) break;                      // probability 0: never a candidate
                var parent = alive[(int)(indices[i] / vocab)];
                long token = indices[i] % vocab;
                if (token == eosToken) finished.Add(new Hypothesis(parent.Tokens, scores[i], true));
                else next.Add(new Hypothesis([.. parent.Tokens, token], scores[i], false));
            }
            alive = next;
            double bestFinished = finished.Count > 0 ? finished.Max(h => h.LogProb) : double.NegativeInfinity;
            if (alive.Count == 0 || alive.Max(h => h.LogProb) <= bestFinished) break;
        }
        var pool = finished.Count > 0 ? finished : alive;
        return pool.MaxBy(h => h.LogProb)!;
    }
}
