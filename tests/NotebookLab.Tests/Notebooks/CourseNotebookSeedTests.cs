using System.Text.RegularExpressions;
using NotebookLab.Tests.Cli;
using NotebookLab.Tests.Support;

namespace NotebookLab.Tests.Notebooks;

/// <summary>
/// The course notebooks' sources (no execution): each takes a <c>seed</c> parameter beside <c>fast</c>, and every
/// seeding call derives from it, so <c>tests/seeds/run-seeds.py</c> really varies every random number.
/// </summary>
public partial class CourseNotebookSeedTests
{
    public static TheoryData<string> Notebooks() =>
        new(Directory.GetFiles(RepoPaths.Notebooks, "*.ipynb").Select(Path.GetFileName).Order(StringComparer.Ordinal)!);

    static List<string> CodeSources(string notebook) =>
        CliRunner.CodeCells(Path.Combine(RepoPaths.Notebooks, notebook)).Select(c => CliRunner.MultilineText(c["source"])).ToList();

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void The_parameters_cell_declares_fast_and_seed(string notebook)
    {
        var parameters = CliRunner.CodeCells(Path.Combine(RepoPaths.Notebooks, notebook))
            .Where(c => c["metadata"]?["tags"]?.AsArray().Any(t => t?.GetValue<string>() == "parameters") == true)
            .Select(c => CliRunner.MultilineText(c["source"])).ToList();
        var cell = Assert.Single(parameters);
        Assert.Contains("var fast = false;", cell);
        Assert.Contains("var seed = 0;", cell);
    }

    [Theory]
    [MemberData(nameof(Notebooks))]
    public void No_seeding_call_uses_a_literal_seed(string notebook)
    {
        var literal = CodeSources(notebook).SelectMany(s => s.Split('\n'))
            .Where(line => LiteralSeed().IsMatch(line)).ToList();
        Assert.True(literal.Count == 0, $"{notebook}: seeding calls that ignore the seed parameter:\n{string.Join("\n", literal)}");
    }

    [Theory]
    [InlineData("Lab.Seed(0);", true)]
    [InlineData("manual_seed(1);", true)]
    [InlineData("var g = new Generator(3);", true)]
    [InlineData("random: new Random(2));", true)]
    [InlineData("SineNextStep(count: 3, seed: 1);", true)]
    [InlineData("Lab.Seed(seed);", false)]
    [InlineData("new Generator((ulong)(seed + 3))", false)]
    [InlineData("SineNextStep(count: 3, seed: seed + 1);", false)]
    public void The_literal_seed_pattern_catches_literals_only(string line, bool literal) =>
        Assert.Equal(literal, LiteralSeed().IsMatch(line));

    [GeneratedRegex(@"(Lab\.Seed|manual_seed|manual_seed_all|new Generator|new Random)\(\s*\(?\s*(ulong\)\s*)?\d|\bseed:\s*\d")]
    private static partial Regex LiteralSeed();
}
