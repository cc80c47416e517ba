using System.Text.Json.Nodes;
using NotebookLab.Tests.Support;

namespace NotebookLab.Tests.Cli;

public class RunCommandTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("nbl-cli-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    string Write(string relative, string content)
    {
        var path = Path.Combine(dir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    static string Text(JsonNode? output) =>
        output?["output_type"]?.GetValue<string>() switch
        {
            "stream" => CliRunner.MultilineText(output["text"]),
            "error" => output["evalue"]!.GetValue<string>(),
            _ => CliRunner.MultilineText(output!["data"]!["text/plain"]),
        };

    [RequiresToolFact("nbformat")]
    public void Runs_a_folder_of_ipynb_and_dib_with_parameters_and_writes_valid_executed_copies()
    {
        var ipynb = Write("course/01-basics.ipynb", CliRunner.Notebook(
            "var fast = false;\nvar epochs = 10;",
            "Console.WriteLine($\"fast={fast} epochs={epochs}\");\nvar h = display(\"epoch 0\");\nfor (int e = 1; e <= 3; e++) h.Update($\"epoch {e}\");",
            "#!time\nepochs * 2"));
        var dib = Write("course/02-more.dib", "#!markdown\n\n# More\n\n#!csharp\n\nvar words = new[] { \"a\", \"b\" };\nstring.Join(\"+\", words)\n");
        Write("course/.ipynb_checkpoints/01-basics-checkpoint.ipynb", "not even json");
        var before = File.ReadAllBytes(ipynb);

        var result = CliRunner.Run(dir, ["run", "course", "--param", "fast=true", "-p", "epochs=2"]);
        Assert.True(result.ExitCode == 0, result.Stderr + result.Stdout);
        Assert.Equal(before, File.ReadAllBytes(ipynb));
        Assert.Contains("01-basics.ipynb", result.Stdout);
        Assert.Contains("2/2", result.Stdout);       // the .dib's one code cell... and summary columns
        Assert.Contains("cell 2: ok", result.Stderr);

        var executed = Path.Combine(dir, "artifacts", "executed", "01-basics.ipynb");
        Assert.Null(ExternalTools.NbformatError(executed));
        var cells = CliRunner.CodeCells(executed);
        Assert.Equal(4, cells.Count);                 // parameters, injected, two code cells
        Assert.Equal("injected-parameters", cells[1]["metadata"]!["tags"]![0]!.GetValue<string>());
        Assert.Contains("var fast = true;", string.Concat(cells[1]["source"]!.AsArray().Select(s => s!.GetValue<string>())));
        Assert.Equal([1, 2, 3, 4], cells.Select(c => c["execution_count"]!.GetValue<int>()));
        var run = CliRunner.ReadJson(executed)["metadata"]!["notebooklab"]!;
        Assert.Equal("ok", run["status"]!.GetValue<string>());
        Assert.Equal("true", run["parameters"]!["fast"]!.GetValue<string>());
        var outputs = cells[2]["outputs"]!.AsArray();
        Assert.Equal("fast=True epochs=2\n", Text(outputs[0]));
        Assert.Equal("epoch 3", Text(outputs[1]));   // the update replaced the displayed value
        Assert.Equal(2, outputs.Count);
        var last = cells[3]["outputs"]!.AsArray();
        Assert.Equal("4", Text(last.First(o => o!["output_type"]!.GetValue<string>() == "execute_result")));
        Assert.StartsWith("Wall time:", Text(last.First(o => o!["output_type"]!.GetValue<string>() == "display_data")));

        var fromDib = Path.Combine(dir, "artifacts", "executed", "02-more.ipynb");
        Assert.Null(ExternalTools.NbformatError(fromDib));
        var dibCells = CliRunner.ReadJson(fromDib)["cells"]!.AsArray();
        // No cell is tagged "parameters" in the .dib, so the parameters go first.
        Assert.Equal("injected-parameters", dibCells[0]!["id"]!.GetValue<string>());
        Assert.Equal("markdown", dibCells[1]!["cell_type"]!.GetValue<string>());
        Assert.Equal("a+b", Text(dibCells[2]!["outputs"]![0]));
        Assert.False(File.Exists(Path.Combine(dir, "artifacts", "executed", ".ipynb_checkpoints", "01-basics-checkpoint.ipynb")));
    }

    [RequiresToolFact("nbformat")]
    public void Bad_notebooks_fail_clearly_with_partial_output_and_intact_sources()
    {
        var compile = Write("bad/compile.ipynb", CliRunner.Notebook("var a = 1;", "var b = a +;\n", "var never = 1;"));
        var throws = Write("bad/throws.ipynb", CliRunner.Notebook("Console.WriteLine(\"before\");", "var xs = new List<int>();\nvar first = xs[3];", "var never = 1;"));
        var magic = Write("bad/magic.ipynb", CliRunner.Notebook("var a = 1;\n#!whos"));
        var broken = Write("bad/broken.ipynb", "{\n  \"cells\": [\n    {\"cell_type\": \"code\" \"source\": []}\n  ]\n}\n");
        var sources = new[] { compile, throws, magic, broken }.ToDictionary(p => p, File.ReadAllBytes);

        var result = CliRunner.Run(dir, ["run", "bad", "--output", "out"]);
        Assert.Equal(1, result.ExitCode);
        foreach (var (path, bytes) in sources) Assert.Equal(bytes, File.ReadAllBytes(path));

        // A cell that does not compile: error in that cell with notebook path, cell and line; later cells unexecuted.
        var compileOut = Path.Combine(dir, "out", "compile.ipynb");
        Assert.Null(ExternalTools.NbformatError(compileOut));
        var cells = CliRunner.CodeCells(compileOut);
        var error = cells[1]["outputs"]!.AsArray().Single(o => o!["output_type"]!.GetValue<string>() == "error")!;
        Assert.Equal("CompilationError", error["ename"]!.GetValue<string>());
        Assert.StartsWith(Path.Combine("bad", "compile.ipynb") + ", cell 2, line 1: error CS1525", error["evalue"]!.GetValue<string>());
        Assert.Null(cells[2]["execution_count"]!?.GetValue<int?>());
        Assert.Empty(cells[2]["outputs"]!.AsArray());
        Assert.Contains("compile.ipynb, cell 2, line 1", result.Stderr);

        foreach (var name in new[] { "throws", "magic" })
            Assert.Null(ExternalTools.NbformatError(Path.Combine(dir, "out", $"{name}.ipynb")));

        // A cell that throws.
        var throwsCells = CliRunner.CodeCells(Path.Combine(dir, "out", "throws.ipynb"));
        Assert.Equal("before\n", Text(throwsCells[0]["outputs"]![0]));
        var thrown = throwsCells[1]["outputs"]!.AsArray().Single()!;
        Assert.Equal("System.ArgumentOutOfRangeException", thrown["ename"]!.GetValue<string>());
        Assert.StartsWith(Path.Combine("bad", "throws.ipynb") + ", cell 2, line 2: System.ArgumentOutOfRangeException", thrown["evalue"]!.GetValue<string>());

        // An unknown magic.
        var magicCells = CliRunner.CodeCells(Path.Combine(dir, "out", "magic.ipynb"));
        Assert.Contains("cell 1, line 2: unknown magic command '#!whos'", Text(magicCells[0]["outputs"]![0]));

        // Malformed JSON: nothing to execute, a message with path, line and position.
        Assert.False(File.Exists(Path.Combine(dir, "out", "broken.ipynb")));
        Assert.Matches(@"broken\.ipynb:3:\d+: malformed notebook JSON", result.Stderr);

        foreach (var name in new[] { "compile", "throws", "magic", "broken" })
            Assert.Contains($"{name}.ipynb", result.Stdout);
    }

    [RequiresToolFact("nbformat")]
    public void Timeout_kills_the_worker_and_records_the_error_in_the_cell()
    {
        var path = Write("slow.ipynb", CliRunner.Notebook("Console.WriteLine(\"start\");", "while (true) { }", "var never = 1;"));
        var before = File.ReadAllBytes(path);
        var result = CliRunner.Run(dir, ["run", path, "--timeout", "5", "-o", "out"]);
        Assert.Equal(1, result.ExitCode);
        Assert.True(result.Elapsed < TimeSpan.FromSeconds(60), $"took {result.Elapsed}");
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Null(ExternalTools.NbformatError(Path.Combine(dir, "out", "slow.ipynb")));
        var cells = CliRunner.CodeCells(Path.Combine(dir, "out", "slow.ipynb"));
        Assert.Equal("start\n", Text(cells[0]["outputs"]![0]));
        var error = cells[1]["outputs"]!.AsArray().Single()!;
        Assert.Equal("TimeoutError", error["ename"]!.GetValue<string>());
        Assert.Contains("cell 2: the cell did not finish within 5 s", error["evalue"]!.GetValue<string>());
        Assert.Empty(cells[2]["outputs"]!.AsArray());
        Assert.Contains("timeout", result.Stdout);
    }

    [RequiresToolFact("nbformat")]
    public void A_crashing_worker_is_reported_in_the_cell_it_was_running()
    {
        var path = Write("crash.ipynb", CliRunner.Notebook("var ok = 1;", "Environment.FailFast(\"native code went wrong\");"));
        var result = CliRunner.Run(dir, ["run", path, "-o", "out"]);
        Assert.Equal(1, result.ExitCode);
        Assert.Null(ExternalTools.NbformatError(Path.Combine(dir, "out", "crash.ipynb")));
        var cells = CliRunner.CodeCells(Path.Combine(dir, "out", "crash.ipynb"));
        Assert.Equal(1, cells[0]["execution_count"]!.GetValue<int>());
        var error = cells[1]["outputs"]!.AsArray().Last()!;
        Assert.Equal("WorkerCrashed", error["ename"]!.GetValue<string>());
        Assert.Contains("Environment.FailFast (\"native code went wrong\") in cell 2", error["evalue"]!.GetValue<string>());
        Assert.Contains("crashed", result.Stdout);
    }

    [Theory]
    [InlineData("int Down(int n) => Down(n + 1) + 1;\nDown(0)", "stack overflow in cell 2")]
    [InlineData("Environment.Exit(0);", "Environment.Exit(0) was called in cell 2")]
    [InlineData("Environment.Exit(7);", "Environment.Exit(7) was called in cell 2")]
    public void A_worker_that_dies_is_reported_with_its_cause_in_words(string cell, string expected)
    {
        var path = Write("dies.ipynb", CliRunner.Notebook("var ok = 1;", cell, "ok"));
        var result = CliRunner.Run(dir, ["run", path, "-o", "out"]);
        Assert.Equal(1, result.ExitCode);
        var cells = CliRunner.CodeCells(Path.Combine(dir, "out", "dies.ipynb"));
        var error = cells[1]["outputs"]!.AsArray().Last()!;
        Assert.Equal("WorkerCrashed", error["ename"]!.GetValue<string>());
        Assert.Contains(expected, error["evalue"]!.GetValue<string>());
        Assert.Contains(expected, result.Stderr);
        Assert.Empty(cells[2]["outputs"]!.AsArray());
    }

    [Fact]
    public void Inplace_rewrites_the_source_and_usage_errors_exit_non_zero()
    {
        var path = Write("nb.ipynb", CliRunner.Notebook("1 + 1"));
        var result = CliRunner.Run(dir, ["run", path, "--inplace"]);
        Assert.Equal(0, result.ExitCode);
        Assert.False(Directory.Exists(Path.Combine(dir, "artifacts")));
        Assert.Equal(1, CliRunner.CodeCells(path)[0]["execution_count"]!.GetValue<int>());

        var both = CliRunner.Run(dir, ["run", path, "--inplace", "--output", "x"]);
        Assert.Equal(2, both.ExitCode);
        Assert.Contains("--output and --inplace cannot be used together", both.Stderr + both.Stdout);

        var missing = CliRunner.Run(dir, ["run", "nope.ipynb"]);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("nope.ipynb: no such file or folder", missing.Stderr);

        var badParam = CliRunner.Run(dir, ["run", path, "-p", "fast"]);
        Assert.Equal(2, badParam.ExitCode);
        Assert.Contains("'fast' is not of the form name=value", badParam.Stderr);
    }
}

public class DoctorCommandTests
{
    [Fact]
    public void Doctor_reports_the_native_fix_and_a_working_torch()
    {
        var result = CliRunner.Run(Path.GetTempPath(), ["doctor"]);
        Assert.True(result.ExitCode == 0, result.Stderr + result.Stdout);
        Assert.Contains("GLIBCXX_", result.Stdout);
        Assert.Contains("libtorch", result.Stdout);
        Assert.Contains("torch.ones(3).sum() = 3", result.Stdout);
        Assert.Matches(@"native fix\s+│ (Applied|NotNeeded|NotApplicable)", result.Stdout);
    }

    [Fact]
    public void Doctor_exits_non_zero_with_a_message_when_torch_cannot_load()
    {
        // Where the fix is needed, an unusable cache folder makes it fail: doctor must say so and exit non-zero.
        var result = CliRunner.Run(Path.GetTempPath(), ["doctor"],
            new Dictionary<string, string> { ["NOTEBOOKLAB_NATIVE_CACHE"] = "/proc/notebooklab-cannot-write-here" });
        if (result.Stdout.Contains("NotNeeded") || result.Stdout.Contains("NotApplicable")) return;   // nothing to patch here
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("TorchSharp cannot load", result.Stdout);
    }
}
