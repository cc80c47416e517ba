using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookLab.Training;

/// <summary>
/// Small parts for fine-tuning a pretrained network, in the spirit of fastai: learning-rate groups
/// ("discriminative rates": lower layers change less) and the head-first schedule of <c>fine_tune</c>.
/// They compose with <see cref="Freezing"/> and <see cref="Learner"/>: a schedule keeps the groups' ratios.
/// </summary>
public static class FineTuning
{
    /// <summary>
    /// Adam with one parameter group per rule: each parameter goes to the first rule whose glob (see
    /// <see cref="Freezing.ToRegex"/>) matches its name and trains at that rule's rate. Frozen parameters are included, so
    /// they train at their group's rate once unfrozen. Every parameter must match some rule (end with <c>("*", lr)</c>).
    /// </summary>
    /// <example><c>FineTuning.Adam(model, ("encoder.stem.*", 1e-4), ("encoder.*", 3e-4), ("*", 3e-3))</c></example>
    public static optim.Optimizer Adam(nn.Module model, params (string Pattern, double Lr)[] rules)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (rules.Length == 0) throw new ArgumentException("Give at least one (pattern, lr) rule, e.g. (\"*\", 1e-3).", nameof(rules));
        var regexes = rules.Select(r => Freezing.ToRegex(r.Pattern)).ToArray();
        var members = rules.Select(_ => new List<Parameter>()).ToArray();
        foreach (var (name, p) in model.named_parameters())
        {
            int i = Array.FindIndex(regexes, r => r.IsMatch(name));
            if (i < 0)
                throw new ArgumentException($"Parameter '{name}' matches none of the patterns {string.Join(", ", rules.Select(r => $"'{r.Pattern}'"))}; add a catch-all (\"*\", lr) rule.", nameof(rules));
            members[i].Add(p);
        }
        var groups = new List<TorchSharp.Modules.Adam.ParamGroup>();
        for (int i = 0; i < rules.Length; i++)
        {
            if (members[i].Count == 0)
                throw new ArgumentException($"The pattern '{rules[i].Pattern}' matches no parameter left by the rules before it.", nameof(rules));
            if (!(rules[i].Lr > 0)) throw new ArgumentOutOfRangeException(nameof(rules), rules[i].Lr, $"The learning rate of '{rules[i].Pattern}' must be positive.");
            groups.Add(new TorchSharp.Modules.Adam.ParamGroup(members[i], lr: rules[i].Lr));
        }
        return optim.Adam(groups, lr: rules.Max(r => r.Lr));
    }

    /// <summary>
    /// fastai's <c>fine_tune</c>: freeze the body (parameters matching <paramref name="bodyPattern"/>), train the new
    /// head alone for <paramref name="headEpochs"/> epochs at <paramref name="lr"/>, then unfreeze and train everything
    /// for <paramref name="epochs"/> epochs with the body at <paramref name="lr"/>·<paramref name="bodyFactor"/>.
    /// Returns both phases' histories. While frozen, the body's BatchNorm layers stay in eval mode (see <see cref="Freezing"/>).
    /// </summary>
    public static (History Head, History All) FineTune(nn.Module<Tensor, Tensor> model, string bodyPattern,
        IEnumerable<(Tensor X, Tensor Y)> train, IEnumerable<(Tensor X, Tensor Y)>? valid, int headEpochs, int epochs,
        double lr, double bodyFactor = 0.1, LrSchedule? schedule = null, ITrainingObserver? observer = null)
    {
        if (headEpochs < 1) throw new ArgumentOutOfRangeException(nameof(headEpochs), headEpochs, "Train the head for at least one epoch.");
        Freezing.Freeze(model, bodyPattern);
        var head = new Learner(model, train, valid, lr: lr, optimizer: Adam(model, (bodyPattern, lr * bodyFactor), ("*", lr))) { Schedule = schedule };
        if (observer is not null) head.Observers.Add(observer);
        var headHistory = head.Fit(headEpochs);
        Freezing.Unfreeze(model, bodyPattern);
        var all = new Learner(model, train, valid, lr: lr, optimizer: Adam(model, (bodyPattern, lr * bodyFactor), ("*", lr))) { Schedule = schedule };
        if (observer is not null) all.Observers.Add(observer);
        var allHistory = all.Fit(Math.Max(1, epochs));
        return (headHistory, allHistory);
    }
}
