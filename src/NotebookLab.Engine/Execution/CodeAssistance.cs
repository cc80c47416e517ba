using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace NotebookLab.Engine.Execution;

/// <summary>Completions at a cursor: the names that fit, and the span of the text they replace (UTF-16 offsets).</summary>
public sealed record Completions(IReadOnlyList<string> Matches, int ReplaceStart, int ReplaceEnd);

/// <summary>The symbol under a cursor: its signature(s) and its documentation summary, when the reference carries one.</summary>
public sealed record Inspection(string Name, IReadOnlyList<string> Signatures, string? Summary)
{
    public string ToPlainText()
    {
        var text = string.Join("\n", Signatures);
        return Summary is null ? text : $"{text}\n\n{Summary}";
    }
}

/// <summary>Whether a cell's text is ready to run (Jupyter's is_complete).</summary>
public enum CodeCompleteness { Complete, Incomplete, Invalid }

/// <summary>
/// Completion, inspection and is-complete for cell text, on the Roslyn compilation the cell would get: the session's
/// earlier cells (their variables, functions and types), its references and imports.
/// </summary>
static class CodeAssistance
{
    static readonly CSharpParseOptions ScriptParse = CSharpParseOptions.Default.WithKind(SourceCodeKind.Script).WithLanguageVersion(LanguageVersion.Latest);
    static readonly Regex DirectiveLine = new(@"^[ \t]*#(r|i|!)\b.*$", RegexOptions.Multiline);

    /// <summary>Magic-command lines (#r, #i, #!...) blanked to spaces, so offsets into the cell stay valid.</summary>
    public static string WithoutDirectives(string code) => DirectiveLine.Replace(code, m => new string(' ', m.Length));

    public static CodeCompleteness IsComplete(string code)
    {
        var text = WithoutDirectives(code);
        if (string.IsNullOrWhiteSpace(text)) return CodeCompleteness.Complete;
        var tree = CSharpSyntaxTree.ParseText(text, ScriptParse);
        if (!SyntaxFactory.IsCompleteSubmission(tree)) return CodeCompleteness.Incomplete;
        return tree.GetDiagnostics().Any(d => d.Severity == DiagnosticSeverity.Error) ? CodeCompleteness.Invalid : CodeCompleteness.Complete;
    }

    public static Completions Complete(Compilation compilation, int cursor)
    {
        var tree = compilation.SyntaxTrees.Last();
        var text = tree.GetText().ToString();
        cursor = Math.Clamp(cursor, 0, text.Length);
        int start = cursor;
        while (start > 0 && (char.IsLetterOrDigit(text[start - 1]) || text[start - 1] == '_')) start--;
        var prefix = text[start..cursor];
        var model = compilation.GetSemanticModel(tree);

        IEnumerable<ISymbol> symbols;
        int dot = start - 1;
        while (dot >= 0 && char.IsWhiteSpace(text[dot])) dot--;
        if (dot >= 0 && text[dot] == '.' && !(dot > 0 && text[dot - 1] == '.'))
        {
            var token = tree.GetRoot().FindToken(dot);
            var left = token.Parent switch
            {
                MemberAccessExpressionSyntax m => (SyntaxNode)m.Expression,
                QualifiedNameSyntax q => q.Left,
                _ => null,
            };
            if (left is null) return new Completions([], start, cursor);
            var symbol = model.GetSymbolInfo(left).Symbol;
            symbols = symbol switch
            {
                INamespaceSymbol ns => model.LookupNamespacesAndTypes(dot + 1, ns),
                ITypeSymbol type when left is not ExpressionSyntax || IsTypeName(model, left) => model.LookupStaticMembers(dot + 1, type),
                _ => model.GetTypeInfo(left).Type is { TypeKind: not TypeKind.Error } t
                    ? model.LookupSymbols(dot + 1, t, includeReducedExtensionMethods: true).Where(s => !s.IsStatic || s is IMethodSymbol { MethodKind: MethodKind.ReducedExtension })
                    : [],
            };
        }
        else
        {
            symbols = model.LookupSymbols(start);
        }
        var matches = symbols
            .Where(s => s.CanBeReferencedByName && s.Name.StartsWith(prefix, StringComparison.Ordinal))
            .Select(s => s.Name)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();
        return new Completions(matches, start, cursor);
    }

    static bool IsTypeName(SemanticModel model, SyntaxNode node) => model.GetSymbolInfo(node).Symbol is ITypeSymbol && model.GetTypeInfo(node).Type is null
        || node is IdentifierNameSyntax or QualifiedNameSyntax or PredefinedTypeSyntax or GenericNameSyntax && model.GetSymbolInfo(node).Symbol is ITypeSymbol;

    public static Inspection? Inspect(Compilation compilation, int cursor)
    {
        var tree = compilation.SyntaxTrees.Last();
        var text = tree.GetText().ToString();
        cursor = Math.Clamp(cursor, 0, text.Length);
        // The identifier under the cursor, or just before it (a cursor at the end of a name, or on "(").
        int at = cursor;
        if (at == text.Length || !(char.IsLetterOrDigit(text[at]) || text[at] == '_'))
        {
            int back = at - 1;
            while (back >= 0 && text[back] is '(' or ' ') back--;
            if (back < 0) return null;
            at = back;
        }
        var token = tree.GetRoot().FindToken(at);
        if (token.Parent is not { } node) return null;
        var model = compilation.GetSemanticModel(tree);
        var info = model.GetSymbolInfo(node);
        var candidates = info.Symbol is { } s ? [s] : info.CandidateSymbols.ToList();
        if (candidates.Count == 0 && model.GetDeclaredSymbol(node) is { } declared) candidates = [declared];
        if (candidates.Count == 0 && model.GetTypeInfo(node).Type is { TypeKind: not TypeKind.Error } type) candidates = [type];
        if (candidates.Count == 0) return null;
        var format = SymbolDisplayFormat.CSharpShortErrorMessageFormat.WithParameterOptions(
            SymbolDisplayParameterOptions.IncludeType | SymbolDisplayParameterOptions.IncludeName | SymbolDisplayParameterOptions.IncludeDefaultValue
            | SymbolDisplayParameterOptions.IncludeParamsRefOut | SymbolDisplayParameterOptions.IncludeExtensionThis);
        var signatures = candidates.Select(c => Describe(c, format)).Distinct().ToList();
        return new Inspection(candidates[0].Name, signatures, candidates.Select(Summary).FirstOrDefault(x => x is not null));
    }

    static string Describe(ISymbol symbol, SymbolDisplayFormat format) => symbol switch
    {
        ILocalSymbol local => $"{local.Type.ToDisplayString(format)} {local.Name}",
        IFieldSymbol field when field.ContainingType?.IsScriptClass == true => $"{field.Type.ToDisplayString(format)} {field.Name}",
        IMethodSymbol m => $"{m.ReturnType.ToDisplayString(format)} {m.ToDisplayString(format)}",
        IPropertySymbol p => $"{p.Type.ToDisplayString(format)} {p.ToDisplayString(format)}",
        IFieldSymbol f => $"{f.Type.ToDisplayString(format)} {f.ToDisplayString(format)}",
        INamedTypeSymbol t => $"{t.TypeKind.ToString().ToLowerInvariant()} {t.ToDisplayString(format)}",
        _ => symbol.ToDisplayString(format),
    };

    static string? Summary(ISymbol symbol)
    {
        var xml = symbol.GetDocumentationCommentXml(expandIncludes: true);
        if (string.IsNullOrWhiteSpace(xml)) return null;
        try
        {
            var summary = XElement.Parse(xml).Element("summary");
            if (summary is null) return null;
            var sb = new StringBuilder();
            foreach (var n in summary.DescendantNodes())
            {
                if (n is XText t) sb.Append(t.Value);
                else if (n is XElement { Name.LocalName: "see" or "seealso" or "paramref" or "typeparamref" } e && !e.Nodes().Any())
                    sb.Append((e.Attribute("cref")?.Value ?? e.Attribute("name")?.Value ?? e.Attribute("langword")?.Value ?? "") is var r && r.Length > 2 && r[1] == ':' ? r[2..] : r);
            }
            return Regex.Replace(sb.ToString(), @"\s+", " ").Trim();
        }
        catch (System.Xml.XmlException) { return null; }
    }
}

/// <summary>An assembly's XML documentation file, read on first use: member id (e.g. "M:System.Console.WriteLine") → its doc XML.</summary>
sealed class XmlDocumentationFile(string path) : DocumentationProvider
{
    readonly Lazy<Dictionary<string, string>> members = new(() =>
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            foreach (var member in XDocument.Load(path).Descendants("member"))
                if (member.Attribute("name")?.Value is { } name) map[name] = member.ToString();
        }
        catch (Exception e) when (e is IOException or System.Xml.XmlException or UnauthorizedAccessException) { }
        return map;
    });

    protected override string? GetDocumentationForSymbol(string documentationMemberID, System.Globalization.CultureInfo preferredCulture,
        CancellationToken cancellationToken = default) =>
        members.Value.TryGetValue(documentationMemberID, out var xml) ? xml : "";

    public override bool Equals(object? obj) => obj is XmlDocumentationFile other && other.Path == Path;
    public override int GetHashCode() => Path.GetHashCode(StringComparison.Ordinal);
    string Path { get; } = path;
}
