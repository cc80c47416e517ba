using System.Text.Json.Nodes;
using NotebookLab.Tests.Cli;
using NotebookLab.Tests.Support;

namespace NotebookLab.Tests.Grading;

/// <summary>Builds submissions from a homework master and its release, and runs <c>notebooklab grade</c> on them.</summary>
static class Submissions
{
    public static JsonObject Load(string path) => JsonNode.Parse(File.ReadAllText(path))!.AsObject();

    public static JsonArray Cells(JsonObject nb) => nb["cells"]!.AsArray();

    public static string Source(JsonNode cell) => CliRunner.MultilineText(cell["source"]);

    public static JsonObject WithCell(JsonObject nb, string source, int? at = null)
    {
        var copy = nb.DeepClone().AsObject();
        var cell = new JsonObject
        {
            ["cell_type"] = "code", ["execution_count"] = null, ["id"] = "hostile-" + Math.Abs(source.GetHashCode()).ToString("x"),
            ["metadata"] = new JsonObject(), ["outputs"] = new JsonArray(), ["source"] = source,
        };
        var cells = Cells(copy);
        cells.Insert(at ?? cells.Count, cell);
        return copy;
    }

    /// <summary>Replaces the body of the cell whose source starts with <paramref name="signature"/>.</summary>
    public static JsonObject WithBody(JsonObject nb, string signature, string body)
    {
        var copy = nb.DeepClone().AsObject();
        var cell = Cells(copy).First(c => Source(c!).StartsWith(signature, StringComparison.Ordinal))!;
        var head = Source(cell).Split('{', 2)[0];
        cell["source"] = head + "{\n" + body + "\n}";
        return copy;
    }

    /// <summary>The release with the first stubbed cell replaced by the master's solution: a partly solved submission.</summary>
    public static JsonObject Partial(JsonObject master, JsonObject release)
    {
        var copy = release.DeepClone().AsObject();
        var solved = Cells(master).ToDictionary(c => c!["id"]!.GetValue<string>(), c => c!);
        var first = Cells(copy).First(c => Source(c!).Contains("throw new NotImplementedException(\"implement", StringComparison.Ordinal))!;
        var id = first["id"]!.GetValue<string>();
        first["source"] = string.Join('\n', Source(solved[id]).Split('\n').Where(l => !l.Contains("SOLUTION", StringComparison.Ordinal)));
        return copy;
    }

    public static void Save(JsonObject nb, string path) => File.WriteAllText(path, nb.ToJsonString());

    /// <summary>Runs assign on a homework master into <paramref name="dir"/>; returns (bundle folder, release path).</summary>
    public static (string Bundle, string Release) Assign(string master, string dir)
    {
        Directory.CreateDirectory(dir);
        var r = CliRunner.Run(dir, ["assign", master, "--out", dir]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        return (Path.Combine(dir, "autograder"), Path.Combine(dir, "student", Path.GetFileName(master).Replace("-master", "")));
    }

    public static CliRunner.Result Grade(string dir, string bundle, string submissions, string output, params string[] extra) =>
        CliRunner.Run(dir, ["grade", "--assignment", bundle, "--submissions", submissions, "--out", output, .. extra],
            timeout: TimeSpan.FromMinutes(25));

    public static JsonObject Results(string output, string student) => Load(Path.Combine(output, student, "results.json"));

    public static double Score(string output, string student) => Results(output, student)["score"]!.GetValue<double>();

    public static IEnumerable<JsonObject> TestsOf(string output, string student) =>
        Results(output, student)["tests"]!.AsArray().Select(t => t!.AsObject());

    public static string Master(string name) => Path.Combine(RepoPaths.Notebooks, "homework", name + "-master.ipynb");
}
