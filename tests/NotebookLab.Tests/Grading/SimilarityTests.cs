using NotebookLab.Cli.Grading;
using NotebookLab.Engine.Notebooks;

namespace NotebookLab.Tests.Grading;

/// <summary>The similarity report: renaming and reformatting do not hide a copy; the shared scaffold does not count.</summary>
public sealed class SimilarityTests
{
    static Notebook Nb(params string[] code)
    {
        var nb = new Notebook();
        foreach (var (c, i) in code.Select((c, i) => (c, i))) nb.Cells.Add(new NotebookCell(CellType.Code, c, $"c{i}"));
        return nb;
    }

    const string Scaffold = "using TorchSharp;\nusing static TorchSharp.torch;\nrecord LstmCache(Tensor X, Tensor H);";

    [Fact]
    public void A_renamed_and_reformatted_copy_ranks_first_and_independent_work_scores_low()
    {
        var original = "Tensor Forward(Tensor x, Tensor h) { var z = x.matmul(W.t()) + h.matmul(U.t()) + b; var gates = z.chunk(4, 1); " +
                       "var i = torch.sigmoid(gates[0]); var f = torch.sigmoid(gates[1]); return f * h + i * torch.tanh(gates[2]); }";
        var copy = "Tensor Forward(Tensor input, Tensor state)\n{\n    // my own work\n    var pre = input.matmul(W.t()) + state.matmul(U.t()) + b;\n" +
                   "    var g = pre.chunk(4, 1);\n    var ig = torch.sigmoid(g[0]);\n    var fg = torch.sigmoid(g[1]);\n    return fg * state + ig * torch.tanh(g[2]);\n}";
        var other = "Tensor Forward(Tensor x, Tensor h) { var parts = torch.cat(new[] { x, h }, 1).matmul(Wx); " +
                    "return torch.sigmoid(parts.narrow(1, 0, 4)) * h + torch.tanh(parts.narrow(1, 8, 4)); }";
        var third = "Tensor Forward(Tensor x, Tensor h) => throw new NotImplementedException();";
        var pairs = Similarity.Pairs([("alice", Nb(Scaffold, original)), ("bob", Nb(Scaffold, copy)), ("carol", Nb(Scaffold, other)), ("dave", Nb(Scaffold, third))]);

        Assert.Equal(("alice", "bob"), (pairs[0].A, pairs[0].B));
        Assert.True(pairs[0].Score > 0.9, $"copy scored {pairs[0].Score}");
        Assert.All(pairs.Skip(1), p => Assert.True(p.Score < 0.5, $"{p.A}/{p.B} scored {p.Score}"));
    }
}
