using System.Diagnostics;

namespace NotebookLab.Tests.Support;

/// <summary>
/// A fact that needs an external tool (python3 with nbformat, jupyter nbconvert, chromium, ...).
/// Skipped with a message where the tool is missing, but mandatory when CI=true: there a missing tool fails the test.
/// </summary>
public sealed class RequiresToolFactAttribute : FactAttribute
{
    public RequiresToolFactAttribute(params string[] tools)
    {
        foreach (var tool in tools)
            if (!ExternalTools.IsAvailable(tool, out var why) && !ExternalTools.InCi)
            {
                Skip = $"needs {tool}: {why} (mandatory when CI=true)";
                return;
            }
    }
}

/// <summary>A theory that needs an external tool; skipped or mandatory exactly like <see cref="RequiresToolFactAttribute"/>.</summary>
public sealed class RequiresToolTheoryAttribute : TheoryAttribute
{
    public RequiresToolTheoryAttribute(params string[] tools)
    {
        foreach (var tool in tools)
            if (!ExternalTools.IsAvailable(tool, out var why) && !ExternalTools.InCi)
            {
                Skip = $"needs {tool}: {why} (mandatory when CI=true)";
                return;
            }
    }
}

public static class ExternalTools
{
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The Debian system Python, which has python3-nbformat / nbclient / nbconvert when installed.</summary>
    public const string SystemPython = "/usr/bin/python3";

    static readonly Dictionary<string, (string File, string Args)> Probes = new()
    {
        ["nbformat"] = (SystemPython, "-c \"import nbformat\""),
        ["nbconvert"] = (SystemPython, "-c \"import nbconvert\""),
        ["nbclient"] = (SystemPython, "-c \"import nbclient, jupyter_client\""),
        ["jupyter_kernel_test"] = (SystemPython, "-c \"import jupyter_kernel_test, jupyter_client\""),
        ["jupyter_client"] = (SystemPython, "-c \"import jupyter_client\""),
        ["chromium"] = ("chromium", "--version"),
        ["jupyter-notebook"] = (SystemPython, "-c \"import notebook, jupyter_client\""),
        ["dotnet-interactive"] = (HostTool("dotnet-interactive"), "--version"),
        ["dotnet-repl"] = (HostTool("dotnet-repl"), "--version"),
        // notebooklab grade's sandbox layers (Grading/Sandbox.cs): Landlock through python3, and unprivileged namespaces.
        ["landlock"] = ("python3", "-c \"import ctypes,sys; l=ctypes.CDLL(None,use_errno=True); sys.exit(0 if l.syscall(444,None,0,1)>=1 else 1)\""),
        ["unshare"] = ("unshare", "--user --map-root-user --pid --fork --kill-child true"),
    };

    /// <summary>
    /// The real .NET Interactive tools, installed at pinned versions by <c>.ci/install-host-tools</c> into
    /// $NOTEBOOKLAB_HOST_TOOLS (default: artifacts/host-tools in the repository).
    /// </summary>
    public static string HostTool(string name)
    {
        var dir = Environment.GetEnvironmentVariable("NOTEBOOKLAB_HOST_TOOLS");
        return Path.Combine(string.IsNullOrWhiteSpace(dir) ? Path.Combine(RepoPaths.Root, "artifacts", "host-tools") : dir, name);
    }

    public static bool IsAvailable(string tool, out string why)
    {
        if (!Probes.TryGetValue(tool, out var probe)) { why = $"unknown tool '{tool}'"; return false; }
        try
        {
            var (code, _, err) = Run(probe.File, probe.Args, TimeSpan.FromSeconds(30));
            why = code == 0 ? "" : $"'{probe.File} {probe.Args}' exited {code}: {err.Trim()}";
            return code == 0;
        }
        catch (Exception e) { why = e.Message; return false; }
    }

    /// <summary>Runs a process to completion and returns its exit code, stdout and stderr.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string file, string arguments, TimeSpan timeout, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {arguments} ran past {timeout}");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Validates a notebook file with the real nbformat validator; returns null when valid, else the error.</summary>
    public static string? NbformatError(string notebookPath)
    {
        var (code, stdout, stderr) = Run(SystemPython,
            $"-c \"import nbformat,sys; nbformat.validate(nbformat.read(sys.argv[1], as_version=4)); print('valid')\" \"{notebookPath}\"",
            TimeSpan.FromSeconds(60));
        return code == 0 && stdout.Contains("valid") ? null : (stderr + stdout).Trim();
    }
}
