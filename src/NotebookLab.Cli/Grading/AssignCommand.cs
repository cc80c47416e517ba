using NotebookLab.Engine.Notebooks;
using NuGet.Configuration;

namespace NotebookLab.Cli.Grading;

/// <summary>
/// <c>notebooklab assign MASTER --out DIR</c> writes
/// <list type="bullet">
/// <item><c>DIR/student/&lt;name&gt;.ipynb</c>: the release (solutions stubbed, hidden tests removed, outputs cleared);</item>
/// <item><c>DIR/autograder/</c>: the bundle for <c>notebooklab grade</c> and, zipped as it is, for Gradescope:
/// <c>assignment.json</c> (questions, tests, hidden ones too), <c>packages/</c> (the local NuGet packages the notebook
/// loads, e.g. NotebookLab), <c>setup.sh</c> and <c>run_autograder</c>.</item>
/// </list>
/// The output depends only on the master and the packages, so running it twice gives the same files.
/// </summary>
public static class AssignCommand
{
    public static int Run(string masterPath, string outDir, TextWriter progress)
    {
        Assignment assignment;
        try { assignment = Assignment.Load(masterPath); }
        catch (AssignmentException e) { progress.WriteLine($"error: {e.Message}"); return 1; }
        catch (NotebookFormatException e) { progress.WriteLine($"error: {e.Message}"); return 1; }

        var studentDir = Path.Combine(outDir, "student");
        var bundleDir = Path.Combine(outDir, "autograder");
        Directory.CreateDirectory(studentDir);
        if (Directory.Exists(bundleDir)) Directory.Delete(bundleDir, recursive: true);
        Directory.CreateDirectory(bundleDir);

        var release = assignment.Release();
        IpynbFormat.Write(release, Path.Combine(studentDir, assignment.Name + ".ipynb"));

        // Local package sources (e.g. artifacts/packages with the NotebookLab build) travel inside the bundle.
        var packages = Path.Combine(bundleDir, "packages");
        Directory.CreateDirectory(packages);
        foreach (var source in LocalSources(Path.GetDirectoryName(Path.GetFullPath(masterPath))!))
            foreach (var nupkg in Directory.EnumerateFiles(source, "*.nupkg").Order(StringComparer.Ordinal))
                File.Copy(nupkg, Path.Combine(packages, Path.GetFileName(nupkg)), overwrite: true);

        var manifest = assignment.Manifest(["packages"]);
        File.WriteAllText(Path.Combine(bundleDir, AutograderBundle.ManifestName), manifest.ToJsonString(Assignment.Indented) + "\n");
        WriteExecutable(Path.Combine(bundleDir, "run_autograder"), RunAutograder);
        WriteExecutable(Path.Combine(bundleDir, "setup.sh"), SetupScript);

        int hidden = assignment.Tests.Count(t => t.Hidden);
        progress.WriteLine($"{assignment.Name}: {assignment.Questions.Count} question(s), {assignment.Tests.Count()} test(s) ({hidden} hidden), " +
                           $"{assignment.Questions.Where(q => !q.Written).Sum(q => q.Points):0.##} autograded points" +
                           (assignment.Questions.Any(q => q.Written) ? $" + {assignment.Questions.Where(q => q.Written).Sum(q => q.Points):0.##} graded by hand" : ""));
        progress.WriteLine($"  student notebook: {Path.Combine(studentDir, assignment.Name + ".ipynb")}");
        progress.WriteLine($"  autograder bundle: {bundleDir} (zip its contents for Gradescope)");
        return 0;
    }

    static IEnumerable<string> LocalSources(string folder)
    {
        var settings = Settings.LoadDefaultSettings(folder);
        foreach (var source in new PackageSourceProvider(settings).LoadPackageSources())
        {
            if (!source.IsEnabled || !source.IsLocal) continue;
            if (Directory.Exists(source.Source)) yield return source.Source;
        }
    }

    static void WriteExecutable(string path, string text)
    {
        File.WriteAllText(path, text.ReplaceLineEndings("\n"));
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                                       UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
    }

    /// <summary>
    /// Gradescope runs /autograder/run_autograder with the submission in /autograder/submission and reads
    /// /autograder/results/results.json. NOTEBOOKLAB_AUTOGRADER_ROOT replaces /autograder (to try it locally),
    /// NOTEBOOKLAB_CLI the command that runs notebooklab.
    /// </summary>
    const string RunAutograder = """
        #!/usr/bin/env bash
        # Grades the submission Gradescope puts in $ROOT/submission and writes $ROOT/results/results.json.
        # ROOT is /autograder on Gradescope; set NOTEBOOKLAB_AUTOGRADER_ROOT to a folder laid out the same way to try it
        # locally (ROOT/source = this bundle, ROOT/submission = the student's files). NOTEBOOKLAB_CLI overrides the
        # command that runs notebooklab (default: notebooklab, installed by setup.sh).
        set -euo pipefail
        ROOT="${NOTEBOOKLAB_AUTOGRADER_ROOT:-/autograder}"
        BUNDLE="${NOTEBOOKLAB_AUTOGRADER_BUNDLE:-$ROOT/source}"
        export PATH="$PATH:$HOME/.dotnet:$HOME/.dotnet/tools"
        read -r -a CLI <<< "${NOTEBOOKLAB_CLI:-notebooklab}"
        WORK="$ROOT/.notebooklab"
        rm -rf "$WORK"
        mkdir -p "$WORK/submissions/submission" "$ROOT/results"
        cp -r "$ROOT/submission/." "$WORK/submissions/submission/"
        "${CLI[@]}" grade --assignment "$BUNDLE" --submissions "$WORK/submissions" --out "$WORK/out" \
            --parallel 1 --timeout "${NOTEBOOKLAB_TIMEOUT:-120}" --memory "${NOTEBOOKLAB_MEMORY_MB:-4096}" --hidden-feedback score
        cp "$WORK/out/submission/results.json" "$ROOT/results/results.json"
        """;

    const string SetupScript = """
        #!/usr/bin/env bash
        # Gradescope runs this once when it builds the autograder image (Ubuntu): .NET 10, python3 (for the Landlock
        # sandbox) and the notebooklab tool from this bundle's packages/ (build it with `dotnet pack src/NotebookLab.Cli`
        # before `notebooklab assign`, so that packages/ holds NotebookLab.Cli too).
        set -euo pipefail
        HERE="$(cd "$(dirname "$0")" && pwd)"
        apt-get update && apt-get install -y --no-install-recommends curl ca-certificates python3 libicu-dev util-linux
        curl -sSL https://dot.net/v1/dotnet-install.sh -o /tmp/dotnet-install.sh
        bash /tmp/dotnet-install.sh --channel 10.0 --install-dir "$HOME/.dotnet"
        export PATH="$PATH:$HOME/.dotnet:$HOME/.dotnet/tools"
        dotnet tool install -g NotebookLab.Cli --add-source "$HERE/packages" --prerelease
        """;
}
