// Partial <param> docs are intentional: only the non-obvious parameters are described.
#pragma warning disable CS1573

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookLab.Models.Sequence;

/// <summary>
/// A stack of recurrent cells unrolled over time: the same weights at every step (a for-loop, not a new layer per step).
/// Layout follows TorchSharp's recurrent modules: input [T, B, D] ([B, T, D] with <c>batchFirst</c>), states
/// [num_layers, B, H], output = the last layer's hidden state at every step.
/// </summary>
public abstract class RecurrentLayerBase<TCell, TState, TResult> : nn.Module<Tensor, TState, TResult>
    where TCell : nn.Module
{
    protected readonly ModuleList<TCell> cells;

    public long InputSize { get; }
    public long HiddenSize { get; }
    public int NumLayers { get; }
    public bool BatchFirst { get; }

    /// <summary>The cell of each layer (layer 0 reads the input, layer k reads layer k−1's hidden states).</summary>
    public IReadOnlyList<TCell> Cells => cells.ToList();

    protected RecurrentLayerBase(string name, long inputSize, long hiddenSize, int numLayers, bool batchFirst, Func<long, TCell> makeCell)
        : base(name)
    {
        ShapeGuard.RequirePositive(inputSize, name, nameof(inputSize));
        ShapeGuard.RequirePositive(hiddenSize, name, nameof(hiddenSize));
        ShapeGuard.RequirePositive(numLayers, name, nameof(numLayers));
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        NumLayers = numLayers;
        BatchFirst = batchFirst;
        cells = new ModuleList<TCell>();
        for (int layer = 0; layer < numLayers; layer++) cells.Add(makeCell(layer == 0 ? inputSize : hiddenSize));
        RegisterComponents();
    }

    /// <summary>Checks the input and returns it time-major, [T, B, D].</summary>
    protected Tensor TimeMajor(Tensor input)
    {
        var layout = BatchFirst ? "[batch, time, input_size]" : "[time, batch, input_size]";
        ShapeGuard.RequireFloating(input, GetName(), "input");
        ShapeGuard.Require(input, GetName(), "input", layout, null, null, InputSize);
        if (input.shape[0] == 0 || input.shape[1] == 0)
            throw new ArgumentException($"{GetName()}: input has an empty time or batch dimension: {Shapes.Format(input)}.", nameof(input));
        return BatchFirst ? input.transpose(0, 1) : input;
    }

    protected Tensor Output(Tensor timeMajor) => BatchFirst ? timeMajor.transpose(0, 1) : timeMajor;

    protected void CheckState(Tensor state, long batch, string argument)
        => ShapeGuard.Require(state, GetName(), argument, "[num_layers, batch, hidden_size]", NumLayers, batch, HiddenSize);

    protected Tensor ZeroStates(Tensor like, long batch)
        => torch.zeros(NumLayers, batch, HiddenSize, dtype: like.dtype, device: like.device);

    /// <summary>
    /// The unrolled loop shared by the recurrent layers whose only state is h (Elman RNN, GRU): layer by layer, every
    /// step of the sequence, starting from <paramref name="h0"/> or zeros.
    /// </summary>
    /// <returns>output [T, B, H] (or [B, T, H]) and h_n [num_layers, B, H]</returns>
    private protected (Tensor output, Tensor h_n) UnrollHiddenState(Tensor input, Tensor? h0)
    {
        var x = TimeMajor(input);
        long steps = x.shape[0], batch = x.shape[1];
        if (h0 is not null) CheckState(h0, batch, nameof(h0));
        var finals = new List<Tensor>();
        for (int layer = 0; layer < NumLayers; layer++)
        {
            var cell = (IHiddenStateCell)cells[layer];
            var projected = cell.InputProjection(x); // W_ih x_t + b_ih for all t in one matmul
            var h = h0 is null ? cell.ZeroState(x, batch) : h0[layer];
            var outputs = new Tensor[steps];
            for (long t = 0; t < steps; t++) outputs[t] = h = cell.Step(projected[t], h);
            x = torch.stack(outputs);
            finals.Add(h);
        }
        return (Output(x), torch.stack(finals));
    }

    /// <summary>Copies every layer's weights from a TorchSharp recurrent module (names weight_ih_l{k} etc.).</summary>
    protected void CopyLayersFrom(nn.Module source, string sourceName, Action<TCell, IReadOnlyDictionary<string, Tensor>, string> copyCell)
    {
        var parameters = source.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        if (parameters.Keys.Any(k => k.EndsWith("_reverse")))
            throw new ArgumentException($"{GetName()}: {sourceName} is bidirectional; this model runs one direction only.");
        int sourceLayers = parameters.Keys.Count(k => k.StartsWith("weight_ih_l"));
        if (sourceLayers != NumLayers)
            throw new ArgumentException($"{GetName()}: {sourceName} has {sourceLayers} layer(s) but this model has {NumLayers}.");
        for (int layer = 0; layer < NumLayers; layer++) copyCell(cells[layer], parameters, "_l" + layer);
    }
}

/// <summary>The Elman RNN unrolled over time, layer by layer; matches <c>nn.RNN</c> (tanh) with copied weights.</summary>
public sealed class ElmanRnn : RecurrentLayerBase<ElmanRnnCell, Tensor?, (Tensor output, Tensor h_n)>
{
    public ElmanRnn(long inputSize, long hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, string name = nameof(ElmanRnn))
        : base(name, inputSize, hiddenSize, numLayers, batchFirst, d => new ElmanRnnCell(d, hiddenSize, bias)) { }

    /// <returns>output [T, B, H] (or [B, T, H]) and h_n [num_layers, B, H]</returns>
    public override (Tensor output, Tensor h_n) forward(Tensor input, Tensor? h0 = null) => UnrollHiddenState(input, h0);

    public new (Tensor output, Tensor h_n) call(Tensor input, Tensor? h0 = null) => base.call(input, h0);

    /// <summary>Copies the weights of a TorchSharp <c>nn.RNN</c> (tanh non-linearity, same sizes and layers).</summary>
    public ElmanRnn CopyWeightsFrom(RNN source)
    {
        CopyLayersFrom(source, "nn.RNN", (cell, p, suffix) => cell.CopyFrom(p, suffix, "nn.RNN"));
        return this;
    }
}

/// <summary>The LSTM unrolled over time from <see cref="LstmCell"/>; matches <c>nn.LSTM</c> with copied weights.</summary>
public sealed class Lstm : RecurrentLayerBase<LstmCell, (Tensor h0, Tensor c0)?, (Tensor output, Tensor h_n, Tensor c_n)>
{
    /// <param name="forgetGateBias">if set, every layer's forget gate starts with this effective bias (see <see cref="LstmCell"/>).</param>
    public Lstm(long inputSize, long hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false,
                double? forgetGateBias = null, string name = nameof(Lstm))
        : base(name, inputSize, hiddenSize, numLayers, batchFirst, d => new LstmCell(d, hiddenSize, bias, forgetGateBias)) { }

    /// <returns>output [T, B, H] (or [B, T, H]), h_n and c_n [num_layers, B, H]</returns>
    public override (Tensor output, Tensor h_n, Tensor c_n) forward(Tensor input, (Tensor h0, Tensor c0)? state = null)
    {
        var x = TimeMajor(input);
        long steps = x.shape[0], batch = x.shape[1];
        if (state is (Tensor h0, Tensor c0)) { CheckState(h0, batch, "h0"); CheckState(c0, batch, "c0"); }
        var hs = new List<Tensor>();
        var cs = new List<Tensor>();
        for (int layer = 0; layer < NumLayers; layer++)
        {
            var cell = cells[layer];
            var projected = cell.InputProjection(x);
            var h = state is null ? cell.ZeroState(x, batch) : state.Value.h0[layer];
            var c = state is null ? cell.ZeroState(x, batch) : state.Value.c0[layer];
            var outputs = new Tensor[steps];
            for (long t = 0; t < steps; t++)
            {
                var step = cell.Step(projected[t], h, c);
                (h, c) = (step.H, step.C);
                outputs[t] = h;
            }
            x = torch.stack(outputs);
            hs.Add(h);
            cs.Add(c);
        }
        return (Output(x), torch.stack(hs), torch.stack(cs));
    }

    public new (Tensor output, Tensor h_n, Tensor c_n) call(Tensor input, (Tensor h0, Tensor c0)? state = null) => base.call(input, state);

    /// <summary>Sets every layer's forget-gate bias (see <see cref="LstmCell.SetForgetGateBias"/>).</summary>
    public void SetForgetGateBias(double value)
    {
        foreach (var cell in cells) cell.SetForgetGateBias(value);
    }

    /// <summary>Copies the weights of a TorchSharp <c>nn.LSTM</c> with the same sizes and number of layers.</summary>
    public Lstm CopyWeightsFrom(LSTM source)
    {
        CopyLayersFrom(source, "nn.LSTM", (cell, p, suffix) => cell.CopyFrom(p, suffix, "nn.LSTM"));
        return this;
    }
}

/// <summary>The GRU unrolled over time from <see cref="GruCell"/>; matches <c>nn.GRU</c> with copied weights.</summary>
public sealed class Gru : RecurrentLayerBase<GruCell, Tensor?, (Tensor output, Tensor h_n)>
{
    /// <param name="updateGateBias">if set, every layer's update gate starts with this effective bias (see <see cref="GruCell"/>).</param>
    public Gru(long inputSize, long hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false,
               double? updateGateBias = null, string name = nameof(Gru))
        : base(name, inputSize, hiddenSize, numLayers, batchFirst, d => new GruCell(d, hiddenSize, bias, updateGateBias)) { }

    /// <returns>output [T, B, H] (or [B, T, H]) and h_n [num_layers, B, H]</returns>
    public override (Tensor output, Tensor h_n) forward(Tensor input, Tensor? h0 = null) => UnrollHiddenState(input, h0);

    public new (Tensor output, Tensor h_n) call(Tensor input, Tensor? h0 = null) => base.call(input, h0);

    /// <summary>Copies the weights of a TorchSharp <c>nn.GRU</c> with the same sizes and number of layers.</summary>
    public Gru CopyWeightsFrom(GRU source)
    {
        CopyLayersFrom(source, "nn.GRU", (cell, p, suffix) => cell.CopyFrom(p, suffix, "nn.GRU"));
        return this;
    }
}
