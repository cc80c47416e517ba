using System.Reflection;
using System.Runtime.Loader;

namespace NotebookLab.Hosting;

/// <summary>
/// Lets NotebookLab's dependencies bind to the copies of shared assemblies that the notebook host already carries.
/// </summary>
/// <remarks>
/// .NET Interactive (and dotnet-repl, built on it) ships FSharp.Core 10.0 (assembly version 10.0.0.0) and has loaded it
/// before any notebook package arrives. Plotly.NET 6.0.0 and DynamicObj 8.0.0 are compiled against FSharp.Core 10.1.0.0,
/// and .NET cannot load a second FSharp.Core beside the host's, so without help every chart fails with
/// "Could not load file or assembly 'FSharp.Core, Version=10.1.0.0'". This is what a binding redirect did on .NET
/// Framework: a request for a newer minor version of an assembly that is already loaded in the default context (same
/// name, same public key token, same major version) is answered with the loaded copy. Nothing else is redirected, and
/// nothing happens where the requested version loads normally (as in <c>notebooklab</c>, which carries FSharp.Core 10.1).
/// </remarks>
public static class HostAssemblies
{
    static readonly object Gate = new();
    static readonly List<string> unified = [];
    static bool installed;

    /// <summary>Each redirect made so far, as "FSharp.Core 10.1.0.0 → 10.0.0.0".</summary>
    public static IReadOnlyList<string> Unified { get { lock (Gate) return unified.ToArray(); } }

    /// <summary>Installs the redirect once per process (idempotent). extension.dib calls it before anything else.</summary>
    public static void UnifyWithHost()
    {
        lock (Gate)
        {
            if (installed) return;
            installed = true;
        }
        AssemblyLoadContext.Default.Resolving += (_, requested) => FindCompatibleLoaded(requested);
    }

    /// <summary>The loaded assembly that can stand in for <paramref name="requested"/>, or null.</summary>
    public static Assembly? FindCompatibleLoaded(AssemblyName requested)
    {
        if (requested.Version is null) return null;
        foreach (var candidate in AssemblyLoadContext.Default.Assemblies)
        {
            var name = candidate.GetName();
            if (!string.Equals(name.Name, requested.Name, StringComparison.OrdinalIgnoreCase) || name.Version is null) continue;
            if (!IsCompatible(requested, name)) continue;
            lock (Gate) unified.Add($"{requested.Name} {requested.Version} → {name.Version}");
            return candidate;
        }
        return null;
    }

    /// <summary>Same public key token and major version; the loaded copy is older (a newer one loads by itself).</summary>
    public static bool IsCompatible(AssemblyName requested, AssemblyName loaded) =>
        requested.Version is { } want && loaded.Version is { } have
        && want.Major == have.Major && have < want
        && (requested.GetPublicKeyToken() ?? []).AsSpan().SequenceEqual(loaded.GetPublicKeyToken() ?? []);
}
