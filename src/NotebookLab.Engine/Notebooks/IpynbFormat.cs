using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NotebookLab.Engine.Notebooks;

/// <summary>
/// Reads and writes Jupyter notebooks (nbformat 4). Writes nbformat 4.5: every cell has an id, keys are sorted and
/// indented by one space as Jupyter writes them, multi-line strings are stored as lists of lines.
/// </summary>
public static class IpynbFormat
{
    static readonly JsonDocumentOptions DocumentOptions = new() { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow };

    static readonly JsonSerializerOptions WriteOptions = new()
    {
        WriteIndented = true,
        IndentSize = 1,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static Notebook Read(string path) => NotebookFile.ReadWith(path, Parse);

    /// <summary>Parses notebook JSON; <paramref name="pathForMessages"/> names the source in errors.</summary>
    public static Notebook Parse(string json, string pathForMessages)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: DocumentOptions);
        }
        catch (JsonException e)
        {
            throw new NotebookFormatException(pathForMessages, $"malformed notebook JSON: {TrimJsonMessage(e.Message)}",
                e.LineNumber + 1, e.BytePositionInLine + 1, e);
        }
        if (root is not JsonObject obj)
            throw new NotebookFormatException(pathForMessages, "a notebook must be a JSON object with \"cells\", \"metadata\", \"nbformat\" and \"nbformat_minor\".");

        int major = ReadInt(obj, "nbformat", pathForMessages) ?? throw new NotebookFormatException(pathForMessages, "missing \"nbformat\" (expected 4).");
        if (major != 4)
            throw new NotebookFormatException(pathForMessages, $"nbformat {major} is not supported; convert it to nbformat 4 (jupyter nbconvert --to notebook).");
        if (obj["cells"] is not JsonArray cells)
            throw new NotebookFormatException(pathForMessages, "missing \"cells\" array.");

        var notebook = new Notebook { Metadata = obj["metadata"] is JsonObject m ? (JsonObject)m.DeepClone() : new JsonObject() };
        for (int i = 0; i < cells.Count; i++)
        {
            if (cells[i] is not JsonObject cell)
                throw new NotebookFormatException(pathForMessages, $"cell {i + 1} is not a JSON object.");
            notebook.Cells.Add(ReadCell(cell, i, notebook, pathForMessages));
        }
        return notebook;
    }

    static NotebookCell ReadCell(JsonObject cell, int index, Notebook notebook, string path)
    {
        var typeName = cell["cell_type"]?.GetValue<string>()
            ?? throw new NotebookFormatException(path, $"cell {index + 1} has no \"cell_type\".");
        var type = typeName switch
        {
            "code" => CellType.Code,
            "markdown" => CellType.Markdown,
            "raw" => CellType.Raw,
            _ => throw new NotebookFormatException(path, $"cell {index + 1} has unknown cell_type \"{typeName}\"."),
        };
        var source = JoinMultiline(cell["source"], path, $"cell {index + 1} source");
        var id = cell["id"]?.GetValue<string>();
        if (string.IsNullOrEmpty(id)) id = notebook.NewCellId($"cell-{index + 1}");
        var result = new NotebookCell(type, source.Replace("\r\n", "\n"), id)
        {
            Metadata = cell["metadata"] is JsonObject md ? (JsonObject)md.DeepClone() : new JsonObject(),
            Attachments = cell["attachments"] is JsonObject att ? (JsonObject)att.DeepClone() : null,
        };
        if (type == CellType.Code)
        {
            result.ExecutionCount = cell["execution_count"] is JsonValue v && v.TryGetValue<int>(out var n) ? n : null;
            if (cell["outputs"] is JsonArray outputs)
                foreach (var output in outputs.OfType<JsonObject>())
                    result.Outputs.Add(ReadOutput(output, index, path));
        }
        return result;
    }

    static CellOutput ReadOutput(JsonObject output, int cellIndex, string path)
    {
        var type = output["output_type"]?.GetValue<string>();
        string where = $"cell {cellIndex + 1} output";
        switch (type)
        {
            case "stream":
                return new StreamOutput(output["name"]?.GetValue<string>() ?? StreamOutput.Stdout, JoinMultiline(output["text"], path, where));
            case "display_data":
            case "execute_result":
                var data = new Dictionary<string, string>(StringComparer.Ordinal);
                if (output["data"] is JsonObject bundle)
                    foreach (var (mime, value) in bundle)
                        data[mime] = DisplayOutput.IsJsonMimeType(mime) ? value?.ToJsonString() ?? "null" : JoinMultiline(value, path, where);
                int? count = output["execution_count"] is JsonValue c && c.TryGetValue<int>(out var n) ? n : null;
                var displayId = output["transient"]?["display_id"]?.GetValue<string>();
                return new DisplayOutput(data, displayId, count, type == "execute_result",
                    output["metadata"] is JsonObject meta ? (JsonObject)meta.DeepClone() : null);
            case "error":
                var traceback = output["traceback"] is JsonArray tb ? tb.Select(t => t?.GetValue<string>() ?? "").ToList() : [];
                return new ErrorOutput(output["ename"]?.GetValue<string>() ?? "", output["evalue"]?.GetValue<string>() ?? "", traceback);
            default:
                throw new NotebookFormatException(path, $"{where} has unknown output_type \"{type}\".");
        }
    }

    static int? ReadInt(JsonObject obj, string key, string path) =>
        obj[key] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<int>(out var n) => n,
            _ => throw new NotebookFormatException(path, $"\"{key}\" must be an integer."),
        };

    /// <summary>nbformat multiline strings are a string or a list of strings.</summary>
    static string JoinMultiline(JsonNode? node, string path, string where) =>
        node switch
        {
            null => "",
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            JsonArray a => string.Concat(a.Select(x => x is JsonValue xv && xv.TryGetValue<string>(out var line) ? line
                : throw new NotebookFormatException(path, $"{where} must be a string or a list of strings."))),
            _ => throw new NotebookFormatException(path, $"{where} must be a string or a list of strings."),
        };

    static string TrimJsonMessage(string message)
    {
        // System.Text.Json appends " LineNumber: n | BytePositionInLine: m."; we report those ourselves.
        int at = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return at > 0 ? message[..at].TrimEnd() : message;
    }

    // ---------------------------------------------------------------- writing

    public static string Serialize(Notebook notebook)
    {
        var cells = new JsonArray();
        foreach (var cell in notebook.Cells) cells.Add(WriteCell(cell));
        var root = new JsonObject
        {
            ["cells"] = cells,
            ["metadata"] = SortKeys(notebook.Metadata.DeepClone()),
            ["nbformat"] = 4,
            ["nbformat_minor"] = 5,
        };
        return root.ToJsonString(WriteOptions) + "\n";
    }

    /// <summary>Writes atomically: a temporary file in the same folder, then a rename over the target.</summary>
    public static void Write(Notebook notebook, string path)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllText(temp, Serialize(notebook), new UTF8Encoding(false));
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    static JsonObject WriteCell(NotebookCell cell)
    {
        var obj = new JsonObject();
        if (cell.Attachments is not null && cell.Type != CellType.Code) obj["attachments"] = cell.Attachments.DeepClone();
        obj["cell_type"] = cell.Type switch { CellType.Code => "code", CellType.Markdown => "markdown", _ => "raw" };
        if (cell.Type == CellType.Code) obj["execution_count"] = cell.ExecutionCount;
        obj["id"] = cell.Id;
        obj["metadata"] = SortKeys(cell.Metadata.DeepClone());
        if (cell.Type == CellType.Code)
        {
            var outputs = new JsonArray();
            foreach (var output in cell.Outputs) outputs.Add(WriteOutput(output));
            obj["outputs"] = outputs;
        }
        obj["source"] = SplitLines(cell.Source);
        return obj;
    }

    /// <summary>
    /// The JSON of one output, as nbformat stores it. <c>transient</c> (the display id) belongs to the messaging
    /// protocol, not to saved notebooks (nbformat rejects it there), so it is only written when asked for.
    /// </summary>
    public static JsonObject WriteOutput(CellOutput output, bool includeTransient = false)
    {
        switch (output)
        {
            case StreamOutput s:
                return new JsonObject { ["name"] = s.Name, ["output_type"] = "stream", ["text"] = SplitLines(s.Text) };
            case DisplayOutput d:
                var data = new JsonObject();
                foreach (var (mime, value) in d.Data.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                    data[mime] = DisplayOutput.IsJsonMimeType(mime) ? ParseJsonOrString(value) : SplitLines(value);
                var obj = new JsonObject { ["data"] = data };
                if (d.IsExecuteResult) obj["execution_count"] = d.ExecutionCount;
                obj["metadata"] = d.OutputMetadata?.DeepClone() ?? new JsonObject();
                obj["output_type"] = d.OutputType;
                if (includeTransient && d.DisplayId is not null) obj["transient"] = new JsonObject { ["display_id"] = d.DisplayId };
                return obj;
            case ErrorOutput e:
                return new JsonObject
                {
                    ["ename"] = e.EName,
                    ["evalue"] = e.EValue,
                    ["output_type"] = "error",
                    ["traceback"] = new JsonArray(e.Traceback.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()),
                };
            default:
                throw new ArgumentException($"unknown output {output.GetType().Name}");
        }
    }

    /// <summary>Reads one output back from its nbformat JSON (used by the worker protocol).</summary>
    public static CellOutput ReadOutput(JsonObject output) => ReadOutput(output, 0, "<output>");

    static JsonNode? ParseJsonOrString(string value)
    {
        try { return JsonNode.Parse(value); }
        catch (JsonException) { return JsonValue.Create(value); }
    }

    static JsonArray SplitLines(string text)
    {
        var array = new JsonArray();
        int start = 0;
        while (start < text.Length)
        {
            int nl = text.IndexOf('\n', start);
            int end = nl < 0 ? text.Length : nl + 1;
            array.Add(text[start..end]);
            start = end;
        }
        return array;
    }

    static JsonNode? SortKeys(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                var sorted = new JsonObject();
                foreach (var (key, value) in obj.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList())
                {
                    obj.Remove(key);
                    sorted[key] = SortKeys(value);
                }
                return sorted;
            case JsonArray array:
                var copy = new JsonArray();
                foreach (var item in array.ToList())
                {
                    array.Remove(item);
                    copy.Add(SortKeys(item));
                }
                return copy;
            default:
                return node;
        }
    }
}
