using NotebookLab.Native;
using NotebookLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab;

/// <summary>
/// The one-line entry points notebooks use: <c>using static NotebookLab.Lab;</c> then <c>Device</c>, <c>Seed(0)</c>,
/// <c>DeviceReport()</c> and <c>Fit(model, trainLoader, validLoader, epochs: 3, lr: 1e-3)</c>.
/// </summary>
public static class Lab
{
    static readonly object Gate = new();
    static Random random = new();
    static int? seed;

    /// <summary>
    /// The device to train on: CUDA when a GPU and the CUDA backend are present, else CPU; <c>NOTEBOOKLAB_DEVICE</c>
    /// overrides it (see <see cref="Devices"/>). Read it before making tensors: it initialises CUDA first.
    /// </summary>
    public static Device Device => Devices.Default;

    /// <summary>OS, versions, backend, devices, threads and the native fix, as a table (HTML in notebooks).</summary>
    public static DeviceReport DeviceReport() => Training.DeviceReport.Collect();

    /// <summary>
    /// The .NET random source of NotebookLab's data helpers (shuffling, synthetic tasks, augmentation choices made in
    /// .NET). <see cref="Seed"/> replaces it with a seeded one.
    /// </summary>
    public static Random Random
    {
        get { lock (Gate) return random; }
    }

    /// <summary>The last seed given to <see cref="Seed"/>, or null.</summary>
    public static int? CurrentSeed
    {
        get { lock (Gate) return seed; }
    }

    /// <summary>
    /// Seeds everything that makes a run random: torch's CPU generator (weight initialisation, dropout, <c>torch.rand</c>),
    /// every CUDA generator when CUDA is available, and <see cref="Random"/>, from which data loaders and synthetic tasks
    /// draw their own seeds.
    /// </summary>
    /// <remarks>
    /// <para>
    /// What "same seed, same numbers" covers: the same machine, running the same code with the same TorchSharp (libtorch)
    /// version, on the same device, with the same thread count (<c>torch.get_num_threads()</c>), making the same random
    /// draws in the same order. There, a seeded run repeats bit for bit, which is what makes a notebook's printed
    /// numbers reproducible for one student.
    /// </para>
    /// <para>
    /// It does not cover another machine or configuration. The random draws start out the same (the generators are
    /// portable), but the arithmetic is not: libtorch, MKL and oneDNN choose kernels by instruction set (AVX2 and
    /// AVX-512 round differently), a different thread count splits sums in a different order, and CUDA has its own
    /// generator and non-deterministic kernels, so a GPU run draws different numbers altogether. Differences in the last
    /// bit grow during training into a different trajectory: the same seed on another CPU ends at a different accuracy.
    /// So a check that asserts a trained result must not be tuned to one run's numbers; the course notebooks assert
    /// claims (<see cref="Checks.Check.ClaimAtLeast"/>) whose thresholds are calibrated over many seeds with a margin,
    /// and take a <c>seed</c> parameter so anyone can rerun them under another seed.
    /// </para>
    /// </remarks>
    public static void Seed(int value)
    {
        TorchSharpNative.EnsureLoadable();
        bool cuda = Devices.CudaAvailable; // CUDA first (TorchSharp #1198)
        torch.random.manual_seed(value);
        if (cuda) torch.cuda.manual_seed_all(value);
        lock (Gate)
        {
            random = new Random(value);
            seed = value;
        }
    }

    /// <summary>A new <see cref="System.Random"/> whose seed is drawn from <see cref="Random"/>: seeded runs stay reproducible.</summary>
    public static Random NextRandom()
    {
        lock (Gate) return new Random(random.Next());
    }

    /// <summary>
    /// Trains <paramref name="model"/> and returns its <see cref="History"/>. See <see cref="Learner"/> for every option;
    /// this is <c>new Learner(model, train, valid, ...).Fit(epochs)</c>.
    /// </summary>
    /// <param name="model">The network; moved to <paramref name="device"/> (default <see cref="Device"/>).</param>
    /// <param name="train">Training batches (x, y), e.g. a <see cref="Data.DataLoader"/>; enumerated once per epoch.</param>
    /// <param name="valid">Validation batches, evaluated after each epoch, or null.</param>
    /// <param name="epochs">Passes over <paramref name="train"/>.</param>
    /// <param name="lr">Peak learning rate of the default Adam optimiser and of <paramref name="schedule"/>.</param>
    /// <param name="task">Classification (cross-entropy, accuracy), Regression (MSE) or Sequence (per-token cross-entropy, accuracy, perplexity).</param>
    /// <param name="loss">A custom loss (output, target) → scalar; default from <paramref name="task"/>.</param>
    /// <param name="optimizer">An optimiser over the model's parameters (create it after moving the model to the device); default Adam(lr).</param>
    /// <param name="schedule">Learning-rate schedule; default constant.</param>
    /// <param name="clipGradNorm">Clip the global gradient norm to this value before each step.</param>
    /// <param name="earlyStopping">Stop when the validation metric stops improving.</param>
    /// <param name="trackGradientNorms">Record ‖∇‖ of every named parameter at each step in <see cref="History.GradientNorms"/>.</param>
    /// <param name="observer">Receives progress; default <see cref="TrainingObservers.Default"/>: the live <see cref="Views.TrainingMonitor"/> in notebooks, throttled progress lines elsewhere; <see cref="TrainingObservers.None"/> for silence.</param>
    /// <param name="device">Where to train; default <see cref="Device"/>.</param>
    public static History Fit(
        nn.Module<Tensor, Tensor> model,
        IEnumerable<(Tensor X, Tensor Y)> train,
        IEnumerable<(Tensor X, Tensor Y)>? valid = null,
        int epochs = 1,
        double lr = 1e-3,
        TaskKind task = TaskKind.Classification,
        Func<Tensor, Tensor, Tensor>? loss = null,
        optim.Optimizer? optimizer = null,
        LrSchedule? schedule = null,
        double? clipGradNorm = null,
        EarlyStopping? earlyStopping = null,
        bool trackGradientNorms = false,
        ITrainingObserver? observer = null,
        Device? device = null)
    {
        var learner = new Learner(model, train, valid, task, lr, loss, optimizer, device)
        {
            Schedule = schedule,
            ClipGradNorm = clipGradNorm,
            EarlyStopping = earlyStopping,
            TrackGradientNorms = trackGradientNorms,
        };
        if (observer is not null) learner.Observers.Add(observer);
        return learner.Fit(epochs);
    }
}
