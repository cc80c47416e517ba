using System.Globalization;
using NotebookLab.Models.Vision;
using NotebookLab.Views;
using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace NotebookLab.Tests.Views;

public class ModelSummaryTests
{
    static long Num(string s) => long.Parse(s.Replace(",", ""), CultureInfo.InvariantCulture);

    [Fact]
    public void ResNet50_totals_torchvisions_parameter_count_and_ResNet18_too()
    {
        using var r50 = ResNet.ResNet50();
        var s = ModelSummary.Summary(r50, depth: 1);
        Assert.Equal(25_557_032, s.TotalParams);
        Assert.Equal(25_557_032, s.TrainableParams);
        Assert.Equal(["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"], s.Rows.Skip(1).Select(r => r.Name));
        Assert.Equal(215_808, s.Rows.Single(r => r.Name == "layer1").ParamsShown);
        Assert.Equal(2_049_000, s.Rows.Single(r => r.Name == "fc").ParamsShown);
        using var r18 = ResNet.ResNet18();
        Assert.Equal(11_689_512, ModelSummary.Summary(r18).TotalParams);
    }

    [Fact]
    public void Conv_and_linear_mult_adds_and_shapes_match_hand_computation()
    {
        using var model = Sequential(
            ("conv", Conv2d(3, 8, 3, padding: 1)),
            ("relu", ReLU()),
            ("pool", MaxPool2d(2)),
            ("flat", Flatten()),
            ("fc", Linear(8 * 4 * 4, 10)));
        var s = ModelSummary.Summary(model, [2, 3, 8, 8]);
        var conv = s.Rows.Single(r => r.Name == "conv");
        Assert.Equal([2L, 8, 8, 8], conv.OutputShape);
        // (weight 8·3·3·3 + bias 8) × N·H·W = 224 × 2·8·8
        Assert.Equal((8 * 3 * 3 * 3 + 8) * 2 * 8 * 8, conv.MultAdds);
        var fc = s.Rows.Single(r => r.Name == "fc");
        Assert.Equal([2L, 10], fc.OutputShape);
        Assert.Equal((128 * 10 + 10) * 2, fc.MultAdds);
        Assert.Equal(conv.MultAdds + fc.MultAdds, s.TotalMultAdds);
        Assert.Equal(224 + 1290, s.TotalParams);
        Assert.Equal(2 * 3 * 8 * 8 * 4, s.InputBytes);
        // leaf outputs ×2 (gradients) × 4 bytes: conv, relu (2·8·8·8 each), pool (2·8·4·4), flatten (2·128), fc (2·10)
        Assert.Equal(2 * 4 * (1024 + 1024 + 256 + 256 + 20), s.ForwardBackwardBytes);

        var doc = HtmlAssert.Parse(s.ToHtml());
        var fcRow = doc.QuerySelector("tr[data-name=fc]")!;
        Assert.Equal("[2, 10]", fcRow.QuerySelector(".nl-output-shape")!.TextContent);
        Assert.Equal(1290, Num(fcRow.QuerySelector(".nl-params")!.TextContent));
        Assert.Equal(2580, Num(fcRow.QuerySelector(".nl-mult-adds")!.TextContent));
        var totals = doc.QuerySelectorAll("table.nl-summary-totals tr").ToDictionary(r => r.QuerySelector("th")!.TextContent, r => r.QuerySelector("td")!.TextContent);
        Assert.Equal(1514, Num(totals["Total params"]));
        Assert.Contains("Estimated Total Size (MB)", totals.Keys);
    }

    [Fact]
    public void Trainable_column_says_yes_no_partial_and_frozen_params_are_non_trainable()
    {
        using var model = Sequential(("a", Linear(4, 4)), ("b", Linear(4, 2)));
        foreach (var p in model.named_parameters().Where(p => p.name.StartsWith("a.")).Select(p => p.parameter)) p.requires_grad = false;
        var s = ModelSummary.Summary(model);
        Assert.Equal("No", s.Rows.Single(r => r.Name == "a").Trainable);
        Assert.Equal("Yes", s.Rows.Single(r => r.Name == "b").Trainable);
        Assert.Equal("Partial", s.Rows[0].Trainable);
        Assert.Equal(20, s.NonTrainableParams);
        Assert.Equal(10, s.TrainableParams);
    }

    [Fact]
    public void Dry_run_restores_each_modules_mode_and_leaves_batchnorm_stats_alone()
    {
        using var model = Sequential(("conv", Conv2d(1, 2, 3)), ("bn", BatchNorm2d(2)), ("drop", Dropout(0.5)));
        model.train();
        model.named_children().Single(c => c.name == "drop").module.eval();
        var runningMean = ((TorchSharp.Modules.BatchNorm2d)model.named_children().Single(c => c.name == "bn").module).running_mean!.clone();
        ModelSummary.Summary(model, [1, 1, 6, 6]);
        Assert.True(model.training);
        Assert.True(model.named_children().Single(c => c.name == "bn").module.training);
        Assert.False(model.named_children().Single(c => c.name == "drop").module.training);
        Assert.True(runningMean.allclose(((TorchSharp.Modules.BatchNorm2d)model.named_children().Single(c => c.name == "bn").module).running_mean!));
    }

    [Fact]
    public void Lstm_and_attention_mult_adds_follow_the_documented_conventions()
    {
        using var lstm = LSTM(8, 16);
        var s = ModelSummary.Summary(lstm, ones(5, 3, 8)); // seq 5, batch 3
        var lstmParams = 4 * 16 * (8 + 16) + 2 * 4 * 16;
        Assert.Equal(lstmParams, s.TotalParams);
        Assert.Equal((long)lstmParams * 5 * 3, s.TotalMultAdds);
        Assert.Equal([5L, 3, 16], s.Rows[0].OutputShape);

        using var mha = MultiheadAttention(16, 4);
        var q = ones(5, 2, 16);
        var k = ones(7, 2, 16);
        var m = ModelSummary.Summary(mha, () => mha.call(q, k, k, null, false, null), [q, k], depth: 2);
        var inProj = 3 * 16 * 16 + 3 * 16;
        var outProj = 16 * 16 + 16;
        Assert.Equal(inProj + outProj, m.TotalParams);
        // in-projection × L·N, attention 2·L·S·N·E, out-projection × L·N
        Assert.Equal((long)inProj * 5 * 2 + 2L * 5 * 7 * 2 * 16 + (long)outProj * 5 * 2, m.TotalMultAdds);
    }

    [Fact]
    public void Default_text_looks_like_torchinfo_with_a_tree()
    {
        using var model = ResNet.ResNet18(numClasses: 10, smallInputs: true);
        var text = ModelSummary.Summary(model, [1, 3, 8, 8], depth: 2).ToPlainText();
        Assert.Contains("├─layer1 (Sequential)", text);
        Assert.Contains("│   └─1 (BasicBlock)", text);
        Assert.Contains("Total params: 11,173,962", text);
        Assert.Contains("[1, 10]", text);
        var e = Assert.Throws<ArgumentException>(() => ModelSummary.Summary(model, [3, 8, 8]));
        Assert.Contains("N×C×H×W", e.Message);
    }
}
