using System.Text.Json.Nodes;
using NotebookLab.Tests.Cli;
using NotebookLab.Tests.Support;

namespace NotebookLab.Tests.Jupyter;

/// <summary>
/// NotebookLab's Jupyter kernel against real clients: Debian's jupyter_kernel_test suite (every sample set), and the
/// kernelspec as jupyter_client reads it.
/// </summary>
public class KernelProtocolTests : IClassFixture<InstalledKernel>
{
    readonly InstalledKernel kernel;

    public KernelProtocolTests(InstalledKernel kernel) => this.kernel = kernel;

    [RequiresToolFact("jupyter_kernel_test")]
    public void The_jupyter_kernel_test_suite_passes_with_every_sample_set()
    {
        var (code, output) = kernel.RunPython("-m unittest -v tests/hosts/kernel_protocol_tests.py", TimeSpan.FromMinutes(5));
        Assert.True(code == 0, $"jupyter_kernel_test failed (exit {code}):\n{output}");
        Assert.Contains("Ran 12 tests", output);
        Assert.DoesNotContain("skipped", output);
        Assert.Matches(@"(?m)^OK$", output);
    }

    /// <summary>
    /// Through jupyter_client: a running <c>while (true) {}</c> is interrupted by interrupt_request and by SIGINT, its
    /// reply is an "Interrupted" error within seconds, and the next cell sees the earlier variables; Console.ReadLine
    /// goes through input_request; a live display updates in place; restart gives a fresh session.
    /// </summary>
    [RequiresToolFact("jupyter_client")]
    public void Interrupt_input_live_display_and_restart_work_through_jupyter_client()
    {
        var (code, output) = kernel.RunPython("-m unittest -v tests/hosts/kernel_session_tests.py", TimeSpan.FromMinutes(5));
        Assert.True(code == 0, $"kernel_session_tests failed (exit {code}):\n{output}");
        Assert.Contains("Ran 7 tests", output);
        Assert.DoesNotContain("skipped", output);
        Assert.Contains("interrupted after", output);
    }

    /// <summary>
    /// A crafted ZeroMQ client sends unsigned, mis-signed, tampered, replayed and malformed messages (shell and control,
    /// an unsigned shutdown_request among them): none runs, each is logged, and the real client is still served.
    /// </summary>
    [RequiresToolFact("jupyter_client")]
    public void Unsigned_mis_signed_replayed_and_malformed_messages_are_refused_and_the_kernel_keeps_serving()
    {
        var (code, output) = kernel.RunPython("-m unittest -v tests/hosts/kernel_security_tests.py", TimeSpan.FromMinutes(5));
        Assert.True(code == 0, $"kernel_security_tests failed (exit {code}):\n{output}");
        Assert.Contains("Ran 5 tests", output);
        Assert.DoesNotContain("skipped", output);
    }

    [RequiresToolFact("jupyter_client")]
    public void Jupyter_finds_the_installed_kernelspec_with_its_display_name_language_and_interrupt_mode()
    {
        var (code, output) = kernel.RunPython(
            $"-c \"import json; from jupyter_client.kernelspec import KernelSpecManager as M; s = M().get_kernel_spec('{kernel.Name}'); " +
            "print(json.dumps({'argv': s.argv, 'display_name': s.display_name, 'language': s.language, 'interrupt_mode': s.interrupt_mode}))\"",
            TimeSpan.FromMinutes(1));
        Assert.True(code == 0, output);
        var spec = JsonNode.Parse(output.Trim().Split('\n')[^1])!;
        Assert.Equal("C# (NotebookLab)", spec["display_name"]!.GetValue<string>());
        Assert.Equal("C#", spec["language"]!.GetValue<string>());
        Assert.Equal("message", spec["interrupt_mode"]!.GetValue<string>());
        var argv = spec["argv"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();
        Assert.Equal(["kernel", "--connection-file", "{connection_file}"], argv[^3..]);
        Assert.True(File.Exists(argv[0]), $"argv[0] {argv[0]} does not exist");
    }

    [Fact]
    public void Install_with_sys_prefix_writes_into_the_python_environment_and_uninstall_removes_it()
    {
        // A python3 on PATH that reports a made-up environment, as a JupyterHub image's conda python would.
        var root = Directory.CreateTempSubdirectory("nl-sys-prefix-").FullName;
        try
        {
            var bin = Directory.CreateDirectory(Path.Combine(root, "bin")).FullName;
            var env = Path.Combine(root, "env");
            File.WriteAllText(Path.Combine(bin, "python3"), $"#!/bin/sh\necho '{env}'\n");
            File.SetUnixFileMode(Path.Combine(bin, "python3"), UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.UserWrite);
            var path = new Dictionary<string, string> { ["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH") };

            var install = CliRunner.Run(root, ["kernel", "install", "--sys-prefix"], path);
            Assert.True(install.ExitCode == 0, install.Stdout + install.Stderr);
            var spec = Path.Combine(env, "share", "jupyter", "kernels", "notebooklab", "kernel.json");
            Assert.True(File.Exists(spec), $"no {spec}: {install.Stdout}");
            Assert.Equal("C# (NotebookLab)", JsonNode.Parse(File.ReadAllText(spec))!["display_name"]!.GetValue<string>());

            var uninstall = CliRunner.Run(root, ["kernel", "uninstall", "--sys-prefix"], path);
            Assert.True(uninstall.ExitCode == 0, uninstall.Stdout + uninstall.Stderr);
            Assert.False(File.Exists(spec));
            var again = CliRunner.Run(root, ["kernel", "uninstall", "--sys-prefix"], path);
            Assert.Equal(1, again.ExitCode);

            var both = CliRunner.Run(root, ["kernel", "install", "--user", "--prefix", root]);
            Assert.Equal(2, both.ExitCode);
        }
        finally { Directory.Delete(root, recursive: true); }
    }
}
