using NotebookLab.Tests.Cli;
using NotebookLab.Tests.Support;

namespace NotebookLab.Tests.Jupyter;

/// <summary>
/// NotebookLab's kernel installed the way users install it (<c>notebooklab kernel install --prefix P --name N</c>, from
/// the CLI built next to the tests) into a temporary prefix, so that Jupyter clients find it through JUPYTER_PATH
/// without touching the user's own kernelspecs. Removed again with <c>kernel uninstall</c>.
/// </summary>
public sealed class InstalledKernel : IDisposable
{
    public InstalledKernel()
    {
        Prefix = Directory.CreateTempSubdirectory("nl-kernelspec-").FullName;
        Name = $"notebooklab-test-{Environment.ProcessId}";
        var result = CliRunner.Run(RepoPaths.Root, ["kernel", "install", "--prefix", Prefix, "--name", Name]);
        if (result.ExitCode != 0) throw new InvalidOperationException($"kernel install failed ({result.ExitCode}): {result.Stdout}{result.Stderr}");
    }

    public string Prefix { get; }
    public string Name { get; }
    public string JupyterPath => Path.Combine(Prefix, "share", "jupyter");
    public string SpecFile => Path.Combine(JupyterPath, "kernels", Name, "kernel.json");

    /// <summary>Runs a Python script of tests/hosts with the system Python, this kernel visible to jupyter_client.</summary>
    public (int ExitCode, string Output) RunPython(string arguments, TimeSpan timeout, string? workingDirectory = null)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(ExternalTools.SystemPython, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? RepoPaths.Root,
        };
        psi.Environment["JUPYTER_PATH"] = JupyterPath;
        psi.Environment["NOTEBOOKLAB_KERNEL"] = Name;
        psi.Environment["PYTHONUNBUFFERED"] = "1";
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            return (-1, $"timed out after {timeout}\n{stdout.Result}\n{stderr.Result}");
        }
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    public void Dispose()
    {
        CliRunner.Run(RepoPaths.Root, ["kernel", "uninstall", "--prefix", Prefix, "--name", Name]);
        try { Directory.Delete(Prefix, recursive: true); } catch (IOException) { }
    }
}
