using Microsoft.DotNet.Interactive.Formatting;
using NotebookLab.Checks;
using NotebookLab.Evaluation;
using NotebookLab.Training;
using NotebookLab.Views;
using NotebookLab.Views.Charts;
using static TorchSharp.torch;

namespace NotebookLab.Tests.Views;

/// <summary>Every <see cref="IMimeView"/> in NotebookLab lists exactly the mime types it renders, and hosts get those.</summary>
[Collection(nameof(LiveDisplayCollection))]
public class MimeViewContractTests
{
    static IReadOnlyList<IMimeView> Samples()
    {
        using var images = rand(4, 1, 8, 8);
        using var model = nn.Sequential(("fc", nn.Linear(3, 2)));
        return
        [
            Charts.Lines([0, 1, 2], "t", null, null, ("y", [1, 2, 3])),
            new ChartTable("accuracy", ["k", "probe"], [["1", "58.9 %"], ["10", "73.1 %"]]),
            Charts.ImageGrid(images, labels: [0, 1, 0, 1], predictions: [0, 1, 1, 1]),
            new TensorView(ones(2, 3)),
            ModelSummary.Summary(model),
            RenderCostTests.MonitorWithCurves(),
            new MimeBundleView(new Dictionary<string, string> { [MimeType.Html] = "<b>x</b>", [MimeType.PlainText] = "x" }),
            new History(TaskKind.Classification, 2, 10),
            Metrics.ConfusionMatrix([0, 1, 1], [0, 1, 0], classNames: ["a", "b"]),
            Check.Parameters(model),
            Check.GradCheck(x => x.square().sum(), tensor(new double[] { 1, 2 })),
            DeviceReport.Collect(),
            new NotebookLab.Grading.CheckReport("q1", [
                new(new("q1", "passes", 1, () => { }), true, "", TimeSpan.FromMilliseconds(3)),
                new(new("q1", "fails", 2, () => { }), false, "expected <1> & got 2", TimeSpan.FromMilliseconds(5))]),
        ];
    }

    [Fact]
    public void Every_view_type_in_the_library_has_a_sample_here()
    {
        var types = typeof(IMimeView).Assembly.GetTypes()
            .Where(t => typeof(IMimeView).IsAssignableFrom(t) && t is { IsClass: true, IsAbstract: false }).ToHashSet();
        Assert.Equal(types.OrderBy(t => t.Name).Select(t => t.Name), Samples().Select(v => v.GetType()).Distinct().OrderBy(t => t.Name).Select(t => t.Name));
    }

    [Fact]
    public void Every_listed_mime_type_renders_and_no_other_does()
    {
        foreach (var view in Samples())
        {
            var name = view.GetType().Name;
            Assert.True(view.MimeTypes.Count > 0, name);
            Assert.Equal(view.MimeTypes.Count, view.MimeTypes.Distinct().Count());
            Assert.Contains(MimeType.PlainText, view.MimeTypes);
            foreach (var mime in view.MimeTypes)
            {
                var content = view.Render(mime);
                Assert.False(string.IsNullOrWhiteSpace(content), $"{name} rendered an empty {mime}");
                if (mime == MimeType.Html) Assert.NotNull(HtmlAssert.Parse(content).Body!.FirstElementChild);
                if (mime == MimeType.Svg) Assert.Equal("svg", HtmlAssert.ParseSvg(content).Root!.Name.LocalName);
            }
            Assert.Throws<ArgumentException>(() => view.Render("application/json"));
            Assert.Equal(view.MimeTypes, view.ToMimeBundle().Keys);
        }
    }

    [Fact]
    public void Hosts_prefer_the_listed_mime_types_and_get_the_views_own_rendition()
    {
        foreach (var view in Samples())
        {
            var name = view.GetType().Name;
            Assert.Equal(view.MimeTypes, Formatter.GetPreferredMimeTypesFor(view.GetType()));
            // Text is compared; HTML and SVG of live values (elapsed time, a device probe) may move between two renders.
            Assert.Equal(view.Render(MimeType.PlainText), ((object)view).ToDisplayString(MimeType.PlainText));
            if (view is ChartView or ImageGridView or History or ConfusionMatrix)
                foreach (var mime in view.MimeTypes)
                    Assert.True(view.Render(mime) == ((object)view).ToDisplayString(mime), $"{name}: the formatter's {mime} differs from Render");
        }
    }
}
