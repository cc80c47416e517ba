using NotebookLab.Models.Vision;
using NotebookLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Tests.Models.Vision;

public class ModelCostTests
{
    [Fact]
    public void The_lecture_bottleneck_walk_through_on_14x14x256()
    {
        Assert.Equal(589_824, ModelCost.ConvWeights(256, 256, 3));
        Assert.Equal(115_605_504, ModelCost.ConvMacs(256, 256, 3, 14, 14));
        var block = new Bottleneck(256, 64);
        var convs = ModelCost.Layers(block, 1, 256, 14, 14);
        Assert.Equal(3, convs.Count);
        Assert.Equal(69_632, convs.Sum(c => c.Parameters));
        Assert.Equal(13_647_872, convs.Sum(c => c.Macs));
        Assert.Equal([256L, 14, 14], convs[^1].OutputShape);
        Assert.Equal(ModelCost.Parameters(block), 69_632 + 2 * (64 + 64 + 256));
    }

    [Fact]
    public void Resnet_multiply_adds_match_the_published_numbers()
    {
        using var r18 = ResNet.ResNet18();
        Assert.InRange(ModelCost.Macs(r18, 1, 3, 224, 224) / 1e9, 1.814 * 0.99, 1.814 * 1.01);
        using var r50 = ResNet.ResNet50();
        // torchvision's v1.5 bottleneck (stride on the 3×3): 4.09 G; the paper's v1 (stride on the 1×1) 3.86 G.
        Assert.InRange(ModelCost.Macs(r50, 1, 3, 224, 224) / 1e9, 4.089 * 0.99, 4.089 * 1.01);
        var layers = ModelCost.Layers(r18, 1, 3, 224, 224);
        Assert.Equal("conv1", layers[0].Name);
        Assert.Equal([64L, 112, 112], layers[0].OutputShape);
        Assert.Equal("fc", layers[^1].Name);
        Assert.Equal(512_000, layers[^1].Macs);
        Assert.True(r18.training, "the model's mode is restored");
    }

    [Fact]
    public void Layers_needs_a_batch_dimension()
    {
        var ex = Assert.Throws<ArgumentException>(() => ModelCost.Layers(nn.Linear(3, 2), 3));
        Assert.Contains("batch", ex.Message);
    }
}

public class SmallResNetTests
{
    [Fact]
    public void Shapes_names_and_parameter_count()
    {
        var model = new SmallResNet(classes: 10, widths: [16, 32, 64]);
        Assert.Equal(77_754, ModelCost.Parameters(model));
        Assert.Equal(64, model.FeatureDim);
        var x = torch.randn(3, 1, 28, 28, generator: new Generator(1));
        Assert.Equal([3L, 10], model.call(x).shape);
        Assert.Equal([3L, 64], model.Encoder.call(x).shape);
        var names = model.named_parameters().Select(p => p.name).ToList();
        Assert.All(names, n => Assert.True(n.StartsWith("encoder.") || n.StartsWith("head."), n));
        Assert.Contains("encoder.stage2.0.downsample.0.weight", names);
        model.eval();
        var stages = model.StageFeatures(x);
        Assert.Equal([16L, 16, 32, 64], stages.Select(s => s.shape[1]).ToArray());
        using (torch.no_grad())
            Assert.True(stages[^1].allclose(model.Encoder.call(x), 1e-5, 1e-6), "the last stage's pooled output is the encoder's feature");
        Assert.Contains("[3, 28, 28]", Assert.Throws<ArgumentException>(() => model.call(torch.zeros(3, 28, 28))).Message);
    }

    [Fact]
    public void Freezing_the_encoder_keeps_weights_and_batchnorm_statistics_bit_identical()
    {
        Lab.Seed(3);
        var model = new SmallResNet(classes: 3, widths: [4, 8]);
        var before = model.Encoder.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());
        Freezing.Freeze(model, "encoder.*");
        var x = torch.randn(16, 1, 12, 12, generator: new Generator(2)) * 2 + 1;
        var y = torch.tensor(Enumerable.Range(0, 16).Select(i => (long)(i % 3)).ToArray());
        var learner = new Learner(model, new[] { (x, y) }, lr: 1e-2, device: torch.CPU);
        learner.Observers.Add(TrainingObservers.None);
        learner.Fit(3);
        foreach (var (name, value) in model.Encoder.state_dict())
            Assert.True(value.eq(before[name]).all().item<bool>(), name);
    }
}

public class DeepStackTests
{
    [Fact]
    public void Plain_and_residual_stacks_have_the_same_parameters_and_differ_by_the_skip()
    {
        var plain = new DeepStack(8, 6, depth: 4, classes: 3, residual: false, batchNorm: true);
        var residual = new DeepStack(8, 6, depth: 4, classes: 3, residual: true, batchNorm: true);
        Assert.Equal(ModelCost.Parameters(plain), ModelCost.Parameters(residual));
        Assert.Equal(8 * 6 + 6 + 4 * (36 + 6 + 12) + 6 * 3 + 3, ModelCost.Parameters(plain));
        // With every block's weights at zero, a residual block passes its input through, and a plain one outputs relu(0)=0.
        var noBn = new DeepStack(8, 6, depth: 3, classes: 3, residual: true, batchNorm: false);
        using (torch.no_grad())
            foreach (var (name, p) in noBn.named_parameters())
                if (name.StartsWith("blocks.")) p.zero_();
        var x = torch.randn(5, 8, generator: new Generator(4));
        var direct = noBn.named_children().ToDictionary(c => c.name, c => c.module);
        var input = (nn.Module<Tensor, Tensor>)direct["input"];
        var output = (nn.Module<Tensor, Tensor>)direct["output"];
        Assert.True(noBn.call(x).allclose(output.call(input.call(x))));
        Assert.Equal([5L, 3], plain.call(x).shape);
    }
}

public class FineTuningTests
{
    [Fact]
    public void Adam_groups_follow_the_first_matching_rule()
    {
        var model = new SmallResNet(classes: 3, widths: [4, 8]);
        var opt = FineTuning.Adam(model, ("encoder.stem.*", 1e-4), ("encoder.*", 1e-3), ("*", 1e-2));
        var groups = opt.ParamGroups.ToList();
        Assert.Equal([1e-4, 1e-3, 1e-2], groups.Select(g => g.LearningRate).ToArray());
        Assert.Equal(3, ((TorchSharp.Modules.Adam.ParamGroup)groups[0]).Parameters.Count());
        Assert.Equal(2, ((TorchSharp.Modules.Adam.ParamGroup)groups[2]).Parameters.Count());
        Assert.Contains("matches none", Assert.Throws<ArgumentException>(() => FineTuning.Adam(model, ("encoder.*", 1e-3))).Message);
        Assert.Contains("matches no parameter", Assert.Throws<ArgumentException>(() => FineTuning.Adam(model, ("*", 1e-3), ("head.*", 1e-2))).Message);
    }

    [Fact]
    public void A_schedule_keeps_the_ratio_between_groups()
    {
        var model = Training.Problems.Mlp();
        var (x, y) = Training.Problems.Blobs(64, 1);
        var opt = FineTuning.Adam(model, ("fc1.*", 1e-3), ("*", 1e-2));
        var learner = new Learner(model, new DataLoaderOf(x, y), lr: 1e-2, optimizer: opt, device: torch.CPU) { Schedule = LrSchedule.Cosine(minFactor: 0.2) };
        learner.Observers.Add(TrainingObservers.None);
        learner.Fit(2);
        var rates = opt.ParamGroups.Select(g => g.LearningRate).ToArray();
        Assert.True(rates[1] < 1e-2, "the schedule lowered the rate");
        Assert.Equal(0.1, rates[0] / rates[1], 6);
    }

    [Fact]
    public void Fine_tune_trains_the_head_alone_first_then_everything()
    {
        Lab.Seed(5);
        var model = new SmallResNet(classes: 3, widths: [4, 8]);
        var x = torch.randn(24, 1, 10, 10, generator: new Generator(6));
        var y = torch.tensor(Enumerable.Range(0, 24).Select(i => (long)(i % 3)).ToArray());
        var stem = model.Encoder.state_dict()["stem.conv.weight"].clone();
        var headSnapshots = new List<Tensor>();
        var (head, all) = FineTuning.FineTune(model, "encoder.*", new DataLoaderOf(x, y), null, headEpochs: 1, epochs: 1, lr: 1e-2,
            observer: TrainingObservers.None);
        Assert.Equal(1, head.Epochs.Count);
        Assert.Equal(1, all.Epochs.Count);
        Assert.False(model.Encoder.state_dict()["stem.conv.weight"].eq(stem).all().item<bool>(), "the body trained in phase 2");
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad));
    }

    /// <summary>A list of one full batch, which tells the learner its length.</summary>
    sealed class DataLoaderOf(Tensor x, Tensor y) : List<(Tensor, Tensor)>([(x, y)]);
}
