using BenchmarkDotNet.Running;
using NotebookLab.Native;

// Speed and memory targets are ratios against a baseline measured in the same run (see each benchmark's doc).
// Run: dotnet run -c Release --project tests/NotebookLab.Benchmarks -- --filter '*'
TorchSharpNative.EnsureLoadable();
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

public partial class Program;
