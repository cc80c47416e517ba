using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using NotebookLab.Tests.Cli;
using NotebookLab.Tests.Support;

namespace NotebookLab.Tests.Jupyter;

/// <summary>
/// The kernel as students meet it: Debian's Jupyter Notebook server on 127.0.0.1 with NotebookLab's kernel, opened
/// in headless Chromium (/usr/bin/chromium) driven by Playwright. A chart cell and a live training-monitor cell run;
/// the chart is in the page and the monitor is updated in place (one output that changes while the cell runs).
/// A screenshot is saved as a test artifact: artifacts/test-results/kernel-browser.png.
/// </summary>
public class BrowserTests : IClassFixture<InstalledKernel>
{
    readonly InstalledKernel kernel;

    public BrowserTests(InstalledKernel kernel) => this.kernel = kernel;

    static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    [RequiresToolFact("chromium", "jupyter-notebook")]
    public async Task A_chart_and_a_live_monitor_render_in_Jupyter_Notebook_in_Chromium()
    {
        var dir = Directory.CreateTempSubdirectory("nl-browser-").FullName;
        var token = Guid.NewGuid().ToString("N");
        var port = FreePort();
        Process? server = null;
        var serverLog = new System.Text.StringBuilder();
        try
        {
            File.WriteAllText(Path.Combine(dir, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration><packageSources><add key="notebooklab-local" value="{RepoPaths.LocalPackages}" /></packageSources></configuration>
                """);
            var notebook = JsonNode.Parse(CliRunner.Notebook(
                "#r \"nuget: TorchSharp-cpu, 0.107.0\"\n#r \"nuget: NotebookLab, *-*\"",
                "using NotebookLab.Views;\nusing NotebookLab.Views.Charts;\nCharts.Bars(new Dictionary<string, double> { [\"ours\"] = 0.9, [\"baseline\"] = 0.7 }, \"Browser test\", \"accuracy\")",
                "var monitor = TrainingMonitor.Start(24, stepsPerEpoch: 8, title: \"live in the browser\", maxUpdatesPerSecond: 8);\n" +
                "for (int s = 1; s <= 24; s++)\n{\n    System.Threading.Thread.Sleep(150);\n    monitor.Log(s, new() { [\"loss\"] = 1.0 / s });\n" +
                "    if (s % 8 == 0) monitor.EndEpoch(s / 8, new() { [\"val_loss\"] = 1.2 / s });\n}\nmonitor.Complete();"))!;
            notebook["metadata"]!["kernelspec"] = new JsonObject { ["name"] = kernel.Name, ["display_name"] = "C# (NotebookLab)", ["language"] = "C#" };
            File.WriteAllText(Path.Combine(dir, "browser.ipynb"), notebook.ToJsonString());

            var psi = new ProcessStartInfo(ExternalTools.SystemPython)
            {
                ArgumentList = { "-m", "notebook", "--no-browser", "--allow-root", "--ip=127.0.0.1", $"--port={port}", "--port-retries=0",
                                 $"--NotebookApp.token={token}", $"--NotebookApp.notebook_dir={dir}" },
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dir,
            };
            psi.Environment["JUPYTER_PATH"] = kernel.JupyterPath;
            psi.Environment["JUPYTER_CONFIG_DIR"] = Path.Combine(dir, ".config");
            psi.Environment["JUPYTER_RUNTIME_DIR"] = Path.Combine(dir, ".runtime");
            server = Process.Start(psi)!;
            server.OutputDataReceived += (_, e) => { lock (serverLog) serverLog.AppendLine(e.Data); };
            server.ErrorDataReceived += (_, e) => { lock (serverLog) serverLog.AppendLine(e.Data); };
            server.BeginOutputReadLine();
            server.BeginErrorReadLine();
            using (var http = new HttpClient())
            {
                var deadline = DateTime.UtcNow.AddSeconds(60);
                while (true)
                {
                    try
                    {
                        if ((await http.GetAsync($"http://127.0.0.1:{port}/api/status?token={token}")).IsSuccessStatusCode) break;
                    }
                    catch (HttpRequestException) { }
                    Assert.True(DateTime.UtcNow < deadline, "the Jupyter Notebook server did not start within 60 s");
                    if (server.HasExited) Assert.Fail($"the Jupyter Notebook server exited ({server.ExitCode}):\n{serverLog}");
                    await Task.Delay(250);
                }
            }

            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new()
            {
                ExecutablePath = "/usr/bin/chromium", Headless = true, Args = ["--no-sandbox"],
            });
            var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 1600 } });
            await page.GotoAsync($"http://127.0.0.1:{port}/notebooks/browser.ipynb?token={token}");
            await page.WaitForFunctionAsync("() => window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected()",
                null, new() { Timeout = 120_000 });
            await page.EvaluateAsync("() => Jupyter.notebook.execute_all_cells()");

            // While the cells run, watch the monitor cell's outputs: always one output area, its content changing.
            var snapshots = new List<string>();
            int mostAreas = 0;
            var stopwatch = Stopwatch.StartNew();
            while (true)
            {
                var state = await page.EvaluateAsync<System.Text.Json.JsonElement>("""
                    () => {
                      const cells = Jupyter.notebook.get_cells();
                      const monitor = cells[2].output_area.element[0];
                      return {
                        done: cells.every(c => typeof c.input_prompt_number === 'number'),
                        areas: monitor.querySelectorAll('.output_area').length,
                        html: monitor.innerHTML,
                      };
                    }
                    """);
                int areas = state.GetProperty("areas").GetInt32();
                var html = state.GetProperty("html").GetString()!;
                mostAreas = Math.Max(mostAreas, areas);
                if (areas > 0 && (snapshots.Count == 0 || snapshots[^1] != html)) snapshots.Add(html);
                if (state.GetProperty("done").GetBoolean()) break;
                Assert.True(stopwatch.Elapsed < TimeSpan.FromMinutes(5), "the cells did not finish within 5 minutes");
                await Task.Delay(100);
            }

            Directory.CreateDirectory(Path.Combine(RepoPaths.Root, "artifacts", "test-results"));
            await page.ScreenshotAsync(new() { Path = Path.Combine(RepoPaths.Root, "artifacts", "test-results", "kernel-browser.png"), FullPage = true });

            var errors = await page.EvaluateAsync<string[]>("() => Array.from(document.querySelectorAll('.output_error')).map(e => e.innerText)");
            Assert.True(errors.Length == 0, "error outputs in the page:\n" + string.Join("\n", errors) + "\n" + serverLog);
            var chartSvgs = await page.EvaluateAsync<int>("() => Jupyter.notebook.get_cell(1).output_area.element[0].querySelectorAll('svg').length");
            Assert.True(chartSvgs > 0, "the chart cell shows no <svg> chart");
            Assert.Equal(1, mostAreas);
            Assert.True(snapshots.Count >= 3, $"the monitor changed {snapshots.Count - 1} times while it ran; a live display changes in place");
            var final = snapshots[^1];
            Assert.Contains("svg", final);
        }
        finally
        {
            if (server is { HasExited: false }) { server.Kill(entireProcessTree: true); server.WaitForExit(10_000); }
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }
}
