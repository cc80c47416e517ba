using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using NotebookLab.Hosting;
using NotebookLab.Tests.Support;
using NuGet.Common;
using NuGet.Frameworks;
using NuGet.ProjectModel;

namespace NotebookLab.Tests.Hosting;

/// <summary>
/// NotebookLab's dependencies against the assemblies the real hosts already carry: a host's copy wins, so NotebookLab
/// (or anything it brings) asking for a newer version than the host's breaks at run time in that host.
/// </summary>
public class HostAlignmentTests
{
    /// <summary>
    /// Newer than the host's copy because nothing older is published, and bound to the host's copy by
    /// <see cref="HostAssemblies.UnifyWithHost"/> (same major version): Plotly.NET 6.0.0, the only release, is built
    /// against FSharp.Core 10.1 where the hosts carry 10.0; Formatting's Microsoft.AspNetCore.Html.Abstractions 2.3.0
    /// is not served (2.2.0 and 2.3.13 are), and dotnet-repl carries 2.3.0.
    /// </summary>
    static readonly HashSet<string> UnifiedWithHost = new(StringComparer.OrdinalIgnoreCase) { "FSharp.Core", "Microsoft.AspNetCore.Html.Abstractions" };

    public static TheoryData<string> Hosts() => new("dotnet-interactive", "dotnet-repl");

    [RequiresToolTheory("dotnet-interactive", "dotnet-repl")]
    [MemberData(nameof(Hosts))]
    public void NotebookLab_asks_for_no_newer_assembly_than_the_host_carries(string host)
    {
        var carried = HostAssemblyVersions(host);
        Assert.Contains("Microsoft.DotNet.Interactive.Formatting", carried.Keys);
        var problems = new List<string>();
        foreach (var (requester, name, version) in NotebookLabRequests())
        {
            if (!carried.TryGetValue(name, out var hostVersion) || version <= hostVersion) continue;
            var line = $"{requester} asks for {name} {version}; {host} carries {hostVersion}";
            if (!UnifiedWithHost.Contains(name)) problems.Add(line);
            else if (!HostAssemblies.IsCompatible(new AssemblyName($"{name}, Version={version}"), new AssemblyName($"{name}, Version={hostVersion}")))
                problems.Add(line + " (beyond what HostAssemblies unifies: another major version)");
        }
        Assert.True(problems.Count == 0, "NotebookLab needs newer assemblies than the host has:\n" + string.Join("\n", problems.Distinct()));
    }

    [RequiresToolFact("dotnet-interactive")]
    public void The_Formatting_package_is_the_build_the_host_ships()
    {
        var hostFormatting = Path.Combine(HostFolder("dotnet-interactive"), "Microsoft.DotNet.Interactive.Formatting.dll");
        var ours = NotebookLabRuntimeAssemblies().Single(p => Path.GetFileName(p) == "Microsoft.DotNet.Interactive.Formatting.dll");
        Assert.Equal(InformationalVersion(hostFormatting), InformationalVersion(ours));
    }

    [Fact]
    public void Unification_takes_a_loaded_older_minor_version_with_the_same_key_only()
    {
        AssemblyName Name(string version, string token = "b03f5f7f11d50a3a") => new($"FSharp.Core, Version={version}, PublicKeyToken={token}");
        Assert.True(HostAssemblies.IsCompatible(Name("10.1.0.0"), Name("10.0.0.0")));
        Assert.False(HostAssemblies.IsCompatible(Name("11.0.0.0"), Name("10.0.0.0")));   // another major: no
        Assert.False(HostAssemblies.IsCompatible(Name("10.0.0.0"), Name("10.1.0.0")));   // a newer one loads by itself
        Assert.False(HostAssemblies.IsCompatible(Name("10.1.0.0"), Name("10.0.0.0", "0000000000000000")));   // another publisher
    }

    [Fact]
    public void Unification_answers_a_request_with_the_loaded_assembly()
    {
        var loaded = typeof(Microsoft.FSharp.Core.Unit).Assembly.GetName();
        var newer = new AssemblyName(loaded.FullName) { Version = new Version(loaded.Version!.Major, loaded.Version.Minor + 1, 0, 0) };
        Assert.Same(typeof(Microsoft.FSharp.Core.Unit).Assembly, HostAssemblies.FindCompatibleLoaded(newer));
        Assert.Contains($"FSharp.Core {newer.Version} → {loaded.Version}", HostAssemblies.Unified);
        var otherMajor = new AssemblyName(loaded.FullName) { Version = new Version(loaded.Version.Major + 1, 0, 0, 0) };
        Assert.Null(HostAssemblies.FindCompatibleLoaded(otherMajor));
    }

    [Theory]
    [InlineData("1.0.0-beta.26120.1", true)]
    [InlineData("1.0.0-beta.26201.3", true)]
    [InlineData("1.0.0", true)]
    [InlineData("1.0.0-beta.25313.2", false)]
    [InlineData("1.0.0-beta.23562.1", false)]
    public void An_older_dotnet_interactive_is_refused_with_what_to_do(string version, bool supported)
    {
        var host = new NotebookHost(".NET Interactive", version);
        if (supported)
        {
            HostCompatibility.Check(host);
            return;
        }
        var e = Assert.Throws<NotSupportedException>(() => HostCompatibility.Check(host));
        Assert.Contains($".NET Interactive {version}", e.Message);
        Assert.Contains(HostCompatibility.MinimumDotNetInteractive, e.Message);
        Assert.Contains("dotnet tool update -g Microsoft.dotnet-interactive --version 1.0.712001", e.Message);
    }

    [Fact]
    public void Other_hosts_are_not_version_checked()
    {
        HostCompatibility.Check(new NotebookHost("notebooklab", "0.1.0"));
        HostCompatibility.Check(new NotebookHost("none", null));
    }

    /// <summary>The folder of a host tool's own assemblies (tools/net10.0/any in its store).</summary>
    static string HostFolder(string tool)
    {
        var store = Path.Combine(Path.GetDirectoryName(ExternalTools.HostTool(tool))!, ".store");
        var marker = tool == "dotnet-interactive" ? "Microsoft.DotNet.Interactive.App.dll" : "dotnet-repl.dll";
        var app = Directory.EnumerateFiles(store, marker, SearchOption.AllDirectories).FirstOrDefault()
            ?? throw new FileNotFoundException($"{marker} not found under {store}");
        return Path.GetDirectoryName(app)!;
    }

    static Dictionary<string, Version> HostAssemblyVersions(string tool)
    {
        var versions = new Dictionary<string, Version>(StringComparer.OrdinalIgnoreCase);
        foreach (var dll in Directory.EnumerateFiles(HostFolder(tool), "*.dll"))
            if (ReadName(dll) is { Version: not null } name) versions[name.Name!] = name.Version;
        return versions;
    }

    /// <summary>NotebookLab's runtime closure for net8.0, read from its restore with NuGet's own assets reader.</summary>
    static IReadOnlyList<string> NotebookLabRuntimeAssemblies()
    {
        var assets = LockFileUtilities.GetLockFile(Path.Combine(RepoPaths.Root, "src", "NotebookLab", "obj", "project.assets.json"), NullLogger.Instance);
        var target = assets.GetTarget(NuGetFramework.Parse("net8.0"), runtimeIdentifier: null);
        var folder = assets.PackageFolders[0].Path;
        return target.Libraries.Where(l => l.Type == "package")
            .SelectMany(l => l.RuntimeAssemblies.Where(a => a.Path.EndsWith(".dll", StringComparison.Ordinal))
                .Select(a => Path.Combine(folder, assets.GetLibrary(l.Name, l.Version)!.Path, a.Path)))
            .Append(typeof(Lab).Assembly.Location)
            .ToList();
    }

    /// <summary>Every (requester, name, version) that NotebookLab's closure binds to: the assemblies and their references.</summary>
    static IEnumerable<(string Requester, string Name, Version Version)> NotebookLabRequests()
    {
        foreach (var dll in NotebookLabRuntimeAssemblies())
        {
            var requester = Path.GetFileName(dll);
            if (ReadName(dll) is { Version: not null } self) yield return ("NotebookLab's package set", self.Name!, self.Version);
            using var stream = File.OpenRead(dll);
            using var pe = new PEReader(stream);
            var md = pe.GetMetadataReader();
            foreach (var handle in md.AssemblyReferences)
            {
                var reference = md.GetAssemblyReference(handle);
                yield return (requester, md.GetString(reference.Name), reference.Version);
            }
        }
    }

    static AssemblyName? ReadName(string dll)
    {
        try { return AssemblyName.GetAssemblyName(dll); }
        catch (BadImageFormatException) { return null; }
    }

    static string? InformationalVersion(string dll)
    {
        using var stream = File.OpenRead(dll);
        using var pe = new PEReader(stream);
        var md = pe.GetMetadataReader();
        foreach (var handle in md.GetAssemblyDefinition().GetCustomAttributes())
        {
            var attribute = md.GetCustomAttribute(handle);
            if (attribute.Constructor.Kind != HandleKind.MemberReference) continue;
            var type = md.GetMemberReference((MemberReferenceHandle)attribute.Constructor).Parent;
            if (type.Kind != HandleKind.TypeReference || md.GetString(md.GetTypeReference((TypeReferenceHandle)type).Name) != "AssemblyInformationalVersionAttribute") continue;
            var blob = md.GetBlobReader(attribute.Value);
            blob.ReadUInt16();   // prolog
            return blob.ReadSerializedString()?.Split('+')[0];
        }
        return null;
    }
}
