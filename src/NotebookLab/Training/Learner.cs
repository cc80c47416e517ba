using System.Diagnostics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookLab.Training;

/// <summary>Loss and accuracy over a data set (accuracy is null for regression).</summary>
public sealed record EvaluationResult(double Loss, double? Accuracy, long Count)
{
    public double Perplexity => Math.Exp(Loss);
}

/// <summary>
/// Trains a model: one object holding the model, data, loss, optimiser and options, in the spirit of fastai's
/// <c>Learner</c>. <c>Lab.Fit(...)</c> is the one-call form.
/// </summary>
/// <remarks>
/// Each step runs in its own <c>torch.NewDisposeScope()</c>, so the batch, the activations and the gradients' temporaries
/// are freed at once and native memory stays flat however long the run. Batches are moved to <see cref="Device"/>.
/// Per-step numbers go to <see cref="History"/> and to the <see cref="Observers"/> (the live monitor in notebooks).
/// <code>
/// var learner = new Learner(model, trainLoader, validLoader, lr: 3e-3) { Schedule = LrSchedule.OneCycle(), ClipGradNorm = 1.0 };
/// var history = learner.Fit(5);
/// learner.Save("checkpoints/mlp.ckpt");
/// </code>
/// </remarks>
public sealed class Learner
{
    readonly Func<Tensor, Tensor, Tensor>? customLoss;
    optim.Optimizer? optimizer;

    /// <param name="model">The network; moved to <paramref name="device"/> here.</param>
    /// <param name="train">Training batches (x, y), enumerated once per epoch.</param>
    /// <param name="valid">Validation batches, or null.</param>
    /// <param name="task">Sets the default loss and metrics.</param>
    /// <param name="lr">Peak learning rate (default Adam optimiser and schedules).</param>
    /// <param name="loss">Custom loss (output, target) → scalar tensor.</param>
    /// <param name="optimizer">Custom optimiser; create it from <c>model.parameters()</c> after the model is on the device.</param>
    /// <param name="device">Default <c>Lab.Device</c>.</param>
    public Learner(
        nn.Module<Tensor, Tensor> model,
        IEnumerable<(Tensor X, Tensor Y)> train,
        IEnumerable<(Tensor X, Tensor Y)>? valid = null,
        TaskKind task = TaskKind.Classification,
        double lr = 1e-3,
        Func<Tensor, Tensor, Tensor>? loss = null,
        optim.Optimizer? optimizer = null,
        Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        if (!(lr > 0)) throw new ArgumentOutOfRangeException(nameof(lr), lr, "The learning rate must be positive.");
        Device = device ?? Devices.Default;
        Model = model;
        Model.to(Device);
        Train = train;
        Valid = valid;
        Task = task;
        LearningRate = lr;
        customLoss = loss;
        this.optimizer = optimizer;
    }

    public nn.Module<Tensor, Tensor> Model { get; }
    public Device Device { get; }
    public TaskKind Task { get; }
    public IEnumerable<(Tensor X, Tensor Y)> Train { get; }
    public IEnumerable<(Tensor X, Tensor Y)>? Valid { get; }
    /// <summary>Peak learning rate.</summary>
    public double LearningRate { get; set; }
    /// <summary>Learning-rate schedule over the whole <see cref="Fit"/> call; null = constant.</summary>
    public LrSchedule? Schedule { get; set; }
    /// <summary>Clip the global L2 norm of all gradients to this value before each step (null: no clipping).</summary>
    public double? ClipGradNorm { get; set; }
    public EarlyStopping? EarlyStopping { get; set; }
    /// <summary>Record ‖∇‖₂ of every trainable named parameter (before clipping) into <see cref="History.GradientNorms"/>.</summary>
    public bool TrackGradientNorms { get; set; }
    /// <summary>With <see cref="TrackGradientNorms"/>, record every n-th step (1 = every step).</summary>
    public int GradientNormEvery { get; set; } = 1;
    /// <summary>Observers of progress; when empty, <see cref="TrainingObservers.Default"/> makes one per <see cref="Fit"/>.</summary>
    public List<ITrainingObserver> Observers { get; } = [];
    /// <summary>The history of the last <see cref="Fit"/> call.</summary>
    public History? History { get; private set; }

    /// <summary>The optimiser (Adam over all parameters unless one was given); frozen parameters get no gradient and are skipped.</summary>
    public optim.Optimizer Optimizer => optimizer ??= optim.Adam(Model.parameters(), lr: LearningRate);

    /// <summary>Freezes parameters whose names match a glob (see <see cref="Freezing"/>); frozen BatchNorm stays in eval mode.</summary>
    public int Freeze(string pattern) => Freezing.Freeze(Model, pattern);

    /// <summary>Unfreezes parameters whose names match a glob.</summary>
    public int Unfreeze(string pattern) => Freezing.Unfreeze(Model, pattern);

    /// <summary>Saves the model's state to a checkpoint file.</summary>
    public void Save(string path) => Checkpoint.Save(Model, path);

    /// <summary>Loads a checkpoint saved from the same architecture; otherwise throws <see cref="CheckpointMismatchException"/>.</summary>
    public void Load(string path) => Checkpoint.Load(Model, path);

    /// <summary>Trains for <paramref name="epochs"/> epochs, validating after each, and returns the run's <see cref="History"/>.</summary>
    public History Fit(int epochs)
    {
        if (epochs < 1) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "Train for at least one epoch.");
        int stepsPerEpoch = CountBatches(Train);
        bool scheduled = Schedule is not null && Schedule != LrSchedule.Constant;
        if (scheduled && stepsPerEpoch == 0)
            throw new InvalidOperationException(
                "A learning-rate schedule needs the number of batches per epoch, but the training data does not say how many it has. " +
                "Pass a NotebookLab.Data.DataLoader or a list of batches.");
        if (EarlyStopping is not null && Valid is null)
            throw new InvalidOperationException("Early stopping watches validation numbers: pass validation data.");

        var history = new History(Task, epochs, stepsPerEpoch);
        History = history;
        var observers = Observers.Count > 0 ? Observers.ToList() : [TrainingObservers.Default() ?? TrainingObservers.None];
        var opt = Optimizer;
        // Discriminative learning rates: a schedule scales every parameter group by the same factor, so groups keep
        // their ratios (a backbone at 1/10 of the head stays at 1/10). One group: ratio 1, the plain schedule.
        var groupRates = opt.ParamGroups.Select(g => g.LearningRate).ToArray();
        double topRate = groupRates.Length == 0 ? 1 : groupRates.Max();
        var groupRatios = groupRates.Select(r => topRate > 0 ? r / topRate : 1).ToArray();
        long totalSteps = (long)epochs * stepsPerEpoch;
        long step = 0;
        double? best = null;
        int sinceBest = 0;
        Dictionary<string, Tensor>? bestState = null;
        var trackedNames = new List<string>();
        var trackedParameters = new List<Parameter>();

        foreach (var o in observers) o.OnTrainBegin(history);
        try
        {
            for (int epoch = 1; epoch <= epochs; epoch++)
            {
                var clock = Stopwatch.StartNew();
                if (TrackGradientNorms)
                {
                    trackedNames.Clear();
                    trackedParameters.Clear();
                    foreach (var (name, p) in Model.named_parameters())
                        if (p.requires_grad) { trackedNames.Add(name); trackedParameters.Add(p); }
                }
                Freezing.Train(Model);
                double lossSum = 0, correct = 0;
                long count = 0;
                double lr = CurrentLearningRate(opt);
                using var correctTotal = torch.zeros(Array.Empty<long>(), dtype: ScalarType.Int64, device: Device);
                using (var batches = Train.GetEnumerator())
                {
                    while (true)
                    {
                        using var scope = torch.NewDisposeScope();
                        if (!batches.MoveNext()) break;
                        var (x, y) = batches.Current;
                        x = OnDevice(x);
                        y = OnDevice(y);
                        if (scheduled)
                        {
                            lr = Schedule!.LearningRate(LearningRate, step, totalSteps, stepsPerEpoch);
                            int g = 0;
                            foreach (var group in opt.ParamGroups) group.LearningRate = lr * (g < groupRatios.Length ? groupRatios[g++] : 1);
                        }
                        opt.zero_grad();
                        var output = Model.forward(x);
                        var loss = ComputeLoss(output, y);
                        loss.backward();
                        if (TrackGradientNorms && step % Math.Max(1, GradientNormEvery) == 0 && trackedParameters.Count > 0)
                            RecordGradientNorms(history, step, trackedNames, trackedParameters);
                        if (ClipGradNorm is { } maxNorm) nn.utils.clip_grad_norm_(Model.parameters(), maxNorm);
                        opt.step();

                        double batchLoss = loss.item<float>();
                        long batchCount;
                        if (ClassificationMetrics(output, y))
                        {
                            // Accumulated on the device: no second synchronisation per step.
                            correctTotal.add_(output.argmax(1).eq(y).sum());
                            batchCount = y.shape[0];
                        }
                        else
                        {
                            (double batchCorrect, batchCount) = CountCorrect(output, y);
                            correct += batchCorrect;
                        }
                        lossSum += batchLoss * batchCount;
                        count += batchCount;
                        var record = new StepRecord(step, epoch, batchLoss, lr, x.shape[0]);
                        history.Add(record);
                        foreach (var o in observers) o.OnStep(history, record);
                        step++;
                    }
                }
                if (count == 0) throw new InvalidOperationException("The training data yielded no batches.");
                correct += correctTotal.item<long>();
                if (stepsPerEpoch == 0) history.StepsPerEpoch = (int)(step / epoch);

                EvaluationResult? valid = Valid is null ? null : Evaluate(Valid);
                var epochRecord = new EpochRecord(epoch, lossSum / count, Task == TaskKind.Regression ? null : correct / count,
                    valid?.Loss, valid?.Accuracy, lr, clock.Elapsed);
                history.Add(epochRecord);
                foreach (var o in observers) o.OnEpoch(history, epochRecord);

                if (EarlyStopping is { } stopping && valid is not null)
                {
                    double value = stopping.Monitor == StopMetric.ValidLoss ? valid.Loss
                        : valid.Accuracy ?? throw new InvalidOperationException("Early stopping on accuracy needs a classification or sequence task.");
                    bool improved = best is null || (stopping.Monitor == StopMetric.ValidLoss
                        ? value < best.Value - stopping.MinDelta
                        : value > best.Value + stopping.MinDelta);
                    if (improved)
                    {
                        best = value;
                        sinceBest = 0;
                        history.BestEpoch = epoch;
                        if (stopping.RestoreBest)
                        {
                            DisposeAll(bestState);
                            bestState = Checkpoint.Snapshot(Model);
                        }
                    }
                    else if (++sinceBest >= stopping.Patience)
                    {
                        history.StoppedEarly = true;
                        break;
                    }
                }
            }
            if (bestState is not null && history.BestEpoch != history.Epochs.Count) Checkpoint.CopyInto(Model, bestState);
        }
        finally
        {
            DisposeAll(bestState);
            foreach (var o in observers) o.OnTrainEnd(history);
        }
        return history;
    }

    /// <summary>Mean loss (and accuracy) of the model on <paramref name="data"/>, in eval mode without gradients.</summary>
    public EvaluationResult Evaluate(IEnumerable<(Tensor X, Tensor Y)> data)
    {
        bool wasTraining = Model.training;
        Model.eval();
        double lossSum = 0, correct = 0;
        long count = 0;
        try
        {
            using var noGrad = torch.no_grad();
            using var batches = data.GetEnumerator();
            while (true)
            {
                using var scope = torch.NewDisposeScope();
                if (!batches.MoveNext()) break;
                var (x, y) = batches.Current;
                x = OnDevice(x);
                y = OnDevice(y);
                var output = Model.forward(x);
                var loss = ComputeLoss(output, y);
                var (batchCorrect, batchCount) = CountCorrect(output, y);
                lossSum += loss.item<float>() * batchCount;
                correct += batchCorrect;
                count += batchCount;
            }
        }
        finally
        {
            if (wasTraining) Freezing.Train(Model);
        }
        if (count == 0) throw new InvalidOperationException("The evaluation data yielded no batches.");
        return new EvaluationResult(lossSum / count, Task == TaskKind.Regression ? null : correct / count, count);
    }

    /// <summary>The model's output for <paramref name="x"/> in eval mode, without gradients, on the CPU.</summary>
    public Tensor Predict(Tensor x)
    {
        bool wasTraining = Model.training;
        Model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            return Model.forward(x.to(Device)).cpu().MoveToOuterDisposeScope();
        }
        finally
        {
            if (wasTraining) Freezing.Train(Model);
        }
    }

    Tensor OnDevice(Tensor t) =>
        t.device_type == Device.type && (Device.type == DeviceType.CPU || t.device_index == Device.index) ? t : t.to(Device);

    internal Tensor ComputeLoss(Tensor output, Tensor target)
    {
        if (customLoss is not null) return customLoss(output, target);
        return TaskLoss(Task, output, target);
    }

    /// <summary>The default loss of a task, with shape checks that say what was expected.</summary>
    public static Tensor TaskLoss(TaskKind task, Tensor output, Tensor target)
    {
        switch (task)
        {
            case TaskKind.Classification:
                if (output.ndim != 2 || target.ndim != 1 || output.shape[0] != target.shape[0])
                    throw new ArgumentException(
                        $"Classification expects model output [N, classes] and targets [N] of class indices; found output {Shapes.Format(output.shape)} and targets {Shapes.Format(target.shape)}.");
                RequireIntegerTargets(target);
                return nn.functional.cross_entropy(output, target);
            case TaskKind.Sequence:
                if (output.ndim != 3 || target.ndim != 2 || output.shape[0] != target.shape[0] || output.shape[1] != target.shape[1])
                    throw new ArgumentException(
                        $"Sequence tasks expect model output [N, T, vocabulary] and targets [N, T] of token ids; found output {Shapes.Format(output.shape)} and targets {Shapes.Format(target.shape)}.");
                RequireIntegerTargets(target);
                return nn.functional.cross_entropy(output.reshape(-1, output.shape[2]), target.reshape(-1));
            case TaskKind.Regression:
                if (!output.shape.SequenceEqual(target.shape))
                    throw new ArgumentException(
                        $"Regression expects output and target of the same shape (no silent broadcasting); found output {Shapes.Format(output.shape)} and target {Shapes.Format(target.shape)}. " +
                        "A common fix: y.unsqueeze(1) or output.squeeze(1).");
                return nn.functional.mse_loss(output, target.to(output.dtype));
            default:
                throw new ArgumentOutOfRangeException(nameof(task), task, null);
        }
    }

    static void RequireIntegerTargets(Tensor target)
    {
        if (target.dtype != ScalarType.Int64)
            throw new ArgumentException($"Class targets must be int64 class indices; found {target.dtype}. Use y.to(torch.int64) (or .@long()).");
    }

    bool ClassificationMetrics(Tensor output, Tensor target) =>
        Task == TaskKind.Classification && output.ndim == 2 && target.ndim == 1;

    (double Correct, long Count) CountCorrect(Tensor output, Tensor target)
    {
        switch (Task)
        {
            case TaskKind.Classification when customLoss is null || (output.ndim == 2 && target.ndim == 1):
                return (output.argmax(1).eq(target).sum().item<long>(), target.shape[0]);
            case TaskKind.Sequence:
            {
                var scored = target.ne(-100);
                var hits = output.argmax(-1).eq(target).logical_and(scored).sum().item<long>();
                return (hits, scored.sum().item<long>());
            }
            default:
                return (0, target.shape[0]);
        }
    }

    static void RecordGradientNorms(History history, long step, List<string> names, List<Parameter> parameters)
    {
        var norms = new Tensor[parameters.Count];
        for (int i = 0; i < norms.Length; i++)
        {
            var grad = parameters[i].grad;
            norms[i] = grad is null ? torch.zeros(1, device: parameters[i].device).squeeze() : grad.detach().to(float32).norm();
        }
        var values = torch.stack(norms).cpu();
        history.AddGradientNorms(step, names, values.data<float>().ToArray());
    }

    static double CurrentLearningRate(optim.Optimizer opt) => opt.ParamGroups.Select(g => g.LearningRate).DefaultIfEmpty(double.NaN).Max();

    static int CountBatches(IEnumerable<(Tensor, Tensor)> data) => data switch
    {
        Data.DataLoader loader => loader.Count,
        IReadOnlyCollection<(Tensor, Tensor)> c => c.Count,
        ICollection<(Tensor, Tensor)> c => c.Count,
        _ => 0,
    };

    static void DisposeAll(Dictionary<string, Tensor>? state)
    {
        if (state is null) return;
        foreach (var t in state.Values) t.Dispose();
        state.Clear();
    }
}
