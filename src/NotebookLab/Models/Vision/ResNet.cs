using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace NotebookLab.Models.Vision;

/// <summary>
/// The two-3×3-convolution residual block of ResNet-18/34: <c>relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))</c>.
/// Names and shapes follow torchvision, so summaries and state dicts line up with PyTorch's.
/// </summary>
public sealed class BasicBlock : Module<Tensor, Tensor>
{
    public const int Expansion = 1;
    readonly Conv2d conv1, conv2;
    readonly BatchNorm2d bn1, bn2;
    readonly ReLU relu;
    readonly Sequential? downsample;

    public BasicBlock(long inPlanes, long planes, long stride = 1, Sequential? downsample = null) : base(nameof(BasicBlock))
    {
        conv1 = Conv2d(inPlanes, planes, 3, stride: stride, padding: 1, bias: false);
        bn1 = BatchNorm2d(planes);
        relu = ReLU(inplace: true);
        conv2 = Conv2d(planes, planes, 3, stride: 1, padding: 1, bias: false);
        bn2 = BatchNorm2d(planes);
        this.downsample = downsample;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var identity = downsample is null ? x : downsample.call(x);
        var y = relu.call(bn1.call(conv1.call(x)));
        y = bn2.call(conv2.call(y));
        return relu.call(y.add_(identity)).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The bottleneck block of ResNet-50/101/152: 1×1 reduce → 3×3 (carrying the stride, as torchvision's "ResNet v1.5")
/// → 1×1 expand by 4, plus the shortcut.
/// </summary>
public sealed class Bottleneck : Module<Tensor, Tensor>
{
    public const int Expansion = 4;
    readonly Conv2d conv1, conv2, conv3;
    readonly BatchNorm2d bn1, bn2, bn3;
    readonly ReLU relu;
    readonly Sequential? downsample;

    public Bottleneck(long inPlanes, long planes, long stride = 1, Sequential? downsample = null) : base(nameof(Bottleneck))
    {
        conv1 = Conv2d(inPlanes, planes, 1, bias: false);
        bn1 = BatchNorm2d(planes);
        conv2 = Conv2d(planes, planes, 3, stride: stride, padding: 1, bias: false);
        bn2 = BatchNorm2d(planes);
        conv3 = Conv2d(planes, planes * Expansion, 1, bias: false);
        bn3 = BatchNorm2d(planes * Expansion);
        relu = ReLU(inplace: true);
        this.downsample = downsample;
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var identity = downsample is null ? x : downsample.call(x);
        var y = relu.call(bn1.call(conv1.call(x)));
        y = relu.call(bn2.call(conv2.call(y)));
        y = bn3.call(conv3.call(y));
        return relu.call(y.add_(identity)).MoveToOuterDisposeScope();
    }
}

/// <summary>Which residual block a <see cref="ResNet"/> stacks.</summary>
public enum ResNetBlock { Basic, Bottleneck }

/// <summary>
/// ResNet (He et al., 2016) with torchvision's layout and parameter names: stem (7×7/2 conv, BN, ReLU, 3×3/2 max-pool),
/// four stages of residual blocks (64, 128, 256, 512 planes; stride 2 from stage 2 on), global average pool, linear
/// classifier. <see cref="ResNet18"/> has 11,689,512 parameters and <see cref="ResNet50"/> 25,557,032, as torchvision's.
/// <c>smallInputs: true</c> swaps the stem for a 3×3/1 conv without max-pool, the usual choice for 32×32 images (CIFAR).
/// </summary>
public sealed class ResNet : Module<Tensor, Tensor>
{
    readonly Conv2d conv1;
    readonly BatchNorm2d bn1;
    readonly ReLU relu;
    readonly Module<Tensor, Tensor> maxpool;
    readonly Sequential layer1, layer2, layer3, layer4;
    readonly AdaptiveAvgPool2d avgpool;
    readonly Linear fc;

    public ResNetBlock Block { get; }
    public IReadOnlyList<int> Layers { get; }

    public ResNet(ResNetBlock block, IReadOnlyList<int> layers, long numClasses = 1000, long inChannels = 3, bool smallInputs = false)
        : base(nameof(ResNet))
    {
        if (layers.Count != 4 || layers.Any(n => n < 1))
            throw new ArgumentException($"ResNet needs four stages of at least one block each, got [{string.Join(", ", layers)}]", nameof(layers));
        if (numClasses < 1) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "need at least one class");
        Block = block;
        Layers = layers;
        var expansion = block == ResNetBlock.Basic ? BasicBlock.Expansion : Bottleneck.Expansion;
        long inPlanes = 64;

        conv1 = smallInputs ? Conv2d(inChannels, 64, 3, stride: 1, padding: 1, bias: false) : Conv2d(inChannels, 64, 7, stride: 2, padding: 3, bias: false);
        bn1 = BatchNorm2d(64);
        relu = ReLU(inplace: true);
        maxpool = smallInputs ? Identity() : MaxPool2d(3, stride: 2, padding: 1);
        layer1 = MakeStage(64, layers[0], 1);
        layer2 = MakeStage(128, layers[1], 2);
        layer3 = MakeStage(256, layers[2], 2);
        layer4 = MakeStage(512, layers[3], 2);
        avgpool = AdaptiveAvgPool2d([1, 1]);
        fc = Linear(512 * expansion, numClasses);
        RegisterComponents();

        foreach (var (_, m) in named_modules())
            if (m is Conv2d conv) init.kaiming_normal_(conv.weight, mode: init.FanInOut.FanOut, nonlinearity: init.NonlinearityType.ReLU);

        Sequential MakeStage(long planes, int blocks, long stride)
        {
            Sequential? down = null;
            if (stride != 1 || inPlanes != planes * expansion)
                down = Sequential(("0", Conv2d(inPlanes, planes * expansion, 1, stride: stride, bias: false)), ("1", BatchNorm2d(planes * expansion)));
            var modules = new List<(string, Module<Tensor, Tensor>)>();
            for (var i = 0; i < blocks; i++)
            {
                Module<Tensor, Tensor> b = block == ResNetBlock.Basic
                    ? new BasicBlock(inPlanes, planes, i == 0 ? stride : 1, i == 0 ? down : null)
                    : new Bottleneck(inPlanes, planes, i == 0 ? stride : 1, i == 0 ? down : null);
                modules.Add((i.ToString(), b));
                inPlanes = planes * expansion;
            }
            return Sequential(modules);
        }
    }

    public override Tensor forward(Tensor x)
    {
        if (x.dim() != 4) throw new ArgumentException($"ResNet expects N×C×H×W images, got shape {Shapes.Format(x.shape)}", nameof(x));
        using var scope = NewDisposeScope();
        var y = maxpool.call(relu.call(bn1.call(conv1.call(x))));
        y = layer4.call(layer3.call(layer2.call(layer1.call(y))));
        y = avgpool.call(y).flatten(1);
        return fc.call(y).MoveToOuterDisposeScope();
    }

    /// <summary>ResNet-18: basic blocks [2, 2, 2, 2].</summary>
    public static ResNet ResNet18(long numClasses = 1000, long inChannels = 3, bool smallInputs = false) =>
        new(ResNetBlock.Basic, [2, 2, 2, 2], numClasses, inChannels, smallInputs);

    /// <summary>ResNet-34: basic blocks [3, 4, 6, 3].</summary>
    public static ResNet ResNet34(long numClasses = 1000, long inChannels = 3, bool smallInputs = false) =>
        new(ResNetBlock.Basic, [3, 4, 6, 3], numClasses, inChannels, smallInputs);

    /// <summary>ResNet-50: bottleneck blocks [3, 4, 6, 3].</summary>
    public static ResNet ResNet50(long numClasses = 1000, long inChannels = 3, bool smallInputs = false) =>
        new(ResNetBlock.Bottleneck, [3, 4, 6, 3], numClasses, inChannels, smallInputs);
}
