using System.Diagnostics;
using NotebookLab.Tests.Cli;
using NotebookLab.Tests.Support;
using static NotebookLab.Tests.Grading.Submissions;

namespace NotebookLab.Tests.Grading;

/// <summary>
/// The Gradescope autograder that assign writes, run as Gradescope runs it, in a folder laid out like /autograder
/// (NOTEBOOKLAB_AUTOGRADER_ROOT): source/ is the bundle, submission/ the student's upload, results/results.json the answer.
/// </summary>
public sealed class GradescopeTests
{
    [RequiresToolFact("unshare")]
    public void Run_autograder_grades_the_submission_and_writes_results_json_where_gradescope_reads_it()
    {
        var dir = Directory.CreateTempSubdirectory("nbl-gradescope-").FullName;
        var (bundle, releasePath) = Assign(Master("01-lstm"), Path.Combine(dir, "assign"));
        var root = Path.Combine(dir, "autograder");
        CopyFolder(bundle, Path.Combine(root, "source"));
        Directory.CreateDirectory(Path.Combine(root, "submission"));
        Save(Partial(Load(Master("01-lstm")), Load(releasePath)), Path.Combine(root, "submission", "01-lstm.ipynb"));

        var psi = new ProcessStartInfo("bash") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false, WorkingDirectory = root };
        psi.ArgumentList.Add(Path.Combine(root, "source", "run_autograder"));
        psi.Environment["NOTEBOOKLAB_AUTOGRADER_ROOT"] = root;
        psi.Environment["NOTEBOOKLAB_CLI"] = $"dotnet {CliRunner.CliDll}";
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(5)), "run_autograder did not finish");
        Assert.True(p.ExitCode == 0, stderr.Result + stdout.Result);

        var results = Load(Path.Combine(root, "results", "results.json"));
        Assert.Equal(4, results["score"]!.GetValue<double>());
        Assert.Equal(8, results["tests"]!.AsArray().Count);
        Assert.All(results["tests"]!.AsArray(), t =>
        {
            Assert.NotNull(t!["max_score"]);
            Assert.Contains(t["visibility"]!.GetValue<string>(), new[] { "visible", "after_published" });
        });
        Assert.True(File.Exists(Path.Combine(root, "source", "setup.sh")));
    }

    static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var d in Directory.GetDirectories(from, "*", SearchOption.AllDirectories)) Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, d)));
        foreach (var f in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, f));
            File.Copy(f, target);
            File.SetUnixFileMode(target, File.GetUnixFileMode(f));
        }
    }
}
