using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace NotebookLab.SelfSupervised;

/// <summary>
/// A small convolutional encoder for the self-supervised notebooks: per stage a 3×3 convolution, BatchNorm and ReLU,
/// with 2×2 max-pooling between stages, then global average pooling to a feature vector of
/// <see cref="FeatureCount"/> = the last width. Global pooling lets the same weights read whole 28×28 images and the
/// small tiles of a jigsaw puzzle.
/// </summary>
public sealed class ConvEncoder : Module<Tensor, Tensor>
{
    readonly Sequential body;

    public ConvEncoder(long inChannels = 1, params long[] widths) : base(nameof(ConvEncoder))
    {
        if (widths.Length == 0) widths = [16, 32, 64];
        if (widths.Any(w => w < 1)) throw new ArgumentOutOfRangeException(nameof(widths), $"Widths must be positive: [{string.Join(", ", widths)}].");
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        long channels = inChannels;
        for (int i = 0; i < widths.Length; i++)
        {
            if (i > 0) layers.Add(($"pool{i}", MaxPool2d(2, ceil_mode: true)));
            layers.Add(($"conv{i + 1}", Conv2d(channels, widths[i], 3, padding: 1, bias: false)));
            layers.Add(($"bn{i + 1}", BatchNorm2d(widths[i])));
            layers.Add(($"relu{i + 1}", ReLU()));
            channels = widths[i];
        }
        layers.Add(("gap", AdaptiveAvgPool2d(1)));
        layers.Add(("flatten", Flatten()));
        body = Sequential(layers);
        FeatureCount = channels;
        RegisterComponents();
    }

    /// <summary>Length of the feature vector.</summary>
    public long FeatureCount { get; }

    public override Tensor forward(Tensor x)
    {
        if (x.ndim != 4) throw new ArgumentException($"ConvEncoder expects images [N, C, H, W]; found {Shapes.Format(x)}.", nameof(x));
        return body.call(x);
    }

    /// <summary>
    /// The globally average-pooled output of every stage, concatenated: [N, sum of widths]. Earlier stages hold more
    /// general features, the last one the most task-specific ones (probe them to see where a pretext's knowledge sits).
    /// </summary>
    public Tensor AllStages(Tensor x)
    {
        if (x.ndim != 4) throw new ArgumentException($"ConvEncoder expects images [N, C, H, W]; found {Shapes.Format(x)}.", nameof(x));
        using var scope = torch.NewDisposeScope();
        var pooled = new List<Tensor>();
        var y = x;
        foreach (var (name, layer) in body.named_children())
        {
            if (name is "gap" or "flatten") break;
            y = ((Module<Tensor, Tensor>)layer).call(y);
            if (name.StartsWith("relu", StringComparison.Ordinal)) pooled.Add(y.mean([2, 3]));
        }
        return torch.cat(pooled, 1).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// The jigsaw network: one shared <see cref="Encoder"/> reads each of the T tiles of a puzzle [N, T, C, t, t]; the T
/// feature vectors are concatenated and an MLP picks the permutation (logits [N, permutations]).
/// </summary>
public sealed class JigsawNetwork : Module<Tensor, Tensor>
{
    readonly ConvEncoder encoder;
    readonly Sequential head;

    public JigsawNetwork(ConvEncoder encoder, int tiles, int permutations, long hidden = 128) : base(nameof(JigsawNetwork))
    {
        this.encoder = encoder;
        Tiles = tiles;
        head = Sequential(Linear(encoder.FeatureCount * tiles, hidden), ReLU(), Linear(hidden, permutations));
        RegisterComponents();
    }

    public ConvEncoder Encoder => encoder;
    public int Tiles { get; }

    public override Tensor forward(Tensor puzzles)
    {
        if (puzzles.ndim != 5 || puzzles.shape[1] != Tiles)
            throw new ArgumentException($"JigsawNetwork expects puzzles [N, {Tiles}, C, t, t]; found {Shapes.Format(puzzles)}.", nameof(puzzles));
        long n = puzzles.shape[0];
        var features = encoder.call(puzzles.flatten(0, 1));
        return head.call(features.reshape(n, -1));
    }
}
