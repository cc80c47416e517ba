using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using TorchSharp;

namespace NotebookLab.Native;

/// <summary>What <see cref="TorchSharpNative.EnsureLoadable"/> found and did.</summary>
public enum NativeFixStatus
{
    /// <summary>Not Linux x64: nothing to do.</summary>
    NotApplicable,
    /// <summary>The system libstdc++ defines every version libLibTorchSharp.so needs.</summary>
    NotNeeded,
    /// <summary>A patched copy of libLibTorchSharp.so was loaded and bound to TorchSharp.</summary>
    Applied,
    /// <summary>libLibTorchSharp.so was already loaded in this process before NotebookLab looked.</summary>
    AlreadyLoaded,
    /// <summary>No libLibTorchSharp.so was found: no TorchSharp backend package (e.g. TorchSharp-cpu) is referenced yet.</summary>
    BackendNotFound,
}

/// <summary>The outcome of the native-loading check, for <c>notebooklab doctor</c> and the device report.</summary>
public sealed record NativeFixReport(
    NativeFixStatus Status,
    string? LibStdCxxPath,
    string? NewestGlibcxx,
    IReadOnlyList<string> MissingVersions,
    string? OriginalLibrary,
    string? LoadedLibrary,
    string Message);

/// <summary>Thrown when TorchSharp's native library cannot be made loadable; the message says why and what to do.</summary>
public sealed class TorchSharpLoadException(string message) : Exception(message);

/// <summary>
/// Makes TorchSharp's native library load on systems whose libstdc++ is older than the one it was built against.
/// </summary>
/// <remarks>
/// libLibTorchSharp.so 0.107.0 declares a need for <c>GLIBCXX_3.4.32</c> only because GCC 13 emits a reference to the
/// <c>std::ios_base_library_init</c> marker symbol, which no relocation uses. Debian 12 and Ubuntu 22.04 ship
/// libstdc++ 3.4.30, so the dynamic loader refuses the library. We copy it to a per-user cache, mark that one
/// version need weak (VER_FLG_WEAK), load the copy next to the libtorch it would have loaded anyway, and bind
/// TorchSharp's <c>[DllImport("LibTorchSharp")]</c> to it. The NuGet cache and the system are never modified.
/// A version is only weakened when every symbol bound to it is a known marker; anything else is refused.
/// Nothing here runs a torch operation, so CUDA initialisation is unaffected (TorchSharp #1198).
/// </remarks>
public static class TorchSharpNative
{
    const string LibraryFile = "libLibTorchSharp.so";
    static readonly HashSet<string> MarkerSymbols = new(StringComparer.Ordinal) { "_ZSt21ios_base_library_initv" };
    static readonly object Gate = new();
    static NativeFixReport? settled;
    static IntPtr patchedHandle;

    /// <summary>The environment variable that overrides the folder for patched native copies.</summary>
    public const string CacheVariable = "NOTEBOOKLAB_NATIVE_CACHE";

    /// <summary>The last report, or null before the first call.</summary>
    public static NativeFixReport? LastReport => settled;

    /// <summary>
    /// Idempotent and cheap after the first success. Call before the first TorchSharp operation; NotebookLab's
    /// extension and helpers call it for you. Throws <see cref="TorchSharpLoadException"/> when a patch is needed
    /// but would be unsafe or fails.
    /// </summary>
    public static NativeFixReport EnsureLoadable()
    {
        lock (Gate)
        {
            // BackendNotFound is not final: the backend package may be referenced by a later cell.
            if (settled is { Status: not NativeFixStatus.BackendNotFound }) return settled;
            settled = Probe();
            return settled;
        }
    }

    static NativeFixReport Probe()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
            return new(NativeFixStatus.NotApplicable, null, null, [], null, null,
                $"No fix needed on {RuntimeInformation.OSDescription} ({RuntimeInformation.ProcessArchitecture}).");

        var stdcxx = LoadedLibraryPath("libstdc++.so.6", prefix: true) ?? LoadAndFind("libstdc++.so.6");
        var systemVersions = stdcxx is null ? [] : ElfFile.Read(stdcxx).VersionDefinitions.ToHashSet(StringComparer.Ordinal);
        string? newest = NewestGlibcxx(systemVersions);

        var alreadyLoaded = LoadedLibraryPath(LibraryFile);
        if (alreadyLoaded is not null)
            return new(NativeFixStatus.AlreadyLoaded, stdcxx, newest, [], alreadyLoaded, alreadyLoaded,
                $"{LibraryFile} was already loaded from {alreadyLoaded}.");

        var torchAssembly = typeof(torch).Assembly;
        string? torchCpuDir = TryLoadByProbing("torch_cpu", torchAssembly, "libtorch_cpu.so");
        var original = CandidateDirectories(torchAssembly, torchCpuDir)
            .Select(d => System.IO.Path.Combine(d, LibraryFile))
            .FirstOrDefault(File.Exists);
        if (original is null)
            return new(NativeFixStatus.BackendNotFound, stdcxx, newest, [], null, null,
                $"No {LibraryFile} found next to {torchAssembly.Location}: reference a TorchSharp backend package, e.g. #r \"nuget: TorchSharp-cpu, 0.107.0\".");

        var elf = ElfFile.Read(original);
        var missing = elf.VersionNeeds
            .Where(n => n.File.StartsWith("libstdc++", StringComparison.Ordinal) && !n.IsWeak && !systemVersions.Contains(n.Name))
            .ToList();
        if (missing.Count == 0)
            return new(NativeFixStatus.NotNeeded, stdcxx, newest, [], original, original,
                $"The system libstdc++ ({newest}) defines every version {LibraryFile} needs.");

        foreach (var need in missing)
        {
            var users = elf.SymbolsUsingVersion(need.Index).Where(s => !MarkerSymbols.Contains(s)).ToList();
            if (users.Count > 0)
                throw new TorchSharpLoadException(
                    $"{original} needs {need.Name} from {need.File}, but the system libstdc++ ({stdcxx}) only goes up to {newest}, " +
                    $"and real symbols use that version ({string.Join(", ", users.Take(5))}), so it cannot be made optional. " +
                    "Install a newer libstdc++ (GCC 13 or later runtime) or use a TorchSharp build for this distribution.");
        }

        torchCpuDir ??= LibtorchDirectories(torchAssembly, System.IO.Path.GetDirectoryName(original)!)
            .FirstOrDefault(d => File.Exists(System.IO.Path.Combine(d, "libtorch_cpu.so")));
        if (torchCpuDir is null)
            throw new TorchSharpLoadException($"Found {original} but no libtorch_cpu.so to go with it: reference TorchSharp-cpu (it brings libtorch-cpu-linux-x64).");

        var patched = WritePatchedCopy(original, elf, missing);
        try
        {
            // Load libtorch from the folder TorchSharp itself would use, so only one copy is ever mapped.
            foreach (var dependency in new[] { "libc10.so", "libtorch_cpu.so", "libtorch.so" })
            {
                var path = System.IO.Path.Combine(torchCpuDir, dependency);
                if (File.Exists(path)) NativeLibrary.Load(path);
            }
            patchedHandle = NativeLibrary.Load(patched);
        }
        catch (DllNotFoundException e)
        {
            throw new TorchSharpLoadException($"The patched copy {patched} of {original} still does not load: {e.Message}");
        }
        string binding = BindTorchSharp(torchAssembly);
        return new(NativeFixStatus.Applied, stdcxx, newest, missing.Select(m => m.Name).ToList(), original, patched,
            $"Marked {string.Join(", ", missing.Select(m => m.Name))} weak in a copy of {LibraryFile} ({binding}); system libstdc++ has {newest}.");
    }

    static string BindTorchSharp(Assembly torchAssembly)
    {
        try
        {
            NativeLibrary.SetDllImportResolver(torchAssembly, (name, _, _) =>
                name is "LibTorchSharp" or LibraryFile ? patchedHandle : IntPtr.Zero);
            return "bound by DllImport resolver";
        }
        catch (InvalidOperationException)
        {
            // Another resolver is already set; the dynamic loader still reuses the loaded copy by its soname.
            return "bound by soname";
        }
    }

    static string WritePatchedCopy(string original, ElfFile elf, IReadOnlyList<ElfFile.VersionNeed> missing)
    {
        var bytes = elf.WithWeakVersionNeeds(missing);
        var hash = Convert.ToHexString(SHA256.HashData(bytes))[..16].ToLowerInvariant();
        var dir = System.IO.Path.Combine(CacheRoot(), hash);
        var target = System.IO.Path.Combine(dir, LibraryFile);
        if (File.Exists(target) && new FileInfo(target).Length == bytes.Length) return target;
        Directory.CreateDirectory(dir);
        var temp = target + "." + Environment.ProcessId + ".tmp";
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, target, overwrite: true);
        return target;
    }

    /// <summary>The folder where patched copies are kept: $NOTEBOOKLAB_NATIVE_CACHE, else the user's cache folder.</summary>
    public static string CacheRoot()
    {
        var overridden = Environment.GetEnvironmentVariable(CacheVariable);
        if (!string.IsNullOrWhiteSpace(overridden)) return overridden;
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var root = !string.IsNullOrWhiteSpace(xdg) ? xdg
            : !string.IsNullOrWhiteSpace(home) ? System.IO.Path.Combine(home, ".cache")
            : System.IO.Path.GetTempPath();
        return System.IO.Path.Combine(root, "notebooklab", "native");
    }

    static IEnumerable<string> CandidateDirectories(Assembly torchAssembly, string? torchCpuDir)
    {
        var asmDir = System.IO.Path.GetDirectoryName(torchAssembly.Location) ?? "";
        if (torchCpuDir is not null) yield return torchCpuDir;
        yield return asmDir;
        yield return System.IO.Path.Combine(asmDir, "runtimes", "linux-x64", "native");
        // NuGet cache layout: torchsharp/<version>/lib/<tfm>/TorchSharp.dll next to torchsharp/<version>/runtimes/...
        yield return System.IO.Path.GetFullPath(System.IO.Path.Combine(asmDir, "..", "..", "runtimes", "linux-x64", "native"));
        foreach (var dir in NativeSearchDirectories()) yield return dir;
    }

    static IEnumerable<string> LibtorchDirectories(Assembly torchAssembly, string libTorchSharpDir)
    {
        yield return libTorchSharpDir;
        foreach (var dir in NativeSearchDirectories()) yield return dir;
        var asmDir = System.IO.Path.GetDirectoryName(torchAssembly.Location) ?? "";
        var packages = System.IO.Path.GetFullPath(System.IO.Path.Combine(asmDir, "..", "..", "..", ".."));
        var libtorch = System.IO.Path.Combine(packages, "libtorch-cpu-linux-x64");
        if (Directory.Exists(libtorch))
            foreach (var version in Directory.GetDirectories(libtorch).OrderByDescending(d => d, StringComparer.Ordinal))
                yield return System.IO.Path.Combine(version, "runtimes", "linux-x64", "native");
    }

    static IEnumerable<string> NativeSearchDirectories() =>
        (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") as string ?? "")
            .Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Loads a library the way the runtime would resolve a DllImport from <paramref name="assembly"/>; returns its folder.</summary>
    static string? TryLoadByProbing(string name, Assembly assembly, string fileName)
    {
        try
        {
            if (!NativeLibrary.TryLoad(name, assembly, null, out _)) return null;
        }
        catch (Exception) { return null; }
        var path = LoadedLibraryPath(fileName);
        return path is null ? null : System.IO.Path.GetDirectoryName(path);
    }

    static string? LoadAndFind(string fileName)
    {
        NativeLibrary.TryLoad(fileName, out _);
        return LoadedLibraryPath(fileName, prefix: true);
    }

    /// <summary>The path of a shared library already mapped into this process, from /proc/self/maps.</summary>
    /// <param name="fileName">The file name, e.g. libtorch_cpu.so.</param>
    /// <param name="prefix">Match names that start with <paramref name="fileName"/> (libstdc++.so.6 maps as libstdc++.so.6.0.30).</param>
    public static string? LoadedLibraryPath(string fileName, bool prefix = false)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                int slash = line.IndexOf('/');
                if (slash < 0) continue;
                var path = line[slash..];
                var name = System.IO.Path.GetFileName(path);
                if (prefix ? name.StartsWith(fileName, StringComparison.Ordinal) : name == fileName) return path;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }

    static string? NewestGlibcxx(IEnumerable<string> versions) =>
        versions.Where(v => v.StartsWith("GLIBCXX_", StringComparison.Ordinal) && Version.TryParse(v["GLIBCXX_".Length..], out _))
            .OrderByDescending(v => Version.Parse(v["GLIBCXX_".Length..]))
            .FirstOrDefault();
}
