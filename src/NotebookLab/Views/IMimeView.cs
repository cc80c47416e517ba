using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.DotNet.Interactive.Formatting;

namespace NotebookLab.Views;

/// <summary>
/// The one display contract: a value that lists the mime types it can render, cheaply and without rendering any,
/// and renders one of them on request. Hosts ask for one mime type at a time (<see cref="Formatters"/>,
/// <see cref="MimeViewFormatterSource{T}"/>), so showing a chart as text never exports its SVG.
/// </summary>
public interface IMimeView
{
    /// <summary>The mime types this view renders, preferred first (e.g. text/html, image/svg+xml, text/plain).</summary>
    IReadOnlyList<string> MimeTypes { get; }

    /// <summary>The rendition for one of <see cref="MimeTypes"/>; any other mime type is an <see cref="ArgumentException"/>.</summary>
    string Render(string mimeType);
}

/// <summary>Mime type names used by the views.</summary>
public static class MimeType
{
    public const string Html = "text/html";
    public const string PlainText = "text/plain";
    public const string Svg = "image/svg+xml";

    /// <summary>Mime types of a view with an HTML table and a text rendition (reports, tensors, summaries).</summary>
    public static readonly IReadOnlyList<string> HtmlAndText = [Html, PlainText];

    /// <summary>Mime types of a view that also has a static picture (charts, image grids, the training monitor).</summary>
    public static readonly IReadOnlyList<string> HtmlSvgAndText = [Html, Svg, PlainText];
}

/// <summary>Helpers over <see cref="IMimeView"/>.</summary>
public static class MimeViews
{
    /// <summary>Every rendition, keyed by mime type: renders all of <see cref="IMimeView.MimeTypes"/> (hosts render one at a time).</summary>
    public static IReadOnlyDictionary<string, string> ToMimeBundle(this IMimeView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var bundle = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var mime in view.MimeTypes) bundle[mime] = view.Render(mime);
        return bundle;
    }

    /// <summary>The error a view's <see cref="IMimeView.Render"/> throws for a mime type it does not list.</summary>
    public static ArgumentException NotOffered(IMimeView view, string mimeType) => new(
        $"{view.GetType().Name} renders {string.Join(", ", view.MimeTypes)}, not {mimeType}", nameof(mimeType));

    /// <summary>Writes the rendition asked for, or returns false when the view does not offer it (the host then falls back).</summary>
    public static bool TryWrite(IMimeView view, string mimeType, TextWriter writer)
    {
        if (!view.MimeTypes.Contains(mimeType)) return false;
        writer.Write(view.Render(mimeType));
        return true;
    }
}

/// <summary>A fixed mime bundle, e.g. a snapshot of a live view.</summary>
[TypeFormatterSource(typeof(MimeViewFormatterSource<MimeBundleView>), PreferredMimeTypes = [MimeType.Html, MimeType.PlainText])]
public sealed class MimeBundleView(IReadOnlyDictionary<string, string> bundle) : IMimeView
{
    public IReadOnlyList<string> MimeTypes { get; } = [.. bundle.Keys];
    public string Render(string mimeType) => bundle.TryGetValue(mimeType, out var content) ? content : throw MimeViews.NotOffered(this, mimeType);
    public override string ToString() => bundle.TryGetValue(MimeType.PlainText, out var text) ? text : base.ToString()!;
}

/// <summary>
/// Convention formatter source: every host that formats with Microsoft.DotNet.Interactive.Formatting asks
/// <typeparamref name="T"/> for one mime type and gets <see cref="IMimeView.Render"/> of that one only. Views carry
/// <c>[TypeFormatterSource(typeof(MimeViewFormatterSource&lt;T&gt;), PreferredMimeTypes = [...])]</c>, so they format
/// even before <see cref="Formatters.Register"/> runs.
/// </summary>
public sealed class MimeViewFormatterSource<T> : ITypeFormatterSource where T : IMimeView
{
    public IEnumerable<ITypeFormatter> CreateTypeFormatters() =>
        [new Rendition(MimeType.Html), new Rendition(MimeType.Svg), new Rendition(MimeType.PlainText)];

    sealed class Rendition(string mimeType) : ITypeFormatter
    {
        public string MimeType => mimeType;
        public Type Type => typeof(T);
        public bool Format(object instance, FormatContext context) => instance is T view && MimeViews.TryWrite(view, mimeType, context.Writer);
    }
}

/// <summary>The HTML helpers every view uses: one encoder, content-derived ids, and a small table builder.</summary>
internal static class Html
{
    public static string Encode(string? text) => WebUtility.HtmlEncode(text ?? "");

    /// <summary>
    /// An element id derived from <paramref name="content"/> (a hash), so the same notebook run twice gives the same
    /// outputs; two different contents get different ids.
    /// </summary>
    public static string ContentId(string prefix, string content, int length = 12) =>
        prefix + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(content)))[..length].ToLowerInvariant();
}

/// <summary>Small HTML table builder shared by the reports (values are HTML-encoded).</summary>
internal sealed class HtmlTable
{
    readonly StringBuilder html = new();

    public HtmlTable(string? caption = null)
    {
        html.Append("<table class=\"notebooklab-table\" style=\"border-collapse:collapse;font-family:sans-serif;font-size:13px\">");
        if (caption is not null) html.Append("<caption style=\"text-align:left;font-weight:bold;padding:4px 0\">").Append(Html.Encode(caption)).Append("</caption>");
    }

    public HtmlTable Header(params string[] cells)
    {
        html.Append("<tr>");
        foreach (var cell in cells) html.Append("<th style=\"text-align:left;border-bottom:1px solid #999;padding:2px 8px\">").Append(Html.Encode(cell)).Append("</th>");
        html.Append("</tr>");
        return this;
    }

    public HtmlTable Row(params string[] cells)
    {
        html.Append("<tr>");
        foreach (var cell in cells) html.Append("<td style=\"padding:2px 8px;border-bottom:1px solid #eee\">").Append(Html.Encode(cell)).Append("</td>");
        html.Append("</tr>");
        return this;
    }

    public override string ToString() => html.ToString() + "</table>";
}
