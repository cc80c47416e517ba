// Partial <param> docs are intentional: only the non-obvious parameters are described.
#pragma warning disable CS1573

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookLab.Models.Sequence;

/// <summary>Which recurrent layer a model uses.</summary>
public enum RecurrentKind { Rnn, Lstm, Gru }

/// <summary>A recurrent state: h [layers, B, H], and c for an LSTM (null otherwise).</summary>
public sealed record RecurrentState(Tensor H, Tensor? C);

/// <summary>
/// A character-level language model: embedding → RNN/LSTM/GRU → linear to the vocabulary. <c>forward(tokens [B, T])</c>
/// gives next-token logits [B, T, V]: position t predicts token t+1 (train with cross-entropy against the input shifted
/// by one). <see cref="Sample(IReadOnlyList{long}, int, double, long)"/> generates text, seeded.
/// </summary>
public sealed class CharLanguageModel : nn.Module<Tensor, Tensor>
{
    public Embedding embedding;
    public nn.Module rnn;
    public Linear head;

    public long VocabSize { get; }
    public RecurrentKind Kind { get; }
    public long HiddenSize { get; }
    public int NumLayers { get; }

    public CharLanguageModel(long vocabSize, long embeddingDim, long hiddenSize, RecurrentKind kind = RecurrentKind.Lstm, int numLayers = 1,
                             string name = nameof(CharLanguageModel)) : base(name)
    {
        ShapeGuard.RequirePositive(vocabSize, name, nameof(vocabSize));
        ShapeGuard.RequirePositive(embeddingDim, name, nameof(embeddingDim));
        ShapeGuard.RequirePositive(hiddenSize, name, nameof(hiddenSize));
        ShapeGuard.RequirePositive(numLayers, name, nameof(numLayers));
        (VocabSize, Kind, HiddenSize, NumLayers) = (vocabSize, kind, hiddenSize, numLayers);
        embedding = nn.Embedding(vocabSize, embeddingDim);
        rnn = kind switch
        {
            RecurrentKind.Rnn => nn.RNN(embeddingDim, hiddenSize, numLayers, batchFirst: true),
            RecurrentKind.Lstm => nn.LSTM(embeddingDim, hiddenSize, numLayers, batchFirst: true),
            RecurrentKind.Gru => nn.GRU(embeddingDim, hiddenSize, numLayers, batchFirst: true),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        head = nn.Linear(hiddenSize, vocabSize);
        RegisterComponents();
    }

    public override Tensor forward(Tensor tokens) => Step(tokens, null).logits;

    /// <summary>Runs <paramref name="tokens"/> [B, T] from <paramref name="state"/> (null = zeros): logits [B, T, V] and the new state.</summary>
    public (Tensor logits, RecurrentState state) Step(Tensor tokens, RecurrentState? state)
    {
        ShapeGuard.RequireIntegral(tokens, GetName(), nameof(tokens));
        ShapeGuard.Require(tokens, GetName(), nameof(tokens), "[batch, time]", null, null);
        if (tokens.numel() == 0) throw new ArgumentException($"{GetName()}: tokens is empty: {Shapes.Format(tokens)}.", nameof(tokens));
        long min = tokens.min().item<long>(), max = tokens.max().item<long>();
        if (min < 0 || max >= VocabSize)
            throw new ArgumentException($"{GetName()}: tokens hold ids in [{min}, {max}] but the vocabulary has {VocabSize} tokens.", nameof(tokens));
        var x = embedding.call(tokens);
        Tensor states;
        RecurrentState next;
        switch (rnn)
        {
            case LSTM lstm:
                var (o, h, c) = lstm.call(x, state is null ? null : (state.H, state.C ?? throw new ArgumentException($"{GetName()}: an LSTM state needs C.")));
                (states, next) = (o, new RecurrentState(h, c));
                break;
            case GRU gru:
                var (og, hg) = gru.call(x, state?.H);
                (states, next) = (og, new RecurrentState(hg, null));
                break;
            case RNN plain:
                var (or, hr) = plain.call(x, state?.H);
                (states, next) = (or, new RecurrentState(hr, null));
                break;
            default: throw new InvalidOperationException();
        }
        return (head.call(states), next);
    }

    /// <summary>
    /// Generates <paramref name="length"/> token ids after <paramref name="prompt"/>: each next token is drawn from
    /// softmax(logits / temperature) with a generator seeded by <paramref name="seed"/> (same seed, same text).
    /// Temperature 0 picks the most likely token; below 1 sharpens, above 1 flattens the distribution.
    /// </summary>
    public long[] Sample(IReadOnlyList<long> prompt, int length, double temperature = 1.0, long seed = 0)
    {
        ShapeGuard.RequireSamplingArguments(prompt.Count, length, temperature, GetName());
        bool wasTraining = training;
        eval();
        try
        {
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            var generator = new Generator((ulong)seed);
            var device = head.weight!.device;
            var (logits, state) = Step(torch.tensor(prompt.ToArray(), device: device).unsqueeze(0), null);
            var result = new long[length];
            for (int i = 0; i < length; i++)
            {
                var last = logits[0, -1];
                long next = temperature == 0
                    ? last.argmax().item<long>()
                    : torch.multinomial(torch.softmax(last / temperature, 0), 1, generator: generator).item<long>();
                result[i] = next;
                (logits, state) = Step(torch.tensor(new[] { next }, device: device).unsqueeze(0), state);
            }
            return result;
        }
        finally
        {
            train(wasTraining);
        }
    }

    /// <summary>Text version with a NotebookLab tokenizer (e.g. <see cref="Data.CharTokenizer"/>): returns prompt + sampled text.</summary>
    public string Sample(Data.Tokenizer tokenizer, string prompt, int length, double temperature = 1.0, long seed = 0)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        using var ids = tokenizer.Encode(prompt);
        return prompt + tokenizer.Decode((IEnumerable<long>)Sample(ids.data<long>().ToArray(), length, temperature, seed));
    }

    /// <summary>Text version of <see cref="Sample(IReadOnlyList{long}, int, double, long)"/>: encodes the prompt, decodes prompt + sample.</summary>
    public string Sample(string prompt, int length, double temperature, long seed, Func<string, IReadOnlyList<long>> encode, Func<IReadOnlyList<long>, string> decode)
    {
        var ids = encode(prompt);
        return prompt + decode(Sample(ids, length, temperature, seed));
    }
}
