using System.Globalization;
using System.Text;
using Microsoft.DotNet.Interactive.Formatting;
using NotebookLab.Training;
using NotebookLab.Views;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Checks;

/// <summary>A failed check; the message says what was expected, what was found, and where.</summary>
public sealed class CheckFailedException(string message) : Exception(message);

/// <summary>
/// The assertions notebooks and homework use. Each throws <see cref="CheckFailedException"/> with a message written
/// for a student: what was expected, what was found, where and by how much.
/// </summary>
public static class Check
{
    static string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
    static string E(double v) => v.ToString("0.00e+00", CultureInfo.InvariantCulture);

    /// <summary>
    /// Checks a tensor's shape; −1 in <paramref name="expected"/> accepts any size in that dimension.
    /// Returns the tensor, so it can wrap an expression: <c>var h = CheckShape(layer.forward(x), [-1, 128], "h")</c>.
    /// </summary>
    public static Tensor CheckShape(Tensor tensor, long[] expected, string name = "tensor")
    {
        ArgumentNullException.ThrowIfNull(tensor);
        var actual = tensor.shape;
        bool ok = actual.Length == expected.Length && actual.Zip(expected).All(p => p.Second == -1 || p.First == p.Second);
        if (ok) return tensor;
        var message = new StringBuilder($"{name} has shape {Shapes.Format(actual)}, expected {Shapes.Format(expected).Replace("-1", "*")}");
        if (actual.Length != expected.Length)
            message.Append($": {actual.Length} dimension(s) instead of {expected.Length}.");
        else
        {
            var wrong = Enumerable.Range(0, actual.Length).Where(d => expected[d] != -1 && actual[d] != expected[d])
                .Select(d => $"dim {d} is {actual[d]}, expected {expected[d]}");
            message.Append(": ").Append(string.Join("; ", wrong)).Append('.');
        }
        throw new CheckFailedException(message.ToString());
    }

    /// <summary>
    /// Checks |actual − expected| ≤ atol + rtol·|expected| element-wise (NumPy's allclose; NaN never matches).
    /// On failure the message gives how many elements differ, the worst index, the values there, and the maximum
    /// absolute and relative errors.
    /// </summary>
    public static void CheckClose(Tensor actual, Tensor expected, double rtol = 1e-5, double atol = 1e-8, string name = "actual")
    {
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(expected);
        if (!actual.shape.SequenceEqual(expected.shape))
            throw new CheckFailedException($"{name} has shape {Shapes.Format(actual.shape)}, expected {Shapes.Format(expected.shape)} (same shape needed; no broadcasting).");
        if (actual.NumberOfElements == 0) return;
        using var scope = torch.NewDisposeScope();
        var a = actual.detach().cpu().to(float64).reshape(-1);
        var e = expected.detach().cpu().to(float64).reshape(-1);
        var av = a.data<double>().ToArray();
        var ev = e.data<double>().ToArray();
        long bad = 0, nans = 0;
        int worst = -1;
        double worstAbs = -1, maxAbs = 0, maxRel = 0;
        for (int i = 0; i < av.Length; i++)
        {
            double diff = Math.Abs(av[i] - ev[i]);
            bool isNan = double.IsNaN(av[i]) != double.IsNaN(ev[i]) || (double.IsNaN(av[i]) && double.IsNaN(ev[i]));
            if (double.IsNaN(diff)) { diff = double.PositiveInfinity; if (isNan) nans++; }
            if (av[i] == ev[i]) diff = 0; // equal infinities
            else if (double.IsInfinity(av[i]) || double.IsInfinity(ev[i])) diff = double.PositiveInfinity;   // rtol·|∞| must not excuse it
            double rel = diff == 0 ? 0 : diff / Math.Max(Math.Abs(ev[i]), double.Epsilon);
            maxAbs = Math.Max(maxAbs, diff);
            maxRel = Math.Max(maxRel, rel);
            if (double.IsPositiveInfinity(diff) || diff > atol + rtol * Math.Abs(ev[i]))
            {
                bad++;
                if (diff > worstAbs) { worstAbs = diff; worst = i; }
            }
        }
        if (bad == 0) return;
        var index = Unravel(worst, actual.shape);
        double relAtWorst = worstAbs / Math.Max(Math.Abs(ev[worst]), double.Epsilon);
        var message = new StringBuilder(
            $"{name} is not close to expected (rtol={E(rtol)}, atol={E(atol)}): {bad} of {av.Length} element(s) differ " +
            $"({(100.0 * bad / av.Length).ToString("0.##", CultureInfo.InvariantCulture)} %).");
        if (nans > 0) message.Append($" {nans} of them involve NaN.");
        message.Append($"\n  worst at index {Shapes.Format(index)}: {name} = {F(av[worst])}, expected = {F(ev[worst])} " +
                       $"(abs error {E(worstAbs)}, rel error {E(relAtWorst)})");
        message.Append($"\n  max abs error {E(maxAbs)}, max rel error {E(maxRel)}");
        throw new CheckFailedException(message.ToString());
    }

    /// <summary>Checks two numbers with the same rule as the tensor overload.</summary>
    public static void CheckClose(double actual, double expected, double rtol = 1e-5, double atol = 1e-8, string name = "actual")
    {
        double diff = Math.Abs(actual - expected);
        if (actual == expected || (!double.IsInfinity(expected) && diff <= atol + rtol * Math.Abs(expected))) return;
        throw new CheckFailedException(
            $"{name} = {F(actual)}, expected {F(expected)} (abs error {E(diff)}, rel error {E(diff / Math.Max(Math.Abs(expected), double.Epsilon))}; rtol={E(rtol)}, atol={E(atol)}).");
    }

    /// <summary>Checks a condition; the message is shown as-is on failure.</summary>
    public static void CheckThat(bool condition, string message)
    {
        if (!condition) throw new CheckFailedException(message);
    }

    /// <summary>
    /// Asserts a measured number is at least <paramref name="threshold"/>: an accuracy target, or a margin "A beats B"
    /// written as A − B. See <see cref="ClaimAtMost"/> for the line it prints and how thresholds are calibrated.
    /// </summary>
    /// <returns><paramref name="measured"/>, so a claim can wrap an expression.</returns>
    public static double ClaimAtLeast(string name, double measured, double threshold) => Claim(name, measured, threshold, atLeast: true);

    /// <summary>
    /// Asserts a measured number is at most <paramref name="threshold"/> (a loss, an error, a ratio that must stay small).
    /// Both claim methods first print one machine-readable line to stdout,
    /// <c>claim: NAME | measured V | at most T</c> (or <c>at least T</c>), which <c>tests/seeds/run-seeds.py</c> collects
    /// from the executed notebooks to tabulate each claim over many seeds; then they throw
    /// <see cref="CheckFailedException"/> when the claim fails. NaN always fails. A threshold is meant to be calibrated
    /// over seeds with a margin, not read off one run.
    /// </summary>
    /// <param name="name">What is measured; one line, without " | " (the separator of the printed line; |x| is fine).</param>
    /// <param name="measured">The measured value.</param>
    /// <param name="threshold">The largest value that passes.</param>
    /// <returns><paramref name="measured"/>, so a claim can wrap an expression.</returns>
    public static double ClaimAtMost(string name, double measured, double threshold) => Claim(name, measured, threshold, atLeast: false);

    static double Claim(string name, double measured, double threshold, bool atLeast)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (name.Contains(" | ") || name.Contains('\n') || name.Contains('\r'))
            throw new ArgumentException($"A claim's name must be one line without \" | \", the separator of its printed line: \"{name}\".", nameof(name));
        if (double.IsNaN(threshold)) throw new ArgumentException("The threshold is NaN.", nameof(threshold));
        string bound = atLeast ? "at least" : "at most";
        Console.WriteLine($"claim: {name} | measured {F(measured)} | {bound} {F(threshold)}");
        bool holds = atLeast ? measured >= threshold : measured <= threshold;
        if (holds) return measured;
        string by = double.IsNaN(measured) ? "measured NaN" : $"{(atLeast ? "short" : "over")} by {F(Math.Abs(measured - threshold))}";
        throw new CheckFailedException($"claim failed: {name} = {F(measured)}, expected {bound} {F(threshold)} ({by}).");
    }

    internal static long[] Unravel(long flat, long[] shape)
    {
        var index = new long[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            index[d] = shape[d] == 0 ? 0 : flat % shape[d];
            flat = shape[d] == 0 ? 0 : flat / shape[d];
        }
        return index;
    }

    /// <summary>Number of parameters (scalars) in a model, or only the trainable ones (<c>requires_grad</c>).</summary>
    public static long CountParameters(nn.Module model, bool trainableOnly = false) =>
        model.parameters().Where(p => !trainableOnly || p.requires_grad).Sum(p => p.NumberOfElements);

    /// <summary>A table of every named parameter: shape, count and whether it trains.</summary>
    public static ParameterSummary Parameters(nn.Module model) =>
        new(model.GetName(), model.named_parameters().Select(p => new ParameterRow(p.name, p.parameter.shape, p.parameter.NumberOfElements, p.parameter.requires_grad)).ToList());

    /// <summary>
    /// Compares backprop's gradients with central finite differences in float64, per parameter:
    /// relative error ‖g_backprop − g_numeric‖ / (‖g_backprop‖ + ‖g_numeric‖). Parameters must be float64 (call
    /// <c>model.to(float64)</c> and use float64 inputs), since float32 rounding swamps the differences.
    /// </summary>
    /// <param name="model">Its named parameters are checked.</param>
    /// <param name="loss">Computes a scalar loss from the model's current parameters (called 2×checked elements + 1 times).</param>
    /// <param name="eps">Finite-difference step.</param>
    /// <param name="tolerance">Largest relative error that passes.</param>
    /// <param name="maxElementsPerParameter">Check a seeded random sample of at most this many elements per parameter.</param>
    /// <param name="seed">Seed of that sample.</param>
    public static GradCheckReport GradCheck(nn.Module model, Func<Tensor> loss, double eps = 1e-6, double tolerance = 1e-5,
        int maxElementsPerParameter = 64, int seed = 0) =>
        GradCheck(loss, model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => (p.name, (Tensor)p.parameter)).ToList(),
            eps, tolerance, maxElementsPerParameter, seed);

    /// <summary>Checks the gradient of a scalar function <paramref name="f"/> at <paramref name="input"/> (converted to a float64 copy).</summary>
    public static GradCheckReport GradCheck(Func<Tensor, Tensor> f, Tensor input, double eps = 1e-6, double tolerance = 1e-5,
        int maxElementsPerParameter = 64, int seed = 0)
    {
        using var x = input.detach().to(float64).clone().requires_grad_(true);
        return GradCheck(() => f(x), [("input", x)], eps, tolerance, maxElementsPerParameter, seed);
    }

    /// <summary>Checks gradients of <paramref name="loss"/> with respect to the given float64 leaf tensors.</summary>
    public static GradCheckReport GradCheck(Func<Tensor> loss, IReadOnlyList<(string Name, Tensor Tensor)> parameters,
        double eps = 1e-6, double tolerance = 1e-5, int maxElementsPerParameter = 64, int seed = 0)
    {
        if (parameters.Count == 0) throw new ArgumentException("GradCheck needs at least one parameter that requires a gradient.", nameof(parameters));
        foreach (var (name, p) in parameters)
        {
            if (p.dtype != ScalarType.Float64)
                throw new ArgumentException(
                    $"GradCheck needs float64 parameters, but '{name}' is {p.dtype}: float32 rounding (≈1e-7) would swamp the finite differences. " +
                    "Call model.to(float64) and use float64 inputs (x.to(float64)) first.", nameof(parameters));
            if (!p.requires_grad) throw new ArgumentException($"'{name}' does not require a gradient (requires_grad is false).", nameof(parameters));
        }
        var random = new Random(seed);
        var analytic = new List<double[]>();
        using (var scope = torch.NewDisposeScope())
        {
            foreach (var (_, p) in parameters) p.grad?.zero_();
            var value = loss();
            if (value.NumberOfElements != 1)
                throw new ArgumentException($"The loss must be a scalar; found shape {Shapes.Format(value.shape)}. Reduce it, e.g. with .sum() or .mean().");
            if (!value.requires_grad)
                throw new ArgumentException("The loss does not depend on any parameter that requires a gradient (it has no grad_fn). Is something detached?");
            value.backward();
            foreach (var (_, p) in parameters)
                analytic.Add(p.grad is null ? new double[p.NumberOfElements] : p.grad.detach().cpu().reshape(-1).data<double>().ToArray());
            foreach (var (_, p) in parameters) p.grad?.zero_();
        }

        var entries = new List<GradCheckEntry>();
        for (int k = 0; k < parameters.Count; k++)
        {
            var (name, p) = parameters[k];
            long total = p.NumberOfElements;
            long[] indices = total <= maxElementsPerParameter
                ? Enumerable.Range(0, (int)total).Select(i => (long)i).ToArray()
                : Data.DataLoader.Permutation(total, random).Take(maxElementsPerParameter).Order().ToArray();
            var numeric = new double[indices.Length];
            var backprop = new double[indices.Length];
            using (torch.no_grad())
            using (var scope = torch.NewDisposeScope())
            {
                var flat = p.detach().view(-1);
                for (int j = 0; j < indices.Length; j++)
                {
                    var element = flat[indices[j]];
                    double original = element.item<double>();
                    element.fill_(original + eps);
                    double plus = Scalar(loss);
                    element.fill_(original - eps);
                    double minus = Scalar(loss);
                    element.fill_(original);
                    numeric[j] = (plus - minus) / (2 * eps);
                    backprop[j] = analytic[k][indices[j]];
                }
            }
            double diffNorm = Math.Sqrt(numeric.Zip(backprop).Sum(t => (t.First - t.Second) * (t.First - t.Second)));
            double aNorm = Math.Sqrt(backprop.Sum(v => v * v)), nNorm = Math.Sqrt(numeric.Sum(v => v * v));
            const double zero = 1e-12;
            double relative;
            string note = "";
            if (aNorm + nNorm < zero)
            {
                relative = 0;
                note = "both gradients are zero here: the check says nothing (is the parameter used by the loss?)";
            }
            else if (aNorm < zero)
            {
                relative = 1;
                note = "backprop gives zero but the loss changes: the gradient does not flow (detached tensor? requires_grad off?)";
            }
            else
            {
                relative = diffNorm / (aNorm + nNorm);
                if (nNorm < zero) note = "finite differences see no change but backprop gives a gradient";
            }
            int worst = Enumerable.Range(0, indices.Length).MaxBy(j => Math.Abs(numeric[j] - backprop[j]));
            entries.Add(new GradCheckEntry(name, p.shape, indices.Length, total, aNorm, nNorm, relative, relative <= tolerance, note,
                Unravel(indices[worst], p.shape), backprop[worst], numeric[worst]));
        }
        return new GradCheckReport(entries, tolerance, eps);
    }

    static double Scalar(Func<Tensor> loss)
    {
        using var scope = torch.NewDisposeScope();
        return loss().item<double>();
    }
}

/// <summary>One parameter's gradient check: norms over the checked elements, relative error and the worst element.</summary>
public sealed record GradCheckEntry(string Name, long[] Shape, int Checked, long Total, double BackpropNorm, double NumericNorm,
    double RelativeError, bool Passed, string Note, long[] WorstIndex, double BackpropAtWorst, double NumericAtWorst);

/// <summary>The result of <see cref="Check.GradCheck(Func{Tensor}, IReadOnlyList{ValueTuple{string, Tensor}}, double, double, int, int)"/>: one row per parameter.</summary>
[TypeFormatterSource(typeof(MimeViewFormatterSource<GradCheckReport>), PreferredMimeTypes = [MimeType.Html, MimeType.PlainText])]
public sealed record GradCheckReport(IReadOnlyList<GradCheckEntry> Entries, double Tolerance, double Eps) : IMimeView
{
    public bool Passed => Entries.All(e => e.Passed);
    public double MaxRelativeError => Entries.Max(e => e.RelativeError);

    /// <summary>Throws <see cref="CheckFailedException"/> with the table when a parameter fails.</summary>
    public GradCheckReport ThrowIfFailed() => Passed ? this : throw new CheckFailedException(ToString());

    static string E(double v) => v.ToString("0.00e+00", CultureInfo.InvariantCulture);

    public override string ToString()
    {
        var text = new StringBuilder($"Gradient check (central differences, eps={E(Eps)}, tolerance {E(Tolerance)}): " +
                                     (Passed ? "passed" : $"FAILED for {Entries.Count(e => !e.Passed)} of {Entries.Count} parameter(s)") + "\n");
        int width = Math.Max(9, Entries.Max(e => e.Name.Length));
        foreach (var e in Entries)
        {
            text.Append($"  {(e.Passed ? "ok  " : "FAIL")} {e.Name.PadRight(width)} {Shapes.Format(e.Shape),-16} rel error {E(e.RelativeError)}" +
                        $"  ({e.Checked}/{e.Total} elements; |g| backprop {E(e.BackpropNorm)}, numeric {E(e.NumericNorm)})");
            if (!e.Passed)
                text.Append($"\n       worst at {Shapes.Format(e.WorstIndex)}: backprop {E(e.BackpropAtWorst)}, numeric {E(e.NumericAtWorst)}");
            if (e.Note.Length > 0) text.Append("\n       note: ").Append(e.Note);
            text.Append('\n');
        }
        return text.ToString().TrimEnd('\n');
    }

    public IReadOnlyList<string> MimeTypes => MimeType.HtmlAndText;

    public string Render(string mimeType) => mimeType switch
    {
        MimeType.Html => ToHtml(),
        MimeType.PlainText => ToString(),
        _ => throw MimeViews.NotOffered(this, mimeType),
    };

    public string ToHtml()
    {
        var table = new HtmlTable($"Gradient check: {(Passed ? "passed" : "FAILED")} (tolerance {E(Tolerance)})")
            .Header("", "parameter", "shape", "checked", "relative error", "‖g‖ backprop", "‖g‖ numeric", "note");
        foreach (var e in Entries)
            table.Row(e.Passed ? "✓" : "✗", e.Name, Shapes.Format(e.Shape), $"{e.Checked}/{e.Total}", E(e.RelativeError),
                E(e.BackpropNorm), E(e.NumericNorm), e.Note);
        return table.ToString();
    }
}

/// <summary>One named parameter.</summary>
public sealed record ParameterRow(string Name, long[] Shape, long Count, bool Trainable);

/// <summary>Every named parameter of a model with totals.</summary>
[TypeFormatterSource(typeof(MimeViewFormatterSource<ParameterSummary>), PreferredMimeTypes = [MimeType.Html, MimeType.PlainText])]
public sealed record ParameterSummary(string Model, IReadOnlyList<ParameterRow> Rows) : IMimeView
{
    public long Total => Rows.Sum(r => r.Count);
    public long Trainable => Rows.Where(r => r.Trainable).Sum(r => r.Count);

    public override string ToString()
    {
        int width = Math.Max(4, Rows.Count == 0 ? 0 : Rows.Max(r => r.Name.Length));
        var text = new StringBuilder($"{Model}: {Total:N0} parameters ({Trainable:N0} trainable)\n");
        foreach (var r in Rows)
            text.Append($"  {r.Name.PadRight(width)} {Shapes.Format(r.Shape),-18} {r.Count,12:N0}{(r.Trainable ? "" : "  frozen")}\n");
        return text.ToString().TrimEnd('\n');
    }

    public IReadOnlyList<string> MimeTypes => MimeType.HtmlAndText;

    public string Render(string mimeType) => mimeType switch
    {
        MimeType.Html => ToHtml(),
        MimeType.PlainText => ToString(),
        _ => throw MimeViews.NotOffered(this, mimeType),
    };

    public string ToHtml()
    {
        var table = new HtmlTable($"{Model}: {Total:N0} parameters ({Trainable:N0} trainable)").Header("parameter", "shape", "count", "trainable");
        foreach (var r in Rows) table.Row(r.Name, Shapes.Format(r.Shape), r.Count.ToString("N0", CultureInfo.InvariantCulture), r.Trainable ? "yes" : "frozen");
        return table.ToString();
    }
}
