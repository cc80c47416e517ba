using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using NotebookLab.Tests.Support;

namespace NotebookLab.Tests.Views;

/// <summary>The NotebookLab package as `dotnet pack` (run by the CLI build) leaves it in artifacts/packages.</summary>
public class PackageLayoutTests
{
    /// <summary>The build that the CLI packed last: a unique 0.1.0-dev.&lt;time&gt;.c&lt;clone&gt; version, named in the stamp.</summary>
    internal static string PackedVersion()
    {
        var stamp = Path.Combine(RepoPaths.LocalPackages, ".notebooklab.stamp");
        Assert.True(File.Exists(stamp), $"{stamp} is missing: build src/NotebookLab.Cli (it packs the library)");
        return File.ReadAllText(stamp).Trim();
    }

    static ZipArchive OpenPackage()
    {
        var path = Path.Combine(RepoPaths.LocalPackages, $"NotebookLab.{PackedVersion()}.nupkg");
        Assert.True(File.Exists(path), $"{path} is missing: build src/NotebookLab.Cli (it packs the library)");
        return ZipFile.OpenRead(path);
    }

    [Fact]
    public void Each_pack_has_a_unique_prerelease_version_that_star_dash_star_prefers()
    {
        var version = PackedVersion();
        var match = Regex.Match(version, @"^0\.1\.0-dev\.(\d{14})\.c([0-9a-f]{8})$");
        Assert.True(match.Success, $"packed version {version} is not 0.1.0-dev.<yyyyMMddHHmmss>.c<clone hash>");
        var stamped = DateTime.ParseExact(match.Groups[1].Value, "yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(stamped, new DateTime(2026, 1, 1), DateTime.UtcNow.AddMinutes(1));
        // Only the newest build stays in the folder, so every host's `*-*` finds exactly this clone's latest.
        var packages = Directory.GetFiles(RepoPaths.LocalPackages, "NotebookLab.*.nupkg");
        Assert.Equal([Path.Combine(RepoPaths.LocalPackages, $"NotebookLab.{version}.nupkg")], packages);
    }

    static string Read(ZipArchive zip, string entry)
    {
        using var reader = new StreamReader(zip.GetEntry(entry)!.Open());
        return reader.ReadToEnd();
    }

    [Fact]
    public void Package_holds_the_library_and_the_extension_script()
    {
        using var zip = OpenPackage();
        var entries = zip.Entries.Select(e => e.FullName).ToHashSet();
        Assert.Contains("lib/net8.0/NotebookLab.dll", entries);
        Assert.Contains("lib/net8.0/NotebookLab.xml", entries);
        Assert.Contains("interactive-extensions/dotnet/extension.dib", entries);

        var dib = Read(zip, "interactive-extensions/dotnet/extension.dib");
        var code = dib[(dib.IndexOf("#!csharp", StringComparison.Ordinal) + "#!csharp".Length)..];
        var statements = code.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith("//")).ToList();
        // The host check and the assembly unification come before anything that loads Plotly.NET or TorchSharp.
        Assert.Equal("NotebookLab.Hosting.HostCompatibility.Check();", statements[0]);
        Assert.Equal("NotebookLab.Hosting.HostAssemblies.UnifyWithHost();", statements[1]);
        Assert.Contains("NotebookLab.Views.Formatters.Register();", statements);
        Assert.Contains(statements, s => s.StartsWith("NotebookLab.Hosting.LiveDisplay.Install("));
        // No torch operation at load time (it would disable CUDA for the process).
        Assert.DoesNotMatch(new Regex(@"\btorch\.|TorchSharp\.torch"), string.Join("\n", statements));
    }

    [Fact]
    public void Package_depends_on_managed_TorchSharp_formatting_and_charting_only()
    {
        using var zip = OpenPackage();
        var nuspec = XDocument.Parse(Read(zip, zip.Entries.Single(e => e.FullName.EndsWith(".nuspec")).FullName));
        XNamespace ns = nuspec.Root!.Name.Namespace;
        var group = nuspec.Descendants(ns + "group").Single(g => (string?)g.Attribute("targetFramework") is "net8.0" or ".NETCoreApp8.0");
        var ids = group.Elements(ns + "dependency").Select(d => (string)d.Attribute("id")!).ToList();
        foreach (var id in new[] { "TorchSharp", "Microsoft.DotNet.Interactive.Formatting", "Plotly.NET", "OxyPlot.Core" }) Assert.Contains(id, ids);
        Assert.DoesNotContain(ids, id => id.StartsWith("TorchSharp-", StringComparison.OrdinalIgnoreCase) || id.StartsWith("libtorch", StringComparison.OrdinalIgnoreCase));
        Assert.Equal("0.107.0", (string)group.Elements(ns + "dependency").Single(d => (string)d.Attribute("id")! == "TorchSharp").Attribute("version")!);
    }
}
