using NotebookLab.Data;
using NotebookLab.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookLab.Tests.Training;

[Collection(GlobalRandomCollection.Name)]
public class FreezingTests
{
    static nn.Module<Tensor, Tensor> Net() => nn.Sequential(
        ("features", nn.Sequential(("fc", nn.Linear(2, 8)), ("bn", nn.BatchNorm1d(8)), ("act", nn.ReLU()))),
        ("head", nn.Linear(8, 4)));

    [Fact]
    public void Frozen_parameters_do_not_change_and_frozen_batchnorm_stays_in_eval_mode()
    {
        Lab.Seed(11);
        var model = Net();
        var learner = new Learner(model, new NotebookLab.Data.DataLoader(Problems.Blobs(64, 1).X * 3 + 2, Problems.Blobs(64, 1).Y, 16), device: torch.CPU);
        learner.Observers.Add(TrainingObservers.None);
        Assert.Equal(4, learner.Freeze("features.*"));
        var frozenBefore = model.named_parameters().Where(p => p.name.StartsWith("features")).Select(p => p.parameter.detach().clone()).ToList();
        var headBefore = model.named_parameters().First(p => p.name == "head.weight").parameter.detach().clone();
        var bn = (BatchNorm1d)model.named_modules().First(m => m.name == "features.bn").module;
        var runningMean = bn.running_mean!.clone();

        Assert.Equal(["features.bn"], Freezing.FrozenBatchNorms(model));
        Freezing.Train(model);
        Assert.True(model.training);
        Assert.False(bn.training);

        learner.Fit(2);
        var frozenAfter = model.named_parameters().Where(p => p.name.StartsWith("features")).Select(p => p.parameter).ToList();
        Assert.All(frozenBefore.Zip(frozenAfter), p => Assert.True(p.First.SameAs(p.Second)));
        Assert.True(runningMean.SameAs(bn.running_mean!), "frozen BatchNorm running mean moved");
        Assert.False(headBefore.SameAs(model.named_parameters().First(p => p.name == "head.weight").parameter));
        Assert.False(bn.training);
    }

    [Fact]
    public void Unfreeze_makes_parameters_and_batchnorm_train_again()
    {
        var model = Net();
        Freezing.Freeze(model, "features.*");
        Assert.Equal(2, Freezing.Unfreeze(model, "features.bn.*"));
        Assert.Empty(Freezing.FrozenBatchNorms(model));
        Freezing.Train(model);
        var bn = model.named_modules().First(m => m.name == "features.bn").module;
        Assert.True(bn.training);
        Assert.Equal(["features.fc.bias", "features.fc.weight"], model.named_parameters().Where(p => !p.parameter.requires_grad).Select(p => p.name).Order());
    }

    [Fact]
    public void Patterns_are_globs_or_regexes_and_a_pattern_matching_nothing_lists_the_names()
    {
        var model = Net();
        Assert.Equal(3, Freezing.Freeze(model, "*.bias"));
        Assert.Equal(2, Freezing.Freeze(model, "regex:^head\\."));
        Assert.True(Freezing.ToRegex("features.?c.*").IsMatch("features.fc.weight"));
        Assert.False(Freezing.ToRegex("features.*").IsMatch("myfeatures.fc.weight"));
        var error = Assert.Throws<ArgumentException>(() => Freezing.Freeze(model, "encoder.*"));
        Assert.Contains("'encoder.*' matches no parameter", error.Message);
        Assert.Contains("features.fc.weight", error.Message);
    }
}
