using NotebookLab.Models.Sequence;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Tests.Models.Sequence;

public class RecurrentTests
{
    private const double Tol = 1e-5;

    private static void AssertClose(Tensor expected, Tensor actual, double tol = Tol, string what = "")
    {
        Assert.Equal(expected.shape, actual.shape);
        var diff = (expected - actual).abs().max().item<float>();
        Assert.True(diff <= tol, $"{what} max |difference| = {diff} > {tol}");
    }

    [Fact]
    public void ElmanRnnMatchesTorchRnnWithCopiedWeights()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(1);
        var reference = nn.RNN(5, 7, numLayers: 2);
        var mine = new ElmanRnn(5, 7, numLayers: 2).CopyWeightsFrom(reference);
        var x = torch.randn(9, 3, 5);
        var h0 = torch.randn(2, 3, 7);
        var (refOut, refH) = reference.call(x, h0);
        var (out_, h) = mine.call(x, h0);
        AssertClose(refOut, out_, what: "output");
        AssertClose(refH, h, what: "h_n");
    }

    [Fact]
    public void ElmanRnnCellIsTheEquationAndMatchesRnnCell()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(2);
        var reference = nn.RNNCell(4, 6);
        var cell = new ElmanRnnCell(4, 6).CopyWeightsFrom(reference);
        var x = torch.randn(3, 4);
        var h = torch.randn(3, 6);
        var byHand = torch.tanh(x.matmul(cell.weight_ih.t()) + cell.bias_ih! + h.matmul(cell.weight_hh.t()) + cell.bias_hh!);
        AssertClose(byHand, cell.call(x, h), what: "equation");
        AssertClose(reference.call(x, h), cell.call(x, h), what: "nn.RNNCell");
    }

    [Fact]
    public void LstmMatchesTorchLstmWithCopiedWeights()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(3);
        var reference = nn.LSTM(5, 8, numLayers: 2, batchFirst: true);
        var mine = new Lstm(5, 8, numLayers: 2, batchFirst: true).CopyWeightsFrom(reference);
        var x = torch.randn(4, 11, 5);
        var h0 = torch.randn(2, 4, 8);
        var c0 = torch.randn(2, 4, 8);
        var (refOut, refH, refC) = reference.call(x, (h0, c0));
        var (out_, h, c) = mine.call(x, (h0, c0));
        AssertClose(refOut, out_, what: "output");
        AssertClose(refH, h, what: "h_n");
        AssertClose(refC, c, what: "c_n");
    }

    [Fact]
    public void LstmCellMatchesTorchLstmCellAndGateOrderMatters()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(4);
        var reference = nn.LSTMCell(3, 5);
        var cell = new LstmCell(3, 5).CopyWeightsFrom(reference);
        var x = torch.randn(2, 3);
        var h = torch.randn(2, 5);
        var c = torch.randn(2, 5);
        var (rh, rc) = reference.call(x, (h, c));
        var step = cell.ForwardWithGates(x, (h, c));
        AssertClose(rh, step.H, what: "h");
        AssertClose(rc, step.C, what: "c");
        AssertClose(step.ForgetGate * c + step.InputGate * step.Candidate, step.C, what: "cell update");

        // Swapping the f and g blocks (a classic mistake) must break the match: the test can fail.
        using (torch.no_grad())
        {
            var w = cell.weight_ih;
            var f = w[TensorIndex.Slice(5, 10)].clone();
            w[TensorIndex.Slice(5, 10)] = w[TensorIndex.Slice(10, 15)];
            w[TensorIndex.Slice(10, 15)] = f;
        }
        var wrong = cell.call(x, (h, c));
        Assert.True((wrong.h - rh).abs().max().item<float>() > 1e-3);
    }

    [Fact]
    public void GruMatchesTorchGruWithCopiedWeights()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(5);
        var reference = nn.GRU(6, 4, numLayers: 2);
        var mine = new Gru(6, 4, numLayers: 2).CopyWeightsFrom(reference);
        var x = torch.randn(13, 2, 6);
        var h0 = torch.randn(2, 2, 4);
        var (refOut, refH) = reference.call(x, h0);
        var (out_, h) = mine.call(x, h0);
        AssertClose(refOut, out_, what: "output");
        AssertClose(refH, h, what: "h_n");
    }

    [Fact]
    public void GruCellPutsResetGateAroundHiddenBias()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(6);
        var reference = nn.GRUCell(3, 4);
        var cell = new GruCell(3, 4).CopyWeightsFrom(reference);
        var x = torch.randn(5, 3);
        var h = torch.randn(5, 4);
        AssertClose(reference.call(x, h), cell.call(x, h), what: "nn.GRUCell");
        // Moving b_hn outside the reset gate (the Cho et al. variant) gives a different function.
        using (torch.no_grad()) cell.bias_hh![TensorIndex.Slice(8, 12)].add_(1.0);
        var shifted = cell.call(x, h);
        Assert.True((shifted - reference.call(x, h)).abs().max().item<float>() > 1e-3);
    }

    [Fact]
    public void ForgetGateBiasSetsEffectiveBiasOnly()
    {
        using var scope = NewDisposeScope();
        var lstm = new Lstm(3, 4, numLayers: 2, forgetGateBias: 2.0);
        foreach (var cell in lstm.Cells)
        {
            var sum = cell.bias_ih! + cell.bias_hh!;
            AssertClose(torch.full(4, 2.0f), sum[TensorIndex.Slice(4, 8)], what: "forget bias");
            Assert.True(sum[TensorIndex.Slice(0, 4)].abs().max().item<float>() < 1.0f); // other gates untouched (U(-1/2, 1/2) each)
        }
        // With a large forget bias and zero input, the cell state survives many steps.
        var keeper = new LstmCell(1, 1, forgetGateBias: 10);
        using (torch.no_grad())
        {
            keeper.weight_hh.zero_(); keeper.weight_ih.zero_(); keeper.bias_hh!.zero_();
            keeper.bias_ih!.copy_(torch.tensor(new float[] { -10, 10, 0, 0 })); // input gate shut, forget gate open
        }
        var c = torch.ones(1, 1);
        var h = torch.zeros(1, 1);
        for (int t = 0; t < 100; t++) (h, c) = keeper.call(torch.zeros(1, 1), (h, c));
        Assert.InRange(c.item<float>(), 0.99f, 1.0f); // σ(10)^100 ≈ 0.9955
    }

    [Fact]
    public void UpdateGateBiasMakesTheGruKeepItsState()
    {
        using var scope = NewDisposeScope();
        var gru = new Gru(3, 4, numLayers: 2, updateGateBias: 3.0);
        foreach (var cell in gru.Cells)
            AssertClose(torch.full(4, 3.0f), (cell.bias_ih! + cell.bias_hh!)[TensorIndex.Slice(4, 8)], what: "update bias");
        // z ≈ 1 everywhere: h' = (1 − z) n + z h stays close to h.
        var keeper = new GruCell(2, 3, updateGateBias: 12);
        using (torch.no_grad()) { keeper.weight_ih.zero_(); keeper.weight_hh.zero_(); }
        var h = torch.ones(1, 3);
        for (int t = 0; t < 50; t++) h = keeper.call(torch.randn(1, 2), h);
        Assert.True((h - 1).abs().max().item<float>() < 1e-2);
        Assert.Throws<InvalidOperationException>(() => new GruCell(2, 3, bias: false, updateGateBias: 1));
    }

    [Fact]
    public void GateBiasWithoutBiasesNamesTheGate()
    {
        var lstm = Assert.Throws<InvalidOperationException>(() => new LstmCell(2, 3, bias: false, forgetGateBias: 1));
        Assert.Equal("LstmCell: the cell was created with bias: false, so it has no forget-gate bias to set.", lstm.Message);
        var gru = Assert.Throws<InvalidOperationException>(() => new GruCell(2, 3, bias: false).SetUpdateGateBias(1));
        Assert.Equal("GruCell: the cell was created with bias: false, so it has no update-gate bias to set.", gru.Message);
    }

    [Fact]
    public void GradientsReachEveryParameterAndEarlyInputs()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(7);
        foreach (nn.Module<Tensor, Tensor> model in new nn.Module<Tensor, Tensor>[]
                 { Wrap(new ElmanRnn(3, 5)), Wrap(new Lstm(3, 5)), Wrap(new Gru(3, 5)) })
        {
            var x = torch.randn(6, 2, 3, requires_grad: true);
            model.call(x).sum().backward();
            foreach (var (name, p) in model.named_parameters())
                Assert.True(p.grad is not null && p.grad.abs().sum().item<float>() > 0, $"{name} got no gradient");
            Assert.True(x.grad!.select(0, 0).abs().sum().item<float>() > 0, "the first time step got no gradient");
        }
    }

    private static nn.Module<Tensor, Tensor> Wrap(ElmanRnn m) => new Fn(m, x => m.call(x).output);
    private static nn.Module<Tensor, Tensor> Wrap(Lstm m) => new Fn(m, x => m.call(x).output);
    private static nn.Module<Tensor, Tensor> Wrap(Gru m) => new Fn(m, x => m.call(x).output);

    private sealed class Fn : nn.Module<Tensor, Tensor>
    {
        private readonly nn.Module inner;
        private readonly Func<Tensor, Tensor> f;
        public Fn(nn.Module inner, Func<Tensor, Tensor> f) : base("fn") { this.inner = inner; this.f = f; RegisterComponents(); }
        public override Tensor forward(Tensor x) => f(x);
    }

    [Fact]
    public void WrongShapesGiveClearErrors()
    {
        using var scope = NewDisposeScope();
        var lstm = new Lstm(5, 8);
        var e1 = Assert.Throws<ArgumentException>(() => lstm.call(torch.randn(4, 3, 6)));
        Assert.Contains("input", e1.Message);
        Assert.Contains("[4, 3, 6]", e1.Message);
        Assert.Contains("input_size", e1.Message);
        var e2 = Assert.Throws<ArgumentException>(() => lstm.call(torch.randn(4, 3, 5), (torch.zeros(1, 2, 8), torch.zeros(1, 3, 8))));
        Assert.Contains("h0", e2.Message);
        var e3 = Assert.Throws<ArgumentException>(() => new Lstm(5, 16).CopyWeightsFrom(nn.LSTM(5, 8)));
        Assert.Contains("weight_ih_l0", e3.Message);
        var e4 = Assert.Throws<ArgumentException>(() => new Gru(5, 8).CopyWeightsFrom(nn.GRU(5, 8, numLayers: 2)));
        Assert.Contains("2 layer", e4.Message);
        var e5 = Assert.Throws<ArgumentException>(() => new ElmanRnn(5, 8).CopyWeightsFrom(nn.RNN(5, 8, bidirectional: true)));
        Assert.Contains("bidirectional", e5.Message);
        Assert.Throws<ArgumentException>(() => new GruCell(3, 4).call(torch.randn(2, 3), torch.randn(3, 4)));
        Assert.Throws<ArgumentException>(() => new ElmanRnnCell(3, 4).call(torch.ones(2, 3, dtype: ScalarType.Int64), null));
    }
}

public class RecurrentNetworkTests
{
    [Fact]
    public void ReadoutsAndInputKindsHaveTheDocumentedShapes()
    {
        using var scope = NewDisposeScope();
        foreach (var kind in new[] { RecurrentKind.Rnn, RecurrentKind.Lstm, RecurrentKind.Gru })
            foreach (var fromEquations in new[] { false, true })
            {
                var tokens = new RecurrentNetwork(kind, 4, 8, 3, SequenceReadout.EveryStep, vocabSize: 6, fromEquations: fromEquations);
                Assert.Equal(new long[] { 2, 5, 3 }, tokens.call(torch.randint(0, 6, new long[] { 2, 5 })).shape);
                var features = new RecurrentNetwork(kind, 2, 8, 1, fromEquations: fromEquations);
                Assert.Equal(new long[] { 3, 1 }, features.call(torch.randn(3, 7, 2)).shape);
            }
    }

    [Fact]
    public void FusedAndFromEquationsLayersComputeTheSameFunction()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(40);
        var fused = new RecurrentNetwork(RecurrentKind.Lstm, 3, 6, 2, forgetGateBias: 1.5);
        var mine = new RecurrentNetwork(RecurrentKind.Lstm, 3, 6, 2, fromEquations: true);
        ((Lstm)mine.rnn).CopyWeightsFrom((TorchSharp.Modules.LSTM)fused.rnn);
        using (torch.no_grad()) { mine.head.weight!.copy_(fused.head.weight!); mine.head.bias!.copy_(fused.head.bias!); }
        var x = torch.randn(4, 9, 3);
        Assert.True((fused.call(x) - mine.call(x)).abs().max().item<float>() < 1e-5);
        var biases = fused.rnn.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.True(((biases["bias_ih_l0"] + biases["bias_hh_l0"])[6..12] - 1.5f).abs().max().item<float>() < 1e-6);
    }

    [Fact]
    public void BadInputsAndOptionsAreRejected()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentException>(() => new RecurrentNetwork(RecurrentKind.Gru, 3, 4, 1, forgetGateBias: 1));
        var tokens = new RecurrentNetwork(RecurrentKind.Rnn, 3, 4, 1, vocabSize: 5);
        Assert.Contains("vocabulary has 5", Assert.Throws<ArgumentException>(() => tokens.call(torch.tensor(new long[,] { { 1, 5 } }))).Message);
        var features = new RecurrentNetwork(RecurrentKind.Rnn, 3, 4, 1);
        Assert.Contains("input_size", Assert.Throws<ArgumentException>(() => features.call(torch.randn(2, 5, 4))).Message);
    }
}
