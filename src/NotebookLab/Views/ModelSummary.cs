using System.Globalization;
using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.DotNet.Interactive.Formatting;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookLab.Views;

/// <summary>One row of a <see cref="ModelSummary"/>: a module at some depth of the tree.</summary>
public sealed record ModelSummaryRow(
    string Name, string Type, int Depth, string TreePrefix, IReadOnlyList<long>? OutputShape, int Calls,
    long? ParamsShown, long RecursiveParams, string Trainable, long MultAdds, bool Expanded)
{
    public string OutputShapeText => OutputShape is null ? "--" : Shapes.Format(OutputShape);
}

/// <summary>
/// A torchinfo-style model summary: the module tree (names and types), output shapes from a dry run, parameter
/// counts, a Trainable column (Yes / No / Partial), multiply-adds, totals and a memory estimate.
/// </summary>
/// <remarks>
/// Counting follows torchinfo: totals count each parameter once; a row whose children are shown lists only its own
/// parameters ("--" if none), a collapsed row lists everything below it. Mult-adds: convolutions count
/// (weight + bias elements) × N × output spatial size; linear layers params × output rows (all leading dims, where
/// torchinfo takes only the batch); RNN/LSTM/GRU params × sequence × batch; multi-head attention adds the two
/// attention products (QKᵀ and AV: 2·N·L·S·E) to its projections; embeddings are lookups (0); other layers with
/// parameters count batch × params. Memory: input, forward/backward pass (outputs of leaf modules × 2 for their
/// gradients) and parameters, in MB of 10⁶ bytes. The dry run runs in eval mode under no_grad inside a dispose
/// scope, and every module's train/eval flag is restored afterwards.
/// </remarks>
[TypeFormatterSource(typeof(MimeViewFormatterSource<ModelSummary>), PreferredMimeTypes = [MimeType.Html, MimeType.PlainText])]
public sealed class ModelSummary : IMimeView
{
    public IReadOnlyList<ModelSummaryRow> Rows { get; }
    public string ModelType { get; }
    public long TotalParams { get; }
    public long TrainableParams { get; }
    public long NonTrainableParams => TotalParams - TrainableParams;
    /// <summary>Total multiply-adds of the dry run; null when the summary was made without an input.</summary>
    public long? TotalMultAdds { get; }
    public IReadOnlyList<IReadOnlyList<long>> InputShapes { get; }
    public long InputBytes { get; }
    public long ForwardBackwardBytes { get; }
    public long ParamBytes { get; }
    public long EstimatedTotalBytes => InputBytes + ForwardBackwardBytes + ParamBytes;
    public int Depth { get; }
    bool HasDryRun => TotalMultAdds is not null;

    ModelSummary(string modelType, IReadOnlyList<ModelSummaryRow> rows, long total, long trainable, long? multAdds,
        IReadOnlyList<IReadOnlyList<long>> inputShapes, long inputBytes, long fwdBwdBytes, long paramBytes, int depth) =>
        (ModelType, Rows, TotalParams, TrainableParams, TotalMultAdds, InputShapes, InputBytes, ForwardBackwardBytes, ParamBytes, Depth) =
        (modelType, rows, total, trainable, multAdds, inputShapes, inputBytes, fwdBwdBytes, paramBytes, depth);

    // ---------- entry points ----------

    /// <summary>Summary with a dry run on a random input of <paramref name="inputShape"/> (batch included).</summary>
    public static ModelSummary Summary(nn.Module model, long[] inputShape, int depth = 3, ScalarType dtype = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputShape);
        if (inputShape.Length == 0 || inputShape.Any(d => d < 0))
            throw new ArgumentException($"Summary: input shape {Shapes.Format(inputShape)} must have at least one non-negative dimension", nameof(inputShape));
        using var scope = NewDisposeScope();
        var device = model.parameters().FirstOrDefault()?.device ?? CPU;
        var x = dtype is ScalarType.Int64 or ScalarType.Int32 ? zeros(inputShape, dtype, device) : randn(inputShape, dtype, device);
        return Summary(model, x, depth);
    }

    /// <summary>Summary with a dry run on <paramref name="exampleInput"/> (not modified, not disposed).</summary>
    public static ModelSummary Summary(nn.Module model, Tensor exampleInput, int depth = 3)
    {
        ArgumentNullException.ThrowIfNull(exampleInput);
        var call = FindSingleTensorCall(model);
        return Summary(model, () => call(exampleInput), [exampleInput], depth);
    }

    /// <summary>Summary for models with several inputs: <paramref name="forward"/> runs the model once (e.g.
    /// <c>() => model.call(tokens, mask)</c>); <paramref name="inputs"/> are counted for the input size.</summary>
    public static ModelSummary Summary(nn.Module model, Action forward, IReadOnlyList<Tensor> inputs, int depth = 3)
    {
        ArgumentNullException.ThrowIfNull(forward);
        return Summary(model, () => { forward(); return null; }, inputs, depth);
    }

    /// <summary>Structure only: the module tree, parameter counts and Trainable, without output shapes or mult-adds.</summary>
    public static ModelSummary Summary(nn.Module model, int depth = 3) => Build(model, null, [], depth);

    static ModelSummary Summary(nn.Module model, Func<object?> run, IReadOnlyList<Tensor> inputs, int depth)
    {
        ArgumentNullException.ThrowIfNull(model);
        var recorder = new Recorder();
        var modes = model.modules().Prepend(model).Distinct(ReferenceEqualityComparer.Instance).Cast<nn.Module>().Select(m => (m, m.training)).ToList();
        var removers = new List<Action>();
        try
        {
            foreach (var (m, _) in modes) removers.Add(recorder.Attach(m));
            model.eval();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            run();
        }
        finally
        {
            foreach (var remove in removers) remove();
            foreach (var (m, training) in modes) SetTrainingFlag(m, training);
        }
        return Build(model, recorder, inputs, depth);
    }

    /// <summary>train(bool) recurses into children, so flags are restored parents first (pre-order): each module's
    /// own call comes last for it.</summary>
    static void SetTrainingFlag(nn.Module m, bool training) => m.train(training);

    static Func<Tensor, object?> FindSingleTensorCall(nn.Module model)
    {
        if (model is nn.Module<Tensor, Tensor> simple) return x => simple.call(x);
        // Single tensor first; else a call whose other parameters may be null (e.g. LSTM's optional (h0, c0), GRU's h0).
        static bool Nullable(ParameterInfo p) => p.HasDefaultValue || !p.ParameterType.IsValueType || System.Nullable.GetUnderlyingType(p.ParameterType) is not null;
        var calls = model.GetType().GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Where(m => m.Name == "call" && m.GetParameters() is [{ ParameterType: var first }, ..] && first == typeof(Tensor))
            .OrderBy(m => m.GetParameters().Length).ToList();
        var call = calls.FirstOrDefault(m => m.GetParameters().Skip(1).All(Nullable));
        if (call is null)
            throw new ArgumentException($"Summary: {model.GetType().Name} does not take a single tensor; use Summary(model, () => model.call(...), inputs, depth)", nameof(model));
        var rest = call.GetParameters().Skip(1).Select(p => p.HasDefaultValue ? p.DefaultValue : null).ToArray();
        return x => call.Invoke(model, [x, .. rest]);
    }

    // ---------- hooks ----------

    sealed class Recorder
    {
        public readonly Dictionary<nn.Module, List<(object?[] Inputs, IReadOnlyList<long>? Output, long OutputElements, int ElementSize)>> Calls =
            new(ReferenceEqualityComparer.Instance);

        static readonly MethodInfo RecordMethod = typeof(Recorder).GetMethod(nameof(Record), BindingFlags.Instance | BindingFlags.NonPublic)!;

        void Record(nn.Module module, object?[] inputs, object? output)
        {
            var first = FirstTensor(output);
            var info = (inputs.Select(ShapeOf).ToArray(), first?.shape as IReadOnlyList<long>, first?.numel() ?? 0, first is null ? 0 : ElementSize(first.dtype));
            if (!Calls.TryGetValue(module, out var list)) Calls[module] = list = [];
            list.Add(info);
        }

        static object? ShapeOf(object? o) => o is Tensor t ? t.shape : FirstTensor(o)?.shape;

        /// <summary>Registers a forward hook on <paramref name="module"/> through its typed HookableModule base; returns the remover.</summary>
        public Action Attach(nn.Module module)
        {
            var hookable = module.GetType();
            while (hookable is not null && !(hookable.IsGenericType && hookable.GetGenericTypeDefinition() == typeof(nn.HookableModule<,>)))
                hookable = hookable.BaseType;
            if (hookable is null) return () => { };
            var postHookType = hookable.GetGenericArguments()[1];
            var invoke = postHookType.GetMethod("Invoke")!;
            var parameters = invoke.GetParameters().Select(p => Expression.Parameter(p.ParameterType, p.Name)).ToArray();
            var result = parameters[^1];
            var inputs = parameters[1..^1].Select(p => (Expression)Expression.Convert(p, typeof(object)));
            var body = Expression.Block(
                Expression.Call(Expression.Constant(this), RecordMethod,
                    Expression.Convert(parameters[0], typeof(nn.Module)),
                    Expression.NewArrayInit(typeof(object), inputs),
                    Expression.Convert(result, typeof(object))),
                result);
            var hook = Expression.Lambda(postHookType, body, parameters).Compile();
            var register = hookable.GetMethods().First(m => m.Name == "register_forward_hook" && m.GetParameters()[0].ParameterType == postHookType);
            var remover = register.Invoke(module, [hook])!;
            var remove = remover.GetType().GetMethod("remove")!;
            return () => remove.Invoke(remover, null);
        }
    }

    static Tensor? FirstTensor(object? o) => o switch
    {
        Tensor t => t,
        nn.utils.rnn.PackedSequence p => p.data,
        ITuple tuple => Enumerable.Range(0, tuple.Length).Select(i => FirstTensor(tuple[i])).FirstOrDefault(t => t is not null),
        System.Collections.IEnumerable e and not string => e.Cast<object?>().Select(FirstTensor).FirstOrDefault(t => t is not null),
        _ => null,
    };

    static int ElementSize(ScalarType s) => s switch
    {
        ScalarType.Bool or ScalarType.Byte or ScalarType.Int8 => 1,
        ScalarType.Int16 or ScalarType.Float16 or ScalarType.BFloat16 => 2,
        ScalarType.Int32 or ScalarType.Float32 => 4,
        ScalarType.ComplexFloat64 => 16,
        _ => 8,
    };

    // ---------- counting ----------

    static List<(string Name, Parameter P)> OwnParameters(nn.Module m) => [.. m.named_parameters(recurse: false)];

    static long MultAddsOf(nn.Module m, IReadOnlyList<long>? output, object?[] inputShapes)
    {
        if (output is null) return 0;
        var own = OwnParameters(m);
        long Prod(IEnumerable<long> dims) => dims.Aggregate(1L, (a, b) => a * b);
        switch (m)
        {
            case Embedding or EmbeddingBag:
                return 0;
            case Convolution:
                return own.Sum(p => p.P.numel()) * (output.Count > 2 ? output[0] * Prod(output.Skip(2)) : Prod(output));
            case Linear:
                return own.Sum(p => p.P.numel()) * Prod(output.Take(output.Count - 1));
            case LSTM or GRU or RNN:
                return own.Sum(p => p.P.numel()) * Prod(output.Take(2));
            case MultiheadAttention:
            {
                var projections = own.Sum(p => p.P.numel()) * Prod(output.Take(2));
                var query = inputShapes.ElementAtOrDefault(0) as long[];
                var key = inputShapes.ElementAtOrDefault(1) as long[];
                if (query is { Length: 3 } && key is { Length: 3 })
                    projections += 2 * query[0] * key[0] * query[1] * query[2]; // QKᵀ and AV: 2·L·S·N·E
                return projections;
            }
            default:
                return own.Sum(p => p.P.numel()) * output[0];
        }
    }

    static ModelSummary Build(nn.Module model, Recorder? recorder, IReadOnlyList<Tensor> inputs, int depth)
    {
        if (depth < 0) throw new ArgumentOutOfRangeException(nameof(depth), depth, "depth must be ≥ 0");
        var seen = new HashSet<IntPtr>();
        long total = 0, trainable = 0, paramBytes = 0;
        foreach (var (_, p) in model.named_parameters())
        {
            if (!seen.Add(p.Handle)) continue;
            total += p.numel();
            paramBytes += p.numel() * ElementSize(p.dtype);
            if (p.requires_grad) trainable += p.numel();
        }

        var rows = new List<ModelSummaryRow>();
        long multAdds = 0, fwdBwd = 0;
        var counted = new HashSet<nn.Module>(ReferenceEqualityComparer.Instance);
        if (recorder is not null)
            foreach (var (module, calls) in recorder.Calls)
            {
                if (!counted.Add(module)) continue;
                var isLeaf = !module.children().Any();
                foreach (var c in calls)
                {
                    multAdds += MultAddsOf(module, c.Output, c.Inputs);
                    if (isLeaf) fwdBwd += 2 * c.OutputElements * c.ElementSize;
                }
            }

        void Walk(nn.Module m, string name, int level, string prefix, bool last)
        {
            var children = m.named_children().ToList();
            var expanded = level < depth && children.Count > 0;
            var all = m.parameters().DistinctBy(p => p.Handle).ToList();
            var recursive = all.Sum(p => p.numel());
            var own = OwnParameters(m).Sum(p => p.P.numel());
            long? shown = expanded ? (own > 0 ? own : null) : (recursive > 0 ? recursive : null);
            var trainableState = all.Count == 0 ? "--" : all.All(p => p.requires_grad) ? "Yes" : all.Any(p => p.requires_grad) ? "Partial" : "No";
            var calls = recorder is not null && recorder.Calls.TryGetValue(m, out var cs) ? cs : null;
            long rowMacs = 0;
            if (calls is not null)
            {
                if (expanded) rowMacs = calls.Sum(c => MultAddsOf(m, c.Output, c.Inputs));
                else foreach (var sub in m.modules().Prepend(m).Distinct(ReferenceEqualityComparer.Instance).Cast<nn.Module>())
                        if (recorder!.Calls.TryGetValue(sub, out var subCalls)) rowMacs += subCalls.Sum(c => MultAddsOf(sub, c.Output, c.Inputs));
            }
            var treePrefix = level == 0 ? "" : prefix + (last ? "└─" : "├─");
            rows.Add(new ModelSummaryRow(name, m.GetType().Name, level, treePrefix, calls?[0].Output, calls?.Count ?? 0, shown, recursive, trainableState, rowMacs, expanded));
            if (!expanded) return;
            var childPrefix = level == 0 ? "" : prefix + (last ? "    " : "│   ");
            for (var i = 0; i < children.Count; i++)
                Walk(children[i].module, children[i].name, level + 1, childPrefix, i == children.Count - 1);
        }
        Walk(model, model.GetType().Name, 0, "", true);

        var inputBytes = inputs.Sum(t => t.numel() * ElementSize(t.dtype));
        return new ModelSummary(model.GetType().Name, rows, total, trainable, recorder is null ? null : multAdds,
            [.. inputs.Select(t => (IReadOnlyList<long>)t.shape)], inputBytes, fwdBwd, paramBytes, depth);
    }

    // ---------- rendering ----------

    static string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);
    static string Mb(long bytes) => (bytes / 1e6).ToString("F2", CultureInfo.InvariantCulture);

    /// <summary>Mult-adds scaled like torchinfo: G above 10⁹, else M.</summary>
    public static string FormatMultAdds(long v) => v >= 1_000_000_000
        ? (v / 1e9).ToString("F2", CultureInfo.InvariantCulture) + " G"
        : (v / 1e6).ToString("F2", CultureInfo.InvariantCulture) + " M";

    string LayerLabel(ModelSummaryRow r) => r.Depth == 0 ? r.Type : $"{r.Name} ({r.Type})" + (r.Calls > 1 ? $" ×{r.Calls}" : "");

    IEnumerable<(string Label, string Value)> Totals()
    {
        yield return ("Total params", N(TotalParams));
        yield return ("Trainable params", N(TrainableParams));
        yield return ("Non-trainable params", N(NonTrainableParams));
        if (TotalMultAdds is { } macs) yield return ("Total mult-adds", FormatMultAdds(macs));
        if (HasDryRun)
        {
            yield return ("Input size (MB)", Mb(InputBytes));
            yield return ("Forward/backward pass size (MB)", Mb(ForwardBackwardBytes));
        }
        yield return ("Params size (MB)", Mb(ParamBytes));
        if (HasDryRun) yield return ("Estimated Total Size (MB)", Mb(EstimatedTotalBytes));
    }

    public string ToPlainText()
    {
        var header = HasDryRun
            ? new[] { "Layer (type)", "Output Shape", "Param #", "Trainable", "Mult-Adds" }
            : ["Layer (type)", "Param #", "Trainable"];
        var cells = Rows.Select(r => HasDryRun
            ? new[] { r.TreePrefix + LayerLabel(r), r.OutputShapeText, r.ParamsShown is { } p ? N(p) : "--", r.Trainable, r.MultAdds > 0 ? N(r.MultAdds) : "--" }
            : [r.TreePrefix + LayerLabel(r), r.ParamsShown is { } q ? N(q) : "--", r.Trainable]).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, cells.Select(c => c[i].Length).DefaultIfEmpty(0).Max()) + 2).ToArray();
        var rule = new string('=', widths.Sum());
        var sb = new StringBuilder();
        string Line(string[] c) => string.Concat(c.Select((s, i) => i == 0 ? s.PadRight(widths[i]) : s.PadLeft(widths[i]))).TrimEnd();
        sb.AppendLine(rule).AppendLine(Line(header)).AppendLine(rule);
        foreach (var c in cells) sb.AppendLine(Line(c));
        sb.AppendLine(rule);
        foreach (var (label, value) in Totals()) sb.AppendLine($"{label}: {value}");
        sb.Append(rule);
        return sb.ToString();
    }

    public string ToHtml()
    {
        var sb = new StringBuilder("<div class=\"nl-model-summary\" style=\"font-size:12px\">");
        sb.Append($"<div style=\"font-weight:600;margin-bottom:4px\">{Html.Encode(ModelType)}");
        if (InputShapes.Count > 0) sb.Append(" · input " + string.Join(", ", InputShapes.Select(Shapes.Format)));
        sb.Append("</div><table class=\"nl-summary\" style=\"border-collapse:collapse\"><thead><tr>");
        const string th = "padding:2px 10px;border-bottom:2px solid #888;text-align:right";
        sb.Append($"<th style=\"{th};text-align:left\">Layer (type)</th>");
        if (HasDryRun) sb.Append($"<th style=\"{th}\">Output Shape</th>");
        sb.Append($"<th style=\"{th}\">Param #</th><th style=\"{th}\">Trainable</th>");
        if (HasDryRun) sb.Append($"<th style=\"{th}\">Mult-Adds</th>");
        sb.Append("</tr></thead><tbody>");
        foreach (var r in Rows)
        {
            const string td = "padding:1px 10px;text-align:right;font-family:ui-monospace,Menlo,Consolas,monospace";
            var color = r.Trainable switch { "No" => "#999", "Partial" => "#a15c00", _ => "inherit" };
            sb.Append($"<tr data-depth=\"{r.Depth}\" data-name=\"{Html.Encode(r.Name)}\">");
            sb.Append($"<td class=\"nl-layer\" style=\"{td};text-align:left;white-space:pre\"><span style=\"color:#aaa\">{Html.Encode(r.TreePrefix)}</span>{Html.Encode(LayerLabel(r))}</td>");
            if (HasDryRun) sb.Append($"<td class=\"nl-output-shape\" style=\"{td}\">{r.OutputShapeText}</td>");
            sb.Append($"<td class=\"nl-params\" style=\"{td}\">{(r.ParamsShown is { } p ? N(p) : "--")}</td>");
            sb.Append($"<td class=\"nl-trainable\" style=\"{td};color:{color}\">{r.Trainable}</td>");
            if (HasDryRun) sb.Append($"<td class=\"nl-mult-adds\" style=\"{td}\">{(r.MultAdds > 0 ? N(r.MultAdds) : "--")}</td>");
            sb.Append("</tr>");
        }
        sb.Append("</tbody></table><table class=\"nl-summary-totals\" style=\"margin-top:6px;border-collapse:collapse\">");
        foreach (var (label, value) in Totals())
            sb.Append($"<tr><th style=\"text-align:left;padding:1px 10px;font-weight:normal\">{label}</th><td style=\"text-align:right;padding:1px 10px\">{value}</td></tr>");
        sb.Append("</table></div>");
        return sb.ToString();
    }

    public IReadOnlyList<string> MimeTypes => MimeType.HtmlAndText;

    public string Render(string mimeType) => mimeType switch
    {
        MimeType.Html => ToHtml(),
        MimeType.PlainText => ToPlainText(),
        _ => throw MimeViews.NotOffered(this, mimeType),
    };

    public override string ToString() => ToPlainText();
}
