// Partial <param> docs are intentional: only the non-obvious parameters are described.
#pragma warning disable CS1573

using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace NotebookLab.Models.Sequence;

/// <summary>Shared parameter handling for the recurrent cells (PyTorch layout: gates stacked along rows).</summary>
public abstract class RecurrentCellBase<TState, TResult> : nn.Module<Tensor, TState, TResult>, IRecurrentCell
{
    /// <summary>Input-to-hidden weights, shape [gates·hidden_size, input_size].</summary>
    public Parameter weight_ih;
    /// <summary>Hidden-to-hidden weights, shape [gates·hidden_size, hidden_size].</summary>
    public Parameter weight_hh;
    /// <summary>Input-side bias, shape [gates·hidden_size], or null without bias.</summary>
    public Parameter? bias_ih;
    /// <summary>Hidden-side bias, shape [gates·hidden_size], or null without bias.</summary>
    public Parameter? bias_hh;

    public long InputSize { get; }
    public long HiddenSize { get; }
    /// <summary>How many gate blocks are stacked in the weights: 1 (Elman), 3 (GRU: r, z, n), 4 (LSTM: i, f, g, o).</summary>
    public int GateCount { get; }

    protected RecurrentCellBase(string name, long inputSize, long hiddenSize, int gateCount, bool bias) : base(name)
    {
        ShapeGuard.RequirePositive(inputSize, name, nameof(inputSize));
        ShapeGuard.RequirePositive(hiddenSize, name, nameof(hiddenSize));
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        GateCount = gateCount;
        // PyTorch's default: every weight and bias ~ U(-1/sqrt(H), 1/sqrt(H)).
        double k = 1.0 / Math.Sqrt(hiddenSize);
        weight_ih = nn.Parameter(torch.empty(gateCount * hiddenSize, inputSize).uniform_(-k, k));
        weight_hh = nn.Parameter(torch.empty(gateCount * hiddenSize, hiddenSize).uniform_(-k, k));
        if (bias)
        {
            bias_ih = nn.Parameter(torch.empty(gateCount * hiddenSize).uniform_(-k, k));
            bias_hh = nn.Parameter(torch.empty(gateCount * hiddenSize).uniform_(-k, k));
        }
        RegisterComponents();
    }

    /// <summary>W_ih x + b_ih for one step [B, D] or for a whole sequence [T, B, D] at once.</summary>
    internal Tensor InputProjection(Tensor x) => F.linear(x, weight_ih, bias_ih);

    /// <summary>W_hh h + b_hh.</summary>
    internal Tensor HiddenProjection(Tensor h) => F.linear(h, weight_hh, bias_hh);

    internal void CheckInput(Tensor x, string where)
    {
        ShapeGuard.RequireFloating(x, where, "input");
        ShapeGuard.Require(x, where, "input", "[batch, input_size]", null, InputSize);
    }

    internal void CheckHidden(Tensor h, long batch, string where, string argument)
        => ShapeGuard.Require(h, where, argument, "[batch, hidden_size]", batch, HiddenSize);

    internal Tensor ZeroState(Tensor like, long batch) => torch.zeros(batch, HiddenSize, dtype: like.dtype, device: like.device);

    Tensor IRecurrentCell.InputProjection(Tensor x) => InputProjection(x);
    Tensor IRecurrentCell.ZeroState(Tensor like, long batch) => ZeroState(like, batch);

    /// <summary>Sets one gate's effective bias: that gate's block of bias_ih = <paramref name="value"/>, of bias_hh = 0.</summary>
    /// <param name="gateIndex">the gate's block in the stacked weights (e.g. 1 for the LSTM's f, 1 for the GRU's z)</param>
    /// <param name="gateName">how the error message names the gate, e.g. "forget-gate"</param>
    protected void SetGateBias(int gateIndex, double value, string gateName)
    {
        if (bias_ih is null || bias_hh is null)
            throw new InvalidOperationException($"{GetName()}: the cell was created with bias: false, so it has no {gateName} bias to set.");
        using (torch.no_grad())
        {
            bias_ih[TensorIndex.Slice(gateIndex * HiddenSize, (gateIndex + 1) * HiddenSize)].fill_(value);
            bias_hh[TensorIndex.Slice(gateIndex * HiddenSize, (gateIndex + 1) * HiddenSize)].fill_(0);
        }
    }

    /// <summary>Copies weight_ih/weight_hh/bias_ih/bias_hh from named source parameters (e.g. "weight_ih_l0").</summary>
    internal void CopyFrom(IReadOnlyDictionary<string, Tensor> source, string suffix, string sourceName)
    {
        CopyOne(weight_ih, source, "weight_ih" + suffix, sourceName);
        CopyOne(weight_hh, source, "weight_hh" + suffix, sourceName);
        bool sourceHasBias = source.ContainsKey("bias_ih" + suffix);
        if (sourceHasBias != (bias_ih is not null))
            throw new ArgumentException($"{GetName()}: {sourceName} {(sourceHasBias ? "has" : "has no")} biases but this cell {(bias_ih is null ? "has none" : "has them")}; create both with the same bias setting.");
        if (bias_ih is not null)
        {
            CopyOne(bias_ih, source, "bias_ih" + suffix, sourceName);
            CopyOne(bias_hh!, source, "bias_hh" + suffix, sourceName);
        }
    }

    private void CopyOne(Parameter target, IReadOnlyDictionary<string, Tensor> source, string key, string sourceName)
    {
        if (!source.TryGetValue(key, out var value))
            throw new ArgumentException($"{GetName()}: {sourceName} has no parameter '{key}' (it has: {string.Join(", ", source.Keys)}).");
        if (!value.shape.SequenceEqual(target.shape))
            throw new ArgumentException(
                $"{GetName()}: {sourceName}.{key} has shape {Shapes.Format(value)} but this cell needs {Shapes.Format(target)} " +
                $"(input_size {InputSize}, hidden_size {HiddenSize}, {GateCount} gate block(s)).");
        using (torch.no_grad()) target.copy_(value);
    }

    internal static Dictionary<string, Tensor> NamedParameters(nn.Module module)
        => module.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
}

/// <summary>What every cell offers the layers that unroll it (implemented once, by <see cref="RecurrentCellBase{TState, TResult}"/>).</summary>
internal interface IRecurrentCell
{
    Tensor InputProjection(Tensor x);
    Tensor ZeroState(Tensor like, long batch);
}

/// <summary>A cell whose only state is the hidden state h (Elman RNN, GRU), as <see cref="RecurrentLayerBase{TCell, TState, TResult}"/> unrolls it.</summary>
internal interface IHiddenStateCell : IRecurrentCell
{
    Tensor Step(Tensor inputProjection, Tensor h);
}

/// <summary>The cells whose only state is h (Elman RNN, GRU): one step is <c>Step(W_ih x + b_ih, h)</c>.</summary>
public abstract class HiddenStateCellBase : RecurrentCellBase<Tensor?, Tensor>, IHiddenStateCell
{
    private protected HiddenStateCellBase(string name, long inputSize, long hiddenSize, int gateCount, bool bias)
        : base(name, inputSize, hiddenSize, gateCount, bias) { }

    /// <summary>One step given the precomputed input projection W_ih x_t + b_ih.</summary>
    internal abstract Tensor Step(Tensor inputProjection, Tensor h);

    Tensor IHiddenStateCell.Step(Tensor inputProjection, Tensor h) => Step(inputProjection, h);

    public override Tensor forward(Tensor input, Tensor? hidden)
    {
        CheckInput(input, GetName());
        var batch = input.shape[0];
        var h = hidden ?? ZeroState(input, batch);
        CheckHidden(h, batch, GetName(), "hidden");
        return Step(InputProjection(input), h);
    }
}

/// <summary>
/// The Elman (vanilla) RNN cell: <c>h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)</c>.
/// Parameter names and layout follow <c>nn.RNNCell</c>; call <c>cell.call(x, h)</c> with x [batch, input_size]
/// and h [batch, hidden_size] (null means zeros).
/// </summary>
public sealed class ElmanRnnCell : HiddenStateCellBase
{
    public ElmanRnnCell(long inputSize, long hiddenSize, bool bias = true, string name = nameof(ElmanRnnCell))
        : base(name, inputSize, hiddenSize, gateCount: 1, bias) { }


    internal override Tensor Step(Tensor inputProjection, Tensor h) => torch.tanh(inputProjection + HiddenProjection(h));

    /// <summary>Copies the weights of a TorchSharp <c>nn.RNNCell</c> (tanh) into this cell.</summary>
    public ElmanRnnCell CopyWeightsFrom(RNNCell source)
    {
        CopyFrom(NamedParameters(source), "", "nn.RNNCell");
        return this;
    }
}

/// <summary>Everything one LSTM step computes, for plots of the gates and the cell state.</summary>
/// <param name="H">new hidden state h_t = o ⊙ tanh(c_t)</param>
/// <param name="C">new cell state c_t = f ⊙ c_{t-1} + i ⊙ g</param>
/// <param name="InputGate">i_t</param>
/// <param name="ForgetGate">f_t</param>
/// <param name="Candidate">g_t</param>
/// <param name="OutputGate">o_t</param>
public sealed record LstmStep(Tensor H, Tensor C, Tensor InputGate, Tensor ForgetGate, Tensor Candidate, Tensor OutputGate);

/// <summary>
/// The LSTM cell from its gate equations, in PyTorch's layout: the rows of <c>weight_ih</c> [4H, D] and
/// <c>weight_hh</c> [4H, H] are the blocks (i, f, g, o), and there are two biases, <c>bias_ih</c> and <c>bias_hh</c>,
/// whose sum is the bias of the textbook equations.
/// <code>
/// i = σ(W_ii x + b_ii + W_hi h + b_hi)      f = σ(W_if x + b_if + W_hf h + b_hf)
/// g = tanh(W_ig x + b_ig + W_hg h + b_hg)   o = σ(W_io x + b_io + W_ho h + b_ho)
/// c' = f ⊙ c + i ⊙ g                        h' = o ⊙ tanh(c')
/// </code>
/// </summary>
public sealed class LstmCell : RecurrentCellBase<(Tensor h, Tensor c)?, (Tensor h, Tensor c)>
{
    /// <param name="forgetGateBias">if set, the forget gate's effective bias (b_if + b_hf) starts at this value
    /// (b_if = value, b_hf = 0); +1 or more keeps the cell state, and its gradient, alive early in training.</param>
    public LstmCell(long inputSize, long hiddenSize, bool bias = true, double? forgetGateBias = null, string name = nameof(LstmCell))
        : base(name, inputSize, hiddenSize, gateCount: 4, bias)
    {
        if (forgetGateBias is double value) SetForgetGateBias(value);
    }

    /// <summary>Sets the forget gate's effective bias: b_if = <paramref name="value"/>, b_hf = 0.</summary>
    public void SetForgetGateBias(double value) => SetGateBias(1, value, "forget-gate");

    public override (Tensor h, Tensor c) forward(Tensor input, (Tensor h, Tensor c)? state)
    {
        var step = ForwardWithGates(input, state);
        return (step.H, step.C);
    }

    /// <summary>One step that also returns the gate activations (i, f, g, o).</summary>
    public LstmStep ForwardWithGates(Tensor input, (Tensor h, Tensor c)? state = null)
    {
        CheckInput(input, GetName());
        var batch = input.shape[0];
        var (h, c) = state ?? (ZeroState(input, batch), ZeroState(input, batch));
        CheckHidden(h, batch, GetName(), "h");
        CheckHidden(c, batch, GetName(), "c");
        return Step(InputProjection(input), h, c);
    }

    internal LstmStep Step(Tensor inputProjection, Tensor h, Tensor c)
    {
        var gates = (inputProjection + HiddenProjection(h)).chunk(4, dim: -1);
        var i = torch.sigmoid(gates[0]);
        var f = torch.sigmoid(gates[1]);
        var g = torch.tanh(gates[2]);
        var o = torch.sigmoid(gates[3]);
        var cNext = f * c + i * g;
        var hNext = o * torch.tanh(cNext);
        return new LstmStep(hNext, cNext, i, f, g, o);
    }

    /// <summary>Copies the weights of a TorchSharp <c>nn.LSTMCell</c> into this cell.</summary>
    public LstmCell CopyWeightsFrom(LSTMCell source)
    {
        CopyFrom(NamedParameters(source), "", "nn.LSTMCell");
        return this;
    }
}

/// <summary>
/// The GRU cell in PyTorch's convention: rows of the weights are the blocks (r, z, n), and the reset gate
/// multiplies the <em>whole</em> hidden-side term including its bias b_hn (Cho et al. apply r before W_hn instead):
/// <code>
/// r = σ(W_ir x + b_ir + W_hr h + b_hr)      z = σ(W_iz x + b_iz + W_hz h + b_hz)
/// n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
/// h' = (1 − z) ⊙ n + z ⊙ h
/// </code>
/// </summary>
public sealed class GruCell : HiddenStateCellBase
{
    /// <param name="updateGateBias">if set, the update gate's effective bias (b_iz + b_hz) starts at this value; since
    /// h' = (1 − z) ⊙ n + z ⊙ h, a positive value makes the cell keep its state by default (the GRU's forget-gate-bias trick).</param>
    public GruCell(long inputSize, long hiddenSize, bool bias = true, double? updateGateBias = null, string name = nameof(GruCell))
        : base(name, inputSize, hiddenSize, gateCount: 3, bias)
    {
        if (updateGateBias is double value) SetUpdateGateBias(value);
    }

    /// <summary>Sets the update gate's effective bias: b_iz = <paramref name="value"/>, b_hz = 0.</summary>
    public void SetUpdateGateBias(double value) => SetGateBias(1, value, "update-gate");


    internal override Tensor Step(Tensor inputProjection, Tensor h)
    {
        var xs = inputProjection.chunk(3, dim: -1);
        var hs = HiddenProjection(h).chunk(3, dim: -1);
        var r = torch.sigmoid(xs[0] + hs[0]);
        var z = torch.sigmoid(xs[1] + hs[1]);
        var n = torch.tanh(xs[2] + r * hs[2]);
        return (1 - z) * n + z * h;
    }

    /// <summary>Copies the weights of a TorchSharp <c>nn.GRUCell</c> into this cell.</summary>
    public GruCell CopyWeightsFrom(GRUCell source)
    {
        CopyFrom(NamedParameters(source), "", "nn.GRUCell");
        return this;
    }
}
