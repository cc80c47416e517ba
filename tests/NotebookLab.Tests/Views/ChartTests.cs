using System.Globalization;
using System.Text.Json;
using System.Xml.Linq;
using NotebookLab.Views.Charts;
using Plotly.NET;
using static TorchSharp.torch;

namespace NotebookLab.Tests.Views;

public class ChartTests
{
    static readonly XNamespace S = HtmlAssert.Svg;

    static (double X, double Y)[] Points(XElement polyline) =>
        [.. polyline.Attribute("points")!.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split(',')).Select(a => (double.Parse(a[0], CultureInfo.InvariantCulture), double.Parse(a[1], CultureInfo.InvariantCulture)))];

    /// <summary>The polylines drawn in a series colour (OxyPlot writes the stroke in the style attribute).</summary>
    static List<XElement> PolylinesIn(XDocument svg, string hexColor) =>
        [.. svg.Descendants(S + "polyline").Where(p => (p.Attribute("style")?.Value ?? "").Contains("stroke:" + Rgb(hexColor)))];

    /// <summary>OxyPlot writes colours as rgb(r,g,b).</summary>
    static string Rgb(string hex) =>
        $"rgb({Convert.ToInt32(hex[1..3], 16)},{Convert.ToInt32(hex[3..5], 16)},{Convert.ToInt32(hex[5..7], 16)})";

    static List<XElement> FilledWith(XDocument svg, string element, string hexColor) =>
        [.. svg.Descendants(S + element).Where(e => (e.Attribute("style")?.Value ?? "").Contains("fill:" + Rgb(hexColor)))];

    static void AssertAffine(double[] data, double[] pixels)
    {
        // Pixels must be an affine image of the data: fit on the first and last point, check every other point.
        var scale = (pixels[^1] - pixels[0]) / (data[^1] - data[0]);
        for (var i = 0; i < data.Length; i++)
            Assert.Equal(pixels[0] + (data[i] - data[0]) * scale, pixels[i], 1);
    }

    /// <summary>The width of the clip box around the legend entry that shows <paramref name="label"/>.</summary>
    static double LegendRoomFor(XDocument svg, string label)
    {
        var text = svg.Descendants(S + "text").Single(t => t.Value == label);
        var clipId = text.Parent!.Attribute("clip-path")!.Value["url(#".Length..^1];
        var rect = svg.Descendants(S + "clipPath").Single(c => c.Attribute("id")!.Value == clipId).Element(S + "rect")!;
        return double.Parse(rect.Attribute("width")!.Value, CultureInfo.InvariantCulture);
    }

    [Fact]
    public void Legend_labels_with_greek_letters_get_as_much_room_as_latin_ones()
    {
        double[] x = [1, 2, 3];
        var greek = HtmlAssert.ParseSvg(Charts.Lines(x, "g", "t", "y", ("ρ = 0.5", [1, 2, 3]), ("ρ = 1.5", [3, 2, 1])).ToSvg());
        var latin = HtmlAssert.ParseSvg(Charts.Lines(x, "g", "t", "y", ("p = 0.5", [1, 2, 3]), ("p = 1.5", [3, 2, 1])).ToSvg());
        // OxyPlot's default measurer gives non-Latin-1 characters no width, which clipped "ρ = 0.5" to "ρ = 0".
        double greekRoom = LegendRoomFor(greek, "ρ = 0.5"), latinRoom = LegendRoomFor(latin, "p = 0.5");
        Assert.True(greekRoom >= latinRoom, $"legend room for 'ρ = 0.5' is {greekRoom:F1} px, for 'p = 0.5' {latinRoom:F1} px");
    }

    [Fact]
    public void Training_curves_static_svg_plots_every_point_of_each_split_and_the_figure_has_the_same_data()
    {
        var history = new Dictionary<string, List<double>>
        {
            ["train_loss"] = [2.0, 1.2, 0.8, 0.6, 0.5],
            ["val_loss"] = [2.1, 1.5, 1.1, 1.0, 1.05],
            ["val_acc"] = [0.3, 0.55, 0.7, 0.74, 0.76],
        };
        var view = Charts.TrainingCurves(history);
        Assert.Equal(["loss", "acc"], view.Panels.Select(p => p.Title));

        var svg = HtmlAssert.ParseSvg(view.ToSvg());
        var train = PolylinesIn(svg, Palette.At(0)).OrderByDescending(p => Points(p).Length).First();
        var val = PolylinesIn(svg, Palette.At(1)).Where(p => (p.Attribute("style")!.Value).Contains("stroke-dasharray")).ToList();
        Assert.Equal(5, Points(train).Length);
        AssertAffine(history["train_loss"].ToArray(), [.. Points(train).Select(p => p.Y)]);
        AssertAffine([1, 2, 3, 4, 5], [.. Points(train).Select(p => p.X)]);
        Assert.NotEmpty(val); // validation dashed

        var figure = JsonDocument.Parse(GenericChart.toFigureJson(view.ToGenericCharts()[0])).RootElement;
        var data = figure.GetProperty("data");
        Assert.Equal(2, data.GetArrayLength());
        Assert.Equal(history["val_loss"], data[1].GetProperty("y").EnumerateArray().Select(e => e.GetDouble()));
        Assert.Equal("dash", data[1].GetProperty("line").GetProperty("dash").GetString());
    }

    [Fact]
    public void Chart_html_carries_the_static_svg_before_the_interactive_loader()
    {
        var view = Charts.Lines([0, 1, 2], "squares", "x", "y", ("x²", [0, 1, 4]));
        var doc = HtmlAssert.Parse(view.ToHtml());
        var chart = doc.QuerySelector(".nl-chart")!;
        var staticSvg = chart.QuerySelector(".nl-chart-static svg");
        Assert.NotNull(staticSvg);
        var interactive = chart.QuerySelector(".nl-chart-interactive")!;
        Assert.Equal("display:none", interactive.GetAttribute("style")!.Split(';').Last(s => s.Length > 0));
        var script = chart.QuerySelector("script")!.TextContent;
        Assert.Contains(interactive.Id!, script);
        Assert.Contains("window.Plotly", script);
        Assert.Contains("requirejs", script);
        Assert.Contains("\"y\":[0.0,1.0,4.0]", script);
        Assert.Contains(MimeTypesOf(view), k => k == "image/svg+xml");
    }

    static IEnumerable<string> MimeTypesOf(NotebookLab.Views.IMimeView v) => v.MimeTypes;

    [Fact]
    public void Two_charts_in_one_page_do_not_share_svg_ids()
    {
        var a = Charts.Lines([0, 1], null, null, null, ("a", [0, 1])).ToHtml();
        var b = Charts.Lines([0, 1], null, null, null, ("b", [1, 0])).ToHtml();
        var doc = HtmlAssert.Parse(a + b);
        var ids = doc.QuerySelectorAll("[id]").Select(e => e.Id).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void Heatmap_annotates_every_cell_with_its_value_in_both_renditions()
    {
        var w = new double[,] { { 0.7, 0.2, 0.1 }, { 0.1, 0.8, 0.1 } };
        var view = Charts.Heatmap(w, ["the", "cat", "sat"], ["le", "chat"], "attention");
        var svg = HtmlAssert.ParseSvg(view.ToSvg());
        var texts = svg.Descendants(S + "text").Select(t => t.Value).ToList();
        foreach (var v in new[] { "0.70", "0.20", "0.10", "0.80" }) Assert.Contains(v, texts);
        Assert.Contains("cat", texts);
        Assert.Contains("chat", texts);
        // The 2×3 cells are the wide filled rectangles (the colour bar's steps are narrow, the background is white).
        var cells = svg.Descendants(S + "rect").Where(r => r.Parent?.Name != S + "clipPath" && (r.Attribute("style")?.Value ?? "").StartsWith("fill:rgb(")
            && !(r.Attribute("style")!.Value.StartsWith("fill:rgb(255,255,255)")) && double.Parse(r.Attribute("width")!.Value, CultureInfo.InvariantCulture) > 20).ToList();
        Assert.Equal(6, cells.Count);
        // The largest weight (0.8) gets viridis' top colour (yellow), the smallest (0.1) its bottom (purple).
        double X(XElement r) => double.Parse(r.Attribute("x")!.Value, CultureInfo.InvariantCulture);
        double Y(XElement r) => double.Parse(r.Attribute("y")!.Value, CultureInfo.InvariantCulture);
        int Brightness(XElement r) => r.Attribute("style")!.Value[9..r.Attribute("style")!.Value.IndexOf(')')].Split(',').Sum(int.Parse);
        var brightest = cells.MaxBy(Brightness)!;
        var columnsX = cells.Select(X).Distinct().Order().ToArray();
        var rowsY = cells.Select(Y).Distinct().Order().ToArray();
        Assert.Equal((columnsX[1], rowsY[1]), (X(brightest), Y(brightest))); // w[1,1] = 0.8, row 0 on top
        Assert.Equal(3, cells.Count(c => Brightness(c) == Brightness(cells.MinBy(Brightness)!))); // the three 0.1 cells
        var fig = JsonDocument.Parse(GenericChart.toFigureJson(view.ToGenericChart())).RootElement.GetProperty("data")[0];
        Assert.Equal("heatmap", fig.GetProperty("type").GetString());
        Assert.Equal(0.8, fig.GetProperty("z")[1][1].GetDouble());
        Assert.Equal("reversed", JsonDocument.Parse(GenericChart.toFigureJson(view.ToGenericChart())).RootElement.GetProperty("layout").GetProperty("yaxis").GetProperty("autorange").GetString());
    }

    [Fact]
    public void Confusion_matrix_counts_rows_as_true_classes()
    {
        int[] actual = [0, 0, 0, 1, 1, 2];
        int[] predicted = [0, 0, 1, 1, 1, 0];
        var view = Charts.ConfusionMatrix(actual, predicted, ["cat", "dog", "bird"]);
        var m = Assert.IsType<HeatmapSeries>(view.Panels[0].Series[0]);
        Assert.Equal(2.0 / 3, m.Z[0, 0], 9);
        Assert.Equal(1.0, m.Z[1, 1]);
        Assert.Equal(1.0, m.Z[2, 0]);
        Assert.Equal("2", m.CellText![0, 0]);
        Assert.Contains("66.7%", view.Panels[0].Title);
        var texts = HtmlAssert.ParseSvg(view.ToSvg()).Descendants(S + "text").Select(t => t.Value).ToList();
        Assert.Equal(2, texts.Count(t => t == "2")); // [cat,cat] and [dog,dog]
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Charts.ConfusionMatrix([0, 5], [0, 1], ["a", "b"]));
        Assert.Contains("item 1", e.Message);
    }

    [Fact]
    public void Bars_draw_one_bar_per_category_with_lengths_proportional_to_values()
    {
        var view = Charts.Bars(new Dictionary<string, double> { ["MLP"] = 0.85, ["CNN"] = 0.91, ["ResNet"] = 0.94 }, "accuracy");
        var svg = HtmlAssert.ParseSvg(view.ToSvg());
        var fill = Palette.At(0);
        var bars = FilledWith(svg, "polygon", fill).Concat(FilledWith(svg, "rect", fill)).ToList();
        Assert.Equal(3, bars.Count);
        var lengths = bars.Select(BarLength).ToArray();
        Assert.Equal(0.85 / 0.94, lengths[0] / lengths[2], 2);
        Assert.Equal(0.91 / 0.94, lengths[1] / lengths[2], 2);
        var texts = svg.Descendants(S + "text").Select(t => t.Value).ToList();
        Assert.Contains("0.91", texts);
        Assert.Contains("ResNet", texts);
    }

    static double BarLength(XElement e)
    {
        if (e.Name == S + "rect") return double.Parse(e.Attribute("width")!.Value, CultureInfo.InvariantCulture);
        var xs = e.Attribute("points")!.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(p => double.Parse(p.Split(',')[0], CultureInfo.InvariantCulture)).ToArray();
        return xs.Max() - xs.Min();
    }

    [Fact]
    public void Embedding_projects_with_pca_and_lists_cosine_neighbours()
    {
        manual_seed(0);
        var centres = tensor(new float[] { 5, 0, 0, 0, 0, 5, 0, 0 }).reshape(2, 4);
        var x = cat([centres[0].expand(20, 4) + randn(20, 4) * 0.1f, centres[1].expand(20, 4) + randn(20, 4) * 0.1f]);
        var labels = Enumerable.Range(0, 40).Select(i => i < 20 ? "a" : "b").ToArray();
        var view = Charts.Embedding(x, labels, queries: [0, 25], neighbours: 3);
        Assert.Equal(2, view.Panels[0].Series.Count);
        var a = Assert.IsType<ScatterSeries>(view.Panels[0].Series[0]);
        var b = Assert.IsType<ScatterSeries>(view.Panels[0].Series[1]);
        Assert.True(Math.Abs(a.X.Average() - b.X.Average()) > 5, "clusters separate along PC1");
        Assert.Contains("PC1 (", view.Panels[0].XAxis.Title);
        var rows = view.Tables[0].Rows;
        Assert.Equal(2, rows.Length);
        var neighboursOf25 = rows[1][2].Split(", ").Select(s => int.Parse(s.Split(' ')[0][1..])).ToArray();
        Assert.Equal(3, neighboursOf25.Length);
        Assert.All(neighboursOf25, n => Assert.InRange(n, 20, 39)); // all in cluster b
        Assert.DoesNotContain(25, neighboursOf25);
        var doc = HtmlAssert.Parse(view.ToHtml());
        Assert.Equal(2, doc.QuerySelectorAll("table.nl-chart-table tbody tr").Length);
        var svg = HtmlAssert.ParseSvg(view.ToSvg());
        Assert.Equal(20 + 1, FilledWith(svg, "ellipse", Palette.At(0)).Count); // 20 points + the legend's marker
        Assert.Equal(20 + 1, FilledWith(svg, "ellipse", Palette.At(1)).Count);

        var view3 = Charts.Embedding(x, labels, dims: 3);
        Assert.IsType<Scatter3DSeries>(view3.Panels[0].Series[0]);
        Assert.Contains("scatter3d", GenericChart.toFigureJson(view3.ToGenericChart()));
    }

    [Fact]
    public void Image_grid_frames_wrong_predictions_red_in_html_and_svg()
    {
        var images = rand(6, 1, 8, 8);
        var view = Charts.ImageGrid(images, [0, 1, 2, 0, 1, 2], [0, 1, 0, 0, 2, 2], ["zero", "one", "two"], columns: 3);
        Assert.Equal(2, view.WrongCount);
        var doc = HtmlAssert.Parse(view.ToHtml());
        Assert.Equal(6, doc.QuerySelectorAll("figure.nl-tile img[src^='data:image/png;base64,']").Length);
        Assert.Equal(["two → zero", "one → two"], doc.QuerySelectorAll("figure.nl-wrong figcaption").Select(f => f.TextContent));
        var svg = HtmlAssert.ParseSvg(view.ToSvg());
        Assert.Equal(6, svg.Descendants(S + "image").Count());
        Assert.Equal(2, svg.Descendants(S + "rect").Count(r => r.Attribute("stroke")?.Value == "#d62728"));
        Assert.Throws<ArgumentException>(() => Charts.ImageGrid(rand(2, 2, 8, 8)));
    }

    [Fact]
    public void A_plain_plotly_chart_is_read_back_for_its_static_rendition()
    {
        var trace = new Trace2D("scatter");
        trace.SetProperty("x", new[] { 1, 2, 3 });
        trace.SetProperty("y", new[] { 3.0, 1.0, 2.0 });
        trace.SetProperty("mode", "lines");
        trace.SetProperty("name", "mine");
        var chart = GenericChart.ofTraceObject(true, trace);
        var spec = GenericChartConversion.TryToSpec(chart, out var why);
        Assert.Null(why);
        var line = Assert.IsType<LineSeries>(Assert.Single(spec!.Series));
        Assert.Equal([3.0, 1.0, 2.0], line.Y);
    }

    [Fact]
    public void Mismatched_series_lengths_are_a_clear_error()
    {
        var e = Assert.Throws<ArgumentException>(() => Charts.Lines([0, 1, 2], null, null, null, ("bad", [1, 2])));
        Assert.Contains("'bad'", e.Message);
    }
}

/// <summary>Changes the process-wide plotly.js source, so it runs apart from the other chart tests.</summary>
[Collection(nameof(LiveDisplayCollection))]
public class PlotlyOfflineTests
{
    [Fact]
    public void Offline_mode_embeds_plotly_js_once_and_hides_amd_define_while_it_loads()
    {
        try
        {
            PlotlyHtml.UseOffline();
            var first = Charts.Lines([0, 1], null, null, null, ("a", [0, 1])).ToHtml();
            var second = Charts.Lines([0, 1], null, null, null, ("b", [1, 0])).ToHtml();
            Assert.True(first.Length > 3_000_000, $"first chart should carry plotly.js, is {first.Length} chars");
            Assert.True(second.Length < 200_000, $"second chart should reuse it, is {second.Length} chars");
            var scripts = first.Split("<script", StringSplitOptions.None).Skip(1).ToList();
            Assert.Equal(4, scripts.Count); // hide define, plotly.js, restore define, the chart's loader
            Assert.Contains("window.define = undefined", scripts[0]);
            Assert.Contains("window.define = window.__nlDefine", scripts[2]);
            Assert.Equal(1, second.Split("<script").Length - 1);
        }
        finally { PlotlyHtml.Source = PlotlyJsSource.Cdn; }
    }
}
