using Microsoft.DotNet.Interactive.Formatting;
using NotebookLab.Data;
using NotebookLab.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Tests.Training;

[Collection(GlobalRandomCollection.Name)]
public class LearnerTests
{
    static Learner Blobs(nn.Module<Tensor, Tensor>? model = null, double lr = 1e-2)
    {
        Lab.Seed(0);
        var (x, y) = Problems.Blobs(200, seed: 3);
        var (vx, vy) = Problems.Blobs(80, seed: 4);
        var learner = new Learner(model ?? Problems.Mlp(), new DataLoader(x, y, 20, shuffle: true), new DataLoader(vx, vy, 40), lr: lr, device: torch.CPU);
        learner.Observers.Add(TrainingObservers.None);
        return learner;
    }

    [Fact]
    public void Classification_learns_separable_blobs_and_reports_every_epoch()
    {
        var observer = new RecordingObserver();
        var learner = Blobs();
        learner.Observers.Add(observer);
        var history = learner.Fit(4);
        Assert.Equal(4, history.Epochs.Count);
        Assert.Equal(40, history.Steps.Count);
        Assert.Equal(10, history.StepsPerEpoch);
        Assert.True(history.Epochs[^1].TrainLoss < history.Epochs[0].TrainLoss * 0.5, history.ToString());
        Assert.True(history.Epochs[^1].ValidAccuracy > 0.95, history.ToString());
        Assert.InRange(history.Epochs[^1].TrainAccuracy!.Value, 0.95, 1.0);
        Assert.True(history.Epochs[0].TrainAccuracy < history.Epochs[^1].TrainAccuracy, history.ToString());
        Assert.Equal(["begin", .. Enumerable.Repeat("step", 10), "epoch"], observer.Events.Take(12));
        Assert.Equal("end", observer.Events[^1]);
        Assert.Equal(4, observer.Events.Count(e => e == "epoch"));
        Assert.Equal(Enumerable.Range(0, 40).Select(i => (long)i), history.Steps.Select(s => s.Step));
        var evaluation = learner.Evaluate(learner.Valid!);
        Assert.Equal(80, evaluation.Count);
        Assert.Equal(history.Epochs[^1].ValidLoss!.Value, evaluation.Loss, 5);
    }

    [Fact]
    public void Regression_fits_a_line()
    {
        Lab.Seed(1);
        var x = torch.linspace(-1, 1, 64).unsqueeze(1);
        var y = 2 * x + 1;
        var history = Lab.Fit(nn.Linear(1, 1), new DataLoader(x, y, 16, shuffle: true), epochs: 60, lr: 0.1, task: TaskKind.Regression,
            observer: TrainingObservers.None, device: torch.CPU);
        Assert.Null(history.Epochs[^1].TrainAccuracy);
        Assert.True(history.Epochs[^1].TrainLoss < 1e-3, history.ToString());
    }

    [Fact]
    public void Sequence_task_scores_tokens_and_ignores_minus_100()
    {
        Lab.Seed(2);
        var copy = SequenceTasks.Copy(64, length: 4, symbols: 5, seed: 7);
        // An embedding + linear tagger cannot copy, but the metrics must still count only the 4 scored positions.
        var model = nn.Sequential(nn.Embedding(copy.VocabularySize, 16), nn.Linear(16, copy.VocabularySize));
        var learner = new Learner(model, new DataLoader(copy.Inputs, copy.Targets, 16), task: TaskKind.Sequence, lr: 1e-2, device: torch.CPU);
        learner.Observers.Add(TrainingObservers.None);
        var history = learner.Fit(2);
        var evaluation = learner.Evaluate(new DataLoader(copy.Inputs, copy.Targets, 64));
        Assert.Equal(64 * 4, evaluation.Count);
        Assert.Equal(Math.Exp(evaluation.Loss), evaluation.Perplexity, 9);
        Assert.Equal(Math.Exp(history.Epochs[^1].TrainLoss), history.Epochs[^1].TrainPerplexity, 9);
        Assert.Contains("ppl", history.ToString());
    }

    [Fact]
    public void Sequence_task_learns_an_identity_mapping()
    {
        Lab.Seed(3);
        var tokens = torch.randint(1, 10, [128, 6]);
        var model = nn.Sequential(nn.Embedding(10, 16), nn.Linear(16, 10));
        var history = Lab.Fit(model, new DataLoader(tokens, tokens, 32, shuffle: true), epochs: 15, lr: 3e-2, task: TaskKind.Sequence,
            observer: TrainingObservers.None, device: torch.CPU);
        Assert.True(history.Epochs[^1].TrainAccuracy > 0.99, history.ToString());
        Assert.True(history.Epochs[^1].TrainPerplexity < 1.2, history.ToString());
    }

    [Fact]
    public void Wrong_output_shape_is_reported_with_expected_and_found_shapes()
    {
        var learner = Blobs(nn.Sequential(nn.Linear(2, 4), nn.Unflatten(1, [1, 4])));
        var error = Assert.Throws<ArgumentException>(() => learner.Fit(1));
        Assert.Contains("[N, classes]", error.Message);
        Assert.Contains("found output [20, 1, 4] and targets [20]", error.Message);

        var regression = Assert.Throws<ArgumentException>(() => Learner.TaskLoss(TaskKind.Regression, torch.zeros(8, 1), torch.zeros(8)));
        Assert.Contains("found output [8, 1] and target [8]", regression.Message);
        var dtype = Assert.Throws<ArgumentException>(() => Learner.TaskLoss(TaskKind.Classification, torch.zeros(8, 3), torch.zeros(8)));
        Assert.Contains("int64", dtype.Message);
    }

    [Fact]
    public void Early_stopping_stops_after_patience_and_restores_the_best_weights()
    {
        var learner = Blobs(lr: 1e-4);
        learner.EarlyStopping = new EarlyStopping(Patience: 2, MinDelta: 10.0);
        float[]? epochOneWeights = null;
        learner.Observers.Add(new RecordingObserver
        {
            AtEpoch = (_, e) => { if (e.Epoch == 1) epochOneWeights = learner.Model.parameters().First().data<float>().ToArray(); },
        });
        var history = learner.Fit(10);
        Assert.True(history.StoppedEarly);
        Assert.Equal(3, history.Epochs.Count);
        Assert.Equal(1, history.BestEpoch);
        Assert.Equal(epochOneWeights, learner.Model.parameters().First().data<float>().ToArray());
        Assert.Contains("stopped early", history.ToString());
    }

    [Fact]
    public void Early_stopping_without_validation_data_is_refused()
    {
        var (x, y) = Problems.Blobs(20, 1);
        var learner = new Learner(Problems.Mlp(), new DataLoader(x, y, 10), device: torch.CPU) { EarlyStopping = new EarlyStopping() };
        Assert.Contains("validation", Assert.Throws<InvalidOperationException>(() => learner.Fit(1)).Message);
    }

    [Fact]
    public void Gradient_clipping_bounds_the_update()
    {
        double UpdateNorm(double? clip)
        {
            Lab.Seed(5);
            var (x, y) = Problems.Blobs(32, 2);
            var model = Problems.Mlp();
            var before = model.parameters().Select(p => p.detach().clone()).ToList();
            var learner = new Learner(model, new DataLoader(x, y, 32), loss: (o, t) => 1000 * nn.functional.cross_entropy(o, t),
                optimizer: torch.optim.SGD(model.parameters(), 1.0), device: torch.CPU) { ClipGradNorm = clip };
            learner.Observers.Add(TrainingObservers.None);
            learner.Fit(1);
            return Math.Sqrt(model.parameters().Zip(before).Sum(p => (p.First - p.Second).square().sum().item<float>()));
        }
        Assert.InRange(UpdateNorm(1e-3), 0.5e-3, 1.0001e-3);
        Assert.True(UpdateNorm(null) > 1.0);
    }

    [Fact]
    public void Schedule_sets_the_learning_rate_of_every_step()
    {
        var learner = Blobs();
        learner.Schedule = LrSchedule.OneCycle(pctStart: 0.3);
        var history = learner.Fit(2);
        var expected = Enumerable.Range(0, 20).Select(s => learner.Schedule.LearningRate(1e-2, s, 20, 10)).ToArray();
        Assert.Equal(expected, history.Steps.Select(s => s.LearningRate).ToArray());
        Assert.Equal(expected[^1], history.Epochs[^1].LearningRate);
        Assert.True(history.Steps.Max(s => s.LearningRate) > 0.9e-2);
    }

    [Fact]
    public void Gradient_norms_are_tracked_per_named_parameter_and_show_vanishing_gradients()
    {
        Lab.Seed(6);
        var layers = new List<(string, nn.Module<Tensor, Tensor>)>();
        for (int i = 0; i < 8; i++) { layers.Add(($"lin{i}", nn.Linear(16, 16))); layers.Add(($"sig{i}", nn.Sigmoid())); }
        layers.Add(("out", nn.Linear(16, 4)));
        var model = nn.Sequential(layers);
        var (x, y) = Problems.Blobs(64, 1);
        var input = torch.cat([x, torch.zeros(64, 14)], 1);
        var history = Lab.Fit(model, new DataLoader(input, y, 16), epochs: 1, trackGradientNorms: true, observer: TrainingObservers.None, device: torch.CPU);
        Assert.Equal(model.named_parameters().Select(p => p.name).Order(), history.GradientNorms.Keys.Order());
        Assert.All(history.GradientNorms.Values, v => Assert.Equal(4, v.Count));
        Assert.Equal([0L, 1, 2, 3], history.GradientNormSteps);
        double first = history.GradientNorms["lin0.weight"].Average(), last = history.GradientNorms["out.weight"].Average();
        Assert.True(first < last / 100, $"expected vanishing gradients: first layer {first}, last layer {last}");
    }

    [Fact]
    public void History_renders_as_text_and_html()
    {
        var history = Blobs().Fit(2);
        Assert.Contains("epoch   1", history.ToString());
        var html = history.ToDisplayString("text/html");
        Assert.StartsWith("<table", html);
        Assert.Contains("<th style=\"text-align:left;border-bottom:1px solid #999;padding:2px 8px\">valid acc</th>", html);
        Assert.Equal(2, html.Split("<tr>").Length - 2);
    }

    [Fact]
    public void Default_observer_writes_a_line_per_epoch()
    {
        var writer = new StringWriter();
        var previous = TrainingObservers.Default;
        TrainingObservers.Default = () => new ConsoleObserver(writer);
        try
        {
            var (x, y) = Problems.Blobs(20, 1);
            Lab.Fit(Problems.Mlp(), new DataLoader(x, y, 10), epochs: 2, device: torch.CPU);
        }
        finally { TrainingObservers.Default = previous; }
        var lines = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("epoch   1  train loss", lines[0]);
    }

    [Fact]
    public void Predict_returns_outputs_without_gradients()
    {
        var learner = Blobs();
        var output = learner.Predict(torch.zeros(3, 2));
        Assert.Equal([3L, 4], output.shape);
        Assert.False(output.requires_grad);
        Assert.True(learner.Model.training);
    }
}
