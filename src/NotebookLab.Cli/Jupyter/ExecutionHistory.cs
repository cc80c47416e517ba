using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace NotebookLab.Cli.Jupyter;

/// <summary>
/// The cells this kernel ran, for history_request: tail, range and search (glob pattern), each entry
/// [session, line, input] or, with output, [session, line, [input, output]]. History lives as long as the kernel.
/// </summary>
sealed class ExecutionHistory
{
    public const int Session = 1;
    readonly List<(int Line, string Input, string? Output)> entries = [];
    readonly object gate = new();

    public void Add(int line, string input, string? output)
    {
        lock (gate) entries.Add((line, input, output));
    }

    public JsonArray Reply(JsonObject request)
    {
        bool output = request["output"]?.GetValue<bool>() ?? false;
        string kind = request["hist_access_type"]?.GetValue<string>() ?? "tail";
        int? n = request["n"]?.GetValue<int?>();
        List<(int Line, string Input, string? Output)> selected;
        lock (gate) selected = entries.ToList();
        switch (kind)
        {
            case "tail":
                if (n is { } tail) selected = selected.TakeLast(Math.Max(0, tail)).ToList();
                break;
            case "range":
                int session = request["session"]?.GetValue<int?>() ?? 0;
                int start = request["start"]?.GetValue<int?>() ?? 0, stop = request["stop"]?.GetValue<int?>() ?? int.MaxValue;
                // session 0 (or a negative offset) means this session, as IPython reads it.
                selected = session is 0 or Session || session < 0 ? selected.Where(e => e.Line >= start && e.Line < stop).ToList() : [];
                break;
            case "search":
                var pattern = new Regex("^" + Regex.Escape(request["pattern"]?.GetValue<string>() ?? "*").Replace(@"\*", ".*").Replace(@"\?", ".") + "$",
                    RegexOptions.Singleline);
                selected = selected.Where(e => pattern.IsMatch(e.Input)).ToList();
                if (request["unique"]?.GetValue<bool>() == true)
                    selected = selected.GroupBy(e => e.Input).Select(g => g.Last()).OrderBy(e => e.Line).ToList();
                if (n is { } last) selected = selected.TakeLast(Math.Max(0, last)).ToList();
                break;
            default:
                selected = [];
                break;
        }
        var history = new JsonArray();
        foreach (var e in selected)
            history.Add(new JsonArray(Session, e.Line, output ? new JsonArray(e.Input, e.Output) : JsonValue.Create(e.Input)));
        return history;
    }
}
