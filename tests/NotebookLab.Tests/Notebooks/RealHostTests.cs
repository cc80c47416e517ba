using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NotebookLab.Tests.Cli;
using NotebookLab.Tests.Support;

namespace NotebookLab.Tests.Notebooks;

/// <summary>
/// A course notebook executed by a real .NET Interactive host (tests/hosts/run_real_host.py): "jupyter" is Debian's
/// nbclient driving the .NET Interactive Jupyter kernel, "repl" is dotnet-repl. Each notebook runs once per host.
/// </summary>
public sealed record RealHostRun(string Host, string Notebook, string Output, int ExitCode, string Log)
{
    static readonly ConcurrentDictionary<string, Lazy<RealHostRun>> runs = new();
    static readonly string OutputRoot = Directory.CreateTempSubdirectory("nl-real-hosts-").FullName;

    public static RealHostRun Get(string host, string notebook) =>
        runs.GetOrAdd($"{host}/{notebook}", _ => new Lazy<RealHostRun>(() => Execute(host, notebook, ["fast=true"]))).Value;

    /// <summary>Runs a notebook file (anywhere), injecting <paramref name="parameters"/> ("name=value") as papermill does.</summary>
    public static RealHostRun Execute(string host, string notebookPath, IReadOnlyList<string> parameters)
    {
        var path = Path.IsPathRooted(notebookPath) ? notebookPath : Path.Combine(RepoPaths.Notebooks, notebookPath);
        var output = Path.Combine(OutputRoot, host, Path.GetFileName(path));
        var args = new List<string> { Path.Combine(RepoPaths.Root, "tests", "hosts", "run_real_host.py"), host, path, output };
        foreach (var p in parameters) args.AddRange(["--param", p]);
        var (code, stdout, stderr) = ExternalTools.Run(ExternalTools.SystemPython,
            string.Join(" ", args.Select(a => $"\"{a}\"")), TimeSpan.FromMinutes(20));
        return new RealHostRun(host, path, output, code, stdout + stderr);
    }

    public IReadOnlyList<JsonObject> CodeCells()
    {
        Assert.True(File.Exists(Output), $"{Host} wrote no notebook for {Notebook} (exit {ExitCode}):\n{Log}");
        return CliRunner.CodeCells(Output).Cast<JsonObject>().ToList();
    }

    public IReadOnlyList<string> Errors() => CodeCells()
        .SelectMany((c, i) => c["outputs"]!.AsArray().OfType<JsonObject>()
            .Where(o => o["output_type"]!.GetValue<string>() == "error")
            .Select(o => $"code cell {i + 1}: {o["ename"]}: {o["evalue"]}"))
        .ToList();

    /// <summary>The iopub message types per cell index, as the kernel sent them (jupyter only).</summary>
    public JsonObject Messages() => (JsonObject)JsonNode.Parse(File.ReadAllText(Output + ".messages.json"))!;

    /// <summary>The cell that starts the training monitor (in 01-gallery), and the message counts the kernel sent for it.</summary>
    public (JsonObject Cell, JsonObject Messages) MonitorCell()
    {
        var cells = JsonNode.Parse(File.ReadAllText(Output))!["cells"]!.AsArray();
        var index = Enumerable.Range(0, cells.Count)
            .Single(i => CliRunner.MultilineText(cells[i]!["source"]).Contains("TrainingMonitor.Start", StringComparison.Ordinal));
        return ((JsonObject)cells[index]!, (JsonObject)Messages()[index.ToString()]!);
    }
}

/// <summary>
/// "One notebook file, every host": every course notebook runs unchanged, with zero error outputs, in the real
/// .NET Interactive Jupyter kernel and in dotnet-repl, and shows the same kinds of output as in notebooklab.
/// </summary>
[Collection(CourseCollection.Name)]
public class RealHostTests(ExecutedCourseNotebooks ours)
{
    public static TheoryData<string> Notebooks() => new(CourseNotebookTests.NotebookNames());

    [RequiresToolTheory("nbclient", "dotnet-interactive")]
    [MemberData(nameof(Notebooks))]
    public void Runs_unchanged_in_the_dotnet_interactive_jupyter_kernel_with_the_same_output_kinds(string notebook)
    {
        var run = RealHostRun.Get("jupyter", notebook);
        var errors = run.Errors();
        Assert.True(errors.Count == 0, $"{notebook} in .NET Interactive (Jupyter) has error outputs:\n{string.Join("\n", errors)}\n{run.Log}");

        var theirs = run.CodeCells();
        var mine = CliRunner.CodeCells(ours.Executed(notebook)).Cast<JsonObject>().ToList();
        Assert.Equal(mine.Count, theirs.Count);
        var differences = new List<string>();
        for (var i = 0; i < mine.Count; i++)
        {
            // Package cells differ by design: each host reports its own restore ("Installed Packages", extension loading).
            if (Regex.IsMatch(CliRunner.MultilineText(mine[i]["source"]), @"^\s*#[ri]\s", RegexOptions.Multiline)) continue;
            var (a, b) = (OutputKinds(mine[i]), OutputKinds(theirs[i]));
            if (!a.SequenceEqual(b)) differences.Add($"code cell {i + 1}: notebooklab [{string.Join("; ", a)}] vs .NET Interactive [{string.Join("; ", b)}]");
        }
        Assert.True(differences.Count == 0, $"{notebook}: output kinds differ:\n{string.Join("\n", differences)}");
    }

    [RequiresToolTheory("nbformat", "dotnet-repl")]
    [MemberData(nameof(Notebooks))]
    public void Runs_unchanged_in_dotnet_repl(string notebook)
    {
        var run = RealHostRun.Get("repl", notebook);
        var errors = run.Errors();
        Assert.True(errors.Count == 0, $"{notebook} in dotnet-repl has error outputs:\n{string.Join("\n", errors)}\n{run.Log}");
        Assert.True(run.ExitCode == 0, $"dotnet-repl run of {notebook} exited {run.ExitCode}:\n{run.Log}");
        // Every code cell ran: each one that shows something in notebooklab shows something in dotnet-repl too.
        var mine = CliRunner.CodeCells(ours.Executed(notebook));
        var theirs = run.CodeCells();
        var silent = Enumerable.Range(0, mine.Count)
            .Where(i => mine[i]["outputs"]!.AsArray().Count > 0 && theirs[i]["outputs"]!.AsArray().Count == 0).ToList();
        Assert.True(silent.Count == 0, $"{notebook}: code cells without output in dotnet-repl: {string.Join(", ", silent.Select(i => i + 1))}");
    }

    [RequiresToolFact("dotnet-interactive")]
    public void The_live_training_monitor_updates_in_place_in_the_real_kernel_and_ends_as_a_static_chart()
    {
        var (cell, messages) = RealHostRun.Get("jupyter", "01-gallery.ipynb").MonitorCell();
        var updates = messages["update_display_data"]?.GetValue<int>() ?? 0;
        Assert.True(updates >= 2, $"the monitor cell sent {updates} update_display_data messages: {messages.ToJsonString()}");
        Assert.Equal(1, messages["display_data"]?.GetValue<int>());

        var shown = cell["outputs"]!.AsArray().OfType<JsonObject>().Single(o => o["output_type"]!.GetValue<string>() == "display_data");
        var data = (JsonObject)shown["data"]!;
        Assert.True(data.ContainsKey("image/svg+xml"), $"the monitor's last state has no static chart: {string.Join(", ", data.Select(kv => kv.Key))}");
        Assert.Contains("<svg", CliRunner.MultilineText(data["image/svg+xml"]));
    }

    public static TheoryData<bool> LoadOrders() => new(true, false);

    [RequiresToolTheory("nbclient", "dotnet-interactive")]
    [MemberData(nameof(LoadOrders))]
    public void A_plotly_chart_keeps_its_static_rendition_when_Plotly_NET_Interactive_is_loaded_too(bool notebookLabFirst)
    {
        var dir = Directory.CreateTempSubdirectory("nl-plotly-interactive-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration><packageSources><add key="notebooklab-local" value="{RepoPaths.LocalPackages}" /></packageSources></configuration>
                """);
            string[] load = ["#r \"nuget: TorchSharp-cpu, 0.107.0\"\n#r \"nuget: NotebookLab, *-*\"", "#r \"nuget: Plotly.NET.Interactive, 6.0.0\""];
            if (!notebookLabFirst) Array.Reverse(load);
            var path = Path.Combine(dir, "plotly.ipynb");
            File.WriteAllText(path, CliRunner.Notebook(load[0], load[1],
                """
                var chart = Plotly.NET.GenericChart.ofTraceObject(true, Plotly.NET.Trace2D.initScatter(
                    Microsoft.FSharp.Core.FuncConvert.FromFunc<Plotly.NET.Trace2D, Plotly.NET.Trace2D>(t =>
                    { t.SetProperty("x", new[] { 1, 2, 3 }); t.SetProperty("y", new[] { 1, 4, 9 }); t.SetProperty("mode", "lines"); return t; })));
                chart
                """));
            var run = RealHostRun.Execute("jupyter", path, []);
            Assert.True(run.Errors().Count == 0, string.Join("\n", run.Errors()) + run.Log);
            var result = run.CodeCells()[^1]["outputs"]!.AsArray().OfType<JsonObject>().Single(o => o["output_type"]!.GetValue<string>() == "execute_result");
            var data = (JsonObject)result["data"]!;
            Assert.True(data.ContainsKey("image/svg+xml"), $"keys: {string.Join(", ", data.Select(kv => kv.Key))}");
            Assert.Contains("nl-chart-static", CliRunner.MultilineText(data["text/html"]));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>
    /// What a cell shows, kind by kind: "stream:stdout", "error", or "display_data[mime,…]" (execute_result alike).
    /// Consecutive stream chunks are one; a stderr stream holding only CS1701/CS1702 warnings is not something the
    /// notebook shows (.NET Interactive prints CS1701 for TorchSharp's net8 reference to System.Runtime.Numerics, which
    /// SDK builds silence by default). Any other warning .NET Interactive prints counts: students would see it.
    /// </summary>
    internal static List<string> OutputKinds(JsonObject cell)
    {
        var kinds = new List<string>();
        foreach (var output in cell["outputs"]!.AsArray().OfType<JsonObject>())
        {
            var type = output["output_type"]!.GetValue<string>();
            string kind;
            if (type == "stream")
            {
                var text = CliRunner.MultilineText(output["text"]);
                if (output["name"]!.GetValue<string>() == "stderr" && text.Split('\n').All(l => l.Trim().Length == 0 || Regex.IsMatch(l, @"^\s*(\(\d+,\d+\): )?warning CS170[12]:")))
                    continue;
                kind = $"stream:{output["name"]}";
            }
            else if (type == "error") kind = "error";
            else kind = $"{type}[{string.Join(",", ((JsonObject)output["data"]!).Select(kv => kv.Key).Order(StringComparer.Ordinal))}]";
            if (type == "stream" && kinds.Count > 0 && kinds[^1] == kind) continue;
            kinds.Add(kind);
        }
        return kinds;
    }
}
