using Microsoft.DotNet.Interactive.Formatting;
using NotebookLab.Views.Charts;
using Plotly.NET;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Views;

/// <summary>
/// Registers NotebookLab's formatters with <see cref="Formatter"/> (the API both .NET Interactive and <c>notebooklab</c>
/// format with): tensors, modules, Plotly.NET charts, and any <see cref="IMimeView"/> (NotebookLab's own views also
/// format without this, through <see cref="MimeViewFormatterSource{T}"/>). Each formatter renders only the mime type it
/// is asked for. Registration only records delegates; it runs no torch operation (a CPU op before CUDA initialises
/// would disable CUDA for the process).
/// </summary>
public static class Formatters
{
    static readonly object Gate = new();

    /// <summary>True when the registrations are in place (a <c>Formatter.ResetToDefault()</c> removes them).</summary>
    public static bool IsRegistered => Formatter.GetPreferredMimeTypesFor(typeof(GenericChart)).Contains(MimeType.Svg);

    /// <summary>Idempotent: registers every formatter unless they are already registered.</summary>
    public static void Register()
    {
        // Plotly.NET needs FSharp.Core 10.1; in .NET Interactive it binds to the host's 10.0 (see HostAssemblies).
        Hosting.HostAssemblies.UnifyWithHost();
        lock (Gate)
        {
            if (IsRegistered) return;
            RegisterAll();
        }
    }

    static void RegisterAll()
    {
        // Any view, also one written in a notebook: the formatter writes the one rendition asked for.
        foreach (var mime in new[] { MimeType.Html, MimeType.Svg, MimeType.PlainText })
            Formatter.Register(typeof(IMimeView), (FormatDelegate<object>)((value, context) =>
                value is IMimeView view && MimeViews.TryWrite(view, mime, context.Writer)), mime);

        // Tensors: NotebookLab's view instead of TorchSharp's Julia-style text.
        Formatter.Register<Tensor>((FormatDelegate<Tensor>)((t, context) => Write(context, () => new TensorView(t).ToHtml())), MimeType.Html);
        Formatter.Register<Tensor>((FormatDelegate<Tensor>)((t, context) => Write(context, () => new TensorView(t).ToPlainText())), MimeType.PlainText);
        foreach (var type in new[] { typeof(Tensor), typeof(TorchSharp.Modules.Parameter) })
            Formatter.SetPreferredMimeTypesFor(type, MimeType.Html, MimeType.PlainText);

        // Modules: the tree with parameter counts (Summary(model, inputShape) adds shapes and mult-adds).
        Formatter.Register<nn.Module>((FormatDelegate<nn.Module>)((m, context) => Write(context, () => ModelSummary.Summary(m, depth: 2).ToHtml())), MimeType.Html);
        Formatter.Register<nn.Module>((FormatDelegate<nn.Module>)((m, context) => Write(context, () => ModelSummary.Summary(m, depth: 2).ToPlainText())), MimeType.PlainText);
        Formatter.SetPreferredMimeTypesFor(typeof(nn.Module), MimeType.Html, MimeType.PlainText);

        // Plotly.NET charts: interactive where scripts run, static SVG in the same bundle for everywhere else.
        // Registered on the concrete chart types (GenericChart's cases) as well as on GenericChart: the most specific
        // type wins, so Plotly.NET.Interactive's text/html formatter for GenericChart, loaded before or after us,
        // does not replace the bundle with its CDN-only HTML.
        var chartTypes = typeof(GenericChart).GetNestedTypes().Where(t => typeof(GenericChart).IsAssignableFrom(t)).Append(typeof(GenericChart));
        foreach (var type in chartTypes)
        {
            Formatter.Register(type, (FormatDelegate<object>)((c, context) => Write(context, () => ChartHtml((GenericChart)c))), MimeType.Html);
            Formatter.Register(type, (FormatDelegate<object>)((c, context) => Write(context, () => ChartSvg((GenericChart)c))), MimeType.Svg);
            Formatter.Register(type, (FormatDelegate<object>)((c, context) => Write(context, () =>
                $"Plotly chart: {GenericChart.countTrace((GenericChart)c)} trace(s)")), MimeType.PlainText);
            Formatter.SetPreferredMimeTypesFor(type, MimeType.Html, MimeType.Svg, MimeType.PlainText);
        }
    }

    static bool Write(FormatContext context, Func<string> render)
    {
        context.Writer.Write(render());
        return true;
    }

    /// <summary>The HTML for any Plotly.NET chart: its static SVG (when the traces can be read back) plus the loader.</summary>
    public static string ChartHtml(GenericChart chart)
    {
        var spec = GenericChartConversion.TryToSpec(chart, out _);
        var (w, h) = spec is null ? (640, 380) : (spec.Width, spec.Height);
        return PlotlyHtml.Render(chart, spec is null ? null : SvgRenderer.ToSvg(spec), w, h);
    }

    /// <summary>The static SVG for any Plotly.NET chart, or a one-line SVG saying why there is none.</summary>
    public static string ChartSvg(GenericChart chart)
    {
        var spec = GenericChartConversion.TryToSpec(chart, out var why);
        return spec is not null ? SvgRenderer.ToSvg(spec)
            : $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"480\" height=\"24\"><text x=\"4\" y=\"16\" font-size=\"12\">{Html.Encode("no static rendition: " + why)}</text></svg>";
    }
}
