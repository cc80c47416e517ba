using System.Text;

namespace NotebookLab.Engine.Execution;

/// <summary>
/// Routes <see cref="Console.Out"/> and <see cref="Console.Error"/> to the cell that is running on the current async
/// flow (an <see cref="AsyncLocal{T}"/>), so output from a cell, and from the tasks and threads it starts, lands in
/// that cell. Writes outside any cell go to the process's original streams.
/// </summary>
static class ConsoleRouter
{
    static readonly AsyncLocal<CellRun?> current = new();
    static readonly object gate = new();
    static TextWriter? installedOut, installedError;
    static TextReader? installedIn;

    public static CellRun? Current
    {
        get => current.Value;
        set => current.Value = value;
    }

    /// <summary>Installs the routing writers; again if someone replaced them since (Console.SetOut elsewhere).</summary>
    public static void Install()
    {
        lock (gate)
        {
            if (!ReferenceEquals(Console.Out, installedOut))
            {
                Console.SetOut(new RoutingWriter(Console.Out, StreamOutputNames.Stdout));
                installedOut = Console.Out;
            }
            if (!ReferenceEquals(Console.Error, installedError))
            {
                Console.SetError(new RoutingWriter(Console.Error, StreamOutputNames.Stderr));
                installedError = Console.Error;
            }
            if (!ReferenceEquals(Console.In, installedIn))
            {
                Console.SetIn(new RoutingReader(Console.In));
                installedIn = Console.In;
            }
        }
    }

    sealed class RoutingWriter(TextWriter fallback, string name) : TextWriter
    {
        public override Encoding Encoding => fallback.Encoding;
        public override IFormatProvider FormatProvider => fallback.FormatProvider;

        public override void Write(char value) => Route(value.ToString());
        public override void Write(string? value) { if (!string.IsNullOrEmpty(value)) Route(value); }
        public override void Write(char[] buffer, int index, int count) => Route(new string(buffer, index, count));
        public override void Write(ReadOnlySpan<char> buffer) => Route(new string(buffer));
        public override void WriteLine() => Route(NewLine);
        public override void WriteLine(string? value) => Route((value ?? "") + NewLine);
        public override void Flush() { if (current.Value is null) fallback.Flush(); }

        void Route(string text)
        {
            if (current.Value is { } run) run.AppendStream(name, text);
            else fallback.Write(text);
        }
    }
}

/// <summary>Console.ReadLine in a cell asks the cell's host (Jupyter's input_request); elsewhere it reads the process's stdin.</summary>
sealed class RoutingReader(TextReader fallback) : TextReader
{
    public override string? ReadLine() =>
        ConsoleRouter.Current is { } run ? run.ReadInput(new InputRequest("", false), fallback.ReadLine) : fallback.ReadLine();

    public override int Peek() => ConsoleRouter.Current is null ? fallback.Peek() : -1;
    public override int Read() => ConsoleRouter.Current is null ? fallback.Read() : -1;
}

static class StreamOutputNames
{
    public const string Stdout = "stdout";
    public const string Stderr = "stderr";
}
