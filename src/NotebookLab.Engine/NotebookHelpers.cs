using Microsoft.AspNetCore.Html;
using NotebookLab.Engine.Execution;

namespace NotebookLab.Engine;

/// <summary>
/// The helpers every notebook cell sees (imported with <c>using static</c>), with the same shape as .NET Interactive's
/// <c>Microsoft.DotNet.Interactive.Kernel</c> helpers, so the same notebook source runs in both hosts.
/// </summary>
public static class NotebookHelpers
{
    /// <summary>
    /// Displays <paramref name="value"/> now, as a display_data output of the running cell, formatted with
    /// <paramref name="mimeTypes"/> (default: the type's preferred mime types). The returned handle updates it in place.
    /// </summary>
    public static DisplayedValue display(object? value, params string[] mimeTypes) =>
        CellRun.CurrentOrLast?.Display(value, mimeTypes)
        ?? throw new InvalidOperationException("display(...) can only be called while a notebook cell runs.");

    /// <summary>
    /// Clears the running cell's outputs (Jupyter's clear_output); with <paramref name="wait"/>, a front end clears them
    /// only when the next output arrives, which avoids flicker in a loop that redraws.
    /// </summary>
    public static void ClearOutput(bool wait = false) =>
        (CellRun.CurrentOrLast ?? throw new InvalidOperationException("ClearOutput() can only be called while a notebook cell runs.")).ClearOutputs(wait);

    /// <summary>Wraps a string as HTML content, displayed as-is (<c>text/html</c>).</summary>
    public static IHtmlContent HTML(string content) => new HtmlString(content);

    /// <summary>Displays the value; the same as <see cref="display"/>, as an extension method like .NET Interactive's.</summary>
    public static DisplayedValue Display(this object? value, params string[] mimeTypes) => display(value, mimeTypes);
}

/// <summary>A displayed output that can be replaced later (Jupyter's update_display_data).</summary>
public sealed class DisplayedValue
{
    readonly CellRun run;
    readonly IReadOnlyList<string> mimeTypes;

    internal DisplayedValue(CellRun run, string displayId, IReadOnlyList<string> mimeTypes)
    {
        this.run = run;
        DisplayId = displayId;
        this.mimeTypes = mimeTypes;
    }

    public string DisplayId { get; }

    /// <summary>Replaces the displayed output with <paramref name="value"/>, formatted with the same mime types.</summary>
    public void Update(object? value) => run.UpdateDisplay(DisplayId, value, mimeTypes);
}
