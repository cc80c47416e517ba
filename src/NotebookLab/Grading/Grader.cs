using System.ComponentModel;
using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.DotNet.Interactive.Formatting;
using NotebookLab.Views;

namespace NotebookLab.Grading;

/// <summary>
/// Autograded questions in a notebook. A test cell registers tests with <see cref="Test"/>; a student runs
/// <see cref="Check"/> (one question) or <see cref="CheckAll"/> to see which of the visible tests pass, with the
/// reason for each failure and the points at stake:
/// <code>
/// Grader.Test("q1", "h has shape [batch, hidden]", points: 1, () =&gt; CheckShape(h, [2, 4]));
/// Grader.Check("q1")
/// </code>
/// A test passes when its body returns, and fails with the message of the exception it throws (the
/// <c>Check*</c> helpers in <c>NotebookLab.Checks.Check</c> throw with a readable message). Re-running a test cell
/// replaces its tests. <c>notebooklab grade</c> runs the same tests, plus hidden ones, on a fresh copy after all of
/// the student's cells.
/// </summary>
public static class Grader
{
    static readonly object sync = new();
    static readonly List<GradedTest> registered = [];
    static List<GradedTest>? collecting;

    /// <summary>Each test is stopped (and fails) past this many seconds.</summary>
    public static TimeSpan TestTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Registers a test of <paramref name="question"/> worth <paramref name="points"/>; a test with the same question and name is replaced.</summary>
    public static void Test(string question, string name, double points, Action body)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(question);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(body);
        if (points < 0 || double.IsNaN(points)) throw new ArgumentOutOfRangeException(nameof(points), "points must be 0 or more");
        var test = new GradedTest(question, name, points, body);
        lock (sync)
        {
            var list = collecting ?? registered;
            list.RemoveAll(t => t.Question == question && t.Name == name);
            list.Add(test);
        }
    }

    /// <summary>Runs the registered tests of one question and returns the table (test, passed or failed, message, points).</summary>
    public static CheckReport Check(string question)
    {
        List<GradedTest> tests;
        lock (sync) tests = registered.Where(t => t.Question == question).ToList();
        return new CheckReport(question, tests.Select(t => Run(t, TestTimeout)).ToList());
    }

    /// <summary>Runs every registered test, question by question.</summary>
    public static CheckReport CheckAll()
    {
        List<GradedTest> tests;
        lock (sync) tests = registered.ToList();
        return new CheckReport(null, tests.Select(t => Run(t, TestTimeout)).ToList());
    }

    /// <summary>The questions with registered tests, in registration order.</summary>
    public static IReadOnlyList<string> Questions
    {
        get { lock (sync) return registered.Select(t => t.Question).Distinct().ToList(); }
    }

    /// <summary>Forgets every registered test.</summary>
    public static void Reset()
    {
        lock (sync) registered.Clear();
    }

    /// <summary>Runs one test on its own thread with a time limit: passed, or failed with the exception's message.</summary>
    public static TestOutcome Run(GradedTest test, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(test);
        Exception? error = null;
        var stopwatch = Stopwatch.StartNew();
        var thread = new Thread(() =>
        {
            try { test.Body(); }
            catch (Exception e) { error = e; }
        }, 64 * 1024 * 1024) { IsBackground = true, Name = $"test {test.Question}/{test.Name}" };
        thread.Start();
        if (!thread.Join(timeout))
            return new TestOutcome(test, false, $"did not finish within {timeout.TotalSeconds:0.###} s", stopwatch.Elapsed);
        return error is null
            ? new TestOutcome(test, true, "", stopwatch.Elapsed)
            : new TestOutcome(test, false, Describe(error), stopwatch.Elapsed);
    }

    static string Describe(Exception e)
    {
        while (e is System.Reflection.TargetInvocationException or AggregateException && e.InnerException is not null) e = e.InnerException;
        return e switch
        {
            NotImplementedException => $"not implemented yet: {e.Message}",
            NotebookLab.Checks.CheckFailedException => e.Message,
            _ => $"{e.GetType().Name}: {e.Message}",
        };
    }

    // ------------------------------------------------------------------ grading harness (notebooklab grade)

    /// <summary>For <c>notebooklab grade</c>: from now on <see cref="Test"/> collects into a fresh list instead of registering.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static void BeginCollecting()
    {
        lock (sync) collecting = [];
    }

    /// <summary>For <c>notebooklab grade</c>: the tests collected since <see cref="BeginCollecting"/>; registration is normal again.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static IReadOnlyList<GradedTest> EndCollecting()
    {
        lock (sync)
        {
            var list = collecting ?? [];
            collecting = null;
            return list.ToList();
        }
    }
}

/// <summary>A registered test.</summary>
public sealed record GradedTest(string Question, string Name, double Points, Action Body);

/// <summary>The result of one test.</summary>
public sealed record TestOutcome(GradedTest Test, bool Passed, string Message, TimeSpan Elapsed)
{
    public double Score => Passed ? Test.Points : 0;
}

/// <summary>What <see cref="Grader.Check"/> shows: one row per test, and the points scored out of the points possible.</summary>
[TypeFormatterSource(typeof(MimeViewFormatterSource<CheckReport>), PreferredMimeTypes = [MimeType.Html, MimeType.PlainText])]
public sealed class CheckReport(string? question, IReadOnlyList<TestOutcome> outcomes) : IMimeView
{
    public string? Question { get; } = question;
    public IReadOnlyList<TestOutcome> Outcomes { get; } = outcomes;
    public double Score => Outcomes.Sum(o => o.Score);
    public double MaxScore => Outcomes.Sum(o => o.Test.Points);
    public bool AllPassed => Outcomes.Count > 0 && Outcomes.All(o => o.Passed);

    public IReadOnlyList<string> MimeTypes => MimeType.HtmlAndText;

    public string Render(string mimeType) => mimeType switch
    {
        MimeType.Html => ToHtml(),
        MimeType.PlainText => ToString(),
        _ => throw MimeViews.NotOffered(this, mimeType),
    };

    string Title => Outcomes.Count == 0
        ? $"{Question ?? "all questions"}: no tests registered; run the question's test cell first"
        : $"{Question ?? "all questions"}: {Outcomes.Count(o => o.Passed)}/{Outcomes.Count} tests passed, {Points(Score)}/{Points(MaxScore)} points";

    static string Points(double p) => p.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture);

    public override string ToString()
    {
        var sb = new StringBuilder(Title).Append('\n');
        foreach (var o in Outcomes)
            sb.Append(o.Passed ? "  passed " : "  FAILED ").Append(o.Test.Question).Append(" / ").Append(o.Test.Name)
              .Append($" ({Points(o.Score)}/{Points(o.Test.Points)})")
              .Append(o.Passed ? "" : ": " + o.Message).Append('\n');
        return sb.ToString().TrimEnd('\n');
    }

    public string ToHtml()
    {
        var sb = new StringBuilder("<div class=\"notebooklab-check\"><p><b>").Append(WebUtility.HtmlEncode(Title)).Append("</b></p>");
        if (Outcomes.Count > 0)
        {
            sb.Append("<table><thead><tr><th>question</th><th>test</th><th>result</th><th>message</th><th>points</th></tr></thead><tbody>");
            foreach (var o in Outcomes)
                sb.Append("<tr><td>").Append(WebUtility.HtmlEncode(o.Test.Question)).Append("</td><td>").Append(WebUtility.HtmlEncode(o.Test.Name))
                  .Append("</td><td style=\"color:").Append(o.Passed ? "#1a7f37\">passed" : "#cf222e\">failed").Append("</td><td>")
                  .Append(WebUtility.HtmlEncode(o.Message)).Append("</td><td>").Append(Points(o.Score)).Append('/').Append(Points(o.Test.Points)).Append("</td></tr>");
            sb.Append("</tbody></table>");
        }
        return sb.Append("</div>").ToString();
    }
}
