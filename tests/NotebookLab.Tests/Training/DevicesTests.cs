using Microsoft.DotNet.Interactive.Formatting;
using NotebookLab.Training;

namespace NotebookLab.Tests.Training;

public class DevicesTests
{
    [Theory]
    [InlineData(null, false, 0, "cpu")]
    [InlineData("", true, 2, "cuda:0")]
    [InlineData(null, true, 1, "cuda:0")]
    [InlineData("CPU", true, 1, "cpu")]
    [InlineData(" cuda ", true, 1, "cuda:0")]
    [InlineData("cuda:1", true, 2, "cuda:1")]
    public void Resolve_picks_the_expected_device(string? requested, bool cuda, int count, string expected) =>
        Assert.Equal(expected, Devices.Resolve(requested, cuda, count));

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:x")]
    [InlineData("cuda:-1")]
    [InlineData("mps")]
    public void Resolve_rejects_unknown_values_naming_the_accepted_ones(string requested)
    {
        var error = Assert.Throws<ArgumentException>(() => Devices.Resolve(requested, true, 1));
        Assert.Contains(Devices.DeviceVariable, error.Message);
        Assert.Contains($"'{requested}'", error.Message);
        Assert.Contains("'cpu', 'cuda' or 'cuda:N'", error.Message);
    }

    [Fact]
    public void Resolve_refuses_cuda_without_a_gpu()
    {
        var error = Assert.Throws<ArgumentException>(() => Devices.Resolve("cuda", false, 0));
        Assert.Contains("CUDA is not available", error.Message);
        Assert.Contains(Devices.BackendVariable, error.Message);
    }

    [Fact]
    public void Resolve_refuses_a_gpu_index_beyond_the_visible_ones()
    {
        var error = Assert.Throws<ArgumentException>(() => Devices.Resolve("cuda:3", true, 2));
        Assert.Contains("only 2 GPU(s)", error.Message);
        Assert.Contains("cuda:0 … cuda:1", error.Message);
    }

    [Fact]
    public void Default_device_matches_what_cuda_offers()
    {
        var expected = Environment.GetEnvironmentVariable(Devices.DeviceVariable) is { Length: > 0 } forced
            ? Devices.Resolve(forced, Devices.CudaAvailable, TorchSharp.torch.cuda.device_count())
            : Devices.CudaAvailable ? "cuda:0" : "cpu";
        Assert.Equal(expected, Lab.Device.ToString().ToLowerInvariant() == "cuda" ? "cuda:0" : Lab.Device.ToString().ToLowerInvariant());
    }

    [Fact]
    public void Device_report_names_versions_backend_and_native_fix()
    {
        var report = Lab.DeviceReport();
        Assert.Equal("0.107.0", report.TorchSharpVersion);
        Assert.Matches(@"^\d+\.\d+", report.LibTorchVersion);
        Assert.True(report.TorchThreads >= 1);
        Assert.Equal(Environment.ProcessorCount, report.ProcessorCount);
        Assert.Equal(Devices.CudaAvailable, report.CudaAvailable);
        if (!report.CudaAvailable) Assert.StartsWith("CPU", report.Backend);
        var text = report.ToString();
        foreach (var label in new[] { "Operating system", "TorchSharp", "libtorch", "Backend", "Training device", "Threads", "Native fix", Devices.DeviceVariable })
            Assert.Contains(label, text);
        Assert.Contains(report.NativeFixStatus, text);
    }

    [Fact]
    public void Device_report_formats_as_html_and_plain_text_through_the_formatter()
    {
        var report = Lab.DeviceReport();
        var html = report.ToDisplayString("text/html");
        Assert.StartsWith("<table", html);
        Assert.Contains("<td style=\"padding:2px 8px;border-bottom:1px solid #eee\">libtorch</td>", html);
        Assert.Contains("Device report", report.ToDisplayString("text/plain"));
        Assert.Equal("text/html", Formatter.GetPreferredMimeTypesFor(typeof(DeviceReport)).First());
    }
}
