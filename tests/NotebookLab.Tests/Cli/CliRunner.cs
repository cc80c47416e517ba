using System.Diagnostics;
using System.Text.Json.Nodes;

namespace NotebookLab.Tests.Cli;

/// <summary>Runs the built <c>notebooklab</c> CLI (NotebookLab.Cli.dll next to the tests) as a separate process.</summary>
static class CliRunner
{
    public static string CliDll => Path.Combine(AppContext.BaseDirectory, "NotebookLab.Cli.dll");

    public sealed record Result(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed);

    public static Result Run(string workingDirectory, IEnumerable<string> args, IDictionary<string, string>? environment = null,
        TimeSpan? timeout = null)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        psi.ArgumentList.Add(CliDll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["NO_COLOR"] = "1";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        var stopwatch = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout ?? TimeSpan.FromMinutes(3)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"notebooklab {string.Join(' ', args)} did not finish");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.Result, stderr.Result, stopwatch.Elapsed);
    }

    /// <summary>A notebook text field, stored either as one string or as a list of lines.</summary>
    public static string MultilineText(JsonNode? node) => node switch
    {
        null => "",
        JsonArray lines => string.Concat(lines.Select(l => l?.GetValue<string>())),
        _ => node.GetValue<string>(),
    };

    public static JsonNode ReadJson(string path) => JsonNode.Parse(File.ReadAllText(path))!;

    /// <summary>The code cells of a notebook file.</summary>
    public static List<JsonObject> CodeCells(string path) =>
        ReadJson(path)["cells"]!.AsArray().OfType<JsonObject>().Where(c => c["cell_type"]!.GetValue<string>() == "code").ToList();

    public static string Notebook(params string[] cellSources)
    {
        var cells = new JsonArray();
        int i = 0;
        foreach (var source in cellSources)
        {
            var cell = new JsonObject
            {
                ["cell_type"] = "code",
                ["execution_count"] = null,
                ["id"] = $"c{++i}",
                ["metadata"] = source.StartsWith("var fast", StringComparison.Ordinal)
                    ? new JsonObject { ["tags"] = new JsonArray("parameters") } : new JsonObject(),
                ["outputs"] = new JsonArray(),
                ["source"] = source,
            };
            cells.Add(cell);
        }
        return new JsonObject
        {
            ["cells"] = cells,
            ["metadata"] = new JsonObject
            {
                ["kernelspec"] = new JsonObject { ["display_name"] = ".NET (C#)", ["language"] = "C#", ["name"] = ".net-csharp" },
                ["language_info"] = new JsonObject { ["name"] = "C#" },
            },
            ["nbformat"] = 4,
            ["nbformat_minor"] = 5,
        }.ToJsonString();
    }
}
