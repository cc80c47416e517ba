using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace NotebookLab.Engine.Packages;

/// <summary>
/// Makes the resolved packages' assets loadable in this process, as .NET Interactive does: managed assemblies are
/// resolved by name over the resolved set, and native libraries (<c>runtimes/linux-x64/native</c>) through
/// <see cref="AssemblyLoadContext.ResolvingUnmanagedDll"/> of every load context (scripting loads package
/// assemblies into load contexts of its own).
/// </summary>
static class RuntimeAssets
{
    static readonly object gate = new();
    static readonly Dictionary<string, string> managedByName = new(StringComparer.OrdinalIgnoreCase);
    static readonly Dictionary<string, string> nativeByFileName = new(StringComparer.Ordinal);
    static readonly HashSet<AssemblyLoadContext> hooked = [];
    static bool installed;

    public static void Add(PackageResolution resolution)
    {
        lock (gate)
        {
            foreach (var path in resolution.RuntimeAssemblies)
                managedByName.TryAdd(Path.GetFileNameWithoutExtension(path), path);
            foreach (var path in resolution.NativeLibraries)
                nativeByFileName.TryAdd(Path.GetFileName(path), path);
            if (installed) return;
            installed = true;
        }
        AssemblyLoadContext.Default.Resolving += ResolveManaged;
        AppDomain.CurrentDomain.AssemblyLoad += (_, e) => Hook(AssemblyLoadContext.GetLoadContext(e.LoadedAssembly));
        foreach (var context in AssemblyLoadContext.All.ToList()) Hook(context);
    }

    static void Hook(AssemblyLoadContext? context)
    {
        if (context is null) return;
        lock (gate)
            if (!hooked.Add(context)) return;
        context.ResolvingUnmanagedDll += ResolveNative;
    }

    static Assembly? ResolveManaged(AssemblyLoadContext context, AssemblyName name)
    {
        string? path;
        lock (gate) managedByName.TryGetValue(name.Name ?? "", out path);
        return path is null ? null : context.LoadFromAssemblyPath(path);
    }

    static IntPtr ResolveNative(Assembly requesting, string name)
    {
        string[] candidates = [name, $"lib{name}.so", $"{name}.so", $"lib{name}"];
        foreach (var candidate in candidates)
        {
            string? path;
            lock (gate) nativeByFileName.TryGetValue(candidate, out path);
            if (path is not null && NativeLibrary.TryLoad(path, out var handle)) return handle;
        }
        return IntPtr.Zero;
    }
}
