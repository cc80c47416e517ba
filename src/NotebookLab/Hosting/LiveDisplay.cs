using NotebookLab.Views;

namespace NotebookLab.Hosting;

/// <summary>
/// A host-neutral bridge to the notebook's updatable display. The host hands in a delegate once (extension.dib does:
/// <c>NotebookLab.Hosting.LiveDisplay.Install((value, mimeTypes) => { var handle = display(value, mimeTypes); return update => handle.Update(update); });</c>),
/// and library code shows a value and updates it in place without referencing any kernel. Without a bridge
/// (console apps, tests, CI logs) <see cref="Show"/> writes the value's <c>text/plain</c> rendition to the console.
/// </summary>
public static class LiveDisplay
{
    static Func<object, string[], Action<object>>? bridge;

    /// <summary>Installs the host's display function: it shows a value with the given mime types and returns its updater.</summary>
    public static void Install(Func<object, string[], Action<object>> display) =>
        bridge = display ?? throw new ArgumentNullException(nameof(display));

    /// <summary>Removes the bridge (views then fall back to console text).</summary>
    public static void Uninstall() => bridge = null;

    /// <summary>True when a host display bridge is installed.</summary>
    public static bool IsInstalled => bridge is not null;

    /// <summary>Where console fallback text goes (default: <see cref="Console.Out"/>).</summary>
    public static TextWriter ConsoleOut { get; set; } = Console.Out;

    /// <summary>Shows <paramref name="view"/> with every mime type it lists (nothing is rendered here); the handle updates it in place.</summary>
    public static LiveHandle Show(IMimeView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var display = bridge;
        if (display is not null)
        {
            try
            {
                var mimeTypes = view.MimeTypes.ToArray();
                var update = display(view, mimeTypes);
                return new LiveHandle(update, null);
            }
            catch (Exception e) when (e is InvalidOperationException or NotSupportedException)
            {
                // e.g. display() called outside a running cell: fall back to text rather than failing the training loop.
            }
        }
        var handle = new LiveHandle(null, ConsoleOut);
        handle.Update(view);
        return handle;
    }
}

/// <summary>A shown value that can be replaced. In console mode each update writes the new text/plain rendition.</summary>
public sealed class LiveHandle
{
    readonly Action<object>? update;
    readonly TextWriter? console;

    internal LiveHandle(Action<object>? update, TextWriter? console) => (this.update, this.console) = (update, console);

    /// <summary>True when updates go to a notebook display rather than console text.</summary>
    public bool IsLive => update is not null;

    public void Update(IMimeView view)
    {
        if (update is not null) update(view);
        else if (console is not null && view.MimeTypes.Contains(MimeType.PlainText)) console.WriteLine(view.Render(MimeType.PlainText));
    }
}
