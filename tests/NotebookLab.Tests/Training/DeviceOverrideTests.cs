using NotebookLab.Training;

namespace NotebookLab.Tests.Training;

/// <summary>Sets NOTEBOOKLAB_DEVICE for the process, so it runs alone.</summary>
[Collection(GlobalRandomCollection.Name)]
public class DeviceOverrideTests
{
    static void WithDevice(string? value, Action test)
    {
        var previous = Environment.GetEnvironmentVariable(Devices.DeviceVariable);
        Environment.SetEnvironmentVariable(Devices.DeviceVariable, value);
        Devices.Reset();
        try { test(); }
        finally
        {
            Environment.SetEnvironmentVariable(Devices.DeviceVariable, previous);
            Devices.Reset();
        }
    }

    [Fact]
    public void The_environment_variable_forces_the_cpu()
    {
        WithDevice("cpu", () =>
        {
            Assert.Equal(TorchSharp.DeviceType.CPU, Lab.Device.type);
            Assert.Equal("cpu", Lab.DeviceReport().DeviceOverride);
        });
    }

    [Fact]
    public void An_invalid_value_is_a_clear_error_and_shows_in_the_report()
    {
        WithDevice("tpu", () =>
        {
            var error = Assert.Throws<ArgumentException>(() => Lab.Device);
            Assert.Contains("NOTEBOOKLAB_DEVICE='tpu' is not a device", error.Message);
            var report = Lab.DeviceReport();
            Assert.StartsWith("error: NOTEBOOKLAB_DEVICE='tpu'", report.SelectedDevice);
        });
    }

    [Fact]
    public void Asking_for_cuda_without_a_gpu_names_the_backend_switch()
    {
        if (Devices.CudaAvailable) return; // on a GPU machine cuda is a valid choice; Resolve's unit tests cover the refusal
        WithDevice("cuda", () =>
        {
            var error = Assert.Throws<ArgumentException>(() => Lab.Device);
            Assert.Contains("CUDA is not available", error.Message);
            Assert.Contains("NOTEBOOKLAB_TORCH_BACKEND=cuda-linux", error.Message);
        });
    }
}
