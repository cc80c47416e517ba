using System.Text.Json.Nodes;
using NotebookLab.Cli.Grading;
using NotebookLab.Tests.Cli;
using NotebookLab.Tests.Support;

namespace NotebookLab.Tests.Grading;

/// <summary>Authoring conventions and <c>notebooklab assign</c>: refusals name the cell; the release hides what it must.</summary>
public sealed class AssignmentTests
{
    static JsonObject Cell(string type, string source, string id, params string[] tags)
    {
        var cell = new JsonObject { ["cell_type"] = type, ["id"] = id, ["metadata"] = new JsonObject(), ["source"] = source };
        if (type == "code") { cell["outputs"] = new JsonArray(); cell["execution_count"] = null; }
        if (tags.Length > 0) cell["metadata"]!["tags"] = new JsonArray(tags.Select(t => (JsonNode)JsonValue.Create(t)!).ToArray());
        return cell;
    }

    static JsonObject Question(string id, string? cellId = null)
    {
        var cell = Cell("markdown", $"## {id}", cellId ?? "q" + id, "question");
        cell["metadata"]!["notebooklab"] = new JsonObject { ["question"] = id };
        return cell;
    }

    static string Write(params JsonObject[] cells)
    {
        var dir = Directory.CreateTempSubdirectory("nbl-assign-").FullName;
        var path = Path.Combine(dir, "hw-master.ipynb");
        File.WriteAllText(path, new JsonObject
        {
            ["cells"] = new JsonArray(cells.Select(c => (JsonNode)c).ToArray()),
            ["metadata"] = new JsonObject { ["kernelspec"] = new JsonObject { ["language"] = "C#", ["name"] = ".net-csharp", ["display_name"] = ".NET (C#)" } },
            ["nbformat"] = 4, ["nbformat_minor"] = 5,
        }.ToJsonString());
        return path;
    }

    const string Solution = "int Add(int a, int b)\n{\n    // BEGIN SOLUTION: add a and b\n    return a + b;\n    // END SOLUTION\n}";
    const string Tests = "Grader.Test(\"q1\", \"adds\", 2, () => CheckThat(Add(1, 2) == 3, \"1 + 2\"));";

    static string Refusal(params JsonObject[] cells)
    {
        var e = Assert.Throws<AssignmentException>(() => Assignment.Load(Write(cells)));
        return e.Message;
    }

    [Fact]
    public void Masters_that_break_the_conventions_are_refused_with_the_cell_named()
    {
        Assert.Contains("cell 2 (id c1), line 2: END SOLUTION without a BEGIN", Refusal(Question("q1"), Cell("code", "int x = 1;\n// END SOLUTION\n// BEGIN SOLUTION\n// END SOLUTION\n// END SOLUTION", "c1"), Cell("code", Tests, "t1", "test")));
        Assert.Contains("cell 2 (id c1), line 1: BEGIN SOLUTION is never closed", Refusal(Question("q1"), Cell("code", "// BEGIN SOLUTION\nint x = 1;", "c1"), Cell("code", Tests, "t1", "test")));
        Assert.Contains("line 2: BEGIN SOLUTION inside the region opened on line 1", Refusal(Question("q1"), Cell("code", "// BEGIN SOLUTION\n// BEGIN SOLUTION\n// END SOLUTION", "c1")));
        Assert.Contains("cell 1 (id qq2): question 'q2' has no tests", Refusal(Question("q2"), Question("q1"), Cell("code", Solution, "c1"), Cell("code", Tests, "t1", "test")));
        Assert.Contains("cell 2 (id again): question id 'q1' is used twice", Refusal(Question("q1"), Question("q1", "again")));
        Assert.Contains("cell 3 (id t2): test 'adds' of 'q1' is defined twice", Refusal(Question("q1"), Cell("code", Tests, "t1", "test"), Cell("code", Tests, "t2", "hidden-test")));
        Assert.Contains("cell 2 (id t1): test 'adds' is for question 'q1', which no cell tagged 'question' declares", Refusal(Question("q0"), Cell("code", Tests, "t1", "test")));
        Assert.Contains("cell 2 (id t1), line 1: write Grader.Test(\"question\", \"test name\", points", Refusal(Question("q1"), Cell("code", "var n = \"x\"; Grader.Test(\"q1\", n, 1, () => { });", "t1", "test")));
        Assert.Contains("cell 2 (id t1): a cell tagged 'hidden-test' must register at least one test", Refusal(Question("q1"), Cell("code", "int y = 2;", "t1", "hidden-test")));
    }

    [Fact]
    public void The_release_stubs_solutions_drops_hidden_tests_keeps_grading_metadata_and_clears_outputs()
    {
        var solved = Cell("code", Solution, "c1");
        solved["outputs"] = new JsonArray(new JsonObject { ["output_type"] = "stream", ["name"] = "stdout", ["text"] = "secret" });
        solved["execution_count"] = 3;
        var a = Assignment.Load(Write(Question("q1"), solved, Cell("code", Tests, "t1", "test"),
            Cell("code", "Grader.Test(\"q1\", \"hidden one\", 3, () => CheckThat(Add(-1, 1) == 0, \"-1 + 1\"));", "t2", "hidden-test")));
        Assert.Equal(5, a.MaxScore);
        var release = a.Release();
        var code = release.Cells.Single(c => c.Id == "c1");
        Assert.Equal("int Add(int a, int b)\n{\n    // YOUR CODE HERE: add a and b\n    throw new NotImplementedException(\"implement add a and b\");\n}", code.Source);
        Assert.Empty(code.Outputs);
        Assert.Null(code.ExecutionCount);
        Assert.DoesNotContain(release.Cells, c => c.Id == "t2" || c.Source.Contains("hidden one"));
        var grading = release.Cells.Single(c => c.Id == "t1").Metadata["notebooklab"]!["grading"]!;
        Assert.Equal("q1", grading["tests"]![0]!["question"]!.GetValue<string>());
        Assert.Equal(2, grading["tests"]![0]!["points"]!.GetValue<double>());
        // The release never says how many points hidden tests carry.
        Assert.Null(release.Metadata["notebooklab"]!["assignment"]!["questions"]![0]!["points"]);
        var manifest = a.Manifest(["packages"]).ToJsonString();
        Assert.Contains("hidden one", manifest);
    }

    [Fact]
    public void Assign_is_deterministic_and_the_committed_student_releases_are_what_it_writes()
    {
        var masters = Directory.GetFiles(Path.Combine(RepoPaths.Notebooks, "homework"), "*-master.ipynb").Order().ToList();
        Assert.True(masters.Count >= 3, "three homework assignments");
        foreach (var master in masters)
        {
            var first = Directory.CreateTempSubdirectory("nbl-assign-").FullName;
            var second = Directory.CreateTempSubdirectory("nbl-assign-").FullName;
            Assert.Equal(0, AssignCommand.Run(master, first, TextWriter.Null));
            Assert.Equal(0, AssignCommand.Run(master, second, TextWriter.Null));
            var name = Path.GetFileName(master).Replace("-master", "");
            foreach (var file in new[] { $"student/{name}", "autograder/assignment.json", "autograder/run_autograder", "autograder/setup.sh" })
                Assert.Equal(File.ReadAllText(Path.Combine(first, file)), File.ReadAllText(Path.Combine(second, file)));
            Assert.Equal(File.ReadAllText(Path.Combine(first, "student", name)), File.ReadAllText(Path.Combine(Path.GetDirectoryName(master)!, name)));
            var release = File.ReadAllText(Path.Combine(first, "student", name));
            Assert.DoesNotContain("BEGIN SOLUTION", release);
            Assert.DoesNotContain("hidden-test", release);
            if (ExternalTools.IsAvailable("nbformat", out _))
                Assert.Null(ExternalTools.NbformatError(Path.Combine(first, "student", name)));
        }
    }

    [Fact]
    public void The_cli_refuses_a_broken_master_with_exit_code_1_and_the_cell_named()
    {
        var path = Write(Question("q1"), Cell("code", "// BEGIN SOLUTION\nint x = 1;", "c1"));
        var r = CliRunner.Run(Path.GetDirectoryName(path)!, ["assign", path, "--out", Path.Combine(Path.GetDirectoryName(path)!, "out")]);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("hw-master.ipynb, cell 2 (id c1), line 1: BEGIN SOLUTION is never closed", r.Stderr);
    }
}
