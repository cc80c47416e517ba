using System.Reflection;

namespace NotebookLab.Hosting;

/// <summary>The notebook host NotebookLab finds itself in, and whether it is one the compatibility table allows.</summary>
/// <param name="Name">"notebooklab", ".NET Interactive" (Jupyter, VS Code, dotnet-repl) or "none" (a console app, tests).</param>
/// <param name="Version">The host's version as it reports it, or null.</param>
public sealed record NotebookHost(string Name, string? Version)
{
    public override string ToString() => Version is null ? Name : $"{Name} {Version}";
}

/// <summary>
/// Checks that the host is one NotebookLab was tested in (README, "Hosts"). .NET Interactive is retired; the last
/// build, <see cref="MinimumDotNetInteractive"/> (the dotnet-interactive tool 1.0.712001 and dotnet-repl 0.3.259), is
/// the oldest we support: earlier builds lay out the display API differently.
/// </summary>
public static class HostCompatibility
{
    /// <summary>The oldest Microsoft.DotNet.Interactive build NotebookLab supports.</summary>
    public const string MinimumDotNetInteractive = "1.0.0-beta.26120.1";

    /// <summary>The host of this process, found from the assemblies it has loaded.</summary>
    public static NotebookHost Current()
    {
        var assemblies = AppDomain.CurrentDomain.GetAssemblies();
        var interactive = assemblies.FirstOrDefault(a => a.GetName().Name == "Microsoft.DotNet.Interactive");
        if (interactive is not null) return new NotebookHost(".NET Interactive", InformationalVersion(interactive));
        // NotebookLab.Engine; NotebookLab.Kernel is its name in builds before the rename.
        var engine = assemblies.FirstOrDefault(a => a.GetName().Name is "NotebookLab.Engine" or "NotebookLab.Kernel");
        if (engine is not null) return new NotebookHost("notebooklab", InformationalVersion(engine));
        return new NotebookHost("none", null);
    }

    /// <summary>Throws <see cref="NotSupportedException"/>, saying what to do, when the host is too old.</summary>
    public static void Check() => Check(Current());

    public static void Check(NotebookHost host)
    {
        if (host.Name != ".NET Interactive" || host.Version is null) return;
        if (ComparePrerelease(host.Version, MinimumDotNetInteractive) >= 0) return;
        throw new NotSupportedException(
            $"NotebookLab needs .NET Interactive {MinimumDotNetInteractive} or newer; this notebook runs in {host}. " +
            "Update the kernel (`dotnet tool update -g Microsoft.dotnet-interactive --version 1.0.712001`, then " +
            "`dotnet interactive jupyter install`; in VS Code, update the Polyglot Notebooks extension) or run the notebook " +
            "with `notebooklab run`.");
    }

    static string? InformationalVersion(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0];

    /// <summary>Orders versions like "1.0.0-beta.26120.1": the numeric release, then the pre-release's numbers.</summary>
    public static int ComparePrerelease(string a, string b)
    {
        static (Version Release, int[] Pre, bool IsPrerelease) Parse(string v)
        {
            v = v.Split('+')[0];
            var dash = v.IndexOf('-');
            var release = Version.TryParse(dash < 0 ? v : v[..dash], out var r) ? r : new Version(0, 0);
            var pre = dash < 0 ? [] : v[(dash + 1)..].Split('.').Select(p => int.TryParse(p, out var n) ? n : 0).ToArray();
            return (release, pre, dash >= 0);
        }
        var (ra, pa, xa) = Parse(a);
        var (rb, pb, xb) = Parse(b);
        var c = ra.CompareTo(rb);
        if (c != 0) return c;
        if (xa != xb) return xa ? -1 : 1;
        for (var i = 0; i < Math.Max(pa.Length, pb.Length); i++)
        {
            c = (i < pa.Length ? pa[i] : -1).CompareTo(i < pb.Length ? pb[i] : -1);
            if (c != 0) return c;
        }
        return 0;
    }
}
