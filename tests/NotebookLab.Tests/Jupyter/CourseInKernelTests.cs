using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using NotebookLab.Tests.Cli;
using NotebookLab.Tests.Notebooks;
using NotebookLab.Tests.Support;

namespace NotebookLab.Tests.Jupyter;

/// <summary>
/// Every course notebook, unchanged, executed by Debian's nbclient through NotebookLab's installed Jupyter kernel
/// (tests/hosts/run_real_host.py notebooklab): zero errors, and cell by cell the same output kinds as
/// <c>notebooklab run</c> — package cells included, since both are the same engine.
/// </summary>
[Collection(CourseCollection.Name)]
public class CourseInKernelTests(ExecutedCourseNotebooks ours, InstalledKernel kernel) : IClassFixture<InstalledKernel>
{
    static readonly ConcurrentDictionary<string, Lazy<RealHostRun>> runs = new();
    static readonly string OutputRoot = Directory.CreateTempSubdirectory("nl-kernel-course-").FullName;

    public static TheoryData<string> Notebooks() => new(CourseNotebookTests.NotebookNames());

    RealHostRun Run(string notebook) => runs.GetOrAdd(notebook, _ => new Lazy<RealHostRun>(() =>
    {
        var path = Path.Combine(RepoPaths.Notebooks, notebook);
        var output = Path.Combine(OutputRoot, notebook);
        var (code, log) = kernel.RunPython(
            $"\"{Path.Combine(RepoPaths.Root, "tests", "hosts", "run_real_host.py")}\" notebooklab \"{path}\" \"{output}\" --param fast=true",
            TimeSpan.FromMinutes(20));
        return new RealHostRun("notebooklab", path, output, code, log);
    })).Value;

    [RequiresToolTheory("nbclient")]
    [MemberData(nameof(Notebooks))]
    public void Runs_unchanged_in_the_notebooklab_kernel_with_the_same_output_kinds_as_notebooklab_run(string notebook)
    {
        var run = Run(notebook);
        var errors = run.Errors();
        Assert.True(errors.Count == 0, $"{notebook} in the NotebookLab kernel has error outputs:\n{string.Join("\n", errors)}\n{run.Log}");
        Assert.True(run.ExitCode == 0, run.Log);

        var theirs = run.CodeCells();
        var mine = CliRunner.CodeCells(ours.Executed(notebook)).Cast<JsonObject>().ToList();
        Assert.Equal(mine.Count, theirs.Count);
        var differences = new List<string>();
        for (var i = 0; i < mine.Count; i++)
        {
            var (a, b) = (RealHostTests.OutputKinds(mine[i]), RealHostTests.OutputKinds(theirs[i]));
            if (!a.SequenceEqual(b)) differences.Add($"code cell {i + 1}: notebooklab run [{string.Join("; ", a)}] vs kernel [{string.Join("; ", b)}]");
        }
        Assert.True(differences.Count == 0, $"{notebook}: output kinds differ:\n{string.Join("\n", differences)}");
    }

    [RequiresToolFact("nbclient")]
    public void The_live_training_monitor_updates_in_place_through_the_kernel()
    {
        var (_, messages) = Run("01-gallery.ipynb").MonitorCell();
        var updates = messages["update_display_data"]?.GetValue<int>() ?? 0;
        Assert.True(updates >= 2, $"the monitor cell sent {updates} update_display_data messages: {messages.ToJsonString()}");
        Assert.Equal(1, messages["display_data"]?.GetValue<int>());
    }
}
