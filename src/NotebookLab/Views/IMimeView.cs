using System.Net;

namespace NotebookLab.Views;

/// <summary>
/// A value that renders itself to a mime bundle (mime type → content). Views are host-neutral: the Formatter
/// registrations in <see cref="Formatters"/> are thin adapters over <see cref="ToMimeBundle"/>.
/// </summary>
public interface IMimeView
{
    /// <summary>Every rendition of this value, keyed by mime type (e.g. text/html, image/svg+xml, text/plain).</summary>
    IReadOnlyDictionary<string, string> ToMimeBundle();
}

/// <summary>Mime type names used by the views.</summary>
public static class MimeTypes
{
    public const string Html = "text/html";
    public const string PlainText = "text/plain";
    public const string Svg = "image/svg+xml";
}

/// <summary>A fixed mime bundle, e.g. a snapshot of a live view.</summary>
public sealed class MimeBundleView(IReadOnlyDictionary<string, string> bundle) : IMimeView
{
    public IReadOnlyDictionary<string, string> ToMimeBundle() => bundle;
    public override string ToString() => bundle.TryGetValue(MimeTypes.PlainText, out var text) ? text : base.ToString()!;
}

internal static class Html
{
    public static string Encode(string? text) => WebUtility.HtmlEncode(text ?? "");
}
