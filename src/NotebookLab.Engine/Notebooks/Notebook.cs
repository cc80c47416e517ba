using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace NotebookLab.Engine.Notebooks;

/// <summary>The kind of a notebook cell, as nbformat names them.</summary>
public enum CellType { Code, Markdown, Raw }

/// <summary>
/// An in-memory notebook: cells plus the notebook-level metadata, which is kept as raw JSON so that everything
/// another tool wrote (kernelspec, language_info, polyglot_notebook, jupytext, ...) survives a round trip.
/// </summary>
public sealed class Notebook
{
    public const string ParametersTag = "parameters";
    public const string InjectedParametersTag = "injected-parameters";

    public List<NotebookCell> Cells { get; } = [];

    /// <summary>Notebook metadata, preserved verbatim.</summary>
    public JsonObject Metadata { get; set; } = new();

    /// <summary>The file this notebook was read from, when it was read from one.</summary>
    public string? SourcePath { get; set; }

    /// <summary>
    /// The default kernel of the notebook, read as .NET Interactive reads it: polyglot_notebook (or the legacy
    /// top-level kernelInfo), else the kernelspec's language ("C#" → csharp, "F#" → fsharp, "Python" → python, ...);
    /// "csharp" when nothing says.
    /// </summary>
    public string DefaultKernelName =>
        Metadata["polyglot_notebook"]?["kernelInfo"]?["defaultKernelName"]?.GetValue<string>()
        ?? Metadata["kernelInfo"]?["defaultKernelName"]?.GetValue<string>()
        ?? (Metadata["kernelspec"]?["language"]?.GetValue<string>() switch
        {
            null or "" => "csharp",
            "C#" or "c#" or "csharp" => "csharp",
            "F#" or "f#" or "fsharp" => "fsharp",
            "PowerShell" or "pwsh" => "pwsh",
            var other => other.ToLowerInvariant(),
        });

    /// <summary>A new cell id unique within this notebook, derived from <paramref name="stem"/>.</summary>
    public string NewCellId(string stem)
    {
        var taken = Cells.Select(c => c.Id).ToHashSet(StringComparer.Ordinal);
        if (!taken.Contains(stem)) return stem;
        for (int i = 2; ; i++)
            if (!taken.Contains($"{stem}-{i}")) return $"{stem}-{i}";
    }

    /// <summary>Fills in the notebook metadata a C# notebook should carry, keeping whatever is already there.</summary>
    public void EnsureCSharpMetadata()
    {
        Metadata["kernelspec"] ??= new JsonObject
        {
            ["display_name"] = ".NET (C#)",
            ["language"] = "C#",
            ["name"] = ".net-csharp",
        };
        Metadata["language_info"] ??= new JsonObject { ["name"] = "C#" };
        Metadata["polyglot_notebook"] ??= new JsonObject
        {
            ["kernelInfo"] = new JsonObject
            {
                ["defaultKernelName"] = "csharp",
                ["items"] = new JsonArray(new JsonObject { ["aliases"] = new JsonArray(), ["name"] = "csharp" }),
            },
        };
    }
}

/// <summary>One cell. Metadata is kept as raw JSON (tags, polyglot_notebook, editor state, ...).</summary>
public sealed class NotebookCell
{
    public NotebookCell(CellType type, string source, string id)
    {
        Type = type;
        Source = source;
        Id = id;
    }

    public CellType Type { get; set; }
    public string Id { get; set; }

    /// <summary>The cell text with "\n" line endings.</summary>
    public string Source { get; set; }

    public JsonObject Metadata { get; set; } = new();

    /// <summary>Markdown/raw cell attachments, preserved verbatim.</summary>
    public JsonObject? Attachments { get; set; }

    public int? ExecutionCount { get; set; }
    public List<CellOutput> Outputs { get; } = [];

    public IReadOnlyList<string> Tags =>
        Metadata["tags"] is JsonArray tags
            ? tags.Select(t => t?.GetValue<string>()).OfType<string>().ToList()
            : [];

    public bool HasTag(string tag) => Tags.Contains(tag, StringComparer.Ordinal);

    /// <summary>
    /// The kernel this cell is for, from polyglot_notebook.kernelName or the legacy dotnet_interactive.language,
    /// else null (the notebook default applies).
    /// </summary>
    public string? KernelName =>
        Metadata["polyglot_notebook"]?["kernelName"]?.GetValue<string>()
        ?? Metadata["dotnet_interactive"]?["language"]?.GetValue<string>();

    public void AddTag(string tag)
    {
        if (HasTag(tag)) return;
        if (Metadata["tags"] is not JsonArray tags) Metadata["tags"] = tags = new JsonArray();
        tags.Add(tag);
    }

    public void ClearExecution()
    {
        ExecutionCount = null;
        Outputs.Clear();
    }
}

/// <summary>A cell output, one of the four nbformat output types.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(StreamOutput), "stream")]
[JsonDerivedType(typeof(DisplayOutput), "display")]
[JsonDerivedType(typeof(ErrorOutput), "error")]
public abstract record CellOutput
{
    [JsonIgnore] public abstract string OutputType { get; }
}

/// <summary>Text written to stdout or stderr while the cell ran.</summary>
public sealed record StreamOutput(string Name, string Text) : CellOutput
{
    public const string Stdout = "stdout";
    public const string Stderr = "stderr";
    [JsonIgnore] public override string OutputType => "stream";
}

/// <summary>
/// A displayed value (display_data) or the value of the cell's trailing expression (execute_result).
/// <see cref="Data"/> maps a mime type to its rendition; JSON mime types (application/json, *+json) hold JSON text.
/// </summary>
public sealed record DisplayOutput(
    IReadOnlyDictionary<string, string> Data,
    string? DisplayId = null,
    int? ExecutionCount = null,
    bool IsExecuteResult = false,
    JsonObject? OutputMetadata = null) : CellOutput
{
    [JsonIgnore] public override string OutputType => IsExecuteResult ? "execute_result" : "display_data";

    public static bool IsJsonMimeType(string mimeType) =>
        mimeType == "application/json" || mimeType.EndsWith("+json", StringComparison.Ordinal);
}

/// <summary>An error: an exception, a compilation failure, a timeout, a bad magic command.</summary>
public sealed record ErrorOutput(string EName, string EValue, IReadOnlyList<string> Traceback) : CellOutput
{
    [JsonIgnore] public override string OutputType => "error";
}
