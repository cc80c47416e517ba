using System.Text.Json;
using System.Text.Json.Nodes;

namespace NotebookLab.Engine.Notebooks;

/// <summary>
/// Reads Polyglot Notebooks' plain-text .dib format: an optional <c>#!meta</c> block holding one JSON object, then
/// cells each opened by a kernel selector line (<c>#!csharp</c>, <c>#!c#</c>, <c>#!markdown</c>, <c>#!md</c>, ...).
/// A <c>#!</c> line naming no kernel stays inside its cell as a magic command. Blank lines around a cell are trimmed.
/// </summary>
public static class DibFormat
{
    /// <summary>Kernel names and aliases .NET Interactive uses as .dib cell separators, mapped to the kernel name.</summary>
    public static readonly IReadOnlyDictionary<string, string> KernelSelectors = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["csharp"] = "csharp", ["c#"] = "csharp", ["C#"] = "csharp",
        ["markdown"] = "markdown", ["md"] = "markdown",
        ["fsharp"] = "fsharp", ["f#"] = "fsharp", ["F#"] = "fsharp",
        ["pwsh"] = "pwsh", ["powershell"] = "pwsh",
        ["html"] = "html", ["javascript"] = "javascript", ["js"] = "javascript",
        ["mermaid"] = "mermaid", ["value"] = "value", ["sql"] = "sql", ["kql"] = "kql", ["http"] = "http",
    };

    public static Notebook Read(string path) => NotebookFile.ReadWith(path, Parse);

    public static Notebook Parse(string text, string pathForMessages)
    {
        var lines = text.Replace("\r\n", "\n").Split('\n');
        var notebook = new Notebook();
        string? kernel = null;      // kernel of the block being collected; "meta" for the #!meta block
        int blockStartLine = 1;
        var block = new List<string>();

        void Flush()
        {
            if (kernel == "meta")
            {
                var json = string.Join("\n", block).Trim();
                if (json.Length > 0)
                {
                    try
                    {
                        if (JsonNode.Parse(json) is JsonObject meta)
                            notebook.Metadata["polyglot_notebook"] = meta;
                        else
                            throw new NotebookFormatException(pathForMessages, "the #!meta block must hold a JSON object.", blockStartLine);
                    }
                    catch (JsonException e)
                    {
                        throw new NotebookFormatException(pathForMessages, $"malformed JSON in the #!meta block: {e.Message}",
                            blockStartLine + (e.LineNumber ?? 0), (e.BytePositionInLine ?? 0) + 1, e);
                    }
                }
            }
            else
            {
                var content = TrimBlankLines(block);
                if (content.Length > 0)
                    AddCell(notebook, kernel ?? notebook.DefaultKernelName, content);
            }
            block.Clear();
        }

        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var trimmed = line.TrimEnd();
            if (trimmed.StartsWith("#!", StringComparison.Ordinal))
            {
                var name = trimmed[2..].Trim();
                if (name == "meta" && notebook.Cells.Count == 0 && kernel is null && TrimBlankLines(block).Length == 0)
                {
                    Flush();
                    kernel = "meta";
                    blockStartLine = i + 2;
                    continue;
                }
                if (KernelSelectors.TryGetValue(name, out var kernelName))
                {
                    Flush();
                    kernel = kernelName;
                    blockStartLine = i + 2;
                    continue;
                }
            }
            block.Add(line);
        }
        Flush();
        notebook.EnsureCSharpMetadata();
        return notebook;
    }

    static void AddCell(Notebook notebook, string kernel, string content)
    {
        var id = notebook.NewCellId($"cell-{notebook.Cells.Count + 1}");
        if (kernel == "markdown")
        {
            notebook.Cells.Add(new NotebookCell(CellType.Markdown, content, id));
            return;
        }
        var cell = new NotebookCell(CellType.Code, content, id);
        cell.Metadata["polyglot_notebook"] = new JsonObject { ["kernelName"] = kernel };
        notebook.Cells.Add(cell);
    }

    static string TrimBlankLines(List<string> lines)
    {
        int start = 0, end = lines.Count;
        while (start < end && string.IsNullOrWhiteSpace(lines[start])) start++;
        while (end > start && string.IsNullOrWhiteSpace(lines[end - 1])) end--;
        return string.Join("\n", lines.Skip(start).Take(end - start));
    }
}

/// <summary>Reads a notebook by its extension: .ipynb or .dib.</summary>
public static class NotebookFile
{
    public static readonly IReadOnlyList<string> Extensions = [".ipynb", ".dib"];

    public static bool IsNotebook(string path) =>
        Extensions.Contains(Path.GetExtension(path), StringComparer.OrdinalIgnoreCase);

    public static Notebook Read(string path)
    {
        if (!File.Exists(path)) throw new NotebookFormatException(path, "no such file.");
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".ipynb" => IpynbFormat.Read(path),
            ".dib" => DibFormat.Read(path),
            var ext => throw new NotebookFormatException(path, $"unsupported notebook extension '{ext}' (expected .ipynb or .dib)."),
        };
    }

    /// <summary>
    /// Reads <paramref name="path"/>'s text and parses it with <paramref name="parse"/> (text, path for messages), then
    /// records the full path as <see cref="Notebook.SourcePath"/>. A file that cannot be read (I/O error, permission
    /// denied, a directory) becomes a <see cref="NotebookFormatException"/> naming it.
    /// </summary>
    internal static Notebook ReadWith(string path, Func<string, string, Notebook> parse)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new NotebookFormatException(path, $"cannot read the file: {e.Message}", inner: e);
        }
        var notebook = parse(text, path);
        notebook.SourcePath = Path.GetFullPath(path);
        return notebook;
    }
}
