using System.Text.Json;
using AngleSharp.Dom;
using NotebookLab.Tests.Support;

namespace NotebookLab.Tests.Views;

/// <summary>
/// End to end: notebooks/01-gallery.ipynb executes headless with `notebooklab run` (fast mode), every chart output
/// carries an interactive and a static rendition, and nbconvert's HTML export shows the charts without scripts.
/// </summary>
public class GalleryNotebookTests
{
    static string CliDll()
    {
        // The test project references the CLI, so it is built (and has packed NotebookLab) in the same configuration.
        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name; // bin/<configuration>/net10.0
        var dll = Path.Combine(RepoPaths.Root, "src", "NotebookLab.Cli", "bin", configuration, "net10.0", "NotebookLab.Cli.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: build src/NotebookLab.Cli");
        return dll;
    }

    static IEnumerable<(string CellId, JsonElement Data)> RichOutputs(string notebookPath)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(notebookPath));
        foreach (var cell in doc.RootElement.GetProperty("cells").EnumerateArray())
        {
            if (cell.GetProperty("cell_type").GetString() != "code") continue;
            foreach (var output in cell.GetProperty("outputs").EnumerateArray())
                if (output.TryGetProperty("data", out var data))
                    yield return (cell.GetProperty("id").GetString()!, data.Clone());
        }
    }

    static string Joined(JsonElement e) => e.ValueKind == JsonValueKind.Array ? string.Concat(e.EnumerateArray().Select(x => x.GetString())) : e.GetString()!;

    [RequiresToolFact("nbconvert")]
    public void Gallery_executes_headless_and_its_charts_show_with_and_without_scripts()
    {
        var outDir = Directory.CreateTempSubdirectory("nl-gallery-").FullName;
        try
        {
            var source = Path.Combine(RepoPaths.Notebooks, "01-gallery.ipynb");
            var (code, stdout, stderr) = ExternalTools.Run("dotnet", $"\"{CliDll()}\" run \"{source}\" --param fast=true --output \"{outDir}\"",
                TimeSpan.FromMinutes(5), RepoPaths.Root);
            Assert.True(code == 0, $"notebooklab run failed ({code}):\n{stdout}\n{stderr}");
            var executed = Path.Combine(outDir, "01-gallery.ipynb");
            Assert.Null(ExternalTools.NbformatError(executed));

            // Every chart output: interactive (plotly loader script) and static (SVG inline in the HTML and as image/svg+xml).
            var charts = RichOutputs(executed).Where(o => o.Data.TryGetProperty("text/html", out var h) && Joined(h).Contains("class=\"nl-chart\"")).ToList();
            Assert.True(charts.Count >= 9, $"expected every chart kind in the gallery, found {charts.Count} chart outputs");
            foreach (var (cellId, data) in charts)
            {
                Assert.True(data.TryGetProperty("image/svg+xml", out var svg), $"cell {cellId}: chart output without image/svg+xml");
                HtmlAssert.ParseSvg(Joined(svg));
                var html = HtmlAssert.Parse(Joined(data.GetProperty("text/html")));
                Assert.NotNull(html.QuerySelector(".nl-chart .nl-chart-static svg"));
                Assert.Contains("Plotly.newPlot", html.QuerySelector(".nl-chart script")!.TextContent);
            }
            var grids = RichOutputs(executed).Where(o => o.Data.TryGetProperty("text/html", out var h) && Joined(h).Contains("nl-image-grid")).ToList();
            Assert.Equal(2, grids.Count);
            Assert.All(grids, g => Assert.True(g.Data.TryGetProperty("image/svg+xml", out _)));
            Assert.Contains(charts, c => c.CellId == "train"); // the live monitor's final state is a chart too
            Assert.Contains(charts, c => c.CellId == "plotly"); // a plain Plotly.NET GenericChart

            // nbconvert (Debian's Jupyter): the static SVGs are in the page, outside scripts, and visible by default.
            var (nbCode, nbOut, nbErr) = ExternalTools.Run(ExternalTools.SystemPython, $"-m nbconvert --to html \"{executed}\" --output-dir \"{outDir}\"", TimeSpan.FromMinutes(2));
            Assert.True(nbCode == 0, $"nbconvert failed: {nbOut}\n{nbErr}");
            var page = HtmlAssert.Parse(File.ReadAllText(Path.Combine(outDir, "01-gallery.html")));
            var statics = page.QuerySelectorAll(".nl-chart-static").ToList();
            Assert.True(statics.Count >= charts.Count, $"{statics.Count} static charts in the exported page for {charts.Count} chart outputs");
            foreach (var s in statics)
            {
                Assert.NotNull(s.QuerySelector("svg polyline, svg rect, svg ellipse, svg polygon"));
                Assert.DoesNotContain("display:none", (s.GetAttribute("style") ?? "").Replace(" ", ""));
                Assert.Null(s.Closest("script"));
            }
            foreach (var interactive in page.QuerySelectorAll(".nl-chart-interactive"))
                Assert.Contains("display:none", interactive.GetAttribute("style")!.Replace(" ", ""));
            Assert.Equal(2, page.QuerySelectorAll(".nl-image-grid figure.nl-tile img").Select(i => i.Closest(".nl-image-grid")).Distinct().Count());
        }
        finally { Directory.Delete(outDir, recursive: true); }
    }
}
