using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace NotebookLab.Models.Vision;

/// <summary>
/// A small ResNet for 28×28 greyscale images (Fashion-MNIST): a 3×3 stem (stride 2 by default, 28 → 14), one stage of
/// <see cref="BasicBlock"/>s per entry of <c>widths</c> (stride 2 from the second stage on, with a 1×1 projection
/// shortcut where the shape changes), global average pooling and a linear head.
/// </summary>
/// <remarks>
/// The model is split the way transfer learning needs it: <see cref="Encoder"/> (parameter names <c>encoder.stem.*</c>,
/// <c>encoder.stage1.*</c>, …) maps images to a feature vector of <see cref="FeatureDim"/> numbers, and <see cref="Head"/>
/// (<c>head.*</c>) maps features to class scores. So <c>Freezing.Freeze(model, "encoder.*")</c> freezes the backbone and
/// <see cref="StageFeatures"/> gives the pooled output of every stage for layer-wise probes.
/// </remarks>
public sealed class SmallResNet : Module<Tensor, Tensor>
{
    readonly Sequential encoder;
    readonly Linear head;
    readonly List<Module<Tensor, Tensor>> parts = [];

    /// <param name="classes">Output classes of the head.</param>
    /// <param name="widths">Channels per stage, e.g. [16, 32, 64].</param>
    /// <param name="blocksPerStage">Basic blocks in each stage.</param>
    /// <param name="inChannels">Image channels (1 for greyscale).</param>
    /// <param name="stemStride">Stride of the stem convolution (2 halves 28×28 to 14×14, four times cheaper).</param>
    public SmallResNet(long classes = 10, IReadOnlyList<long>? widths = null, int blocksPerStage = 1, long inChannels = 1, long stemStride = 2)
        : base(nameof(SmallResNet))
    {
        widths ??= [16, 32, 64];
        if (widths.Count < 1 || widths.Any(w => w < 1)) throw new ArgumentException($"SmallResNet needs at least one stage of positive width, got [{string.Join(", ", widths)}]", nameof(widths));
        if (blocksPerStage < 1) throw new ArgumentOutOfRangeException(nameof(blocksPerStage), blocksPerStage, "need at least one block per stage");
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, "need at least one class");
        Widths = widths.ToArray();
        var modules = new List<(string, Module<Tensor, Tensor>)>();
        var stem = Sequential(("conv", Conv2d(inChannels, widths[0], 3, stride: stemStride, padding: 1, bias: false)),
            ("bn", BatchNorm2d(widths[0])), ("relu", ReLU()));
        modules.Add(("stem", stem));
        parts.Add(stem);
        long inPlanes = widths[0];
        for (int s = 0; s < widths.Count; s++)
        {
            long planes = widths[s], stride = s == 0 ? 1 : 2;
            var blocks = new List<(string, Module<Tensor, Tensor>)>();
            for (int b = 0; b < blocksPerStage; b++)
            {
                Sequential? down = null;
                long st = b == 0 ? stride : 1;
                if (st != 1 || inPlanes != planes)
                    down = Sequential(("0", Conv2d(inPlanes, planes, 1, stride: st, bias: false)), ("1", BatchNorm2d(planes)));
                blocks.Add((b.ToString(), new BasicBlock(inPlanes, planes, st, down)));
                inPlanes = planes;
            }
            var stage = Sequential(blocks);
            modules.Add(($"stage{s + 1}", stage));
            parts.Add(stage);
        }
        modules.Add(("pool", AdaptiveAvgPool2d([1, 1])));
        modules.Add(("flatten", Flatten()));
        encoder = Sequential(modules);
        FeatureDim = inPlanes;
        head = Linear(inPlanes, classes);
        RegisterComponents();
        foreach (var (_, m) in named_modules())
            if (m is Conv2d conv) init.kaiming_normal_(conv.weight, mode: init.FanInOut.FanOut, nonlinearity: init.NonlinearityType.ReLU);
    }

    /// <summary>Channels per stage.</summary>
    public long[] Widths { get; }
    /// <summary>Length of the feature vector the encoder produces (the last stage's width).</summary>
    public long FeatureDim { get; }
    /// <summary>Images [N, C, H, W] → features [N, <see cref="FeatureDim"/>].</summary>
    public Sequential Encoder => encoder;
    /// <summary>Features → class scores.</summary>
    public Linear Head => head;

    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 4) throw new ArgumentException($"SmallResNet expects N×C×H×W images, got shape {Shapes.Format(x.shape)}", nameof(x));
        using var scope = NewDisposeScope();
        return head.call(encoder.call(x)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The output of the stem and of every stage, each globally average-pooled to [N, channels]: the features a
    /// layer-wise probe reads (index 0 = stem, 1 = stage 1, …). Runs as the model is (call <c>eval()</c> first).
    /// </summary>
    public IReadOnlyList<Tensor> StageFeatures(Tensor x)
    {
        using var scope = NewDisposeScope();
        var outputs = new List<Tensor>();
        var y = x;
        foreach (var part in parts)
        {
            y = part.call(y);
            outputs.Add(y.mean([2, 3]).MoveToOuterDisposeScope());
        }
        return outputs;
    }
}

/// <summary>
/// A deep stack of fully connected blocks for the degradation experiment: <c>depth</c> blocks of
/// (BatchNorm) → ReLU → Linear ("pre-activation" order, as in ResNet v2) at a fixed width between an input projection and a linear classifier. With
/// <c>residual: true</c> each block adds its input back (<c>x + f(x)</c>), otherwise it replaces it (<c>f(x)</c>).
/// Everything else (parameter count, initialisation) is the same, so the two differ only by the skip.
/// </summary>
public sealed class DeepStack : Module<Tensor, Tensor>
{
    readonly Linear input, output;
    readonly ModuleList<Sequential> blocks;

    public DeepStack(long inFeatures, long width, int depth, long classes, bool residual, bool batchNorm) : base(nameof(DeepStack))
    {
        if (depth < 1) throw new ArgumentOutOfRangeException(nameof(depth), depth, "need at least one block");
        Residual = residual;
        BatchNorm = batchNorm;
        input = Linear(inFeatures, width);
        blocks = new ModuleList<Sequential>();
        for (int i = 0; i < depth; i++)
            blocks.Add(batchNorm
                ? Sequential(("bn", BatchNorm1d(width)), ("relu", ReLU()), ("fc", Linear(width, width)))
                : Sequential(("relu", ReLU()), ("fc", Linear(width, width))));
        output = Linear(width, classes);
        RegisterComponents();
    }

    public bool Residual { get; }
    public bool BatchNorm { get; }
    /// <summary>The first layer (the input projection): its gradient norm shows whether the error signal reaches the bottom.</summary>
    public Linear FirstLayer => input;

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = input.call(x.flatten(1));
        foreach (var block in blocks)
            h = Residual ? h + block.call(h) : block.call(h);
        return output.call(h).MoveToOuterDisposeScope();
    }
}
