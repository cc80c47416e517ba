using NotebookLab.Engine.Execution;
using NotebookLab.Engine.Notebooks;

namespace NotebookLab.Tests.Engine;

/// <summary>
/// Cooperative interruption: a running cell stops at its next loop iteration or method call, fails with an
/// "Interrupted" error, and the session (its variables, functions) carries on.
/// </summary>
public class InterruptTests
{
    static async Task<CellResult> RunAndInterrupt(NotebookSession session, string code, TimeSpan? after = null)
    {
        var running = session.ExecuteAsync(code);
        await Task.Delay(after ?? TimeSpan.FromMilliseconds(300));
        Assert.False(running.IsCompleted, "the cell finished before it was interrupted");
        Assert.True(session.Interrupt());
        var finished = await Task.WhenAny(running, Task.Delay(TimeSpan.FromSeconds(20)));
        Assert.True(finished == running, "the interrupted cell did not stop within 20 s");
        return await running;
    }

    public static TheoryData<string> EndlessCells() => new(
        "while (true) { }",
        "for (;;) ;",
        "do { } while (true);",
        "foreach (var i in Enumerable.Repeat(1, int.MaxValue)) { }",
        "void Spin() { while (true) { } }\nSpin();",
        "int Deep(int n) => n == -1 ? 0 : Deep2(n);\nint Deep2(int n) { var x = 0; for (long i = 0; i < 1_000_000_000_000; i++) x++; return x; }\nDeep(1)",
        "await Task.Run(() => { while (true) { } });",
        "var spin = new Action(delegate { while (true) { } });\nspin();",
        "IEnumerable<int> Forever() { while (true) yield return 1; }\nForever().Count()",
        "class Spinner { public Spinner() { while (true) { } } }\nnew Spinner();",
        "var n = 0L;\nwhile (true)\n    n++;");

    [Theory]
    [MemberData(nameof(EndlessCells))]
    public async Task An_endless_cell_stops_on_interrupt_and_the_session_survives(string code)
    {
        using var session = new NotebookSession();
        await session.ExecuteAsync("var before = 41;\nint AddOne(int x) => x + 1;");

        var interrupted = await RunAndInterrupt(session, code);
        Assert.Equal(CellStatus.Interrupted, interrupted.Status);
        Assert.Equal("Interrupted", interrupted.Error!.EName);
        Assert.Contains("interrupted", interrupted.Error.EValue);
        Assert.Null(session.AbandonedBecause);

        var next = await session.ExecuteAsync("AddOne(before)");
        Assert.Equal(CellStatus.Ok, next.Status);
        Assert.Equal("42", ((DisplayOutput)Assert.Single(next.Outputs)).Data["text/plain"]);
    }

    [Fact]
    public async Task The_error_names_the_line_the_cell_was_on()
    {
        using var session = new NotebookSession();
        // Interrupt only once the loop runs: an interrupt while the cell still compiles (slow on a busy machine) has no line.
        var started = new TaskCompletionSource();
        session.EventRaised += e => { if (e is StreamWritten { Text: var text } && text.Contains("start")) started.TrySetResult(); };
        var running = session.ExecuteAsync("var i = 0;\nConsole.WriteLine(\"start\");\nwhile (true)\n{\n    i++;\n}");
        Assert.True(await Task.WhenAny(started.Task, Task.Delay(TimeSpan.FromSeconds(60))) == started.Task, "the cell never started");
        Assert.True(session.Interrupt());
        var result = await running;
        Assert.Equal(CellStatus.Interrupted, result.Status);
        Assert.InRange(result.ErrorLine ?? 0, 3, 6);
        Assert.StartsWith("cell 1, line ", result.Error!.EValue);
    }

    [Fact]
    public async Task Inserted_checks_keep_line_numbers_and_behaviour()
    {
        using var session = new NotebookSession();
        var ok = await session.ExecuteAsync(
            "var sum = 0;\nfor (int i = 0; i < 10; i++)\n    if (i % 2 == 0) sum += i;\nforeach (var (a, b) in new[] { (1, 2) }) sum += a * b;\n" +
            "int Fib(int n) { return n < 2 ? n : Fib(n - 1) + Fib(n - 2); }\nvar f = (int x) => { return x * 2; };\nsum + Fib(10) + f(1)");
        Assert.Equal(CellStatus.Ok, ok.Status);
        Assert.Equal("79", ((DisplayOutput)Assert.Single(ok.Outputs)).Data["text/plain"]);

        var failing = await session.ExecuteAsync("for (int i = 0; i < 3; i++)\n{\n}\nint Zero() { return 0; }\nvar boom = 1 / Zero();");
        Assert.Equal(CellStatus.Error, failing.Status);
        Assert.Equal(5, failing.ErrorLine);
    }

    [Fact]
    public void The_rewriter_adds_no_lines_and_leaves_unparsable_code_alone()
    {
        var code = "while (x)\n    y++;\nvoid F()\n{\n    G();\n}\nvar l = () => { };";
        var rewritten = InterruptCheckInserter.Rewrite(code);
        Assert.Equal(code.Split('\n').Length, rewritten.Split('\n').Length);
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Count(rewritten, "Interrupts.Check"));
        Assert.Equal("while (true) {", InterruptCheckInserter.Rewrite("while (true) {"));
    }

    [Fact]
    public async Task Interrupt_with_no_cell_running_does_nothing()
    {
        using var session = new NotebookSession();
        Assert.False(session.Interrupt());
        var result = await session.ExecuteAsync("1 + 1");
        Assert.Equal(CellStatus.Ok, result.Status);
    }

    [Fact]
    public async Task An_interrupt_stops_only_the_interrupted_session()
    {
        using var first = new NotebookSession();
        using var second = new NotebookSession();
        var other = second.ExecuteAsync("var n = 0L;\nwhile (n < 300_000_000) n++;\nn");
        var result = await RunAndInterrupt(first, "while (true) { }");
        Assert.Equal(CellStatus.Interrupted, result.Status);
        var otherResult = await other;
        Assert.Equal(CellStatus.Ok, otherResult.Status);
    }
}
