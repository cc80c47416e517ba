using NotebookLab.Tests.Cli;
using NotebookLab.Tests.Notebooks;
using NotebookLab.Tests.Support;

namespace NotebookLab.Tests.Grading;

/// <summary>
/// Grader.Check and Grader.CheckAll in the real .NET Interactive hosts: every homework release runs there with zero
/// errors (the stubs throw only inside the checks) and the checks show their table as HTML.
/// </summary>
public sealed class HomeworkHostTests
{
    public static TheoryData<string> Releases() => new(
        Directory.GetFiles(Path.Combine(RepoPaths.Notebooks, "homework"), "*.ipynb")
            .Where(p => !p.EndsWith("-master.ipynb", StringComparison.Ordinal)).Select(Path.GetFileName).OfType<string>().Order());

    static void AssertChecksShown(RealHostRun run)
    {
        var errors = run.Errors();
        Assert.True(errors.Count == 0, $"{run.Notebook} in {run.Host} has error outputs:\n{string.Join("\n", errors)}\n{run.Log}");
        var checks = run.CodeCells().Where(c => CliRunner.MultilineText(c["source"]).StartsWith("Grader.Check", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(checks);
        foreach (var cell in checks)
        {
            var html = cell["outputs"]!.AsArray().Select(o => CliRunner.MultilineText(o?["data"]?["text/html"])).FirstOrDefault(h => h.Length > 0) ?? "";
            Assert.Contains("<div class=\"notebooklab-check\">", html);
            Assert.Contains("not implemented yet", html);
        }
    }

    [RequiresToolTheory("nbclient", "dotnet-interactive")]
    [MemberData(nameof(Releases))]
    public void A_release_runs_in_the_dotnet_interactive_jupyter_kernel_and_Check_shows_its_table(string release) =>
        AssertChecksShown(RealHostRun.Execute("jupyter", Path.Combine(RepoPaths.Notebooks, "homework", release), []));

    [RequiresToolTheory("nbformat", "dotnet-repl")]
    [MemberData(nameof(Releases))]
    public void A_release_runs_in_dotnet_repl_and_Check_shows_its_table(string release) =>
        AssertChecksShown(RealHostRun.Execute("repl", Path.Combine(RepoPaths.Notebooks, "homework", release), []));
}
