using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.DotNet.Interactive.Formatting;
using NotebookLab.Native;
using NotebookLab.Views;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Training;

/// <summary>
/// Picks the device that notebooks train on.
/// </summary>
/// <remarks>
/// <para><b>Default.</b> CUDA (device 0) when the CUDA backend is loaded and a GPU is present, else the CPU.</para>
/// <para><b>Override.</b> The environment variable <c>NOTEBOOKLAB_DEVICE</c> (<see cref="DeviceVariable"/>) forces a
/// device: <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>. An unknown value, or CUDA when no GPU is usable, is an error that
/// says what was asked for and what is available.</para>
/// <para><b>Backend package.</b> The TorchSharp backend (the native libtorch) is chosen by the package a notebook
/// references. Every course notebook references TorchSharp-cpu (the only backend obtainable offline); the notebook
/// engine (<c>notebooklab run</c>) switches all notebooks to another backend package at once with
/// <c>NOTEBOOKLAB_TORCH_BACKEND</c> (<see cref="BackendVariable"/>) = <c>cpu</c> (default), <c>cuda-linux</c> or
/// <c>cuda-windows</c>: it rewrites <c>#r "nuget: TorchSharp-cpu, V"</c> to <c>TorchSharp-cuda-linux, V</c> (or
/// <c>-windows</c>) before the notebook runs, so no notebook is edited. The library itself references only the
/// managed TorchSharp package.</para>
/// <para><b>CUDA first.</b> Resolving the device asks <c>torch.cuda.is_available()</c> before any tensor is made:
/// a CPU operation before CUDA initialises disables CUDA for the whole process (TorchSharp #1198). So read
/// <see cref="Default"/> (or <c>Lab.Device</c>) before creating tensors.</para>
/// </remarks>
public static class Devices
{
    /// <summary>Environment variable that forces the training device: <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>.</summary>
    public const string DeviceVariable = "NOTEBOOKLAB_DEVICE";

    /// <summary>Environment variable read by the notebook engine to swap the TorchSharp backend package of every notebook.</summary>
    public const string BackendVariable = "NOTEBOOKLAB_TORCH_BACKEND";

    static readonly object Gate = new();
    static Device? resolved;

    /// <summary>The device to train on (resolved once per process; see the type's remarks).</summary>
    public static Device Default
    {
        get
        {
            lock (Gate)
            {
                if (resolved is not null) return resolved;
                var (available, count) = ProbeCuda();
                resolved = torch.device(Resolve(Environment.GetEnvironmentVariable(DeviceVariable), available, count));
                return resolved;
            }
        }
    }

    /// <summary>Forget the resolved device, so the next <see cref="Default"/> reads <c>NOTEBOOKLAB_DEVICE</c> again.</summary>
    public static void Reset()
    {
        lock (Gate) resolved = null;
    }

    /// <summary>True when the CUDA backend is loaded and at least one GPU is usable. Initialises CUDA before any CPU op.</summary>
    public static bool CudaAvailable => ProbeCuda().Available;

    internal static (bool Available, int Count) ProbeCuda()
    {
        TorchSharpNative.EnsureLoadable();
        try
        {
            // Must be the first call into libtorch (TorchSharp #1198).
            bool available = torch.cuda.is_available();
            return (available, available ? torch.cuda.device_count() : 0);
        }
        catch (Exception ex) when (ex is DllNotFoundException or TypeInitializationException or NotSupportedException)
        {
            return (false, 0);
        }
    }

    /// <summary>
    /// The device string for a requested value (null or empty: automatic), given what CUDA offers. Pure, for tests.
    /// </summary>
    /// <exception cref="ArgumentException">The value is not <c>cpu</c>, <c>cuda</c> or <c>cuda:N</c>, or asks for a GPU that is not there.</exception>
    public static string Resolve(string? requested, bool cudaAvailable, int cudaDeviceCount)
    {
        if (string.IsNullOrWhiteSpace(requested)) return cudaAvailable && cudaDeviceCount > 0 ? "cuda:0" : "cpu";
        var value = requested.Trim().ToLowerInvariant();
        if (value == "cpu") return "cpu";
        int index = 0;
        if (value != "cuda")
        {
            if (!value.StartsWith("cuda:", StringComparison.Ordinal) || !int.TryParse(value.AsSpan(5), out index) || index < 0)
                throw new ArgumentException(
                    $"{DeviceVariable}='{requested}' is not a device. Expected 'cpu', 'cuda' or 'cuda:N' (N = 0, 1, …).", nameof(requested));
        }
        if (!cudaAvailable || cudaDeviceCount == 0)
            throw new ArgumentException(
                $"{DeviceVariable}='{requested}' asks for CUDA, but CUDA is not available in this process: the TorchSharp backend is " +
                $"CPU-only or no GPU is visible. Unset {DeviceVariable} to use the CPU, or reference a CUDA backend " +
                $"(set {BackendVariable}=cuda-linux for notebooklab run) on a machine with a GPU.", nameof(requested));
        if (index >= cudaDeviceCount)
            throw new ArgumentException(
                $"{DeviceVariable}='{requested}' asks for GPU {index}, but only {cudaDeviceCount} GPU(s) are visible (cuda:0 … cuda:{cudaDeviceCount - 1}).",
                nameof(requested));
        return $"cuda:{index}";
    }
}

/// <summary>
/// What this process runs on: OS, runtime, TorchSharp and libtorch versions, backend, devices, threads and the
/// native-loading fix. Renders as text and as an HTML table in notebooks; make one with <c>Lab.DeviceReport()</c>.
/// </summary>
[TypeFormatterSource(typeof(MimeViewFormatterSource<DeviceReport>), PreferredMimeTypes = [MimeType.Html, MimeType.PlainText])]
public sealed record DeviceReport(
    string OperatingSystem,
    string Runtime,
    string ProcessArchitecture,
    string TorchSharpVersion,
    string LibTorchVersion,
    string Backend,
    string? LibTorchPath,
    bool CudaAvailable,
    int CudaDeviceCount,
    string SelectedDevice,
    string? DeviceOverride,
    string? BackendOverride,
    int TorchThreads,
    int ProcessorCount,
    string NativeFixStatus,
    string NativeFixMessage) : IMimeView
{
    /// <summary>Collects the report. Initialises CUDA before anything else (TorchSharp #1198).</summary>
    public static DeviceReport Collect()
    {
        var native = TorchSharpNative.EnsureLoadable();
        var (cuda, count) = Devices.ProbeCuda();
        string selected;
        try { selected = Devices.Default.ToString(); }
        catch (ArgumentException ex) { selected = "error: " + ex.Message; }
        var libtorch = LoadedLibrary("libtorch_cpu.so");
        bool cudaLibrary = LoadedLibrary("libtorch_cuda.so") is not null;
        string backend = cuda ? $"CUDA ({count} GPU{(count == 1 ? "" : "s")})"
            : cudaLibrary ? "CUDA backend loaded, but no GPU is visible: running on CPU"
            : "CPU (TorchSharp-cpu)";
        var torchSharp = typeof(torch).Assembly;
        string torchSharpVersion = torchSharp.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0]
            ?? torchSharp.GetName().Version?.ToString() ?? "unknown";
        string libtorchVersion;
        try { libtorchVersion = torch.__version__; }
        catch (Exception ex) { libtorchVersion = "unknown (" + ex.GetType().Name + ")"; }
        return new DeviceReport(
            RuntimeInformation.OSDescription,
            RuntimeInformation.FrameworkDescription,
            RuntimeInformation.ProcessArchitecture.ToString(),
            torchSharpVersion,
            libtorchVersion,
            backend,
            libtorch,
            cuda,
            count,
            selected,
            Environment.GetEnvironmentVariable(Devices.DeviceVariable),
            Environment.GetEnvironmentVariable(Devices.BackendVariable),
            torch.get_num_threads(),
            Environment.ProcessorCount,
            native.Status.ToString(),
            native.Message);
    }

    static string? LoadedLibrary(string fileName)
    {
        if (!System.OperatingSystem.IsLinux()) return null;
        try
        {
            return File.ReadLines("/proc/self/maps")
                .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                .Where(parts => parts.Length >= 6)
                .Select(parts => string.Join(' ', parts.Skip(5)))
                .FirstOrDefault(path => Path.GetFileName(path) == fileName);
        }
        catch (IOException) { return null; }
    }

    /// <summary>The report's rows as (label, value) pairs, in display order.</summary>
    public IReadOnlyList<(string Label, string Value)> Rows() =>
    [
        ("Operating system", OperatingSystem),
        (".NET runtime", $"{Runtime} ({ProcessArchitecture})"),
        ("TorchSharp", TorchSharpVersion),
        ("libtorch", LibTorchVersion + (LibTorchPath is null ? "" : $" ({LibTorchPath})")),
        ("Backend", Backend),
        ("CUDA available", CudaAvailable ? $"yes, {CudaDeviceCount} device(s)" : "no"),
        ("Training device", SelectedDevice),
        (Devices.DeviceVariable, DeviceOverride ?? "(not set: automatic)"),
        (Devices.BackendVariable, BackendOverride ?? "(not set: TorchSharp-cpu)"),
        ("Threads", $"{TorchThreads} torch threads, {ProcessorCount} logical processors"),
        ("Native fix", $"{NativeFixStatus}: {NativeFixMessage}"),
    ];

    public override string ToString()
    {
        var rows = Rows();
        int width = rows.Max(r => r.Label.Length);
        var text = new StringBuilder("Device report\n");
        foreach (var (label, value) in rows) text.Append("  ").Append(label.PadRight(width)).Append("  ").Append(value).Append('\n');
        return text.ToString().TrimEnd('\n');
    }

    public IReadOnlyList<string> MimeTypes => MimeType.HtmlAndText;

    public string Render(string mimeType) => mimeType switch
    {
        MimeType.Html => ToHtml(),
        MimeType.PlainText => ToString(),
        _ => throw MimeViews.NotOffered(this, mimeType),
    };

    public string ToHtml()
    {
        var table = new HtmlTable("Device report");
        foreach (var (label, value) in Rows()) table.Row(label, value);
        return table.ToString();
    }
}
