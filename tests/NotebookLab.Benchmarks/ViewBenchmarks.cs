using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using NotebookLab.Native;
using NotebookLab.Views;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Benchmarks;

/// <summary>
/// Rendering a tensor costs what is shown, not the tensor's size. Target: a 10⁸-element float32 tensor renders (full
/// mime bundle: HTML with stats, value grid and heatmap, plus text/plain) in ≤ 20 ms, and faster than TorchSharp's
/// built-in formatter (<c>ToString(TensorStringStyle.Julia)</c>, the baseline, measured in the same run).
/// Run: dotnet run -c Release --project tests/NotebookLab.Benchmarks -- --filter '*ViewBenchmarks*'
/// </summary>
[Config(typeof(InProcessShortConfig))]
[MemoryDiagnoser]
public class ViewBenchmarks
{
    sealed class InProcessShortConfig : ManualConfig
    {
        // In process: TorchSharp's native fix (EnsureLoadable) applies to the process measuring.
        public InProcessShortConfig() => AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(3).WithIterationCount(12));
    }

    [Params(1_000_000, 100_000_000)]
    public long Elements;

    Tensor tensor = null!;

    [GlobalSetup]
    public void Setup()
    {
        TorchSharpNative.EnsureLoadable();
        manual_seed(0);
        var side = (long)Math.Sqrt(Elements);
        tensor = randn(side, Elements / side);
    }

    [GlobalCleanup]
    public void Cleanup() => tensor.Dispose();

    [Benchmark(Baseline = true, Description = "TorchSharp ToString(Julia)")]
    public string TorchSharpJulia() => tensor.ToString(TorchSharp.TensorStringStyle.Julia);

    [Benchmark(Description = "TensorView mime bundle (html + text)")]
    public int TensorViewBundle()
    {
        var bundle = new TensorView(tensor).ToMimeBundle();
        return bundle["text/html"].Length + bundle["text/plain"].Length;
    }
}
