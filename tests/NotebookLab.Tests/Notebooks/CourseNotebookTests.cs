using System.Text.Json.Nodes;
using NotebookLab.Tests.Cli;
using NotebookLab.Tests.Support;

namespace NotebookLab.Tests.Notebooks;

/// <summary>
/// Executes every course notebook once, headless and in fast mode, exactly as the README's first command does
/// (`notebooklab run notebooks --param fast=true --output DIR`), and keeps the executed copies for the checks below.
/// </summary>
public sealed class ExecutedCourseNotebooks : IDisposable
{
    public string OutputDirectory { get; } = Directory.CreateTempSubdirectory("nl-course-").FullName;
    internal CliRunner.Result Run { get; }

    public ExecutedCourseNotebooks()
    {
        Run = CliRunner.Run(RepoPaths.Root,
            ["run", "notebooks", "--param", "fast=true", "--output", OutputDirectory],
            timeout: TimeSpan.FromMinutes(30));
    }

    public string Executed(string notebook) => Path.Combine(OutputDirectory, Path.ChangeExtension(notebook, ".ipynb"));

    public void Dispose()
    {
        try { Directory.Delete(OutputDirectory, recursive: true); } catch (IOException) { }
    }
}

/// <summary>The course executed once by our runner, shared by the tests that check it and those that compare hosts.</summary>
[CollectionDefinition(Name)]
public sealed class CourseCollection : ICollectionFixture<ExecutedCourseNotebooks>
{
    public const string Name = "course notebooks";
}

[Collection(CourseCollection.Name)]
public class CourseNotebookTests(ExecutedCourseNotebooks executed)
{
    internal static IReadOnlyList<string> NotebookNames() =>
        Directory.GetFiles(RepoPaths.Notebooks).Where(p => p.EndsWith(".ipynb") || p.EndsWith(".dib"))
            .Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList()!;

    public static TheoryData<string> Notebooks() => new(NotebookNames());

    [Fact]
    public void There_are_course_notebooks_and_the_setup_notebook_comes_first()
    {
        var names = NotebookNames();
        Assert.NotEmpty(names);
        Assert.Equal("00-setup.ipynb", names[0]);
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Runs_headless_in_fast_mode_without_errors(string notebook)
    {
        var path = executed.Executed(notebook);
        Assert.True(File.Exists(path), $"{notebook} was not written. CLI exit {executed.Run.ExitCode}:\n{executed.Run.Stderr}");
        var cells = CliRunner.CodeCells(path);
        var errors = cells.SelectMany(c => c["outputs"]!.AsArray().OfType<JsonObject>())
            .Where(o => o["output_type"]!.GetValue<string>() == "error")
            .Select(o => $"{o["ename"]}: {o["evalue"]}")
            .ToList();
        Assert.True(errors.Count == 0, $"{notebook} has error outputs:\n{string.Join("\n", errors)}");
        var unexecuted = cells.Where(c => c["execution_count"] is null).Select(c => c["id"]?.ToString()).ToList();
        Assert.True(unexecuted.Count == 0, $"{notebook}: cells not executed: {string.Join(", ", unexecuted)}");
        Assert.Contains(cells, c => c["id"]!.GetValue<string>() == "injected-parameters");
    }

    [RequiresToolFact("nbformat")]
    public void Every_executed_notebook_is_valid_nbformat()
    {
        foreach (var notebook in NotebookNames())
        {
            var path = executed.Executed(notebook);
            Assert.True(File.Exists(path), $"{notebook} was not written:\n{executed.Run.Stderr}");
            Assert.Null(ExternalTools.NbformatError(path));
        }
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void Every_interactive_chart_also_carries_a_static_rendition(string notebook)
    {
        var path = executed.Executed(notebook);
        Assert.True(File.Exists(path), $"{notebook} was not written");
        var outputs = CliRunner.CodeCells(path).SelectMany(c => c["outputs"]!.AsArray().OfType<JsonObject>())
            .Where(o => o["data"] is JsonObject).ToList();
        foreach (var output in outputs)
        {
            var data = (JsonObject)output["data"]!;
            var html = CliRunner.MultilineText(data["text/html"]);
            var interactiveChart = html.Contains("<script", StringComparison.Ordinal) && html.Contains("plotly", StringComparison.OrdinalIgnoreCase);
            if (interactiveChart)
                Assert.True(data.ContainsKey("image/svg+xml") || data.ContainsKey("image/png"),
                    $"{notebook}: an interactive chart without a static rendition (keys: {string.Join(", ", data.Select(kv => kv.Key))})");
        }
    }

    [Fact]
    public void The_sources_are_left_untouched_and_stored_without_outputs()
    {
        Assert.True(executed.Run.ExitCode == 0, $"notebooklab run exited {executed.Run.ExitCode}:\n{executed.Run.Stderr}");
        foreach (var notebook in NotebookNames().Where(n => n.EndsWith(".ipynb")))
        {
            var cells = CliRunner.CodeCells(Path.Combine(RepoPaths.Notebooks, notebook));
            Assert.All(cells, c => Assert.Empty(c["outputs"]!.AsArray()));
        }
    }

    public static TheoryData<string> PretrainingNotebooks() =>
        new(Directory.GetFiles(Path.Combine(RepoPaths.Notebooks, "pretrain"), "*.ipynb").Select(Path.GetFileName).Order(StringComparer.Ordinal)!);

    /// <summary>
    /// The notebooks that made the committed checkpoints run with the course (the runner searches folders recursively); in
    /// fast mode they train briefly and must not touch data/transfer, which the course notebooks load.
    /// </summary>
    [Theory]
    [MemberData(nameof(PretrainingNotebooks))]
    public void Pretraining_notebooks_run_as_smoke_tests_and_leave_the_checkpoints_alone(string notebook)
    {
        var path = executed.Executed(Path.Combine("pretrain", notebook));
        Assert.True(File.Exists(path), $"pretrain/{notebook} was not written. CLI exit {executed.Run.ExitCode}:\n{executed.Run.Stderr}");
        var outputs = CliRunner.CodeCells(path).SelectMany(c => c["outputs"]!.AsArray().OfType<JsonObject>()).ToList();
        var errors = outputs.Where(o => o["output_type"]!.GetValue<string>() == "error").Select(o => $"{o["ename"]}: {o["evalue"]}").ToList();
        Assert.True(errors.Count == 0, $"pretrain/{notebook} has error outputs:\n{string.Join("\n", errors)}");
        Assert.Contains(outputs, o => o.ToJsonString().Contains("data/transfer left unchanged"));
    }
}
