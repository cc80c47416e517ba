using NotebookLab.Cli.Grading;

namespace NotebookLab.Tests.Grading;

/// <summary>Which submission declarations would capture a name in the hidden tests.</summary>
public sealed class ShadowingTests
{
    const string HiddenTest = """
        (Tensor, Tensor) ReferenceAttention(Tensor q, Tensor k, Tensor v)
        {
            var s = q.matmul(k.transpose(-2, -1)) / Math.Sqrt(q.shape[^1]);
            var w = softmax(s, -1);
            return (w.matmul(v), w);
        }
        Grader.Test("q1", "matches", 1, () => CheckClose(Attention(x, x, x).Output, ReferenceAttention(x, x, x).Item1, rtol: 1e-6, name: "o"));
        """;

    [Fact]
    public void The_names_hidden_tests_rely_on_exclude_what_they_declare_member_names_and_named_arguments()
    {
        var names = Shadowing.NamesTestsRelyOn([HiddenTest]);
        Assert.Contains("Math", names);
        Assert.Contains("softmax", names);
        Assert.Contains("Attention", names);
        Assert.Contains("Grader", names);
        Assert.Contains("x", names);
        Assert.DoesNotContain("ReferenceAttention", names);   // declared by the test: it shadows the submission's
        Assert.DoesNotContain("s", names);
        Assert.DoesNotContain("matmul", names);
        Assert.DoesNotContain("rtol", names);
        Assert.DoesNotContain("Sqrt", names);
    }

    [Fact]
    public void Top_level_declarations_are_found_with_how_they_are_declared_and_locals_inside_methods_are_not()
    {
        var found = Shadowing.TopLevel("""
            using F = TorchSharp.torch.nn.functional;
            class Math { }
            Tensor softmax(Tensor a, long d) { var inner = 1; return a; }
            var (p, q) = (1, 2);
            int count = 3;
            """).Select(d => d.Key).ToList();
        Assert.Equal(["alias:F=TorchSharp.torch.nn.functional", "type:Math", "method:softmax", "variable:p", "variable:q", "variable:count"], found);
    }
}
