using System.Text;
using NotebookLab.Engine.Execution;
using NotebookLab.Engine.Notebooks;
using NotebookLab.Engine.Packages;
using NotebookLab.Tests.Support;

namespace NotebookLab.Tests.Engine;

/// <summary>
/// A local package feed built once per test class: NotebookLab.TestPkg (with an extension.dib and linux-x64/win-x64
/// native assets) depending on NotebookLab.TestDep, and NotebookLab.TestBadExt whose extension throws.
/// </summary>
public sealed class LocalFeedFixture : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("nbl-feed-").FullName;
    public string NotebookDir => Path.Combine(Root, "course");
    public string Feed => Path.Combine(Root, "feed");
    public string PackagesFolder => Path.Combine(Root, "packages");
    public string Cache => Path.Combine(Root, "cache");

    public LocalFeedFixture()
    {
        Directory.CreateDirectory(NotebookDir);
        var build = Path.Combine(Root, "build");
        var dep = TestPackages.CompileLibrary("NotebookLab.TestDep",
            "namespace NotebookLab.TestDep; public static class Dep { public static string Hello() => \"hello from a dependency\"; }",
            Path.Combine(build, "NotebookLab.TestDep.dll"));
        var pkg = TestPackages.CompileLibrary("NotebookLab.TestPkg",
            """
            namespace NotebookLab.TestPkg;
            public static class Greeter
            {
                public static int ExtensionRuns;
                public static string Greet(string name) => NotebookLab.TestDep.Dep.Hello() + ", " + name;
            }
            public static class NativeZlib
            {
                // "nbltest" exists only as the package's runtimes/linux-x64/native/libnbltest.so (a copy of zlib).
                [System.Runtime.InteropServices.DllImport("nbltest")] static extern System.IntPtr zlibVersion();
                public static string Version => System.Runtime.InteropServices.Marshal.PtrToStringAnsi(zlibVersion())!;
            }
            """, Path.Combine(build, "NotebookLab.TestPkg.dll"), dep);

        TestPackages.WriteNupkg(Feed, "NotebookLab.TestDep", "1.0.0",
            new Dictionary<string, byte[]> { ["lib/net8.0/NotebookLab.TestDep.dll"] = File.ReadAllBytes(dep) });
        TestPackages.WriteNupkg(Feed, "NotebookLab.TestPkg", "1.0.0", new Dictionary<string, byte[]>
        {
            ["lib/net8.0/NotebookLab.TestPkg.dll"] = File.ReadAllBytes(pkg),
            ["interactive-extensions/dotnet/extension.dib"] = Encoding.UTF8.GetBytes(
                "#!meta\n\n{\"kernelInfo\":{\"defaultKernelName\":\"csharp\",\"items\":[{\"aliases\":[],\"name\":\"csharp\"}]}}\n\n" +
                "#!csharp\n\nNotebookLab.TestPkg.Greeter.ExtensionRuns++;\ndisplay(\"TestPkg extension loaded\");\n"),
            ["runtimes/linux-x64/native/libnbltest.so"] = File.ReadAllBytes(Zlib),
            ["runtimes/win-x64/native/nbltest.dll"] = [0x4d, 0x5a],
        }, ("NotebookLab.TestDep", "1.0.0"));
        TestPackages.WriteNupkg(Feed, "NotebookLab.TestBadExt", "1.0.0", new Dictionary<string, byte[]>
        {
            ["lib/net8.0/NotebookLab.TestDep.dll"] = File.ReadAllBytes(dep),
            ["interactive-extensions/dotnet/extension.dib"] = Encoding.UTF8.GetBytes(
                "#!csharp\n\nthrow new System.InvalidOperationException(\"extension exploded\");\n"),
        });
        TestPackages.CompileLibrary("LocalLib", "public static class LocalLib { public static int Answer => 42; }",
            Path.Combine(NotebookDir, "lib", "LocalLib.dll"));
    }

    /// <summary>The system zlib, copied into the test package as its native asset.</summary>
    public static string Zlib => new[] { "/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib64/libz.so.1", "/usr/lib64/libz.so.1" }
        .FirstOrDefault(File.Exists) ?? throw new FileNotFoundException("the package tests need the system zlib (libz.so.1) as a native asset");

    public NotebookSession NewSession() => new(new SessionOptions
    {
        WorkingDirectory = NotebookDir,
        PackageResolver = new PackageResolver(Cache, PackagesFolder, onlyNotebookSources: true),
    });

    public void Dispose() => Directory.Delete(Root, recursive: true);
}

public class PackageTests(LocalFeedFixture feed) : IClassFixture<LocalFeedFixture>
{
    static string Text(CellOutput o) => o switch
    {
        DisplayOutput d => d.Data["text/plain"],
        StreamOutput s => s.Text,
        ErrorOutput e => e.EValue,
        _ => "",
    };

    [Fact]
    public async Task Nuget_reference_resolves_transitively_and_runs_the_extension_before_the_cell()
    {
        using var session = feed.NewSession();
        var result = await session.ExecuteAsync("""
            #i "nuget: ../feed"
            #r "nuget: NotebookLab.TestPkg, 1.0.0"
            using NotebookLab.TestPkg;
            $"{Greeter.Greet("students")} / extension runs: {Greeter.ExtensionRuns}"
            """, new CellLocation("course/nb.ipynb", 1));
        Assert.True(result.Status == CellStatus.Ok, result.Error?.EValue);
        var texts = result.Outputs.Select(Text).ToList();
        Assert.Contains("NotebookLab.TestPkg, 1.0.0", texts[0]);
        Assert.StartsWith("Installed Packages", texts[0]);
        Assert.Equal("TestPkg extension loaded", texts[1]);
        Assert.Equal("hello from a dependency, students / extension runs: 1", texts[2]);

        var resolved = session.Packages!;
        Assert.Contains(resolved.Packages, p => p.Id == "NotebookLab.TestDep" && p.Version == "1.0.0");
        Assert.StartsWith(Path.GetFullPath(feed.PackagesFolder), resolved.Packages[0].Root);
        var nativeAsset = Assert.Single(resolved.NativeLibraries);
        Assert.EndsWith(Path.Combine("runtimes", "linux-x64", "native", "libnbltest.so"), nativeAsset);

        // The native asset is loadable through the package: DllImport("nbltest") finds libnbltest.so.
        var native = await session.ExecuteAsync("NativeZlib.Version");
        Assert.True(native.Status == CellStatus.Ok, native.Error?.EValue);
        Assert.Matches(@"^1\.\d+\.\d+", Text(native.Outputs.Single()));

        // Referencing it again loads nothing twice: the extension does not run again.
        var again = await session.ExecuteAsync("#r \"nuget: NotebookLab.TestPkg, 1.0.0\"\nGreeter.ExtensionRuns");
        Assert.Equal("1", Text(again.Outputs.Last()));
    }

    [Fact]
    public async Task A_warm_resolution_does_not_restore()
    {
        var resolver = new PackageResolver(feed.Cache, feed.PackagesFolder, onlyNotebookSources: true);
        PackageRequest[] packages = [new("NotebookLab.TestDep", "1.0.0")];
        var first = await resolver.ResolveAsync(packages, [feed.Feed]);
        var warm = new PackageResolver(feed.Cache, feed.PackagesFolder, onlyNotebookSources: true);
        var second = await warm.ResolveAsync(packages, [feed.Feed]);
        Assert.Equal(0, warm.RestoreCount);
        Assert.Equal(first.RuntimeAssemblies, second.RuntimeAssemblies);
        Assert.EndsWith("NotebookLab.TestDep.dll", Assert.Single(second.RuntimeAssemblies));
    }

    [Fact]
    public async Task A_nuget_config_in_the_notebook_folder_is_a_source_and_star_dash_star_takes_the_newest_build()
    {
        // The course layout: notebooks/nuget.config names ../artifacts/packages, where each build packs a new version.
        var course = Path.Combine(feed.Root, "config-course");
        var notebooks = Path.Combine(course, "notebooks");
        var packages = Path.Combine(course, "artifacts", "packages");
        Directory.CreateDirectory(notebooks);
        File.WriteAllText(Path.Combine(notebooks, "nuget.config"), """
            <?xml version="1.0" encoding="utf-8"?>
            <configuration><packageSources><add key="local" value="../artifacts/packages" /></packageSources></configuration>
            """);
        var build = Path.Combine(feed.Root, "config-build");
        string Build(int answer) => TestPackages.CompileLibrary("NotebookLab.TestBuilt",
            $"namespace NotebookLab.TestBuilt; public static class Build {{ public static int Answer => {answer}; }}",
            Path.Combine(build, $"v{answer}", "NotebookLab.TestBuilt.dll"));
        void Pack(int answer) => TestPackages.WriteNupkg(packages, "NotebookLab.TestBuilt", $"0.1.0-dev.2026120100000{answer}.c0000000a",
            new Dictionary<string, byte[]> { ["lib/net8.0/NotebookLab.TestBuilt.dll"] = File.ReadAllBytes(Build(answer)) });

        Assert.Contains(Path.GetFullPath(packages), PackageResolver.ConfiguredSources(notebooks));
        var resolver = new PackageResolver(Path.Combine(feed.Root, "config-cache"), feed.PackagesFolder);
        PackageRequest[] request = [new("NotebookLab.TestBuilt", "*-*")];
        Pack(1);
        var first = await resolver.ResolveAsync(request, [], configDirectory: notebooks);
        Assert.Equal("0.1.0-dev.20261201000001.c0000000a", Assert.Single(first.Packages).Version);

        Pack(2);
        var second = await resolver.ResolveAsync(request, [], configDirectory: notebooks);
        Assert.Equal("0.1.0-dev.20261201000002.c0000000a", Assert.Single(second.Packages).Version);
        Assert.Equal(File.ReadAllBytes(Path.Combine(build, "v2", "NotebookLab.TestBuilt.dll")), File.ReadAllBytes(Assert.Single(second.RuntimeAssemblies)));
        Assert.Equal(2, resolver.RestoreCount);
    }

    [Fact]
    public async Task A_package_in_no_source_is_named_with_the_sources_searched()
    {
        var resolver = new PackageResolver(feed.Cache, feed.PackagesFolder, onlyNotebookSources: true);
        var e = await Assert.ThrowsAsync<PackageResolutionException>(() =>
            resolver.ResolveAsync([new("NotebookLab.NoSuchPackage", "*-*")], [feed.Feed]));
        Assert.Equal("NotebookLab.NoSuchPackage", e.PackageId);
        Assert.Contains("NU1101", e.Message);
        Assert.Contains($"Sources searched: {feed.Feed}", e.Message);
        Assert.Contains("dotnet build src/NotebookLab.Cli", e.Message);
    }

    [Fact]
    public async Task Concurrent_resolutions_of_one_set_restore_once()
    {
        var cache = Path.Combine(feed.Root, "cache-concurrent");
        var resolvers = Enumerable.Range(0, 3).Select(_ => new PackageResolver(cache, feed.PackagesFolder, onlyNotebookSources: true)).ToList();
        PackageRequest[] request = [new("NotebookLab.TestPkg", "1.0.0")];
        var results = await Task.WhenAll(resolvers.Select(r => Task.Run(() => r.ResolveAsync(request, [feed.Feed]))));
        Assert.Equal(1, resolvers.Sum(r => r.RestoreCount));
        Assert.All(results, r => Assert.Equal(2, r.Packages.Count));
    }

    [Fact]
    public async Task Version_can_be_omitted()
    {
        using var session = feed.NewSession();
        var result = await session.ExecuteAsync("#i \"nuget: ../feed\"\n#r \"nuget: NotebookLab.TestDep\"\nNotebookLab.TestDep.Dep.Hello()");
        Assert.True(result.Status == CellStatus.Ok, result.Error?.EValue);
        Assert.Equal("hello from a dependency", Text(result.Outputs.Last()));
    }

    [Fact]
    public async Task Unknown_package_names_package_cell_and_line()
    {
        using var session = feed.NewSession();
        var result = await session.ExecuteAsync("#i \"nuget: ../feed\"\n// packages\n#r \"nuget: NotebookLab.NoSuchPackage, 9.9.9\"",
            new CellLocation("course/nb.ipynb", 2));
        Assert.Equal(CellStatus.Error, result.Status);
        Assert.Equal(3, result.ErrorLine);
        Assert.StartsWith("course/nb.ipynb, cell 2, line 3: #r \"nuget: NotebookLab.NoSuchPackage, 9.9.9\" in notebooklab ", result.Error!.EValue);
        Assert.Matches(@"in notebooklab \S+ \(\.NET \d+\.\d+\.\d+\)", result.Error.EValue);
        Assert.Contains("NU1101", result.Error.EValue);
        Assert.Contains("Sources searched: ", result.Error.EValue);
    }

    [Fact]
    public async Task Failing_extension_names_the_package()
    {
        using var session = feed.NewSession();
        var result = await session.ExecuteAsync("#i \"nuget: ../feed\"\n#r \"nuget: NotebookLab.TestBadExt, 1.0.0\"", new CellLocation(null, 1));
        Assert.Equal(CellStatus.Error, result.Status);
        Assert.Equal("ExtensionLoadError", result.Error!.EName);
        Assert.Equal(2, result.ErrorLine);
        Assert.Contains("the extension of package 'NotebookLab.TestBadExt' 1.0.0", result.Error.EValue);
        Assert.Contains("extension exploded", result.Error.EValue);
    }

    [Fact]
    public async Task Missing_local_source_folder_is_reported()
    {
        using var session = feed.NewSession();
        var result = await session.ExecuteAsync("#i \"nuget: ../no-such-feed\"", new CellLocation(null, 1));
        Assert.Equal(1, result.ErrorLine);
        Assert.Contains("no-such-feed does not exist", result.Error!.EValue);
    }

    [Fact]
    public async Task Assembly_reference_is_relative_to_the_notebook_folder()
    {
        using var session = feed.NewSession();
        var result = await session.ExecuteAsync("#r \"lib/LocalLib.dll\"\nLocalLib.Answer");
        Assert.True(result.Status == CellStatus.Ok, result.Error?.EValue);
        Assert.Equal("42", Text(result.Outputs.Single()));

        var missing = await session.ExecuteAsync("\n#r \"lib/Nope.dll\"", new CellLocation(null, 2));
        Assert.Equal(2, missing.ErrorLine);
        Assert.Contains("#r \"lib/Nope.dll\": no such file", missing.Error!.EValue);
    }

    [Theory]
    [InlineData(null, "TorchSharp-cpu")]
    [InlineData("cpu", "TorchSharp-cpu")]
    [InlineData("cuda-linux", "TorchSharp-cuda-linux")]
    [InlineData("CUDA-Windows", "TorchSharp-cuda-windows")]
    public void Torch_backend_switch_rewrites_the_cpu_package(string? backend, string expected)
    {
        var rewritten = PackageResolver.ApplyTorchBackend(new PackageRequest("TorchSharp-cpu", "0.107.0"), backend ?? "");
        Assert.Equal(new PackageRequest(expected, "0.107.0"), rewritten);
        Assert.Equal("Plotly.NET", PackageResolver.ApplyTorchBackend(new PackageRequest("Plotly.NET", "6.0.0"), "cuda-linux").Id);
        Assert.Throws<PackageResolutionException>(() => PackageResolver.ApplyTorchBackend(new PackageRequest("TorchSharp-cpu", null), "rocm"));
    }
}
