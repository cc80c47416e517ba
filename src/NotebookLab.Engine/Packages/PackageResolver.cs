using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using NuGet.Common;
using NuGet.Configuration;
using NuGet.Frameworks;
using NuGet.LibraryModel;
using NuGet.ProjectModel;

namespace NotebookLab.Engine.Packages;

/// <summary>A requested package; <see cref="Version"/> null means the latest stable version.</summary>
public sealed record PackageRequest(string Id, string? Version)
{
    public override string ToString() => Version is null ? Id : $"{Id}, {Version}";
}

/// <summary>A package in a restored set: its id, resolved version, and folder in the packages folder.</summary>
public sealed record ResolvedPackage(string Id, string Version, string Root);

/// <summary>The assets of a restored package set for this runtime (net10.0, linux-x64 where native).</summary>
public sealed record PackageResolution(
    IReadOnlyList<ResolvedPackage> Packages,
    IReadOnlyList<string> CompileAssemblies,
    IReadOnlyList<string> RuntimeAssemblies,
    IReadOnlyList<string> NativeLibraries)
{
    public IEnumerable<string> NativeDirectories =>
        NativeLibraries.Select(p => Path.GetDirectoryName(p)!).Distinct(StringComparer.Ordinal);
}

/// <summary>A package set that cannot be restored; <see cref="PackageId"/> names the culprit when known.</summary>
public sealed class PackageResolutionException(string message, string? packageId) : Exception(message)
{
    public string? PackageId { get; } = packageId;
}

/// <summary>
/// Resolves NuGet packages the way the SDK (and .NET Interactive's dependency manager) does: a small generated
/// project with the PackageReferences is restored with <c>dotnet restore</c>, and the compile, runtime and native
/// assets are read from its <c>obj/project.assets.json</c> with NuGet's own <see cref="LockFileUtilities"/>. Sources are
/// the notebook's <c>#i</c> lines plus what NuGet's configuration says in the notebook's folder (its <c>nuget.config</c>
/// files up to the root, then the user's), as in .NET Interactive. Packages land in the normal global packages folder,
/// and each package set's result is cached (keyed also by the contents of local folder sources, so a floating
/// <c>*-*</c> version sees a newly built package), so a warm run restores nothing.
/// </summary>
/// <remarks>
/// The torch backend is switchable without editing notebooks: <see cref="TorchBackendVariable"/>
/// (<c>NOTEBOOKLAB_TORCH_BACKEND</c>) = <c>cpu</c> (default), <c>cuda-linux</c> or <c>cuda-windows</c> rewrites
/// <c>#r "nuget: TorchSharp-cpu, V"</c> to <c>TorchSharp-cuda-linux, V</c> / <c>TorchSharp-cuda-windows, V</c>.
/// </remarks>
public sealed class PackageResolver
{
    public const string TorchBackendVariable = "NOTEBOOKLAB_TORCH_BACKEND";
    public const string CacheVariable = "NOTEBOOKLAB_PACKAGE_CACHE";
    const string ResolutionFile = "resolution.json";

    static readonly string[] RuntimeIdentifierChain = ["linux-x64", "linux", "unix", "any"];

    readonly string cacheRoot;
    readonly string? packagesFolder;
    readonly bool onlyNotebookSources;
    readonly string targetFramework = $"net{Environment.Version.Major}.0";

    /// <param name="cacheRoot">Where generated projects and resolutions are kept (default: $NOTEBOOKLAB_PACKAGE_CACHE or ~/.cache/notebooklab/packages).</param>
    /// <param name="packagesFolder">The NuGet packages folder; null for the global one (~/.nuget/packages or $NUGET_PACKAGES).</param>
    /// <param name="onlyNotebookSources">Restore from the notebook's <c>#i</c> sources only, ignoring the configured feeds (hermetic tests).</param>
    public PackageResolver(string? cacheRoot = null, string? packagesFolder = null, bool onlyNotebookSources = false)
    {
        this.cacheRoot = cacheRoot ?? DefaultCacheRoot();
        this.packagesFolder = packagesFolder is null ? null : Path.GetFullPath(packagesFolder);
        this.onlyNotebookSources = onlyNotebookSources;
    }

    /// <summary>The number of times this resolver actually ran <c>dotnet restore</c> (the rest came from the cache).</summary>
    public int RestoreCount { get; private set; }

    public static string DefaultCacheRoot()
    {
        var overridden = Environment.GetEnvironmentVariable(CacheVariable);
        if (!string.IsNullOrWhiteSpace(overridden)) return overridden;
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var root = !string.IsNullOrWhiteSpace(xdg) ? xdg : Path.Combine(string.IsNullOrEmpty(home) ? Path.GetTempPath() : home, ".cache");
        return Path.Combine(root, "notebooklab", "packages");
    }

    /// <summary>
    /// Applies the torch backend switch to a request: TorchSharp-cpu becomes TorchSharp-cuda-linux or -cuda-windows
    /// when <paramref name="backend"/> (default: $NOTEBOOKLAB_TORCH_BACKEND) says so.
    /// </summary>
    public static PackageRequest ApplyTorchBackend(PackageRequest request, string? backend = null)
    {
        backend ??= Environment.GetEnvironmentVariable(TorchBackendVariable);
        if (string.IsNullOrWhiteSpace(backend)) return request;
        backend = backend.Trim().ToLowerInvariant();
        if (backend is not ("cpu" or "cuda-linux" or "cuda-windows"))
            throw new PackageResolutionException($"{TorchBackendVariable}='{backend}' is not one of cpu, cuda-linux, cuda-windows.", null);
        if (!request.Id.Equals("TorchSharp-cpu", StringComparison.OrdinalIgnoreCase) || backend == "cpu") return request;
        return request with { Id = "TorchSharp-" + backend };
    }

    /// <param name="sources">The notebook's <c>#i</c> sources (URLs or absolute folders).</param>
    /// <param name="configDirectory">The notebook's folder: NuGet's configuration there adds its sources (ignored when
    /// the resolver restores from the notebook's sources only).</param>
    public async Task<PackageResolution> ResolveAsync(IReadOnlyList<PackageRequest> packages, IReadOnlyList<string> sources,
        CancellationToken cancellationToken = default, string? configDirectory = null)
    {
        if (!onlyNotebookSources && configDirectory is not null)
            sources = sources.Concat(ConfiguredSources(configDirectory)).Distinct(StringComparer.Ordinal).ToList();
        var key = CacheKey(packages, sources);
        var dir = Path.Combine(cacheRoot, key);
        var resolutionPath = Path.Combine(dir, ResolutionFile);
        if (TryLoadCached(resolutionPath) is { } cached) return cached;

        Directory.CreateDirectory(dir);
        // Another process (a parallel notebook run) may be restoring the same set: one restore per set at a time.
        using var exclusive = await AcquireLockAsync(Path.Combine(dir, ".lock"), cancellationToken);
        if (TryLoadCached(resolutionPath) is { } restoredMeanwhile) return restoredMeanwhile;

        var project = Path.Combine(dir, "notebook-packages.csproj");
        await File.WriteAllTextAsync(project, ProjectXml(packages, sources), cancellationToken);
        // Stops the repository's (or any parent folder's) MSBuild and NuGet settings from leaking in.
        await File.WriteAllTextAsync(Path.Combine(dir, "Directory.Build.props"), "<Project />", cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(dir, "Directory.Build.targets"), "<Project />", cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(dir, "Directory.Packages.props"), "<Project />", cancellationToken);

        var (exitCode, output) = await RunRestoreAsync(project, dir, cancellationToken);
        RestoreCount++;
        var assetsPath = Path.Combine(dir, "obj", "project.assets.json");
        var assets = File.Exists(assetsPath) ? LockFileUtilities.GetLockFile(assetsPath, NullLogger.Instance) : null;
        var errors = RestoreErrors(assets, output);
        if (exitCode != 0 || errors.Count > 0 || assets is null)
        {
            var culprit = errors.Select(e => e.PackageId).FirstOrDefault(id => id is not null)
                ?? packages.FirstOrDefault(p => output.Contains(p.Id, StringComparison.OrdinalIgnoreCase))?.Id;
            var detail = errors.Count > 0 ? string.Join("\n", errors.Select(e => e.Message).Distinct()) : LastLines(output, 15);
            var hint = errors.Any(e => e.Code == NuGetLogCode.NU1101 || e.Code == NuGetLogCode.NU1102)
                ? $"\nSources searched: {string.Join(", ", sources.DefaultIfEmpty("the configured feeds"))}. A package built in this repository " +
                  "(NotebookLab) appears in artifacts/packages after `dotnet build src/NotebookLab.Cli` (the README's first command)."
                : "";
            throw new PackageResolutionException(
                (culprit is null ? $"NuGet restore of {Describe(packages)} failed:\n{detail}"
                                 : $"package '{culprit}' could not be resolved:\n{detail}") + hint, culprit);
        }

        var resolution = ReadAssets(assets);
        var temp = resolutionPath + $".{Environment.ProcessId}.tmp";
        await File.WriteAllTextAsync(temp, JsonSerializer.Serialize(resolution), cancellationToken);
        File.Move(temp, resolutionPath, overwrite: true);
        return resolution;
    }

    /// <summary>The enabled package sources that NuGet's configuration gives in <paramref name="directory"/>.</summary>
    public static IReadOnlyList<string> ConfiguredSources(string directory)
    {
        var settings = Settings.LoadDefaultSettings(directory);
        return new PackageSourceProvider(settings).LoadPackageSources()
            .Where(s => s.IsEnabled)
            .Select(s => s.IsLocal ? Path.GetFullPath(s.Source) : s.Source)
            .ToList();
    }

    static async Task<FileStream> AcquireLockAsync(string path, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10);
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, cancellationToken);
            }
        }
    }

    static string Describe(IReadOnlyList<PackageRequest> packages) => string.Join("; ", packages.Select(p => p.ToString()));

    static PackageResolution? TryLoadCached(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            var resolution = JsonSerializer.Deserialize<PackageResolution>(File.ReadAllText(path));
            if (resolution is null) return null;
            // The packages folder may have been cleaned since: only trust a resolution whose files still exist.
            bool intact = resolution.CompileAssemblies.Concat(resolution.RuntimeAssemblies).Concat(resolution.NativeLibraries).All(File.Exists)
                && resolution.Packages.All(p => Directory.Exists(p.Root));
            return intact ? resolution : null;
        }
        catch (JsonException) { return null; }
    }

    string CacheKey(IReadOnlyList<PackageRequest> packages, IReadOnlyList<string> sources)
    {
        var sb = new StringBuilder();
        sb.Append(targetFramework).Append('\n').Append(packagesFolder).Append('\n').Append(onlyNotebookSources).Append('\n');
        foreach (var p in packages.OrderBy(p => p.Id, StringComparer.OrdinalIgnoreCase))
            sb.Append(p.Id.ToLowerInvariant()).Append('/').Append(p.Version).Append('\n');
        foreach (var source in sources.Order(StringComparer.Ordinal))
        {
            sb.Append(source).Append('\n');
            // A local folder feed gains new builds (a floating `*-*` must see them): its .nupkg files are part of the key.
            if (Directory.Exists(source))
                foreach (var file in Directory.EnumerateFiles(source, "*.nupkg", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                {
                    var info = new FileInfo(file);
                    sb.Append(file).Append(':').Append(info.Length).Append(':').Append(info.LastWriteTimeUtc.Ticks).Append('\n');
                }
        }
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())))[..20].ToLowerInvariant();
    }

    string ProjectXml(IReadOnlyList<PackageRequest> packages, IReadOnlyList<string> sources)
    {
        var properties = new XElement("PropertyGroup",
            new XElement("TargetFramework", targetFramework),
            new XElement("ManagePackageVersionsCentrally", "false"),
            new XElement("ImplicitUsings", "disable"),
            new XElement("NuGetAudit", "false"),
            new XElement("DisableImplicitNuGetFallbackFolder", "true"),
            new XElement("NoWarn", "NU1603;NU1701;NU1602"));
        // The sources are complete (the notebook's, or those plus its folder's NuGet configuration), so they replace the
        // generated project's own; with none given, the user's configured feeds apply.
        if (onlyNotebookSources || sources.Count > 0) properties.Add(new XElement("RestoreSources", string.Join(";", sources)));
        if (packagesFolder is not null) properties.Add(new XElement("RestorePackagesPath", packagesFolder));
        var items = new XElement("ItemGroup",
            packages.Select(p => new XElement("PackageReference", new XAttribute("Include", p.Id), new XAttribute("Version", p.Version ?? "*"))));
        return new XDocument(new XElement("Project", new XAttribute("Sdk", "Microsoft.NET.Sdk"), properties, items)).ToString();
    }

    static async Task<(int ExitCode, string Output)> RunRestoreAsync(string project, string dir, CancellationToken cancellationToken)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = dir,
        };
        foreach (var arg in new[] { "restore", project, "--nologo", "-v", "q", "-nodeReuse:false", "-p:UseSharedCompilation=false" })
            psi.ArgumentList.Add(arg);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        psi.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        using var process = Process.Start(psi) ?? throw new PackageResolutionException("could not start 'dotnet restore'.", null);
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw;
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    sealed record RestoreError(string Message, string? PackageId, NuGetLogCode Code);

    static List<RestoreError> RestoreErrors(LockFile? assets, string output)
    {
        var errors = assets?.LogMessages.Where(m => m.Level == LogLevel.Error)
            .Select(m => new RestoreError($"{m.Code}: {m.Message}", m.LibraryId, m.Code)).ToList() ?? [];
        if (errors.Count == 0)
            foreach (var line in output.Split('\n'))
                if (line.Contains(": error ", StringComparison.Ordinal))
                    errors.Add(new(line.Trim(), null, NuGetLogCode.Undefined));
        return errors;
    }

    static string LastLines(string text, int count) =>
        string.Join("\n", text.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(count));

    PackageResolution ReadAssets(LockFile assets)
    {
        var folders = assets.PackageFolders.Select(f => f.Path).ToList();
        var target = assets.GetTarget(NuGetFramework.Parse(targetFramework), runtimeIdentifier: null)
            ?? throw new PackageResolutionException($"project.assets.json has no {targetFramework} target.", null);

        var packages = new List<ResolvedPackage>();
        var compile = new List<string>();
        var runtime = new List<string>();
        var native = new List<string>();
        foreach (var entry in target.Libraries.Where(l => l.Type == LibraryType.Package))
        {
            var (id, version) = (entry.Name!, entry.Version!.ToNormalizedString());
            var relative = assets.GetLibrary(entry.Name, entry.Version)?.Path ?? $"{id.ToLowerInvariant()}/{version.ToLowerInvariant()}";
            var root = folders.Select(f => Path.Combine(f, relative)).FirstOrDefault(Directory.Exists)
                ?? throw new PackageResolutionException($"package {id} {version} was restored but is not in {string.Join(", ", folders)}.", id);
            root = Path.GetFullPath(root);
            packages.Add(new ResolvedPackage(id, version, root));

            compile.AddRange(Assets(entry.CompileTimeAssemblies, root));
            var managed = Assets(entry.RuntimeAssemblies, root).ToList();
            var nativeAssets = Assets(entry.NativeLibraries, root).ToList();
            // RID-specific assets: take the most specific RID of linux-x64's chain that the package provides.
            var byType = entry.RuntimeTargets
                .Where(a => RuntimeIdentifierChain.Contains(a.Runtime))
                .GroupBy(a => a.AssetType);
            foreach (var group in byType)
            {
                var bestRid = group.Select(a => a.Runtime).OrderBy(r => Array.IndexOf(RuntimeIdentifierChain, r)).First();
                var files = group.Where(a => a.Runtime == bestRid).Select(a => Path.Combine(root, a.Path)).ToList();
                if (group.Key == "native") nativeAssets.AddRange(files);
                else if (group.Key == "runtime")
                {
                    var names = files.Select(Path.GetFileName).ToHashSet(StringComparer.OrdinalIgnoreCase);
                    managed.RemoveAll(m => names.Contains(Path.GetFileName(m)));
                    managed.AddRange(files);
                }
            }
            runtime.AddRange(managed);
            native.AddRange(nativeAssets);
        }
        return new PackageResolution(packages, compile, runtime, native);
    }

    static IEnumerable<string> Assets(IEnumerable<LockFileItem> items, string root) =>
        items.Select(i => i.Path).Where(p => !p.EndsWith("/_._", StringComparison.Ordinal) && p != "_._")
            .Select(p => Path.GetFullPath(Path.Combine(root, p)));
}
