using Microsoft.DotNet.Interactive.Formatting;

namespace NotebookLab.Engine.Execution;

/// <summary>
/// Formats values into mime bundles with Microsoft.DotNet.Interactive.Formatting, configured as .NET Interactive
/// configures it for notebook front ends: <c>text/html</c> by default, <c>text/plain</c> for strings.
/// A value's bundle holds the explicitly requested mime types, else <see cref="Formatter.GetPreferredMimeTypesFor"/>,
/// else the default; <c>text/plain</c> is always added so every viewer can show something.
/// </summary>
public static class MimeBundles
{
    public const string PlainText = "text/plain";
    public const string Html = "text/html";
    static readonly object gate = new();
    static bool configured;

    public static void EnsureConfigured()
    {
        lock (gate)
        {
            if (configured) return;
            Formatter.DefaultMimeType = Html;
            Formatter.SetPreferredMimeTypesFor(typeof(string), PlainText);
            configured = true;
        }
    }

    public static IReadOnlyDictionary<string, string> Format(object? value, IReadOnlyList<string>? mimeTypes = null)
    {
        EnsureConfigured();
        var bundle = new Dictionary<string, string>(StringComparer.Ordinal);
        if (value is null)
        {
            bundle[PlainText] = Formatter.NullString;
            return bundle;
        }
        IEnumerable<string> wanted = mimeTypes is { Count: > 0 } ? mimeTypes
            : Formatter.GetPreferredMimeTypesFor(value.GetType()) is { } preferred && preferred.Any() ? preferred
            : [Formatter.DefaultMimeType];
        foreach (var mime in wanted.Append(PlainText).Distinct(StringComparer.Ordinal))
            bundle[mime] = value.ToDisplayString(mime).Replace("\r\n", "\n");
        return bundle;
    }
}
