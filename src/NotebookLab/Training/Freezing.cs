using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookLab.Training;

/// <summary>
/// Freeze and unfreeze parameters by name, for fine-tuning and linear probes. Patterns are globs over the names
/// <c>named_parameters()</c> gives (<c>*</c> any run of characters, dots included; <c>?</c> one character), e.g.
/// <c>"features.*"</c>, <c>"*.bias"</c>, <c>"encoder.layer1.*"</c>; prefix <c>regex:</c> for a regular expression.
/// </summary>
/// <remarks>
/// A frozen BatchNorm layer must also stop updating its running mean and variance, or "frozen" features still drift.
/// So a BatchNorm module whose parameters are all frozen (or whose own name matches the pattern) is put in eval mode,
/// and <see cref="Train"/> (which <see cref="Learner"/> uses every epoch) keeps it there when the rest of the model goes
/// back to training mode. Call <see cref="Train"/> instead of <c>model.train()</c> in hand-written loops.
/// </remarks>
public static class Freezing
{
    static readonly ConditionalWeakTable<nn.Module, HashSet<string>> FrozenBatchNormNames = new();

    /// <summary>Sets <c>requires_grad = false</c> on every parameter whose name matches; returns how many matched.</summary>
    /// <exception cref="ArgumentException">Nothing matched; the message lists the parameter names.</exception>
    public static int Freeze(nn.Module model, string pattern) => SetTrainable(model, pattern, trainable: false);

    /// <summary>Sets <c>requires_grad = true</c> on every parameter whose name matches; returns how many matched.</summary>
    public static int Unfreeze(nn.Module model, string pattern) => SetTrainable(model, pattern, trainable: true);

    /// <summary>Names of the BatchNorm modules currently held in eval mode because they are frozen.</summary>
    public static IReadOnlyList<string> FrozenBatchNorms(nn.Module model) =>
        FrozenBatchNormNames.TryGetValue(model, out var names) ? names.Order(StringComparer.Ordinal).ToList() : [];

    /// <summary><c>model.train(on)</c>, then puts frozen BatchNorm layers back in eval mode.</summary>
    public static void Train(nn.Module model, bool on = true)
    {
        model.train(on);
        if (!FrozenBatchNormNames.TryGetValue(model, out var names) || names.Count == 0) return;
        foreach (var (name, module) in model.named_modules())
            if (names.Contains(name)) module.eval();
    }

    /// <summary>Turns a glob (or <c>regex:</c> pattern) into an anchored regular expression.</summary>
    public static Regex ToRegex(string pattern)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pattern);
        if (pattern.StartsWith("regex:", StringComparison.Ordinal)) return new Regex(pattern[6..], RegexOptions.CultureInvariant);
        var body = Regex.Escape(pattern).Replace(@"\*", ".*").Replace(@"\?", ".");
        return new Regex("^" + body + "$", RegexOptions.CultureInvariant);
    }

    static int SetTrainable(nn.Module model, string pattern, bool trainable)
    {
        var regex = ToRegex(pattern);
        var parameters = model.named_parameters().ToList();
        int matched = 0;
        foreach (var (name, parameter) in parameters)
        {
            if (!regex.IsMatch(name)) continue;
            parameter.requires_grad = trainable;
            matched++;
        }
        var batchNorms = model.named_modules().Where(m => m.Item2 is BatchNorm).ToList();
        bool batchNormMatched = batchNorms.Any(m => regex.IsMatch(m.Item1));
        if (matched == 0 && !batchNormMatched)
            throw new ArgumentException(
                $"The pattern '{pattern}' matches no parameter of {model.GetName()}. Parameter names: " +
                string.Join(", ", parameters.Select(p => p.name).Take(30)) + (parameters.Count > 30 ? ", …" : "") +
                ". Use a glob such as 'features.*' or '*.bias', or 'regex:…'.", nameof(pattern));

        var frozen = FrozenBatchNormNames.GetValue(model, _ => new HashSet<string>(StringComparer.Ordinal));
        foreach (var (name, module) in batchNorms)
        {
            var own = module.parameters().ToList();
            bool allFrozen = own.Count > 0 && own.All(p => !p.requires_grad);
            if (!trainable && (allFrozen || regex.IsMatch(name)))
            {
                frozen.Add(name);
                module.eval();
            }
            else if (trainable && frozen.Contains(name) && (regex.IsMatch(name) || own.Any(p => p.requires_grad)))
            {
                frozen.Remove(name);
                module.train(model.training);
            }
        }
        return matched;
    }
}
