using NotebookLab.Engine.Execution;
using NotebookLab.Engine.Notebooks;

namespace NotebookLab.Tests.Engine;

public class NotebookSessionTests
{
    static string Plain(CellOutput output) => ((DisplayOutput)output).Data["text/plain"];

    [Fact]
    public async Task State_carries_across_cells_and_trailing_expression_is_the_result()
    {
        using var session = new NotebookSession();
        var first = await session.ExecuteAsync("var x = 20;\nint Twice(int v) => 2 * v;");
        Assert.Equal(CellStatus.Ok, first.Status);
        Assert.Empty(first.Outputs);

        var second = await session.ExecuteAsync("Twice(x) + 2");
        Assert.Equal(CellStatus.Ok, second.Status);
        var result = Assert.IsType<DisplayOutput>(Assert.Single(second.Outputs));
        Assert.True(result.IsExecuteResult);
        Assert.Equal(2, result.ExecutionCount);
        Assert.Equal("42", result.Data["text/plain"]);
    }

    [Fact]
    public async Task Default_imports_match_dotnet_interactive()
    {
        using var session = new NotebookSession();
        var result = await session.ExecuteAsync("new List<int> { 3, 1, 2 }.OrderBy(i => i).Select(i => i.ToString()).Aggregate(new StringBuilder(), (sb, s) => sb.Append(s)).ToString()");
        Assert.Equal(CellStatus.Ok, result.Status);
        Assert.Equal("123", Plain(Assert.Single(result.Outputs)));
    }

    [Fact]
    public async Task Statement_or_void_call_at_the_end_produces_no_result()
    {
        using var session = new NotebookSession();
        var result = await session.ExecuteAsync("var y = 1;\nConsole.Write(\"\")");
        Assert.Equal(CellStatus.Ok, result.Status);
        Assert.DoesNotContain(result.Outputs, o => o is DisplayOutput);
    }

    [Fact]
    public async Task Stdout_and_stderr_are_captured_per_cell()
    {
        using var session = new NotebookSession();
        var first = await session.ExecuteAsync("Console.WriteLine(\"one\");\nConsole.Error.WriteLine(\"warn\");\nawait Task.Run(() => Console.WriteLine(\"from a task\"));");
        var second = await session.ExecuteAsync("Console.Write(\"two\");");

        var streams = first.Outputs.OfType<StreamOutput>().ToList();
        Assert.Equal("one\n", streams[0].Text);
        Assert.Equal("stdout", streams[0].Name);
        Assert.Equal("warn\n", streams[1].Text);
        Assert.Equal("stderr", streams[1].Name);
        Assert.Equal("from a task\n", streams[2].Text);
        Assert.Equal("two", Assert.IsType<StreamOutput>(Assert.Single(second.Outputs)).Text);
    }

    [Fact]
    public async Task Display_shows_values_and_update_replaces_them()
    {
        using var session = new NotebookSession();
        var events = new List<SessionEvent>();
        session.EventRaised += events.Add;
        var first = await session.ExecuteAsync("var handle = display(\"step 0\");\nhandle.Update(\"step 1\");");
        var shown = Assert.IsType<DisplayOutput>(Assert.Single(first.Outputs));
        Assert.False(shown.IsExecuteResult);
        Assert.Equal("step 1", shown.Data["text/plain"]);
        Assert.NotNull(shown.DisplayId);

        var second = await session.ExecuteAsync("handle.Update(\"from a later cell\");\nhandle.DisplayId");
        var update = events.OfType<DisplayUpdated>().Last();
        Assert.Equal(shown.DisplayId, update.Output.DisplayId);
        Assert.Equal("from a later cell", update.Output.Data["text/plain"]);
        Assert.Equal(shown.DisplayId, Plain(Assert.Single(second.Outputs)));
    }

    [Fact]
    public async Task Display_honours_explicit_and_default_mime_types()
    {
        using var session = new NotebookSession();
        var result = await session.ExecuteAsync("display(HTML(\"<b>bold</b>\"));\ndisplay(new { A = 1 }, \"text/plain\");\nnew[] { 1, 2 }");
        var outputs = result.Outputs.OfType<DisplayOutput>().ToList();
        Assert.Equal("<b>bold</b>", outputs[0].Data["text/html"]);
        Assert.Equal(["text/plain"], outputs[1].Data.Keys);
        Assert.Contains("A", outputs[1].Data["text/plain"]);
        Assert.True(outputs[2].Data.ContainsKey("text/html"));
        Assert.True(outputs[2].Data.ContainsKey("text/plain"));
    }

    [Fact]
    public async Task Preferred_mime_types_of_a_type_make_up_its_bundle()
    {
        using var session = new NotebookSession();
        var result = await session.ExecuteAsync("""
            using Microsoft.DotNet.Interactive.Formatting;
            public record Chart(string Title);
            Formatter.Register<Chart>(c => $"<svg><text>{c.Title}</text></svg>", "image/svg+xml");
            Formatter.Register<Chart>(c => $"<div>{c.Title}</div>", "text/html");
            Formatter.SetPreferredMimeTypesFor(typeof(Chart), "text/html", "image/svg+xml");
            new Chart("loss")
            """);
        var bundle = Assert.IsType<DisplayOutput>(Assert.Single(result.Outputs)).Data;
        Assert.Equal(["image/svg+xml", "text/html", "text/plain"], bundle.Keys.Order());
        Assert.Equal("<svg><text>loss</text></svg>", bundle["image/svg+xml"]);
        Assert.Equal("<div>loss</div>", bundle["text/html"]);
    }

    [Fact]
    public async Task Compile_error_names_cell_and_line()
    {
        using var session = new NotebookSession();
        var location = new CellLocation("course/nb.ipynb", 4);
        var result = await session.ExecuteAsync("var ok = 1;\n\nvar bad = undefinedName + 1;", location);
        Assert.Equal(CellStatus.Error, result.Status);
        Assert.Equal(3, result.ErrorLine);
        Assert.Equal("CompilationError", result.Error!.EName);
        Assert.StartsWith("course/nb.ipynb, cell 4, line 3: error CS0103", result.Error.EValue);
        Assert.Contains("undefinedName", result.Error.EValue);
    }

    [Fact]
    public async Task Line_numbers_survive_removed_magic_lines()
    {
        using var session = new NotebookSession();
        var result = await session.ExecuteAsync("#!time\n// comment\nvar z = nope;", new CellLocation(null, 2));
        Assert.Equal(3, result.ErrorLine);
    }

    [Fact]
    public async Task Exception_names_cell_and_line_and_keeps_earlier_state()
    {
        using var session = new NotebookSession();
        var result = await session.ExecuteAsync("var before = 7;\nint[] a = new int[2];\nvar boom = a[5];", new CellLocation("nb.ipynb", 3));
        Assert.Equal(CellStatus.Error, result.Status);
        Assert.Equal(3, result.ErrorLine);
        Assert.Equal("System.IndexOutOfRangeException", result.Error!.EName);
        Assert.StartsWith("nb.ipynb, cell 3, line 3: System.IndexOutOfRangeException", result.Error.EValue);

        var after = await session.ExecuteAsync("before");
        Assert.Equal("7", Plain(Assert.Single(after.Outputs)));
    }

    [Fact]
    public async Task Exception_in_a_function_from_an_earlier_cell_points_at_that_cell()
    {
        using var session = new NotebookSession();
        await session.ExecuteAsync("void Fail()\n{\n    throw new InvalidOperationException(\"bad state\");\n}", new CellLocation(null, 1));
        var result = await session.ExecuteAsync("Fail();", new CellLocation(null, 2));
        Assert.Equal(1, result.ErrorLine);
        Assert.StartsWith("cell 2, line 1: System.InvalidOperationException: bad state", result.Error!.EValue);
        Assert.Contains("raised in cell 1, line 3", result.Error!.EValue);
        Assert.Contains(result.Error.Traceback, l => l.Contains("called from cell 2, line 1"));
    }

    [Fact]
    public async Task Timeout_fails_the_cell_and_abandons_the_session()
    {
        using var session = new NotebookSession(new SessionOptions { CellTimeout = TimeSpan.FromMilliseconds(300) });
        var result = await session.ExecuteAsync("await Task.Delay(5000);", new CellLocation("t.ipynb", 1));
        Assert.Equal(CellStatus.TimedOut, result.Status);
        Assert.Contains("t.ipynb, cell 1: the cell did not finish within 0.3 s", result.Error!.EValue);
        await Assert.ThrowsAsync<InvalidOperationException>(() => session.ExecuteAsync("1"));
    }

    [Fact]
    public async Task Cancellation_stops_waiting_for_the_cell()
    {
        using var session = new NotebookSession();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var result = await session.ExecuteAsync("System.Threading.Thread.Sleep(3000);", null, cts.Token);
        Assert.Equal(CellStatus.Cancelled, result.Status);
        Assert.NotNull(session.AbandonedBecause);
    }

    [Fact]
    public async Task Time_magic_displays_wall_time()
    {
        using var session = new NotebookSession();
        var result = await session.ExecuteAsync("#!time\nSystem.Threading.Thread.Sleep(20);");
        var time = Plain(Assert.Single(result.Outputs));
        Assert.Matches(@"^Wall time: \d+(\.\d+)?ms$", time);
        Assert.True(double.Parse(time[11..^2], System.Globalization.CultureInfo.InvariantCulture) >= 20);
    }

    [Fact]
    public async Task Unknown_magic_is_an_error_naming_magic_cell_and_line()
    {
        using var session = new NotebookSession();
        var result = await session.ExecuteAsync("var a = 1;\n#!whos\n", new CellLocation("x.ipynb", 6));
        Assert.Equal(CellStatus.Error, result.Status);
        Assert.Equal(2, result.ErrorLine);
        Assert.Contains("x.ipynb, cell 6, line 2: unknown magic command '#!whos'", result.Error!.EValue);
    }

    [Fact]
    public async Task Foreign_kernel_cell_is_refused_clearly()
    {
        using var session = new NotebookSession();
        var result = await session.ExecuteAsync("#!fsharp\nlet x = 1");
        Assert.Equal(CellStatus.Error, result.Status);
        Assert.Contains("'fsharp' kernel", result.Error!.EValue);
    }

    [Fact]
    public async Task Markdown_selector_cell_is_skipped()
    {
        using var session = new NotebookSession();
        var result = await session.ExecuteAsync("#!markdown\n# Title");
        Assert.Equal(CellStatus.Skipped, result.Status);
        Assert.Empty(result.Outputs);
    }
}
