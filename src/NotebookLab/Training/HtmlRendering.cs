using System.Net;
using System.Text;
using Microsoft.DotNet.Interactive.Formatting;

namespace NotebookLab.Training;

/// <summary>A value that renders itself as plain text (<see cref="object.ToString"/>) and as an HTML fragment.</summary>
public interface IHtmlRenderable
{
    /// <summary>A self-contained HTML fragment (no scripts), safe to embed in a notebook output.</summary>
    string ToHtml();
}

/// <summary>
/// Convention formatter source: every host that formats with Microsoft.DotNet.Interactive.Formatting shows
/// <typeparamref name="T"/> as <c>text/html</c> (from <see cref="IHtmlRenderable.ToHtml"/>) and <c>text/plain</c>
/// (from <see cref="object.ToString"/>). Registered with <c>[TypeFormatterSource(typeof(HtmlRenderableFormatterSource&lt;T&gt;))]</c>.
/// </summary>
public sealed class HtmlRenderableFormatterSource<T> : ITypeFormatterSource where T : IHtmlRenderable
{
    public IEnumerable<ITypeFormatter> CreateTypeFormatters() =>
    [
        new HtmlFormatter<T>((value, context) => context.Writer.Write(value.ToHtml())),
        new PlainTextFormatter<T>((value, context) => context.Writer.Write(value.ToString())),
    ];
}

/// <summary>Small HTML table builder shared by the toolkit's reports (values are HTML-encoded).</summary>
internal sealed class HtmlTable
{
    readonly StringBuilder html = new();

    public HtmlTable(string? caption = null)
    {
        html.Append("<table class=\"notebooklab-table\" style=\"border-collapse:collapse;font-family:sans-serif;font-size:13px\">");
        if (caption is not null) html.Append("<caption style=\"text-align:left;font-weight:bold;padding:4px 0\">").Append(Encode(caption)).Append("</caption>");
    }

    public static string Encode(string text) => WebUtility.HtmlEncode(text);

    public HtmlTable Header(params string[] cells)
    {
        html.Append("<tr>");
        foreach (var cell in cells) html.Append("<th style=\"text-align:left;border-bottom:1px solid #999;padding:2px 8px\">").Append(Encode(cell)).Append("</th>");
        html.Append("</tr>");
        return this;
    }

    public HtmlTable Row(params string[] cells)
    {
        html.Append("<tr>");
        foreach (var cell in cells) html.Append("<td style=\"padding:2px 8px;border-bottom:1px solid #eee\">").Append(Encode(cell)).Append("</td>");
        html.Append("</tr>");
        return this;
    }

    public override string ToString() => html.ToString() + "</table>";
}
