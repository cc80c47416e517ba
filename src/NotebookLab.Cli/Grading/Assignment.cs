using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using NotebookLab.Engine.Notebooks;

namespace NotebookLab.Cli.Grading;

/// <summary>A master notebook that breaks the authoring conventions; the message names the cell.</summary>
public sealed class AssignmentException(string message) : Exception(message);

/// <summary>One autograded test: its question, name, points, and whether students see it.</summary>
public sealed record TestSpec(string Question, string Name, double Points, bool Hidden)
{
    public string Key => $"{Question}/{Name}";
}

/// <summary>A question: autograded (with tests) or written (collected for manual grading).</summary>
public sealed record QuestionSpec(string Id, string Title, bool Written, double WrittenPoints, IReadOnlyList<TestSpec> Tests)
{
    public double Points => Written ? WrittenPoints : Tests.Sum(t => t.Points);
}

/// <summary>A test cell of the master: its id, source and the tests it registers.</summary>
public sealed record TestCell(string Id, string Source, bool Hidden, IReadOnlyList<TestSpec> Tests);

/// <summary>
/// The authoring conventions of a master notebook, and what <c>notebooklab assign</c> makes of it.
/// <list type="bullet">
/// <item>Solution regions in code cells: a line <c>// BEGIN SOLUTION</c> (optionally <c>// BEGIN SOLUTION: what to implement</c>)
/// and a line <c>// END SOLUTION</c>. The release replaces the region with <c>throw new NotImplementedException("...")</c>,
/// indented as the marker, saying what to implement.</item>
/// <item>A question: a markdown cell tagged <c>question</c> whose metadata is <c>{"notebooklab": {"question": "q1"}}</c>.
/// A written question (answered in prose, graded by hand): a markdown cell tagged <c>written</c> with
/// <c>{"notebooklab": {"question": "w1", "points": 2}}</c>; the student answers in the markdown cell right after it
/// (found by cell id in the submission).</item>
/// <item>Tests: code cells tagged <c>test</c> (students see them) or <c>hidden-test</c> (only the autograder has them), each
/// made of <c>Grader.Test("q1", "name", points, () =&gt; { ... });</c> calls with literal question, name and points.
/// Question ids and points are read from the code and written into the cell metadata
/// (<c>notebooklab.grading</c>) of the release and the bundle.</item>
/// <item>Setup: the master's code cells with <c>#r "nuget: ..."</c> lines run first when grading.</item>
/// </list>
/// </summary>
public sealed class Assignment
{
    public const string QuestionTag = "question";
    public const string WrittenTag = "written";
    public const string TestTag = "test";
    public const string HiddenTestTag = "hidden-test";
    static readonly Regex BeginMarker = new(@"^(?<indent>\s*)//\s*BEGIN SOLUTION\b\s*:?\s*(?<what>.*)$", RegexOptions.Compiled);
    static readonly Regex EndMarker = new(@"^\s*//\s*END SOLUTION\b", RegexOptions.Compiled);

    public required string Name { get; init; }
    public required Notebook Master { get; init; }
    public required IReadOnlyList<QuestionSpec> Questions { get; init; }
    public required IReadOnlyList<TestCell> TestCells { get; init; }
    public required IReadOnlyList<string> Setup { get; init; }

    public IEnumerable<TestSpec> Tests => Questions.SelectMany(q => q.Tests);
    public double MaxScore => Questions.Sum(q => q.Points);

    public static bool IsTestCell(NotebookCell cell) =>
        cell.HasTag(TestTag) || cell.HasTag(HiddenTestTag) || cell.Metadata["notebooklab"]?["grading"]?["kind"]?.GetValue<string>() == "test";

    static string Where(string path, Notebook nb, NotebookCell cell) =>
        $"{path}, cell {nb.Cells.IndexOf(cell) + 1} (id {cell.Id})";

    /// <summary>Reads and validates a master notebook; throws <see cref="AssignmentException"/> naming the first offending cell.</summary>
    public static Assignment Load(string masterPath)
    {
        var master = NotebookFile.Read(masterPath);
        var display = Path.GetFileName(masterPath);
        var questions = new List<(string Id, string Title, bool Written, double Points, NotebookCell Cell)>();
        var testCells = new List<TestCell>();
        var setup = new List<string>();
        foreach (var cell in master.Cells)
        {
            string where = Where(display, master, cell);
            if (cell.Type == CellType.Markdown && (cell.HasTag(QuestionTag) || cell.HasTag(WrittenTag)))
            {
                var id = cell.Metadata["notebooklab"]?["question"]?.GetValue<string>();
                if (string.IsNullOrWhiteSpace(id))
                    throw new AssignmentException($"{where}: a cell tagged '{(cell.HasTag(WrittenTag) ? WrittenTag : QuestionTag)}' needs metadata {{\"notebooklab\": {{\"question\": \"<id>\"}}}}.");
                if (questions.Any(q => q.Id == id))
                    throw new AssignmentException($"{where}: question id '{id}' is used twice (first in {Where(display, master, questions.First(q => q.Id == id).Cell)}).");
                double points = 0;
                if (cell.HasTag(WrittenTag))
                {
                    var p = cell.Metadata["notebooklab"]?["points"];
                    if (p is null || !double.TryParse(p.ToString(), NumberStyles.Float, CultureInfo.InvariantCulture, out points) || points < 0)
                        throw new AssignmentException($"{where}: written question '{id}' needs \"points\" in its notebooklab metadata.");
                }
                var title = cell.Source.Split('\n').FirstOrDefault(l => l.Trim().Length > 0)?.Trim().TrimStart('#').Trim() ?? id;
                questions.Add((id, title, cell.HasTag(WrittenTag), points, cell));
                continue;
            }
            if (cell.Type != CellType.Code)
            {
                if (cell.Source.Contains("BEGIN SOLUTION", StringComparison.Ordinal) || cell.Source.Contains("END SOLUTION", StringComparison.Ordinal))
                    throw new AssignmentException($"{where}: solution markers belong in code cells.");
                if (cell.HasTag(TestTag) || cell.HasTag(HiddenTestTag))
                    throw new AssignmentException($"{where}: a test cell must be a code cell.");
                continue;
            }
            StripSolutions(cell.Source, where);   // validates the markers
            if (cell.HasTag(TestTag) || cell.HasTag(HiddenTestTag))
            {
                if (cell.HasTag(TestTag) && cell.HasTag(HiddenTestTag))
                    throw new AssignmentException($"{where}: tagged both '{TestTag}' and '{HiddenTestTag}'.");
                if (cell.Source.Contains("BEGIN SOLUTION", StringComparison.Ordinal))
                    throw new AssignmentException($"{where}: a test cell cannot hold a solution region.");
                bool hidden = cell.HasTag(HiddenTestTag);
                testCells.Add(new TestCell(cell.Id, cell.Source, hidden, ParseTests(cell.Source, hidden, where)));
            }
            else if (cell.Source.Split('\n').Any(l => l.TrimStart().StartsWith("#r \"nuget:", StringComparison.Ordinal)))
                setup.Add(cell.Source);
        }

        var seen = new Dictionary<string, TestCell>();
        foreach (var tc in testCells)
            foreach (var t in tc.Tests)
            {
                var cell = master.Cells.First(c => c.Id == tc.Id);
                if (!questions.Any(q => q.Id == t.Question))
                    throw new AssignmentException($"{Where(display, master, cell)}: test '{t.Name}' is for question '{t.Question}', which no cell tagged '{QuestionTag}' declares.");
                if (questions.First(q => q.Id == t.Question).Written)
                    throw new AssignmentException($"{Where(display, master, cell)}: '{t.Question}' is a written question; it cannot have tests.");
                if (seen.TryGetValue(t.Key, out var other))
                    throw new AssignmentException($"{Where(display, master, cell)}: test '{t.Name}' of '{t.Question}' is defined twice (also in cell id {other.Id}).");
                seen[t.Key] = tc;
            }
        var specs = new List<QuestionSpec>();
        foreach (var q in questions)
        {
            var tests = testCells.SelectMany(c => c.Tests).Where(t => t.Question == q.Id).ToList();
            if (!q.Written && tests.Count == 0)
                throw new AssignmentException($"{Where(display, master, q.Cell)}: question '{q.Id}' has no tests (add a cell tagged '{TestTag}' or '{HiddenTestTag}' with Grader.Test(\"{q.Id}\", ...)).");
            specs.Add(new QuestionSpec(q.Id, q.Title, q.Written, q.Points, tests));
        }
        if (specs.Count == 0) throw new AssignmentException($"{display}: no questions (markdown cells tagged '{QuestionTag}' or '{WrittenTag}').");
        var name = Path.GetFileNameWithoutExtension(masterPath);
        if (name.EndsWith("-master", StringComparison.Ordinal)) name = name[..^"-master".Length];
        return new Assignment { Name = name, Master = master, Questions = specs, TestCells = testCells, Setup = setup };
    }

    /// <summary>The tests a test cell registers, read from its <c>Grader.Test(...)</c> calls (literal arguments only).</summary>
    public static IReadOnlyList<TestSpec> ParseTests(string source, bool hidden, string where)
    {
        var tree = CSharpSyntaxTree.ParseText(source, CSharpParseOptions.Default.WithKind(SourceCodeKind.Script));
        var errors = tree.GetDiagnostics().Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
        if (errors.Count > 0)
            throw new AssignmentException($"{where}: the test cell does not parse: {errors[0].GetMessage(CultureInfo.InvariantCulture)} (line {errors[0].Location.GetLineSpan().StartLinePosition.Line + 1}).");
        var tests = new List<TestSpec>();
        foreach (var call in tree.GetRoot().DescendantNodes().OfType<InvocationExpressionSyntax>())
        {
            if (call.Expression is not MemberAccessExpressionSyntax { Name.Identifier.Text: "Test" } access
                || !access.Expression.ToString().EndsWith("Grader", StringComparison.Ordinal)) continue;
            var args = call.ArgumentList.Arguments;
            int line = call.GetLocation().GetLineSpan().StartLinePosition.Line + 1;
            if (args.Count != 4
                || args[0].Expression is not LiteralExpressionSyntax { RawKind: (int)SyntaxKind.StringLiteralExpression } q
                || args[1].Expression is not LiteralExpressionSyntax { RawKind: (int)SyntaxKind.StringLiteralExpression } n
                || args[2].Expression is not LiteralExpressionSyntax { RawKind: (int)SyntaxKind.NumericLiteralExpression } p)
                throw new AssignmentException($"{where}, line {line}: write Grader.Test(\"question\", \"test name\", points, () => ...) with a literal question, name and number of points.");
            tests.Add(new TestSpec(q.Token.ValueText, n.Token.ValueText, Convert.ToDouble(p.Token.Value, CultureInfo.InvariantCulture), hidden));
        }
        if (tests.Count == 0)
            throw new AssignmentException($"{where}: a cell tagged '{(hidden ? HiddenTestTag : TestTag)}' must register at least one test with Grader.Test(\"q1\", \"name\", points, () => ...).");
        return tests;
    }

    /// <summary>
    /// The source with every solution region replaced by a stub that throws <see cref="NotImplementedException"/>;
    /// throws <see cref="AssignmentException"/> for unbalanced or nested markers.
    /// </summary>
    public static string StripSolutions(string source, string where)
    {
        var lines = source.Split('\n');
        var output = new List<string>();
        int? open = null;
        foreach (var (line, index) in lines.Select((l, i) => (l, i)))
        {
            var begin = BeginMarker.Match(line);
            if (begin.Success)
            {
                if (open is not null)
                    throw new AssignmentException($"{where}, line {index + 1}: BEGIN SOLUTION inside the region opened on line {open + 1}; close it with // END SOLUTION first.");
                open = index;
                var what = begin.Groups["what"].Value.Trim();
                if (what.Length == 0) what = "this part";
                var indent = begin.Groups["indent"].Value;
                output.Add($"{indent}// YOUR CODE HERE: {what}");
                output.Add($"{indent}throw new NotImplementedException({SymbolDisplay.FormatLiteral($"implement {what}", true)});");
                continue;
            }
            if (EndMarker.IsMatch(line))
            {
                if (open is null)
                    throw new AssignmentException($"{where}, line {index + 1}: END SOLUTION without a BEGIN SOLUTION before it.");
                open = null;
                continue;
            }
            if (open is null) output.Add(line);
        }
        if (open is not null)
            throw new AssignmentException($"{where}, line {open + 1}: BEGIN SOLUTION is never closed with // END SOLUTION.");
        return string.Join('\n', output);
    }

    /// <summary>The solution regions of a source (the lines between the markers), for the similarity report.</summary>
    public static IReadOnlyList<string> SolutionRegions(string source)
    {
        var regions = new List<string>();
        StringBuilder? current = null;
        foreach (var line in source.Split('\n'))
        {
            if (BeginMarker.IsMatch(line)) { current = new StringBuilder(); continue; }
            if (EndMarker.IsMatch(line) && current is not null) { regions.Add(current.ToString()); current = null; continue; }
            current?.Append(line).Append('\n');
        }
        return regions;
    }

    JsonObject GradingMetadata(TestCell tc) => new()
    {
        ["kind"] = "test",
        ["hidden"] = tc.Hidden,
        ["tests"] = new JsonArray(tc.Tests.Select(t => (JsonNode)new JsonObject
        {
            ["question"] = t.Question, ["name"] = t.Name, ["points"] = t.Points,
        }).ToArray()),
    };

    /// <summary>The student notebook: solutions stubbed, hidden tests removed, grading metadata kept, outputs cleared.</summary>
    public Notebook Release()
    {
        var release = IpynbFormat.Parse(IpynbFormat.Serialize(Master), Name);
        release.Cells.RemoveAll(c => c.HasTag(HiddenTestTag));
        foreach (var cell in release.Cells)
        {
            if (cell.Type == CellType.Code)
            {
                cell.ClearExecution();
                cell.Source = StripSolutions(cell.Source, cell.Id);
            }
            var nl = cell.Metadata["notebooklab"] as JsonObject;
            if (cell.HasTag(TestTag))
            {
                var tc = TestCells.First(t => t.Id == cell.Id);
                cell.Metadata["notebooklab"] = nl = new JsonObject { ["grading"] = GradingMetadata(tc) };
            }
            else if (cell.HasTag(QuestionTag) || cell.HasTag(WrittenTag))
            {
                var id = nl!["question"]!.GetValue<string>();
                var q = Questions.First(q => q.Id == id);
                nl["grading"] = new JsonObject { ["kind"] = q.Written ? "written" : "question", ["question"] = id, ["points"] = q.Points };
            }
        }
        release.Metadata["notebooklab"] = new JsonObject { ["assignment"] = AssignmentMetadata(includeHidden: false) };
        return release;
    }

    JsonObject AssignmentMetadata(bool includeHidden) => new()
    {
        ["name"] = Name,
        ["questions"] = new JsonArray(Questions.Select(q => (JsonNode)new JsonObject
        {
            ["id"] = q.Id,
            ["points"] = includeHidden || q.Tests.All(t => !t.Hidden) ? q.Points : null,
            ["kind"] = q.Written ? "written" : "autograded",
        }).ToArray()),
    };

    /// <summary>The autograder's manifest: questions, every test (hidden ones included), the test cells and the setup.</summary>
    public JsonObject Manifest(IReadOnlyList<string> packageSources) => new()
    {
        ["format"] = "notebooklab-autograder/1",
        ["assignment"] = Name,
        ["max_score"] = MaxScore,
        ["questions"] = new JsonArray(Questions.Select(q => (JsonNode)new JsonObject
        {
            ["id"] = q.Id, ["title"] = q.Title, ["kind"] = q.Written ? "written" : "autograded", ["points"] = q.Points,
            ["tests"] = new JsonArray(q.Tests.Select(t => (JsonNode)new JsonObject
            {
                ["name"] = t.Name, ["points"] = t.Points, ["hidden"] = t.Hidden,
            }).ToArray()),
        }).ToArray()),
        ["written_cells"] = new JsonArray(Master.Cells.Where(c => c.HasTag(WrittenTag))
            .Select(c => (JsonNode)new JsonObject { ["id"] = AnswerCell(c).Id, ["question"] = c.Metadata["notebooklab"]!["question"]!.GetValue<string>() }).ToArray()),
        ["setup"] = new JsonArray(Setup.Select(s => (JsonNode)JsonValue.Create(s)!).ToArray()),
        ["test_cells"] = new JsonArray(TestCells.Select(tc => (JsonNode)new JsonObject
        {
            ["id"] = tc.Id, ["source"] = tc.Source, ["grading"] = GradingMetadata(tc),
        }).ToArray()),
        ["package_sources"] = new JsonArray(packageSources.Select(s => (JsonNode)JsonValue.Create(s)!).ToArray()),
        ["given_declarations"] = new JsonArray(Master.Cells
            .Where(c => c.Type == CellType.Code && !IsTestCell(c))
            .SelectMany(c => Shadowing.TopLevel(c.Source)).Select(d => d.Key).Distinct().Order(StringComparer.Ordinal)
            .Select(k => (JsonNode)JsonValue.Create(k)!).ToArray()),
    };

    /// <summary>Where a written question is answered: the markdown cell right after it, else the question cell itself.</summary>
    NotebookCell AnswerCell(NotebookCell question)
    {
        int i = Master.Cells.IndexOf(question);
        return i + 1 < Master.Cells.Count && Master.Cells[i + 1].Type == CellType.Markdown && !Master.Cells[i + 1].HasTag(QuestionTag)
               && !Master.Cells[i + 1].HasTag(WrittenTag) ? Master.Cells[i + 1] : question;
    }

    public static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
