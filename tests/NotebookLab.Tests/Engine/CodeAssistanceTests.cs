using NotebookLab.Engine.Execution;
using NotebookLab.Engine.Notebooks;

namespace NotebookLab.Tests.Engine;

/// <summary>Completion, inspection and is-complete on the session, knowing its earlier cells.</summary>
public class CodeAssistanceTests
{
    [Fact]
    public async Task Completions_know_the_variables_and_functions_of_earlier_cells_and_members_after_a_dot()
    {
        using var session = new NotebookSession();
        await session.ExecuteAsync("var learningRate = 0.01;\nint Twice(int x) => 2 * x;");

        var names = await session.CompleteAsync("var y = learn", 13);
        Assert.Equal(["learningRate"], names.Matches);
        Assert.Equal(8, names.ReplaceStart);
        Assert.Equal(13, names.ReplaceEnd);

        Assert.Contains("Twice", (await session.CompleteAsync("Tw", 2)).Matches);
        var members = await session.CompleteAsync("learningRate.ToStr", 18);
        Assert.Equal(["ToString"], members.Matches);
        Assert.Equal(["Write", "WriteLine"], (await session.CompleteAsync("Console.Wri", 11)).Matches);
        Assert.Contains("Generic", (await session.CompleteAsync("System.Collections.", 19)).Matches);
        Assert.Empty((await session.CompleteAsync("Console.NoSuchMember", 20)).Matches);
    }

    [Fact]
    public async Task Completion_ignores_magic_command_lines_and_keeps_offsets()
    {
        using var session = new NotebookSession();
        var code = "#!time\nvar items = new List<int>();\nitems.Ad";
        var completions = await session.CompleteAsync(code, code.Length);
        Assert.Contains("Add", completions.Matches);
        Assert.Contains("AddRange", completions.Matches);
        Assert.Equal(code.Length - 2, completions.ReplaceStart);
    }

    [Fact]
    public async Task Inspect_shows_the_signature_and_documentation_of_the_symbol_under_the_cursor()
    {
        using var session = new NotebookSession();
        await session.ExecuteAsync("/// <summary>Doubles.</summary>\nint Twice(int x) => 2 * x;\nvar rate = 0.5;");

        var math = await session.InspectAsync("Math.Sqrt(2)", 7);
        Assert.NotNull(math);
        Assert.Contains("double Math.Sqrt(double", math.ToPlainText());

        var rate = await session.InspectAsync("rate * 2", 2);
        Assert.NotNull(rate);
        Assert.Contains("double rate", rate.ToPlainText());

        var twice = await session.InspectAsync("Twice(3)", 5);
        Assert.NotNull(twice);
        Assert.Contains("int Twice(int x)", twice.ToPlainText());

        var overloads = await session.InspectAsync("Console.WriteLine", 17);
        Assert.NotNull(overloads);
        Assert.True(overloads.Signatures.Count > 5, string.Join("\n", overloads.Signatures));

        Assert.Null(await session.InspectAsync("   ", 1));
    }

    [Fact]
    public async Task Inspect_reads_the_frameworks_xml_documentation_where_the_sdk_has_it()
    {
        var docs = Directory.Exists(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "..", "..", "..", "packs", "Microsoft.NETCore.App.Ref"));
        if (!docs) return;   // a runtime without the SDK's reference pack has no XML docs to show
        using var session = new NotebookSession();
        var inspection = await session.InspectAsync("Math.Sqrt(2)", 7);
        Assert.NotNull(inspection);
        Assert.Contains("square root", inspection.Summary ?? "", StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("1 + 1", CodeCompleteness.Complete)]
    [InlineData("var x = 1;\nConsole.WriteLine(x);", CodeCompleteness.Complete)]
    [InlineData("#r \"nuget: TorchSharp-cpu, 0.107.0\"", CodeCompleteness.Complete)]
    [InlineData("", CodeCompleteness.Complete)]
    [InlineData("for (int i = 0; i < 3; i++) {", CodeCompleteness.Incomplete)]
    [InlineData("var s = new[] {", CodeCompleteness.Incomplete)]
    [InlineData("int x = ;", CodeCompleteness.Invalid)]
    [InlineData("Console.WriteLine(1));", CodeCompleteness.Invalid)]
    public void Is_complete_tells_whole_cells_from_unfinished_and_broken_ones(string code, CodeCompleteness expected) =>
        Assert.Equal(expected, NotebookSession.IsComplete(code));

    [Fact]
    public async Task ClearOutput_clears_the_cells_outputs_and_says_so()
    {
        using var session = new NotebookSession();
        var events = new List<SessionEvent>();
        session.EventRaised += events.Add;
        var result = await session.ExecuteAsync("Console.WriteLine(\"old\");\nClearOutput(wait: true);\nConsole.WriteLine(\"new\");");
        Assert.Equal(CellStatus.Ok, result.Status);
        Assert.Equal("new\n", Assert.IsType<StreamOutput>(Assert.Single(result.Outputs)).Text);
        Assert.Contains(events, e => e is OutputCleared { Wait: true });
    }

    [Fact]
    public async Task Console_ReadLine_asks_the_host_for_input()
    {
        using var session = new NotebookSession();
        var asked = new List<InputRequest>();
        session.InputProvider = request => { asked.Add(request); return "Ada"; };
        var result = await session.ExecuteAsync("var name = Console.ReadLine();\n$\"hello {name}\"");
        Assert.Equal(CellStatus.Ok, result.Status);
        Assert.Equal("hello Ada", ((DisplayOutput)Assert.Single(result.Outputs)).Data["text/plain"]);
        Assert.Single(asked);
    }
}
