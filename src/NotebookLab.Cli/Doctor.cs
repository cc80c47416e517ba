using System.Reflection;
using System.Runtime.InteropServices;
using NotebookLab.Native;
using Spectre.Console;
using TorchSharp;

namespace NotebookLab.Cli;

/// <summary><c>notebooklab doctor</c>: what this machine offers TorchSharp, and whether NotebookLab's native fix was needed.</summary>
static class Doctor
{
    public static int Run(IAnsiConsole console)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("Check").AddColumn("Value");
        void Row(string name, string value) => table.AddRow(Markup.Escape(name), Markup.Escape(value));

        Row("OS", $"{OsName()} ({RuntimeInformation.OSArchitecture})");
        Row(".NET", RuntimeInformation.FrameworkDescription);
        Row("TorchSharp", VersionOf(typeof(torch).Assembly));

        NativeFixReport report;
        try
        {
            report = TorchSharpNative.EnsureLoadable();
        }
        catch (Exception e) when (e is TorchSharpLoadException or IOException or UnauthorizedAccessException or DllNotFoundException)
        {
            console.Write(table);
            console.MarkupLine($"[red]TorchSharp cannot load:[/] {Markup.Escape(e.Message)}");
            return 1;
        }
        Row("libstdc++", report.LibStdCxxPath ?? "not found");
        Row("newest GLIBCXX", report.NewestGlibcxx ?? "unknown");
        Row("native fix", $"{report.Status}: {report.Message}");
        if (report.LoadedLibrary is not null) Row("LibTorchSharp loaded from", report.LoadedLibrary);

        try
        {
            // CUDA is queried before any CPU tensor op: a CPU op first would disable CUDA for the process (TorchSharp #1198).
            bool cuda = torch.cuda.is_available();
            Row("libtorch", torch.__version__);
            Row("backend", cuda ? "cuda" : BackendPackage());
            Row("CUDA available", cuda ? "yes" : "no");
            Row("CUDA devices", cuda ? string.Join(", ", Enumerable.Range(0, torch.cuda.device_count()).Select(i => $"cuda:{i}")) : "none");
            Row("torch threads", torch.get_num_threads().ToString());
            using var probe = torch.ones(3).sum();
            Row("smoke test", $"torch.ones(3).sum() = {probe.item<float>()}");
        }
        catch (Exception e) when (e is DllNotFoundException or NotSupportedException or TypeInitializationException or ExternalException)
        {
            console.Write(table);
            console.MarkupLine($"[red]TorchSharp cannot load:[/] {Markup.Escape(e.GetBaseException().Message)}");
            console.MarkupLine(Markup.Escape($"Native fix report: {report.Status}: {report.Message}"));
            return 1;
        }
        console.Write(table);
        return 0;
    }

    static string BackendPackage()
    {
        var loaded = TorchSharpNative.LoadedLibraryPath("libtorch_cuda.so") is not null ? "cuda (no device)" : "cpu";
        return loaded;
    }

    static string VersionOf(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? assembly.GetName().Version?.ToString() ?? "unknown";

    static string OsName()
    {
        try
        {
            foreach (var line in File.ReadLines("/etc/os-release"))
                if (line.StartsWith("PRETTY_NAME=", StringComparison.Ordinal)) return line["PRETTY_NAME=".Length..].Trim('"');
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return RuntimeInformation.OSDescription;
    }
}
