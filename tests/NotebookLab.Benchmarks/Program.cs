using BenchmarkDotNet.Running;
using NotebookLab.Native;

// Speed and memory targets are ratios against a baseline measured in the same run (see each benchmark's doc).
// Run: dotnet run -c Release --project tests/NotebookLab.Benchmarks -- --filter '*'
//      dotnet run -c Release --project tests/NotebookLab.Benchmarks -- memory [mlp|cnn]   (native memory growth over 2,000 steps)
//      dotnet run -c Release --project tests/NotebookLab.Benchmarks -- interleaved   (Fit vs hand loop, alternating)
TorchSharpNative.EnsureLoadable();
if (args is ["memory", .. var models]) return NotebookLab.Benchmarks.MemoryGrowth.Run(kinds: models);
if (args is ["interleaved", ..]) return NotebookLab.Benchmarks.InterleavedComparison.Run(args.Length > 1 ? int.Parse(args[1]) : 40);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;

public partial class Program;
