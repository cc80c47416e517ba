using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NotebookLab.Cli.Jupyter;

/// <summary>
/// Writes and removes the kernelspec (kernels/&lt;name&gt;/kernel.json) through which Jupyter starts
/// <c>notebooklab kernel</c>, in the folders Jupyter searches: the user's data folder, the Python environment's
/// (<c>--sys-prefix</c>, e.g. a JupyterHub image's /opt/conda) or any prefix.
/// </summary>
static class Kernelspec
{
    public const string DefaultName = "notebooklab";
    public const string DisplayName = "C# (NotebookLab)";

    public enum Scope { User, SysPrefix, Prefix }

    /// <summary>The kernels folder for a scope: &lt;data&gt;/kernels, &lt;prefix&gt;/share/jupyter/kernels.</summary>
    public static string KernelsDirectory(Scope scope, string? prefix) => scope switch
    {
        Scope.User => Path.Combine(UserDataDirectory(), "kernels"),
        Scope.SysPrefix => Path.Combine(PythonPrefix(), "share", "jupyter", "kernels"),
        _ => Path.Combine(Path.GetFullPath(prefix ?? throw new ArgumentException("--prefix needs a folder")), "share", "jupyter", "kernels"),
    };

    /// <summary>The kernel.json content: this executable started with the connection file, interrupted by message.</summary>
    public static JsonObject Spec()
    {
        var argv = new JsonArray();
        var host = Environment.ProcessPath ?? "dotnet";
        argv.Add(host);
        // Started as "dotnet NotebookLab.Cli.dll": the spec must name the assembly too.
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            argv.Add(typeof(Kernelspec).Assembly.Location);
        foreach (var a in new[] { "kernel", "--connection-file", "{connection_file}" }) argv.Add(a);
        return new JsonObject
        {
            ["argv"] = argv,
            ["display_name"] = DisplayName,
            ["language"] = "C#",
            ["interrupt_mode"] = "message",
            ["metadata"] = new JsonObject { ["debugger"] = false },
        };
    }

    public static string Install(string kernelsDirectory, string name)
    {
        var dir = Path.Combine(kernelsDirectory, name);
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, "kernel.json");
        File.WriteAllText(file, Spec().ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        return dir;
    }

    /// <summary>Removes the kernelspec folder; false when there was none.</summary>
    public static bool Uninstall(string kernelsDirectory, string name)
    {
        var dir = Path.Combine(kernelsDirectory, name);
        if (!File.Exists(Path.Combine(dir, "kernel.json"))) return false;
        Directory.Delete(dir, recursive: true);
        return true;
    }

    /// <summary>Jupyter's per-user data folder, as jupyter_core finds it.</summary>
    static string UserDataDirectory()
    {
        if (Environment.GetEnvironmentVariable("JUPYTER_DATA_DIR") is { Length: > 0 } explicitDir) return explicitDir;
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (OperatingSystem.IsWindows()) return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData), "jupyter");
        if (OperatingSystem.IsMacOS()) return Path.Combine(home, "Library", "Jupyter");
        var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        return Path.Combine(string.IsNullOrEmpty(xdg) ? Path.Combine(home, ".local", "share") : xdg, "jupyter");
    }

    /// <summary>sys.prefix of the python3 on PATH (the one that runs Jupyter), else the active conda or virtual environment.</summary>
    static string PythonPrefix()
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("python3", ["-c", "import sys; print(sys.prefix)"])
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            })!;
            var output = p.StandardOutput.ReadToEnd().Trim();
            if (p.WaitForExit(30_000) && p.ExitCode == 0 && output.Length > 0) return output;
        }
        catch (System.ComponentModel.Win32Exception) { }
        return Environment.GetEnvironmentVariable("CONDA_PREFIX") is { Length: > 0 } conda ? conda
            : Environment.GetEnvironmentVariable("VIRTUAL_ENV") is { Length: > 0 } venv ? venv
            : throw new InvalidOperationException("--sys-prefix: no python3 on PATH and no active conda or virtual environment; use --prefix.");
    }
}
