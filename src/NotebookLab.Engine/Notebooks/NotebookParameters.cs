using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.CodeAnalysis.CSharp;

namespace NotebookLab.Engine.Notebooks;

/// <summary>
/// Papermill-style parameters: a new code cell tagged <c>injected-parameters</c>, holding <c>var name = literal;</c>
/// per parameter, goes right after the cell tagged <c>parameters</c> (or first, when there is none), so it
/// overrides the notebook's defaults and is recorded in the executed notebook.
/// </summary>
public static class NotebookParameters
{
    /// <summary>Parses "name=value" pairs; throws <see cref="ArgumentException"/> naming the bad one.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> ParseAssignments(IEnumerable<string> assignments)
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (var assignment in assignments)
        {
            int eq = assignment.IndexOf('=');
            if (eq <= 0)
                throw new ArgumentException($"parameter '{assignment}' is not of the form name=value.");
            var name = assignment[..eq].Trim();
            if (!SyntaxFacts.IsValidIdentifier(name) || SyntaxFacts.GetKeywordKind(name) != SyntaxKind.None)
                throw new ArgumentException($"parameter name '{name}' (in '{assignment}') is not a valid C# identifier.");
            result.RemoveAll(kv => kv.Key == name);
            result.Add(new(name, assignment[(eq + 1)..]));
        }
        return result;
    }

    /// <summary>The C# literal for a command-line value: bool, int, long, double when it parses as one, else a string.</summary>
    public static string ToCSharpLiteral(string value)
    {
        var v = value.Trim();
        if (v is "true" or "false") return v;
        if (int.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i)) return i.ToString(CultureInfo.InvariantCulture);
        if (long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return l.ToString(CultureInfo.InvariantCulture) + "L";
        if (v.Length > 0 && (char.IsDigit(v[0]) || v[0] is '-' or '+' or '.')
            && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
            return d.ToString("R", CultureInfo.InvariantCulture) is var r && (r.Contains('.') || r.Contains('E')) ? r : r + ".0";
        return SymbolDisplay.FormatLiteral(value, quote: true);
    }

    /// <summary>The source of the injected cell.</summary>
    public static string CellSource(IReadOnlyList<KeyValuePair<string, string>> parameters)
    {
        var sb = new StringBuilder("// Parameters injected by notebooklab run\n");
        foreach (var (name, value) in parameters) sb.Append($"var {name} = {ToCSharpLiteral(value)};\n");
        return sb.ToString().TrimEnd('\n');
    }

    /// <summary>Injects the parameters cell; returns its index, or -1 when there are no parameters.</summary>
    public static int Inject(Notebook notebook, IReadOnlyList<KeyValuePair<string, string>> parameters)
    {
        if (parameters.Count == 0) return -1;
        notebook.Cells.RemoveAll(c => c.HasTag(Notebook.InjectedParametersTag));
        int anchor = notebook.Cells.FindIndex(c => c.Type == CellType.Code && c.HasTag(Notebook.ParametersTag));
        var cell = new NotebookCell(CellType.Code, CellSource(parameters), notebook.NewCellId(Notebook.InjectedParametersTag));
        cell.Metadata["tags"] = new JsonArray(Notebook.InjectedParametersTag);
        cell.Metadata["polyglot_notebook"] = new JsonObject { ["kernelName"] = "csharp" };
        int index = anchor + 1;   // 0 when there is no parameters cell
        notebook.Cells.Insert(index, cell);
        return index;
    }
}
