namespace NotebookLab.Engine.Notebooks;

/// <summary>A notebook file that cannot be read; the message names the file and, where known, the line and position.</summary>
public sealed class NotebookFormatException : Exception
{
    public NotebookFormatException(string path, string problem, long? line = null, long? position = null, Exception? inner = null)
        : base(Describe(path, problem, line, position), inner)
    {
        Path = path;
        Line = line;
        Position = position;
    }

    public string Path { get; }

    /// <summary>1-based line of the problem, when known.</summary>
    public long? Line { get; }

    /// <summary>1-based position within <see cref="Line"/>, when known.</summary>
    public long? Position { get; }

    static string Describe(string path, string problem, long? line, long? position) =>
        line is null ? $"{path}: {problem}"
        : position is null ? $"{path}:{line}: {problem}"
        : $"{path}:{line}:{position}: {problem}";
}
