using System.Globalization;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using NotebookLab.Engine.Notebooks;

namespace NotebookLab.Cli.Grading;

/// <summary>
/// Pairs of submissions whose code is unusually similar. Each submission's code cells (test cells excluded) become
/// normalised C# tokens (identifiers → <c>id</c>, literals → <c>lit</c>, comments and layout dropped), then 5-grams;
/// 5-grams that more than half the submissions share (the released scaffold, the stubs) are discarded, and pairs
/// are ranked by the Jaccard similarity of what remains. Renaming variables or reformatting does not hide a copy.
/// </summary>
public static class Similarity
{
    public const int N = 5;

    public static IReadOnlyList<string> Tokens(string source)
    {
        var tokens = new List<string>();
        foreach (var token in SyntaxFactory.ParseTokens(source, options: CSharpParseOptions.Default.WithKind(SourceCodeKind.Script)))
        {
            if (token.IsKind(SyntaxKind.EndOfFileToken)) break;
            tokens.Add(token.Kind() switch
            {
                SyntaxKind.IdentifierToken => "id",
                SyntaxKind.NumericLiteralToken or SyntaxKind.StringLiteralToken or SyntaxKind.CharacterLiteralToken
                    or SyntaxKind.InterpolatedStringTextToken => "lit",
                _ => token.Text,
            });
        }
        return tokens;
    }

    static HashSet<string> Grams(Notebook nb)
    {
        var code = string.Join("\n", nb.Cells.Where(c => c.Type == CellType.Code && !Assignment.IsTestCell(c)).Select(c => c.Source));
        var t = Tokens(code);
        var grams = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i + N <= t.Count; i++) grams.Add(string.Join(' ', t.Skip(i).Take(N)));
        return grams;
    }

    public static IReadOnlyList<(string A, string B, double Score)> Pairs(IReadOnlyList<(string Student, Notebook Notebook)> submissions)
    {
        var grams = submissions.Select(s => Grams(s.Notebook)).ToList();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var g in grams.SelectMany(x => x)) counts[g] = counts.GetValueOrDefault(g) + 1;
        int common = Math.Max(2, submissions.Count / 2);
        var distinctive = grams.Select(g => g.Where(x => submissions.Count < 3 || counts[x] <= common).ToHashSet(StringComparer.Ordinal)).ToList();
        var pairs = new List<(string, string, double)>();
        for (int i = 0; i < submissions.Count; i++)
            for (int j = i + 1; j < submissions.Count; j++)
            {
                int union = distinctive[i].Count + distinctive[j].Count;
                if (union == 0) continue;
                int inter = distinctive[i].Count(distinctive[j].Contains);
                union -= inter;
                pairs.Add((submissions[i].Student, submissions[j].Student, (double)inter / union));
            }
        return pairs.OrderByDescending(p => p.Item3).ToList();
    }

    /// <summary>similarity.csv: every pair at 0.5 or more, most similar first.</summary>
    public static void WriteReport(IReadOnlyList<(string Student, string Path)> submissions, string path)
    {
        var loaded = new List<(string, Notebook)>();
        foreach (var (student, file) in submissions)
        {
            try { loaded.Add((student, NotebookFile.Read(file))); } catch (Exception) { }
        }
        var sb = new StringBuilder("student_a,student_b,similarity\n");
        foreach (var (a, b, score) in Pairs(loaded).Where(p => p.Score >= 0.5))
            sb.Append(a).Append(',').Append(b).Append(',').Append(score.ToString("0.000", CultureInfo.InvariantCulture)).Append('\n');
        File.WriteAllText(path, sb.ToString());
    }
}
