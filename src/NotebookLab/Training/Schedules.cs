namespace NotebookLab.Training;

/// <summary>What a <see cref="Learner"/> optimises and reports.</summary>
public enum TaskKind
{
    /// <summary>Output [N, C] logits, target [N] class indices: cross-entropy, accuracy.</summary>
    Classification,
    /// <summary>Output and target of the same shape: mean squared error.</summary>
    Regression,
    /// <summary>Output [N, T, V] logits, target [N, T] token ids (−100 = not scored): per-token cross-entropy, accuracy, perplexity.</summary>
    Sequence,
}

/// <summary>
/// A learning-rate schedule: the factor (0…1, times the peak learning rate) at each optimiser step. Steps are counted
/// from 0 over the whole run, so schedules see the planned length (<c>totalSteps</c>) and epoch size.
/// </summary>
public abstract record LrSchedule
{
    /// <summary>The multiplier of the peak learning rate at <paramref name="step"/> (0-based) of <paramref name="totalSteps"/>.</summary>
    public abstract double Factor(long step, long totalSteps, int stepsPerEpoch);

    /// <summary>The learning rate at a step for a peak rate <paramref name="lr"/>.</summary>
    public double LearningRate(double lr, long step, long totalSteps, int stepsPerEpoch) => lr * Factor(step, totalSteps, stepsPerEpoch);

    /// <summary>The same learning rate throughout.</summary>
    public static LrSchedule Constant { get; } = new ConstantSchedule();

    /// <summary>Multiply the rate by <paramref name="gamma"/> every <paramref name="everyEpochs"/> epochs (PyTorch's StepLR).</summary>
    public static LrSchedule Step(int everyEpochs, double gamma = 0.1)
    {
        if (everyEpochs < 1) throw new ArgumentOutOfRangeException(nameof(everyEpochs), everyEpochs, "must be at least 1 epoch");
        return new StepSchedule(everyEpochs, gamma);
    }

    /// <summary>Linear warm-up over <paramref name="warmupSteps"/>, then cosine decay to <paramref name="minFactor"/> of the peak.</summary>
    public static LrSchedule Cosine(long warmupSteps = 0, double minFactor = 0.0) => new CosineSchedule(warmupSteps, minFactor);

    /// <summary>Linear warm-up from 0 over <paramref name="warmupSteps"/>, then constant.</summary>
    public static LrSchedule Warmup(long warmupSteps) => new WarmupSchedule(warmupSteps);

    /// <summary>
    /// One-cycle (Smith; PyTorch's OneCycleLR with cosine annealing): from peak/<paramref name="divFactor"/> up to the peak
    /// over the first <paramref name="pctStart"/> of the run, then down to peak/(divFactor·<paramref name="finalDivFactor"/>).
    /// </summary>
    public static LrSchedule OneCycle(double pctStart = 0.25, double divFactor = 25, double finalDivFactor = 1e4)
    {
        if (pctStart is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(pctStart), pctStart, "must be between 0 and 1");
        return new OneCycleSchedule(pctStart, divFactor, finalDivFactor);
    }

    internal static double CosineBetween(double from, double to, double t) => to + (from - to) * (1 + Math.Cos(Math.PI * Math.Clamp(t, 0, 1))) / 2;

    sealed record ConstantSchedule : LrSchedule
    {
        public override double Factor(long step, long totalSteps, int stepsPerEpoch) => 1.0;
        public override string ToString() => "constant";
    }

    sealed record StepSchedule(int EveryEpochs, double Gamma) : LrSchedule
    {
        public override double Factor(long step, long totalSteps, int stepsPerEpoch) =>
            Math.Pow(Gamma, step / Math.Max(1, stepsPerEpoch) / EveryEpochs);
        public override string ToString() => $"step(every {EveryEpochs} epochs, ×{Gamma})";
    }

    sealed record WarmupSchedule(long WarmupSteps) : LrSchedule
    {
        public override double Factor(long step, long totalSteps, int stepsPerEpoch) =>
            WarmupSteps <= 0 ? 1.0 : Math.Min(1.0, (step + 1.0) / WarmupSteps);
        public override string ToString() => $"warm-up({WarmupSteps} steps)";
    }

    sealed record CosineSchedule(long WarmupSteps, double MinFactor) : LrSchedule
    {
        public override double Factor(long step, long totalSteps, int stepsPerEpoch)
        {
            if (step < WarmupSteps) return (step + 1.0) / WarmupSteps;
            long decaySteps = Math.Max(1, totalSteps - WarmupSteps - 1);
            return CosineBetween(1.0, MinFactor, (double)(step - WarmupSteps) / decaySteps);
        }
        public override string ToString() => $"cosine(warm-up {WarmupSteps} steps, min ×{MinFactor})";
    }

    sealed record OneCycleSchedule(double PctStart, double DivFactor, double FinalDivFactor) : LrSchedule
    {
        public override double Factor(long step, long totalSteps, int stepsPerEpoch)
        {
            double start = 1.0 / DivFactor, end = start / FinalDivFactor;
            double up = Math.Max(1, PctStart * totalSteps - 1);
            double down = Math.Max(1, totalSteps - 1 - up);
            return step <= up ? CosineBetween(start, 1.0, step / up) : CosineBetween(1.0, end, (step - up) / down);
        }
        public override string ToString() => $"one-cycle(pct_start {PctStart}, div {DivFactor}, final div {FinalDivFactor})";
    }
}

/// <summary>Which validation number early stopping watches.</summary>
public enum StopMetric
{
    /// <summary>Validation loss; lower is better.</summary>
    ValidLoss,
    /// <summary>Validation accuracy; higher is better.</summary>
    ValidAccuracy,
}

/// <summary>
/// Stop training when <see cref="Monitor"/> has not improved by more than <see cref="MinDelta"/> for
/// <see cref="Patience"/> epochs; with <see cref="RestoreBest"/>, the weights of the best epoch are put back at the end.
/// Needs validation data.
/// </summary>
public sealed record EarlyStopping(int Patience = 3, double MinDelta = 0.0, StopMetric Monitor = StopMetric.ValidLoss, bool RestoreBest = true);
