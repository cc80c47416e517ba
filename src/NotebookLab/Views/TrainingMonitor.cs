using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.DotNet.Interactive.Formatting;
using NotebookLab.Hosting;
using NotebookLab.Views.Charts;

namespace NotebookLab.Views;

/// <summary>
/// A live training monitor: progress bar (step, percent, examples/s, elapsed, ETA, latest metrics) and live curves,
/// updated in place at most <see cref="MaxUpdatesPerSecond"/> times a second, ending as a static final chart (HTML
/// with the interactive chart and its SVG, plus an <c>image/svg+xml</c> rendition) that stays in the saved notebook.
/// </summary>
/// <remarks>
/// Independent of any trainer; a training loop drives it with four calls:
/// <code>
/// var monitor = TrainingMonitor.Start(totalSteps: epochs * batchesPerEpoch, stepsPerEpoch: batchesPerEpoch);
/// for (...) {
///     monitor.Log(step, new() { ["loss"] = loss }, examples: batchSize);   // per step (cheap; renders are throttled)
///     ...
///     monitor.EndEpoch(epoch, new() { ["val_loss"] = vl, ["val_acc"] = va });  // per epoch, validation metrics
/// }
/// monitor.Complete();   // final render; returns the curves as a ChartView
/// </code>
/// Metric names follow <see cref="Charts.Charts.SplitMetricName"/>: "val_loss" is drawn dashed in the "loss" panel next to
/// the training "loss". Where to show it: the notebook's live display when <see cref="LiveDisplay"/> has a bridge
/// (extension.dib installs one), else throttled text lines on the console.
/// </remarks>
[TypeFormatterSource(typeof(MimeViewFormatterSource<TrainingMonitor>), PreferredMimeTypes = [MimeType.Html, MimeType.Svg, MimeType.PlainText])]
public sealed class TrainingMonitor : IMimeView
{
    readonly object gate = new();
    readonly Stopwatch clock = Stopwatch.StartNew();
    readonly Dictionary<string, (List<double> X, List<double> Y)> series = new(StringComparer.Ordinal);
    readonly Dictionary<string, double> latest = new(StringComparer.Ordinal);
    LiveHandle? handle;
    TimeSpan? lastRender;
    TimeSpan? lastConsole;
    long examples;

    public long TotalSteps { get; }
    public long? StepsPerEpoch { get; }
    public string Title { get; }
    public long Step { get; private set; }
    public int Epoch { get; private set; }
    public bool IsComplete { get; private set; }
    /// <summary>Live renders per second at most (default 4).</summary>
    public double MaxUpdatesPerSecond { get; init; } = 4;
    /// <summary>Seconds between console progress lines when no notebook display is available (default 2).</summary>
    public double ConsoleIntervalSeconds { get; init; } = 2;
    /// <summary>How many times the display was re-rendered (for tests and curiosity).</summary>
    public int Renders { get; private set; }

    TrainingMonitor(long totalSteps, long? stepsPerEpoch, string? title)
    {
        if (totalSteps <= 0) throw new ArgumentOutOfRangeException(nameof(totalSteps), totalSteps, "TrainingMonitor needs a positive number of steps");
        if (stepsPerEpoch is <= 0) throw new ArgumentOutOfRangeException(nameof(stepsPerEpoch), stepsPerEpoch, "steps per epoch must be positive");
        (TotalSteps, StepsPerEpoch, Title) = (totalSteps, stepsPerEpoch, title ?? "Training");
    }

    /// <summary>Creates the monitor and shows it (live display, or console text without one).</summary>
    public static TrainingMonitor Start(long totalSteps, long? stepsPerEpoch = null, string? title = null, double maxUpdatesPerSecond = 4)
    {
        var m = new TrainingMonitor(totalSteps, stepsPerEpoch, title) { MaxUpdatesPerSecond = maxUpdatesPerSecond };
        m.handle = LiveDisplay.IsInstalled ? LiveDisplay.Show(m.Snapshot()) : null;
        if (m.handle is { IsLive: false }) m.handle = null; // the bridge refused (no running cell): console text instead
        m.lastRender = m.clock.Elapsed;
        m.Renders++;
        return m;
    }

    double XOf(long step) => StepsPerEpoch is { } spe ? (double)step / spe : step;
    string XTitle => StepsPerEpoch is null ? "step" : "epoch";

    /// <summary>Records training metrics after a step; takes <c>new() { ["loss"] = l }</c>.</summary>
    public void Log(long step, Dictionary<string, double> metrics, long examples = 0) => Log(step, (IReadOnlyDictionary<string, double>)metrics, examples);

    /// <summary>Records end-of-epoch metrics; takes <c>new() { ["val_loss"] = v }</c>.</summary>
    public void EndEpoch(int epoch, Dictionary<string, double> metrics) => EndEpoch(epoch, (IReadOnlyDictionary<string, double>)metrics);

    /// <summary>Records training metrics after <paramref name="step"/> (1-based steps done) and the examples it processed.</summary>
    public void Log(long step, IReadOnlyDictionary<string, double> metrics, long examples = 0)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        lock (gate)
        {
            EnsureRunning();
            if (step < Step) throw new ArgumentOutOfRangeException(nameof(step), step, $"steps must not go backwards (last was {Step})");
            Step = step;
            this.examples += examples;
            foreach (var (name, value) in metrics) Add(name, XOf(step), value);
        }
        MaybeRender();
    }

    /// <summary>Records end-of-epoch metrics (e.g. validation loss/accuracy) for epoch <paramref name="epoch"/> (1-based).</summary>
    public void EndEpoch(int epoch, IReadOnlyDictionary<string, double>? metrics = null)
    {
        lock (gate)
        {
            EnsureRunning();
            Epoch = epoch;
            var x = StepsPerEpoch is null ? Step : epoch;
            if (metrics is not null) foreach (var (name, value) in metrics) Add(name, x, value);
        }
        Render(force: true);
    }

    /// <summary>Final render (progress at its end state and the complete curves); returns the curves.</summary>
    public ChartView? Complete()
    {
        lock (gate)
        {
            if (IsComplete) return Curves();
            IsComplete = true;
            clock.Stop();
        }
        Render(force: true);
        return Curves();
    }

    void EnsureRunning()
    {
        if (IsComplete) throw new InvalidOperationException("TrainingMonitor: already completed; start a new monitor for another run");
    }

    void Add(string name, double x, double y)
    {
        if (!series.TryGetValue(name, out var s)) series[name] = s = ([], []);
        s.X.Add(x);
        s.Y.Add(y);
        latest[name] = y;
    }

    void MaybeRender()
    {
        // At most MaxUpdatesPerSecond, and never more than ~20% of the time spent rendering: a slow display (a busy
        // machine, a remote front end) must not slow training down.
        var interval = TimeSpan.FromSeconds(Math.Max(1 / Math.Max(0.1, MaxUpdatesPerSecond), 4 * lastRenderCost.TotalSeconds));
        if (lastRender is not { } last || clock.Elapsed - last >= interval) Render(force: false);
    }

    TimeSpan lastRenderCost;

    void Render(bool force)
    {
        lock (gate)
        {
            var started = clock.Elapsed;
            if (handle is not null)
            {
                handle.Update(Snapshot());
                Renders++;
                lastRenderCost = clock.Elapsed - started;
            }
            else if (force || lastConsole is not { } shown || (clock.Elapsed - shown).TotalSeconds >= ConsoleIntervalSeconds)
            {
                lastConsole = clock.Elapsed;
                LiveDisplay.ConsoleOut.WriteLine(ProgressLine());
                Renders++;
            }
            lastRender = clock.Elapsed; // measured from the end of the render
        }
    }

    /// <summary>The current state as a fixed mime bundle: the curves are built once and their SVG exported once.</summary>
    public MimeBundleView Snapshot()
    {
        lock (gate)
        {
            var curves = Curves();
            var progress = ProgressLine();
            return new(new Dictionary<string, string>
            {
                [MimeType.Html] = ToHtml(curves),
                [MimeType.Svg] = curves?.ToSvg() ?? EmptySvg(progress),
                [MimeType.PlainText] = progress,
            });
        }
    }

    // ---------- rendering ----------

    static string Duration(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"m\:ss", CultureInfo.InvariantCulture);

    (double Fraction, TimeSpan Elapsed, TimeSpan? Eta, double ExamplesPerSecond) Progress()
    {
        var elapsed = clock.Elapsed;
        var fraction = Math.Clamp((double)Step / TotalSteps, 0, 1);
        TimeSpan? eta = Step > 0 && !IsComplete ? TimeSpan.FromSeconds(elapsed.TotalSeconds / Step * (TotalSteps - Step)) : null;
        var rate = elapsed.TotalSeconds > 0 ? examples / elapsed.TotalSeconds : 0;
        return (fraction, elapsed, eta, rate);
    }

    string MetricsText() => string.Join("  ", latest.Select(kv => $"{kv.Key} {kv.Value.ToString("G4", CultureInfo.InvariantCulture)}"));

    public string ProgressLine()
    {
        var (fraction, elapsed, eta, rate) = Progress();
        const int width = 24;
        var filled = (int)Math.Round(fraction * width);
        var sb = new StringBuilder();
        sb.Append($"{Title} [{new string('#', filled)}{new string('.', width - filled)}] {Step}/{TotalSteps} ({fraction:P0})".Replace(" %", "%"));
        if (Epoch > 0) sb.Append($" epoch {Epoch}");
        if (rate > 0) sb.Append($"  {rate.ToString("N0", CultureInfo.InvariantCulture)} ex/s");
        sb.Append($"  {Duration(elapsed)}");
        if (eta is { } e) sb.Append($" < ETA {Duration(e)}");
        if (IsComplete) sb.Append("  done");
        if (latest.Count > 0) sb.Append("  ").Append(MetricsText());
        return sb.ToString();
    }

    ChartView? Curves()
    {
        lock (gate)
        {
            var list = series.Where(kv => kv.Value.X.Count > 0).Select(kv =>
            {
                var (x, y) = Thin(kv.Value.X, kv.Value.Y, 600);
                return new MetricSeries(kv.Key, x, y);
            }).ToList();
            return list.Count == 0 ? null : Charts.Charts.TrainingCurves(list, XTitle);
        }
    }

    /// <summary>At most <paramref name="max"/> points: bucket means, so long runs stay cheap to draw and less noisy.</summary>
    static (double[] X, double[] Y) Thin(List<double> x, List<double> y, int max)
    {
        if (x.Count <= max) return ([.. x], [.. y]);
        var bucket = (x.Count + max - 1) / max;
        var n = (x.Count + bucket - 1) / bucket;
        var (tx, ty) = (new double[n], new double[n]);
        for (var b = 0; b < n; b++)
        {
            var (from, to) = (b * bucket, Math.Min(x.Count, (b + 1) * bucket));
            double sx = 0, sy = 0;
            for (var i = from; i < to; i++) { sx += x[i]; sy += y[i]; }
            (tx[b], ty[b]) = (sx / (to - from), sy / (to - from));
        }
        return (tx, ty);
    }

    public string ToHtml() => ToHtml(Curves());

    string ToHtml(ChartView? curves)
    {
        var (fraction, elapsed, eta, rate) = Progress();
        var sb = new StringBuilder("<div class=\"nl-training-monitor\" style=\"font-family:Helvetica,Arial,sans-serif;font-size:12px\">");
        sb.Append($"<div style=\"display:flex;align-items:center;gap:8px\"><b>{Html.Encode(Title)}</b>");
        sb.Append($"<progress class=\"nl-progress\" max=\"{TotalSteps}\" value=\"{Step}\" style=\"width:260px\"></progress>");
        sb.Append($"<span class=\"nl-progress-text\">{Step}/{TotalSteps} ({(fraction * 100).ToString("F0", CultureInfo.InvariantCulture)}%)");
        if (Epoch > 0) sb.Append($" · epoch {Epoch}");
        if (rate > 0) sb.Append($" · <span class=\"nl-rate\">{rate.ToString("N0", CultureInfo.InvariantCulture)}</span> examples/s");
        sb.Append($" · {Duration(elapsed)}");
        if (eta is { } e) sb.Append($" · ETA {Duration(e)}");
        if (IsComplete) sb.Append(" · <span class=\"nl-done\">done</span>");
        sb.Append("</span></div>");
        if (latest.Count > 0)
        {
            sb.Append("<table class=\"nl-latest\" style=\"border-collapse:collapse;margin:4px 0\"><tr>");
            foreach (var k in latest.Keys) sb.Append($"<th style=\"padding:1px 8px;font-weight:normal;color:#666\">{Html.Encode(k)}</th>");
            sb.Append("</tr><tr>");
            foreach (var (k, v) in latest) sb.Append($"<td data-metric=\"{Html.Encode(k)}\" style=\"padding:1px 8px;text-align:right\">{v.ToString("G4", CultureInfo.InvariantCulture)}</td>");
            sb.Append("</tr></table>");
        }
        if (curves is not null)
            // While training, only the static SVG (cheap, no script re-run per update); the final state adds the interactive chart.
            sb.Append(IsComplete ? curves.ToHtml() : $"<div class=\"nl-chart-static\">{curves.ToSvg()}</div>");
        return sb.Append("</div>").ToString();
    }

    public IReadOnlyList<string> MimeTypes => MimeType.HtmlSvgAndText;

    public string Render(string mimeType)
    {
        lock (gate)
        {
            return mimeType switch
            {
                MimeType.Html => ToHtml(Curves()),
                MimeType.Svg => Curves()?.ToSvg() ?? EmptySvg(ProgressLine()),
                MimeType.PlainText => ProgressLine(),
                _ => throw MimeViews.NotOffered(this, mimeType),
            };
        }
    }

    static string EmptySvg(string text) =>
        $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"24\"><text x=\"4\" y=\"16\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"12\">{Html.Encode(text)}</text></svg>";

    public override string ToString() => ProgressLine();
}
