using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using NotebookLab.Engine.Notebooks;

namespace NotebookLab.Cli.Grading;

/// <summary>Options of <c>notebooklab grade</c>.</summary>
public sealed record GradeOptions(string Bundle, string Submissions, string Output, int Parallel, TimeSpan Timeout, long? MemoryBytes,
    HiddenFeedback Hidden, bool Force, bool NoSandbox = false);

/// <summary>What feedback says about hidden tests: everything, the score only, or nothing until published.</summary>
public enum HiddenFeedback { Show, Score, Hide }

/// <summary>
/// <c>notebooklab grade</c>: every submission in its own sandboxed process, <c>--parallel</c> at a time; per student a
/// Gradescope-shaped <c>results.json</c>, a feedback notebook and HTML page, written answers for manual grading; then
/// <c>grades.csv</c> (one row per student, one column per question) and <c>similarity.csv</c>. A submission whose
/// results.json is there for the same submission and bundle is not graded again, so an interrupted run resumes.
/// </summary>
public static class GradeCommand
{
    public static async Task<int> RunAsync(GradeOptions options, TextWriter progress, CancellationToken cancellationToken)
    {
        var bundle = AutograderBundle.Load(options.Bundle);
        var submissions = FindSubmissions(options.Submissions);
        if (submissions.Count == 0) { progress.WriteLine($"error: no .ipynb submissions in {options.Submissions}"); return 2; }
        Directory.CreateDirectory(options.Output);
        var sandbox = options.NoSandbox ? Sandbox.None : Sandbox.Detect();
        progress.WriteLine($"grading {submissions.Count} submission(s) of '{bundle.Name}' ({bundle.Tests.Count} tests, {bundle.MaxScore:0.##} points), " +
                           $"{options.Parallel} at a time; isolation: {sandbox.Describe()}");
        var scratch = Path.Combine(Path.GetTempPath(), $"notebooklab-grade-{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(scratch);
        var limits = new GradeLimits(options.Timeout, options.MemoryBytes);
        var grader = new SubmissionGrader(bundle, limits, sandbox, scratch);
        var stopwatch = Stopwatch.StartNew();
        int completed = 0, reused = 0;
        object sync = new();
        try
        {
            // Warm the package and native caches once, outside the sandbox (the sandbox makes them read-only).
            if (sandbox != Sandbox.None && bundle.Setup.Count > 0)
                await WarmUpAsync(bundle, limits, scratch, cancellationToken);

            await Parallel.ForEachAsync(submissions, new ParallelOptions { MaxDegreeOfParallelism = options.Parallel, CancellationToken = cancellationToken },
                async (s, ct) =>
                {
                    var folder = Path.Combine(options.Output, SubmissionGrader.Safe(s.Student));
                    var resultsPath = Path.Combine(folder, "results.json");
                    var hash = FileHash(s.Path);
                    string status;
                    if (!options.Force && IsUpToDate(resultsPath, hash, bundle.Sha256))
                    {
                        Interlocked.Increment(ref reused);
                        status = "already graded";
                    }
                    else
                    {
                        var result = await grader.GradeAsync(s.Student, s.Path, s.CopyFolder, ct);
                        Directory.CreateDirectory(folder);
                        WriteResults(result, bundle, options.Hidden, hash, folder);
                        status = $"{result.Score:0.##}/{bundle.MaxScore:0.##} in {result.Elapsed.TotalSeconds:0.0} s";
                    }
                    lock (sync)
                    {
                        completed++;
                        progress.WriteLine($"{Bar(completed, submissions.Count)} {completed}/{submissions.Count} {s.Student}: {status}");
                    }
                });
        }
        finally
        {
            try { Directory.Delete(scratch, true); } catch (Exception) { }
        }

        WriteGradesCsv(bundle, submissions.Select(s => s.Student).ToList(), options.Output);
        Similarity.WriteReport(submissions.Select(s => (s.Student, s.Path)).ToList(), Path.Combine(options.Output, "similarity.csv"));
        var graded = submissions.Count - reused;
        progress.WriteLine($"done: {submissions.Count} submission(s) ({reused} already graded) in {stopwatch.Elapsed.TotalSeconds:0.0} s" +
                           (graded > 0 ? $", {graded / stopwatch.Elapsed.TotalMinutes:0.0} graded per minute" : "") +
                           $"; {Path.Combine(options.Output, "grades.csv")}");
        return 0;
    }

    static async Task WarmUpAsync(AutograderBundle bundle, GradeLimits limits, string scratch, CancellationToken ct)
    {
        var warm = new AutograderBundle
        {
            Name = bundle.Name, Folder = bundle.Folder, Sha256 = bundle.Sha256, Questions = [], TestCells = [], Setup = bundle.Setup,
            WrittenCells = [], PackageSources = bundle.PackageSources,
        };
        var path = Path.Combine(scratch, "warm-up.ipynb");
        var nb = new Notebook();
        nb.EnsureCSharpMetadata();
        IpynbFormat.Write(nb, path);
        // No tests: GradeAsync runs one attempt of the setup cells only, unsandboxed, so restores and the native fix land in the caches.
        var grader = new SubmissionGrader(warm, limits with { CellTimeout = TimeSpan.FromMinutes(10) }, Sandbox.None, scratch);
        await grader.GradeWarmUpAsync(path, ct);
    }

    public sealed record Submission(string Student, string Path, bool CopyFolder);

    /// <summary>DIR/&lt;student&gt;.ipynb, or DIR/&lt;student&gt;/&lt;one notebook&gt;.ipynb (the folder's other files are copied too).</summary>
    public static IReadOnlyList<Submission> FindSubmissions(string dir)
    {
        if (!Directory.Exists(dir)) throw new ArgumentException($"{dir}: no such folder.");
        var list = new List<Submission>();
        foreach (var f in Directory.EnumerateFiles(dir, "*.ipynb").Order(StringComparer.Ordinal))
            list.Add(new Submission(Path.GetFileNameWithoutExtension(f), f, false));
        foreach (var d in Directory.EnumerateDirectories(dir).Order(StringComparer.Ordinal))
        {
            if (Path.GetFileName(d).StartsWith('.')) continue;
            var nbs = Directory.EnumerateFiles(d, "*.ipynb").Where(f => !f.Contains(".ipynb_checkpoints")).Order(StringComparer.Ordinal).ToList();
            if (nbs.Count > 0) list.Add(new Submission(Path.GetFileName(d), nbs[0], true));
        }
        return list;
    }

    static string Bar(int done, int total)
    {
        int width = 20, filled = total == 0 ? width : done * width / total;
        return "[" + new string('#', filled) + new string('.', width - filled) + "]";
    }

    static string FileHash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))).ToLowerInvariant();

    static bool IsUpToDate(string resultsPath, string submissionHash, string bundleHash)
    {
        try
        {
            if (!File.Exists(resultsPath)) return false;
            var nl = JsonNode.Parse(File.ReadAllText(resultsPath))?["notebooklab"];
            return nl?["submission_sha256"]?.GetValue<string>() == submissionHash && nl?["bundle_sha256"]?.GetValue<string>() == bundleHash;
        }
        catch (Exception) { return false; }
    }

    static string Num(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>results.json in Gradescope's shape, plus a "notebooklab" section (per-question scores, hashes for resuming).</summary>
    public static void WriteResults(SubmissionResult result, AutograderBundle bundle, HiddenFeedback hidden, string submissionHash, string folder)
    {
        var tests = new JsonArray();
        foreach (var t in result.Tests)
            tests.Add(new JsonObject
            {
                ["name"] = $"{t.Test.Question}: {t.Test.Name}",
                ["score"] = t.Score,
                ["max_score"] = t.Test.Points,
                ["status"] = t.Passed ? "passed" : "failed",
                ["output"] = t.Passed ? "passed" : t.Message,
                ["visibility"] = t.Test.Hidden ? hidden switch { HiddenFeedback.Show => "visible", HiddenFeedback.Score => "after_published", _ => "hidden" } : "visible",
            });
        var questions = new JsonObject();
        foreach (var q in bundle.Questions.Where(q => !q.Written))
            questions[q.Id] = result.Tests.Where(t => t.Test.Question == q.Id).Sum(t => t.Score);
        var json = new JsonObject
        {
            ["score"] = result.Score,
            ["execution_time"] = Math.Round(result.Elapsed.TotalSeconds, 1),
            ["output"] = result.Notes.Count == 0 ? $"{Num(result.Score)}/{Num(bundle.MaxScore)} points" : string.Join("\n", result.Notes),
            ["visibility"] = "visible",
            ["tests"] = tests,
            ["notebooklab"] = new JsonObject
            {
                ["student"] = result.Student,
                ["max_score"] = bundle.MaxScore,
                ["questions"] = questions,
                ["written"] = new JsonArray(result.WrittenAnswers.Keys.Select(k => (JsonNode)JsonValue.Create(k)!).ToArray()),
                ["submission_sha256"] = submissionHash,
                ["bundle_sha256"] = bundle.Sha256,
            },
        };
        File.WriteAllText(Path.Combine(folder, "results.json"), json.ToJsonString(Assignment.Indented) + "\n");
        WriteFeedback(result, bundle, hidden, folder);
        if (result.WrittenAnswers.Count > 0)
        {
            var sb = new StringBuilder($"# Written answers: {result.Student}\n\n");
            foreach (var q in bundle.Questions.Where(q => q.Written))
                sb.Append($"## {q.Id} ({Num(q.Points)} points)\n\n").Append(result.WrittenAnswers.GetValueOrDefault(q.Id, "(no answer)")).Append("\n\n");
            File.WriteAllText(Path.Combine(folder, "written.md"), sb.ToString());
        }
    }

    static void WriteFeedback(SubmissionResult result, AutograderBundle bundle, HiddenFeedback hidden, string folder)
    {
        var rows = new List<(string Test, string Status, string Message, string Points)>();
        foreach (var t in result.Tests)
        {
            if (t.Test.Hidden && hidden == HiddenFeedback.Hide) continue;
            bool detail = !t.Test.Hidden || hidden == HiddenFeedback.Show;
            rows.Add(($"{t.Test.Question}: {(detail ? t.Test.Name : "hidden test")}", t.Passed ? "passed" : "failed",
                detail ? (t.Passed ? "" : t.Message) : "", $"{Num(t.Score)}/{Num(t.Test.Points)}"));
        }
        var shown = hidden == HiddenFeedback.Hide ? result.Tests.Where(t => !t.Test.Hidden).ToList() : result.Tests;
        var title = $"{bundle.Name}: {result.Student}, {Num(shown.Sum(t => t.Score))}/{Num(shown.Sum(t => t.Test.Points))} points" +
                    (hidden == HiddenFeedback.Hide && result.Tests.Any(t => t.Test.Hidden) ? " (hidden tests are not shown yet)" : "");
        var md = new StringBuilder($"## {title}\n\n| test | result | message | points |\n| --- | --- | --- | --- |\n");
        foreach (var r in rows) md.Append($"| {Cell(r.Test)} | {r.Status} | {Cell(r.Message)} | {r.Points} |\n");
        foreach (var n in result.Notes) md.Append($"\n- {n}");
        var nb = result.Feedback;
        nb.Cells.RemoveAll(c => c.HasTag("grader-setup"));
        var summary = new NotebookCell(CellType.Markdown, md.ToString().TrimEnd(), nb.NewCellId("grading-feedback"));
        summary.AddTag("grading-feedback");
        nb.Cells.Insert(0, summary);
        nb.EnsureCSharpMetadata();
        IpynbFormat.Write(nb, Path.Combine(folder, "feedback.ipynb"));

        var html = new StringBuilder("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>").Append(WebUtility.HtmlEncode(title))
            .Append("</title><style>body{font-family:sans-serif;max-width:60em;margin:auto}td,th{border:1px solid #ccc;padding:4px}table{border-collapse:collapse}pre{background:#f6f8fa;padding:6px;overflow:auto}.passed{color:#1a7f37}.failed{color:#cf222e}</style></head><body>")
            .Append("<h2>").Append(WebUtility.HtmlEncode(title)).Append("</h2><table><tr><th>test</th><th>result</th><th>message</th><th>points</th></tr>");
        foreach (var r in rows)
            html.Append("<tr><td>").Append(WebUtility.HtmlEncode(r.Test)).Append("</td><td class=\"").Append(r.Status).Append("\">").Append(r.Status)
                .Append("</td><td>").Append(WebUtility.HtmlEncode(r.Message)).Append("</td><td>").Append(r.Points).Append("</td></tr>");
        html.Append("</table>");
        if (result.Notes.Count > 0)
            html.Append("<ul>").Append(string.Concat(result.Notes.Select(n => "<li>" + WebUtility.HtmlEncode(n) + "</li>"))).Append("</ul>");
        html.Append("<h3>Your notebook, as graded</h3>");
        foreach (var cell in nb.Cells.Skip(1))
        {
            html.Append("<pre>").Append(WebUtility.HtmlEncode(cell.Source)).Append("</pre>");
            foreach (var o in cell.Outputs)
            {
                var text = o switch
                {
                    StreamOutput s => s.Text,
                    ErrorOutput e => $"{e.EName}: {e.EValue}",
                    DisplayOutput d => d.Data.GetValueOrDefault("text/plain", ""),
                    _ => "",
                };
                if (text.Length > 0) html.Append("<pre class=\"").Append(o is ErrorOutput ? "failed" : "").Append("\">").Append(WebUtility.HtmlEncode(text)).Append("</pre>");
            }
        }
        File.WriteAllText(Path.Combine(folder, "feedback.html"), html.Append("</body></html>\n").ToString());
    }

    static string Cell(string s) => s.Replace("|", "\\|").Replace("\n", " ");

    /// <summary>grades.csv: student, one column per question (written ones empty, for the instructor), total.</summary>
    public static void WriteGradesCsv(AutograderBundle bundle, IReadOnlyList<string> students, string output)
    {
        var sb = new StringBuilder("student");
        foreach (var q in bundle.Questions) sb.Append(',').Append(Csv(q.Id + (q.Written ? " (manual)" : "")));
        sb.Append(",total\n");
        foreach (var student in students.Order(StringComparer.Ordinal))
        {
            var path = Path.Combine(output, SubmissionGrader.Safe(student), "results.json");
            if (!File.Exists(path)) continue;
            var r = JsonNode.Parse(File.ReadAllText(path))!;
            sb.Append(Csv(student));
            foreach (var q in bundle.Questions)
                sb.Append(',').Append(q.Written ? "" : Num(r["notebooklab"]?["questions"]?[q.Id]?.GetValue<double>() ?? 0));
            sb.Append(',').Append(Num(r["score"]!.GetValue<double>())).Append('\n');
        }
        File.WriteAllText(Path.Combine(output, "grades.csv"), sb.ToString());
    }

    static string Csv(string s) => s.IndexOfAny([',', '"', '\n']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
