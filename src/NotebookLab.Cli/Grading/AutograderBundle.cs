using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using NotebookLab.Engine.Packages;

namespace NotebookLab.Cli.Grading;

/// <summary>
/// The autograder bundle <c>notebooklab assign</c> writes (<c>autograder/assignment.json</c>): every question and test,
/// hidden ones included, the test cells, the setup cells, and the local package sources. Students never see it.
/// </summary>
public sealed class AutograderBundle
{
    public const string ManifestName = "assignment.json";

    public required string Name { get; init; }
    public required string Folder { get; init; }
    public required string Sha256 { get; init; }
    public required IReadOnlyList<QuestionSpec> Questions { get; init; }
    public required IReadOnlyList<TestCell> TestCells { get; init; }
    public required IReadOnlyList<string> Setup { get; init; }
    public required IReadOnlyList<(string CellId, string Question)> WrittenCells { get; init; }
    public required IReadOnlyList<string> PackageSources { get; init; }

    /// <summary>How the master declares its top-level names (<see cref="Shadowing.Declaration.Key"/>): a submission may declare these.</summary>
    public IReadOnlySet<string> GivenDeclarations { get; init; } = new HashSet<string>();

    /// <summary>Names the test cells use without declaring them; see <see cref="Shadowing"/>.</summary>
    public IReadOnlySet<string> NamesTestsRelyOn => namesTestsRelyOn ??= Shadowing.NamesTestsRelyOn(TestCells.Select(t => t.Source));
    IReadOnlySet<string>? namesTestsRelyOn;

    public IReadOnlyList<TestSpec> Tests => [.. Questions.SelectMany(q => q.Tests)];
    public double MaxScore => Questions.Where(q => !q.Written).Sum(q => q.Points);

    public TestCell CellOf(TestSpec test) => TestCells.First(tc => tc.Tests.Any(t => t.Key == test.Key));

    /// <summary>Reads a bundle folder (or its assignment.json).</summary>
    public static AutograderBundle Load(string path)
    {
        var manifestPath = Directory.Exists(path) ? Path.Combine(path, ManifestName) : path;
        if (!File.Exists(manifestPath)) throw new ArgumentException($"{path}: no {ManifestName} (write one with 'notebooklab assign').");
        var text = File.ReadAllText(manifestPath);
        var m = JsonNode.Parse(text)!.AsObject();
        var questions = m["questions"]!.AsArray().Select(q => new QuestionSpec(
            q!["id"]!.GetValue<string>(), q["title"]?.GetValue<string>() ?? "", q["kind"]!.GetValue<string>() == "written",
            q["points"]!.GetValue<double>(),
            q["tests"]!.AsArray().Select(t => new TestSpec(q["id"]!.GetValue<string>(), t!["name"]!.GetValue<string>(),
                t["points"]!.GetValue<double>(), t["hidden"]!.GetValue<bool>())).ToList())).ToList();
        var all = questions.SelectMany(q => q.Tests).ToDictionary(t => t.Key);
        var cells = m["test_cells"]!.AsArray().Select(c => new TestCell(c!["id"]!.GetValue<string>(), c["source"]!.GetValue<string>(),
            c["grading"]!["hidden"]!.GetValue<bool>(),
            c["grading"]!["tests"]!.AsArray().Select(t => all[$"{t!["question"]!.GetValue<string>()}/{t["name"]!.GetValue<string>()}"]).ToList())).ToList();
        return new AutograderBundle
        {
            Name = m["assignment"]!.GetValue<string>(),
            Folder = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!,
            Sha256 = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text))).ToLowerInvariant(),
            Questions = questions,
            TestCells = cells,
            Setup = m["setup"]!.AsArray().Select(s => s!.GetValue<string>()).ToList(),
            WrittenCells = m["written_cells"]!.AsArray().Select(w => (w!["id"]!.GetValue<string>(), w["question"]!.GetValue<string>())).ToList(),
            PackageSources = m["package_sources"]!.AsArray().Select(s => s!.GetValue<string>())
                .Select(s => Path.IsPathRooted(s) ? s : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(manifestPath))!, s))).ToList(),
            GivenDeclarations = (m["given_declarations"]?.AsArray() ?? []).Select(d => d!.GetValue<string>()).ToHashSet(StringComparer.Ordinal),
        };
    }

    /// <summary>The nuget.config written into each submission's private folder: the bundle's local package sources.</summary>
    public string NuGetConfig()
    {
        var sb = new StringBuilder("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<configuration>\n  <packageSources>\n");
        foreach (var (source, i) in PackageSources.Select((s, i) => (s, i)))
            sb.Append($"    <add key=\"grader-{i + 1}\" value=\"{System.Security.SecurityElement.Escape(source)}\" />\n");
        return sb.Append("  </packageSources>\n</configuration>\n").ToString();
    }

    static string Home => Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    public static string NuGetPackagesFolder =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } p ? p : Path.Combine(Home, ".nuget", "packages");

    /// <summary>What a sandboxed worker may read (and execute): the system, .NET, the NuGet and NotebookLab caches, this tool, the package sources.</summary>
    public IEnumerable<string> ReadableRoots()
    {
        string[] system = ["/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc", "/proc", "/sys", "/dev", "/opt", "/run"];
        foreach (var s in system) yield return s;
        var runtime = Path.GetDirectoryName(typeof(object).Assembly.Location)!;   // .../shared/Microsoft.NETCore.App/10.x
        yield return Path.GetFullPath(Path.Combine(runtime, "..", "..", ".."));
        yield return AppContext.BaseDirectory.TrimEnd('/');
        yield return Path.Combine(Home, ".nuget");
        yield return Path.Combine(Home, ".dotnet");
        yield return NuGetPackagesFolder;
        yield return Path.GetDirectoryName(PackageResolver.DefaultCacheRoot())!;
        if (Environment.GetEnvironmentVariable("NOTEBOOKLAB_NATIVE_CACHE") is { Length: > 0 } native) yield return native;
        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root) yield return root;
        foreach (var s in PackageSources) yield return s;
    }

    /// <summary>
    /// Whether the assembly the tests bound <c>Grader</c> to is NotebookLab as this tool ships it (the worker has it
    /// loaded already, so the notebook's <c>#r "nuget: NotebookLab"</c> binds to it) or the package in the NuGet packages
    /// folder; the sandbox lets the submission write to neither.
    /// </summary>
    public bool IsTrustedLibrary(string location)
    {
        if (location == Path.Combine(AppContext.BaseDirectory, "NotebookLab.dll")) return true;
        var folder = Path.GetFullPath(NuGetPackagesFolder).TrimEnd('/') + "/notebooklab/";
        return location.StartsWith(folder, StringComparison.OrdinalIgnoreCase) && location.EndsWith("/NotebookLab.dll", StringComparison.Ordinal);
    }
}
