using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace NotebookLab.Cli.Grading;

/// <summary>
/// In a C# script a later cell's code binds to what earlier cells declared before it looks at imports: a submission
/// that declares <c>class Math</c>, a method <c>softmax</c> or a variable <c>Grader</c> would capture those names in the
/// hidden tests (and could make a test's own reference computation agree with a wrong answer). So the grader refuses
/// a submission whose top-level declarations use a name the test cells rely on, unless the master declares that name
/// the same way (the functions students write, the given helpers).
/// </summary>
public static class Shadowing
{
    /// <summary>A top-level declaration of a cell: its kind, name, and a key that says how it is declared.</summary>
    public sealed record Declaration(string Kind, string Name, int Line)
    {
        public string Key { get; init; } = "";
    }

    static SyntaxNode Parse(string source) =>
        CSharpSyntaxTree.ParseText(source, CSharpParseOptions.Default.WithKind(SourceCodeKind.Script)).GetRoot();

    static int LineOf(SyntaxToken t) => t.GetLocation().GetLineSpan().StartLinePosition.Line + 1;

    /// <summary>The names a cell declares at the top level of the script: types, methods, properties, variables, local functions, using aliases.</summary>
    public static IEnumerable<Declaration> TopLevel(string source)
    {
        var root = (CompilationUnitSyntax)Parse(source);
        foreach (var u in root.Usings)
            if (u.Alias is { } alias)
                yield return new Declaration("alias", alias.Name.Identifier.ValueText, LineOf(alias.Name.Identifier)) { Key = $"alias:{alias.Name.Identifier.ValueText}={u.NamespaceOrType}" };
        foreach (var member in root.Members)
        {
            switch (member)
            {
                case BaseTypeDeclarationSyntax t:
                    yield return new Declaration("type", t.Identifier.ValueText, LineOf(t.Identifier)) { Key = $"type:{t.Identifier.ValueText}" };
                    break;
                case DelegateDeclarationSyntax d:
                    yield return new Declaration("type", d.Identifier.ValueText, LineOf(d.Identifier)) { Key = $"type:{d.Identifier.ValueText}" };
                    break;
                case MethodDeclarationSyntax m:
                    yield return new Declaration("method", m.Identifier.ValueText, LineOf(m.Identifier)) { Key = $"method:{m.Identifier.ValueText}" };
                    break;
                case PropertyDeclarationSyntax p:
                    yield return new Declaration("property", p.Identifier.ValueText, LineOf(p.Identifier)) { Key = $"property:{p.Identifier.ValueText}" };
                    break;
                case FieldDeclarationSyntax f:
                    foreach (var v in f.Declaration.Variables)
                        yield return new Declaration("variable", v.Identifier.ValueText, LineOf(v.Identifier)) { Key = $"variable:{v.Identifier.ValueText}" };
                    break;
                case GlobalStatementSyntax { Statement: LocalFunctionStatementSyntax lf }:
                    yield return new Declaration("method", lf.Identifier.ValueText, LineOf(lf.Identifier)) { Key = $"method:{lf.Identifier.ValueText}" };
                    break;
                case GlobalStatementSyntax { Statement: LocalDeclarationStatementSyntax ld }:
                    foreach (var v in ld.Declaration.Variables)
                        yield return new Declaration("variable", v.Identifier.ValueText, LineOf(v.Identifier)) { Key = $"variable:{v.Identifier.ValueText}" };
                    break;
                case GlobalStatementSyntax g:
                    // var (a, b) = ...; and out var x at the top level
                    foreach (var s in g.DescendantNodes(n => n is not (LambdaExpressionSyntax or AnonymousMethodExpressionSyntax)).OfType<SingleVariableDesignationSyntax>())
                        yield return new Declaration("variable", s.Identifier.ValueText, LineOf(s.Identifier)) { Key = $"variable:{s.Identifier.ValueText}" };
                    break;
            }
        }
    }

    /// <summary>Names the test cells use without declaring them (member names after a dot and named arguments excluded).</summary>
    public static IReadOnlySet<string> NamesTestsRelyOn(IEnumerable<string> testSources)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        var declared = new HashSet<string>(StringComparer.Ordinal);
        foreach (var source in testSources)
        {
            var root = Parse(source);
            foreach (var id in root.DescendantNodes().OfType<IdentifierNameSyntax>())
            {
                if (id.Parent is MemberAccessExpressionSyntax ma && ma.Name == id) continue;
                if (id.Parent is NameColonSyntax) continue;
                if (id.Parent is QualifiedNameSyntax q && q.Right == id) continue;
                used.Add(id.Identifier.ValueText);
            }
            foreach (var node in root.DescendantNodes())
            {
                SyntaxToken? name = node switch
                {
                    BaseTypeDeclarationSyntax t => t.Identifier,
                    MethodDeclarationSyntax m => m.Identifier,
                    LocalFunctionStatementSyntax f => f.Identifier,
                    VariableDeclaratorSyntax v => v.Identifier,
                    SingleVariableDesignationSyntax s => s.Identifier,
                    ParameterSyntax p => p.Identifier,
                    ForEachStatementSyntax fe => fe.Identifier,
                    _ => null,
                };
                if (name is { } n) declared.Add(n.ValueText);
            }
        }
        used.ExceptWith(declared);
        used.Remove("var");
        return used;
    }
}
