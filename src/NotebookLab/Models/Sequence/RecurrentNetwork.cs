// Partial <param> docs are intentional: only the non-obvious parameters are described.
#pragma warning disable CS1573

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookLab.Models.Sequence;

/// <summary>What a <see cref="RecurrentNetwork"/> predicts from: the last hidden state, or every hidden state.</summary>
public enum SequenceReadout
{
    /// <summary>One prediction per sequence from h_T: output [B, outputs] (many-to-one).</summary>
    LastStep,
    /// <summary>One prediction per step: output [B, T, outputs] (synced many-to-many).</summary>
    EveryStep,
}

/// <summary>
/// A ready-to-train recurrent model (batch first): optional token embedding → RNN/LSTM/GRU → linear readout. A
/// <c>Module&lt;Tensor, Tensor&gt;</c>, so it plugs into <c>Learner</c>/<c>Lab.Fit</c>. With <c>fromEquations: true</c> the
/// recurrent layer is this library's <see cref="ElmanRnn"/>/<see cref="Lstm"/>/<see cref="Gru"/> (a C# loop over the
/// cell equations); otherwise TorchSharp's fused <c>nn.RNN/LSTM/GRU</c>, which computes the same function faster.
/// </summary>
public sealed class RecurrentNetwork : nn.Module<Tensor, Tensor>
{
    public Embedding? embedding;
    public nn.Module rnn;
    public Linear head;

    public RecurrentKind Kind { get; }
    public SequenceReadout Readout { get; }
    public long InputSize { get; }
    public long? VocabSize { get; }

    /// <param name="inputSize">features per step for real-valued input [B, T, inputSize]; with <paramref name="vocabSize"/>, the embedding size.</param>
    /// <param name="vocabSize">if set, the input is token ids [B, T] embedded into <paramref name="inputSize"/> dimensions.</param>
    /// <param name="forgetGateBias">LSTM only: initial effective forget-gate bias (b_if + b_hf).</param>
    /// <param name="updateGateBias">GRU only: initial effective update-gate bias (b_iz + b_hz).</param>
    public RecurrentNetwork(RecurrentKind kind, long inputSize, long hiddenSize, long outputSize,
                            SequenceReadout readout = SequenceReadout.LastStep, long? vocabSize = null, int numLayers = 1,
                            bool fromEquations = false, double? forgetGateBias = null, double? updateGateBias = null, string name = nameof(RecurrentNetwork)) : base(name)
    {
        ShapeGuard.RequirePositive(inputSize, name, nameof(inputSize));
        ShapeGuard.RequirePositive(hiddenSize, name, nameof(hiddenSize));
        ShapeGuard.RequirePositive(outputSize, name, nameof(outputSize));
        if (forgetGateBias is not null && kind != RecurrentKind.Lstm)
            throw new ArgumentException($"{name}: forgetGateBias applies to an LSTM only, not to {kind}.", nameof(forgetGateBias));
        if (updateGateBias is not null && kind != RecurrentKind.Gru)
            throw new ArgumentException($"{name}: updateGateBias applies to a GRU only, not to {kind}.", nameof(updateGateBias));
        (Kind, Readout, InputSize, VocabSize) = (kind, readout, inputSize, vocabSize);
        if (vocabSize is long v)
        {
            ShapeGuard.RequirePositive(v, name, nameof(vocabSize));
            embedding = nn.Embedding(v, inputSize);
        }
        rnn = (kind, fromEquations) switch
        {
            (RecurrentKind.Rnn, true) => new ElmanRnn(inputSize, hiddenSize, numLayers, batchFirst: true),
            (RecurrentKind.Lstm, true) => new Lstm(inputSize, hiddenSize, numLayers, batchFirst: true, forgetGateBias: forgetGateBias),
            (RecurrentKind.Gru, true) => new Gru(inputSize, hiddenSize, numLayers, batchFirst: true, updateGateBias: updateGateBias),
            (RecurrentKind.Rnn, false) => nn.RNN(inputSize, hiddenSize, numLayers, batchFirst: true),
            (RecurrentKind.Lstm, false) => nn.LSTM(inputSize, hiddenSize, numLayers, batchFirst: true),
            (RecurrentKind.Gru, false) => nn.GRU(inputSize, hiddenSize, numLayers, batchFirst: true),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        if (!fromEquations && (forgetGateBias ?? updateGateBias) is double fb)
        {
            // LSTM rows (i, f, g, o) and GRU rows (r, z, n) both have the gate to set in rows [H, 2H): b_i· = fb, b_h· = 0.
            using var noGrad = torch.no_grad();
            foreach (var (pname, p) in rnn.named_parameters())
            {
                if (!pname.StartsWith("bias_")) continue;
                p[TensorIndex.Slice(hiddenSize, 2 * hiddenSize)].fill_(pname.StartsWith("bias_ih") ? fb : 0.0);
            }
        }
        head = nn.Linear(hiddenSize, outputSize);
        RegisterComponents();
    }

    /// <summary>All hidden states of the last layer, [B, T, H].</summary>
    public Tensor HiddenStates(Tensor input)
    {
        Tensor x;
        if (embedding is not null)
        {
            ShapeGuard.RequireIntegral(input, GetName(), "input");
            ShapeGuard.Require(input, GetName(), "input", "[batch, time] token ids", null, null);
            long max = input.max().item<long>(), min = input.min().item<long>();
            if (min < 0 || max >= VocabSize)
                throw new ArgumentException($"{GetName()}: input holds ids in [{min}, {max}] but the vocabulary has {VocabSize} tokens.", nameof(input));
            x = embedding.call(input);
        }
        else
        {
            ShapeGuard.RequireFloating(input, GetName(), "input");
            ShapeGuard.Require(input, GetName(), "input", "[batch, time, input_size]", null, null, InputSize);
            x = input;
        }
        return rnn switch
        {
            ElmanRnn r => r.call(x).output,
            Lstm l => l.call(x).output,
            Gru g => g.call(x).output,
            RNN r => r.call(x).Item1,
            LSTM l => l.call(x).Item1,
            GRU g => g.call(x).Item1,
            _ => throw new InvalidOperationException(),
        };
    }

    public override Tensor forward(Tensor input)
    {
        var states = HiddenStates(input);
        return head.call(Readout == SequenceReadout.LastStep ? states[TensorIndex.Colon, -1] : states);
    }
}
