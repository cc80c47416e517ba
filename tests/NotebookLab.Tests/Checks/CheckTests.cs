using Microsoft.DotNet.Interactive.Formatting;
using NotebookLab.Checks;
using NotebookLab.Training;
using TorchSharp;
using static NotebookLab.Checks.Check;
using static TorchSharp.torch;

namespace NotebookLab.Tests.Checks;

public class CheckTests
{
    [Fact]
    public void CheckShape_accepts_wildcards_and_returns_the_tensor()
    {
        var t = torch.zeros(8, 3, 28);
        Assert.Same(t, CheckShape(t, [-1, 3, 28], "images"));
    }

    [Fact]
    public void CheckShape_names_the_wrong_dimension()
    {
        var error = Assert.Throws<CheckFailedException>(() => CheckShape(torch.zeros(8, 3, 28), [-1, 4, 28], "images"));
        Assert.Equal("images has shape [8, 3, 28], expected [*, 4, 28]: dim 1 is 3, expected 4.", error.Message);
        var rank = Assert.Throws<CheckFailedException>(() => CheckShape(torch.zeros(8, 3), [8, 3, 1], "h"));
        Assert.Equal("h has shape [8, 3], expected [8, 3, 1]: 2 dimension(s) instead of 3.", rank.Message);
    }

    [Fact]
    public void CheckClose_passes_within_tolerance()
    {
        CheckClose(torch.tensor(new[] { 1.0, 2.0 }), torch.tensor(new[] { 1.0 + 1e-7, 2.0 }));
        CheckClose(torch.tensor(new[] { 1f, 2f }), torch.tensor(new[] { 1.0, 2.0 }));
        CheckClose(0.30000000000000004, 0.3);
    }

    [Fact]
    public void CheckClose_reports_count_worst_index_values_and_errors()
    {
        var expected = torch.arange(6, dtype: float64).reshape(2, 3);
        var actual = expected.clone();
        actual[1, 2] = torch.tensor(5.5);
        actual[0, 1] = torch.tensor(1.01);
        var error = Assert.Throws<CheckFailedException>(() => CheckClose(actual, expected, rtol: 1e-3, atol: 1e-6, name: "logits"));
        Assert.Contains("logits is not close to expected (rtol=1.00e-03, atol=1.00e-06): 2 of 6 element(s) differ (33.33 %).", error.Message);
        Assert.Contains("worst at index [1, 2]: logits = 5.5, expected = 5 (abs error 5.00e-01, rel error 1.00e-01)", error.Message);
        Assert.Contains("max abs error 5.00e-01, max rel error 1.00e-01", error.Message);
    }

    [Fact]
    public void CheckClose_treats_an_infinity_as_close_only_to_the_same_infinity()
    {
        var inf = double.PositiveInfinity;
        Assert.Throws<CheckFailedException>(() => CheckClose(torch.tensor(new[] { 0.0, 1.0 }), torch.tensor(new[] { -inf, 1.0 })));   // −∞ expected, 0 found
        Assert.Throws<CheckFailedException>(() => CheckClose(torch.tensor(new[] { -inf }), torch.tensor(new[] { 0.0 })));
        Assert.Throws<CheckFailedException>(() => CheckClose(torch.tensor(new[] { inf }), torch.tensor(new[] { -inf })));
        CheckClose(torch.tensor(new[] { -inf, inf, 2.0 }), torch.tensor(new[] { -inf, inf, 2.0 }));
        Assert.Throws<CheckFailedException>(() => CheckClose(0.0, -inf));
        Assert.Throws<CheckFailedException>(() => CheckClose(inf, 1e300));
        CheckClose(-inf, -inf);
    }

    [Fact]
    public void CheckClose_flags_nan_and_shape_mismatch()
    {
        var error = Assert.Throws<CheckFailedException>(() => CheckClose(torch.tensor(new[] { 1.0, double.NaN }), torch.tensor(new[] { 1.0, 2.0 })));
        Assert.Contains("1 of 2 element(s) differ", error.Message);
        Assert.Contains("1 of them involve NaN", error.Message);
        Assert.Contains("worst at index [1]", error.Message);
        var shape = Assert.Throws<CheckFailedException>(() => CheckClose(torch.zeros(3), torch.zeros(3, 1)));
        Assert.Contains("has shape [3], expected [3, 1]", shape.Message);
        Assert.Contains("abs error", Assert.Throws<CheckFailedException>(() => CheckClose(1.5, 1.0)).Message);
    }

    [Fact]
    public void GradCheck_passes_for_a_correct_model()
    {
        var model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2));
        model.to(float64);
        var x = torch.randn(5, 3, dtype: float64);
        var y = torch.tensor(new long[] { 0, 1, 1, 0, 1 });
        var report = GradCheck(model, () => nn.functional.cross_entropy(model.forward(x), y));
        Assert.True(report.Passed, report.ToString());
        Assert.Equal(4, report.Entries.Count);
        Assert.True(report.MaxRelativeError < 1e-7, report.ToString());
        Assert.Equal(12, report.Entries[0].Checked);
        Assert.Same(report, report.ThrowIfFailed());
        Assert.StartsWith("<table", report.ToDisplayString("text/html"));
    }

    [Fact]
    public void GradCheck_catches_a_wrong_gradient()
    {
        // d/dx (x · stopgrad(x)) backprops x instead of 2x: relative error 1/3.
        var report = GradCheck(x => (x * x.detach()).sum(), torch.tensor(new[] { 1.0, -2.0, 3.0 }));
        Assert.False(report.Passed);
        Assert.Equal(1.0 / 3, report.Entries[0].RelativeError, 6);
        var error = Assert.Throws<CheckFailedException>(() => report.ThrowIfFailed());
        Assert.Contains("FAIL", error.Message);
        Assert.Contains("worst at [2]: backprop 3.00e+00, numeric 6.00e+00", error.Message);
    }

    [Fact]
    public void GradCheck_guards_against_zero_gradients()
    {
        var used = torch.tensor(new[] { 1.0, 2.0 }).requires_grad_(true);
        var unused = torch.tensor(new[] { 3.0 }).requires_grad_(true);
        var report = GradCheck(() => used.square().sum() + 0 * unused.sum(), [("used", used), ("unused", unused)]);
        Assert.True(report.Passed);
        Assert.Contains("both gradients are zero", report.Entries[1].Note);

        var blocked = torch.tensor(new[] { 1.0, 2.0 }).requires_grad_(true);
        var flow = GradCheck(() => (blocked.detach() * 2).sum() + 0 * blocked.sum(), [("w", blocked)]);
        Assert.False(flow.Passed);
        Assert.Contains("the gradient does not flow", flow.Entries[0].Note);
    }

    [Fact]
    public void GradCheck_demands_float64_and_a_scalar_loss()
    {
        var model = nn.Linear(2, 1);
        var error = Assert.Throws<ArgumentException>(() => GradCheck(model, () => model.forward(torch.ones(1, 2)).sum()));
        Assert.Contains("float64", error.Message);
        Assert.Contains("model.to(float64)", error.Message);
        var w = torch.ones(3, dtype: float64).requires_grad_(true);
        Assert.Contains("must be a scalar; found shape [3]", Assert.Throws<ArgumentException>(() => GradCheck(() => w * 2, [("w", w)])).Message);
    }

    [Fact]
    public void GradCheck_samples_large_parameters()
    {
        var model = nn.Linear(50, 20).to(float64);
        var x = torch.randn(4, 50, dtype: float64);
        var report = GradCheck(model, () => model.forward(x).square().mean(), maxElementsPerParameter: 10);
        Assert.Equal(10, report.Entries[0].Checked);
        Assert.Equal(1000, report.Entries[0].Total);
        Assert.True(report.Passed, report.ToString());
    }

    [Fact]
    public void Parameter_counting_respects_freezing()
    {
        var model = nn.Sequential(("a", nn.Linear(10, 5)), ("b", nn.Linear(5, 2)));
        Assert.Equal(55 + 12, CountParameters(model));
        Freezing.Freeze(model, "a.*");
        Assert.Equal(12, CountParameters(model, trainableOnly: true));
        var summary = Parameters(model);
        Assert.Equal(67, summary.Total);
        Assert.Equal(12, summary.Trainable);
        Assert.Contains("a.weight", summary.ToString());
        Assert.Contains("frozen", summary.ToString());
    }
}
