using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace NotebookLab.Engine.Execution;

/// <summary>Thrown inside a cell, at its next loop iteration or method call, after the cell was interrupted.</summary>
public sealed class CellInterruptedException() : OperationCanceledException("the cell was interrupted.");

/// <summary>
/// Cooperative interruption of running cells. .NET cannot abort a thread, so the engine rewrites each submitted cell
/// (<see cref="InterruptCheckInserter"/>) to call <see cref="Check"/> at the top of every loop body and of every
/// method, local function and lambda body. An interrupted cell then fails with <see cref="CellInterruptedException"/>
/// at its next check; the session, and the variables of earlier cells, survive.
/// </summary>
public static class Interrupts
{
    // How many sessions have an interrupt pending: the check costs one volatile read while none has.
    static int pending;

    /// <summary>Called by rewritten cell code; throws when the cell running on this async flow was interrupted.</summary>
    public static void Check()
    {
        if (Volatile.Read(ref pending) != 0) CheckSlow();
    }

    static void CheckSlow()
    {
        if (ConsoleRouter.Current is { IsInterrupted: true }) throw new CellInterruptedException();
    }

    internal static void Raised() => Interlocked.Increment(ref pending);
    internal static void Cleared() => Interlocked.Decrement(ref pending);
}

/// <summary>
/// Inserts <c>Interrupts.Check();</c> at the top of every loop body (while, do, for, foreach) and of every block-bodied
/// method, constructor, accessor, local function, lambda and anonymous method of a cell. Nothing is inserted across
/// lines, so the cell's line numbers (in errors and stack traces) stay the cell's own.
/// </summary>
public sealed class InterruptCheckInserter : CSharpSyntaxRewriter
{
    const string CheckCall = "global::NotebookLab.Engine.Execution.Interrupts.Check();";
    static readonly CSharpParseOptions ScriptParse = CSharpParseOptions.Default.WithKind(SourceCodeKind.Script).WithLanguageVersion(LanguageVersion.Latest);

    /// <summary>The cell's code with the checks inserted; the code unchanged when it does not parse.</summary>
    public static string Rewrite(string code)
    {
        var tree = CSharpSyntaxTree.ParseText(code, ScriptParse);
        // Code that does not parse is left as it is, so that the compiler's errors point at the user's columns.
        if (tree.GetDiagnostics().Any(d => d.Severity == DiagnosticSeverity.Error)) return code;
        return new InterruptCheckInserter().Visit(tree.GetRoot()).ToFullString();
    }

    static StatementSyntax Check() =>
        SyntaxFactory.ParseStatement(CheckCall).WithoutTrivia().WithTrailingTrivia(SyntaxFactory.Space);

    static BlockSyntax WithCheck(BlockSyntax block) => block.WithStatements(block.Statements.Insert(0, Check()));

    static StatementSyntax WithCheck(StatementSyntax body)
    {
        if (body is BlockSyntax block) return WithCheck(block);
        var open = SyntaxFactory.Token(SyntaxKind.OpenBraceToken).WithLeadingTrivia(body.GetLeadingTrivia()).WithTrailingTrivia(SyntaxFactory.Space);
        var close = SyntaxFactory.Token(SyntaxKind.CloseBraceToken).WithLeadingTrivia(SyntaxFactory.Space).WithTrailingTrivia(body.GetTrailingTrivia());
        return SyntaxFactory.Block(open, SyntaxFactory.List([Check(), body.WithoutLeadingTrivia().WithoutTrailingTrivia()]), close);
    }

    public override SyntaxNode? VisitWhileStatement(WhileStatementSyntax node)
    {
        var n = (WhileStatementSyntax)base.VisitWhileStatement(node)!;
        return n.WithStatement(WithCheck(n.Statement));
    }

    public override SyntaxNode? VisitDoStatement(DoStatementSyntax node)
    {
        var n = (DoStatementSyntax)base.VisitDoStatement(node)!;
        return n.WithStatement(WithCheck(n.Statement));
    }

    public override SyntaxNode? VisitForStatement(ForStatementSyntax node)
    {
        var n = (ForStatementSyntax)base.VisitForStatement(node)!;
        return n.WithStatement(WithCheck(n.Statement));
    }

    public override SyntaxNode? VisitForEachStatement(ForEachStatementSyntax node)
    {
        var n = (ForEachStatementSyntax)base.VisitForEachStatement(node)!;
        return n.WithStatement(WithCheck(n.Statement));
    }

    public override SyntaxNode? VisitForEachVariableStatement(ForEachVariableStatementSyntax node)
    {
        var n = (ForEachVariableStatementSyntax)base.VisitForEachVariableStatement(node)!;
        return n.WithStatement(WithCheck(n.Statement));
    }

    public override SyntaxNode? VisitMethodDeclaration(MethodDeclarationSyntax node)
    {
        var n = (MethodDeclarationSyntax)base.VisitMethodDeclaration(node)!;
        return n.Body is null ? n : n.WithBody(WithCheck(n.Body));
    }

    public override SyntaxNode? VisitConstructorDeclaration(ConstructorDeclarationSyntax node)
    {
        var n = (ConstructorDeclarationSyntax)base.VisitConstructorDeclaration(node)!;
        return n.Body is null ? n : n.WithBody(WithCheck(n.Body));
    }

    public override SyntaxNode? VisitOperatorDeclaration(OperatorDeclarationSyntax node)
    {
        var n = (OperatorDeclarationSyntax)base.VisitOperatorDeclaration(node)!;
        return n.Body is null ? n : n.WithBody(WithCheck(n.Body));
    }

    public override SyntaxNode? VisitAccessorDeclaration(AccessorDeclarationSyntax node)
    {
        var n = (AccessorDeclarationSyntax)base.VisitAccessorDeclaration(node)!;
        return n.Body is null ? n : n.WithBody(WithCheck(n.Body));
    }

    public override SyntaxNode? VisitLocalFunctionStatement(LocalFunctionStatementSyntax node)
    {
        var n = (LocalFunctionStatementSyntax)base.VisitLocalFunctionStatement(node)!;
        return n.Body is null ? n : n.WithBody(WithCheck(n.Body));
    }

    public override SyntaxNode? VisitParenthesizedLambdaExpression(ParenthesizedLambdaExpressionSyntax node)
    {
        var n = (ParenthesizedLambdaExpressionSyntax)base.VisitParenthesizedLambdaExpression(node)!;
        return n.Block is null ? n : n.WithBlock(WithCheck(n.Block));
    }

    public override SyntaxNode? VisitSimpleLambdaExpression(SimpleLambdaExpressionSyntax node)
    {
        var n = (SimpleLambdaExpressionSyntax)base.VisitSimpleLambdaExpression(node)!;
        return n.Block is null ? n : n.WithBlock(WithCheck(n.Block));
    }

    public override SyntaxNode? VisitAnonymousMethodExpression(AnonymousMethodExpressionSyntax node)
    {
        var n = (AnonymousMethodExpressionSyntax)base.VisitAnonymousMethodExpression(node)!;
        return n.WithBlock(WithCheck(n.Block));
    }
}
