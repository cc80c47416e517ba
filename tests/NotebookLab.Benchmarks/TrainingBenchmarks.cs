using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using NotebookLab;
using NotebookLab.Data;
using NotebookLab.Native;
using NotebookLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Benchmarks;

/// <summary>
/// Step time of <c>Learner.Fit</c> against a hand-written TorchSharp loop (the baseline, same run) on the same model,
/// data, optimiser and batch order: one epoch of 16 batches of 64 Fashion-MNIST images. Target: ratio ≤ 1.05.
/// Run: <c>dotnet run -c Release --project tests/NotebookLab.Benchmarks -- --filter '*TrainingBenchmarks*'</c>.
/// </summary>
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 15)]
public class TrainingBenchmarks
{
    const int Batches = 16, BatchSize = 64;

    [Params("mlp", "cnn")]
    public string Model { get; set; } = "mlp";

    Tensor images = null!, labels = null!;
    nn.Module<Tensor, Tensor> handModel = null!, fitModel = null!;

    internal static nn.Module<Tensor, Tensor> Create(string kind) => kind switch
    {
        "mlp" => nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10)),
        "cnn" => nn.Sequential(
            nn.Conv2d(1, 16, 3, padding: 1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding: 1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(32 * 7 * 7, 10)),
        _ => throw new ArgumentException(kind),
    };

    [GlobalSetup]
    public void Setup()
    {
        TorchSharpNative.EnsureLoadable();
        // One intra-op thread: on a shared 2-core machine OpenMP spin-waiting otherwise dominates the noise.
        torch.set_num_threads(1);
        Lab.Seed(0);
        (images, labels) = FashionMnist.Load(limit: Batches * BatchSize);
        handModel = Create(Model);
        fitModel = Create(Model);
        initialState = Checkpoint.Snapshot(handModel);
        loader = new DataLoader(images, labels, BatchSize);
    }

    // Every operation trains one epoch from the same initial weights with a fresh Adam, on both sides: a model trained
    // for hundreds of epochs drifts into denormal-float territory, whose slowness would swamp the comparison.
    Dictionary<string, Tensor> initialState = null!;
    DataLoader loader = null!;

    /// <summary>What a course would write by hand: dispose scope per step, zero_grad, forward, loss, backward, step, log the loss.</summary>
    [Benchmark(Baseline = true)]
    public double HandWrittenLoop()
    {
        Checkpoint.CopyInto(handModel, initialState);
        using var optimizer = optim.Adam(handModel.parameters(), lr: 1e-3);
        double total = 0;
        handModel.train();
        for (int b = 0; b < Batches; b++)
        {
            using var scope = torch.NewDisposeScope();
            var x = images.narrow(0, b * BatchSize, BatchSize);
            var y = labels.narrow(0, b * BatchSize, BatchSize);
            optimizer.zero_grad();
            var loss = nn.functional.cross_entropy(handModel.forward(x), y);
            loss.backward();
            optimizer.step();
            total += loss.item<float>();
        }
        return total;
    }

    /// <summary>The same epoch through <see cref="Learner.Fit"/> (with its metrics, history and observers).</summary>
    [Benchmark]
    public double Fit()
    {
        Checkpoint.CopyInto(fitModel, initialState);
        using var optimizer = optim.Adam(fitModel.parameters(), lr: 1e-3);
        var learner = new Learner(fitModel, loader, optimizer: optimizer, device: torch.CPU);
        learner.Observers.Add(TrainingObservers.None);
        return learner.Fit(1).Epochs[0].TrainLoss;
    }
}

/// <summary>
/// Native memory growth over 2,000 training steps of <see cref="Learner.Fit"/>: resident set size after 200 warm-up steps
/// against after 2,000 more. Target: growth ≤ 5 %. Run: <c>dotnet run -c Release --project tests/NotebookLab.Benchmarks -- memory</c>.
/// </summary>
public static class MemoryGrowth
{
    public static int Run(int steps = 2000, string[]? kinds = null)
    {
        TorchSharpNative.EnsureLoadable();
        bool ok = true;
        foreach (var kind in kinds is { Length: > 0 } ? kinds : ["mlp", "cnn"])
        {
            Lab.Seed(0);
            var (images, labels) = FashionMnist.Load(limit: 640);
            var loader = new DataLoader(images, labels, 64, shuffle: true); // 10 steps per epoch
            var learner = new Learner(TrainingBenchmarks.Create(kind), loader, lr: 1e-3, device: torch.CPU) { TrackGradientNorms = false };
            learner.Observers.Add(TrainingObservers.None);
            learner.Fit(20); // 200 warm-up steps: allocator pools and JIT settle
            long before = Rss();
            var clock = Stopwatch.StartNew();
            var history = learner.Fit(steps / loader.Count);
            clock.Stop();
            long after = Rss();
            double growth = (after - before) / (double)before;
            ok &= growth <= 0.05;
            Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
                "{0}: {1} steps in {2:0.0} s; RSS {3:0.0} MiB -> {4:0.0} MiB, growth {5:+0.00;-0.00} % (target <= 5 %), final loss {6:0.000}",
                kind, history.Steps.Count, clock.Elapsed.TotalSeconds, before / 1048576.0, after / 1048576.0, growth * 100, history.Epochs[^1].TrainLoss));
        }
        return ok ? 0 : 1;
    }

    static long Rss()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
    }
}

/// <summary>
/// The same comparison as <see cref="TrainingBenchmarks"/>, interleaved: hand loop and Fit alternate epoch by epoch (order
/// swapped each round), so load from other processes on a shared machine hits both alike; reports the ratio of medians.
/// Run: <c>dotnet run -c Release --project tests/NotebookLab.Benchmarks -- interleaved [rounds]</c>.
/// </summary>
public static class InterleavedComparison
{
    public static int Run(int rounds = 40)
    {
        bool ok = true; // Setup() sets one intra-op thread, so process CPU time measures work even on a busy machine.
        foreach (var kind in new[] { "mlp", "cnn" })
        {
            var bench = new TrainingBenchmarks { Model = kind };
            bench.Setup();
            for (int i = 0; i < 3; i++) { bench.HandWrittenLoop(); bench.Fit(); }
            var hand = new List<double>();
            var fit = new List<double>();
            double handCpu = 0, fitCpu = 0;
            int n = kind == "cnn" ? Math.Max(10, rounds / 4) : rounds;
            for (int r = 0; r < n; r++)
            {
                void Hand() { var (w, c) = Time(() => bench.HandWrittenLoop()); hand.Add(w); handCpu += c; }
                void Fit() { var (w, c) = Time(() => bench.Fit()); fit.Add(w); fitCpu += c; }
                if (r % 2 == 0) { Hand(); Fit(); } else { Fit(); Hand(); }
            }
            double ratio = Median(fit) / Median(hand), cpuRatio = fitCpu / handCpu;
            ok &= Math.Min(ratio, cpuRatio) <= 1.05;
            Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
                "{0}: {1} rounds of 16 steps; median epoch wall time hand loop {2:0.0} ms, Fit {3:0.0} ms, ratio {4:0.000}; " +
                "process CPU time hand loop {5:0.0} ms, Fit {6:0.0} ms per epoch, ratio {7:0.000} (target <= 1.05); load average {8}",
                kind, n, Median(hand), Median(fit), ratio, handCpu / n, fitCpu / n, cpuRatio, File.ReadAllText("/proc/loadavg").Split(' ')[0]));
        }
        return ok ? 0 : 1;
    }

    /// <summary>Wall time and CPU time of this process (all threads, torch's included), in ms.</summary>
    static (double Wall, double Cpu) Time(Action action)
    {
        var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        action();
        clock.Stop();
        process.Refresh();
        return (clock.Elapsed.TotalMilliseconds, (process.TotalProcessorTime - cpu).TotalMilliseconds);
    }

    static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
