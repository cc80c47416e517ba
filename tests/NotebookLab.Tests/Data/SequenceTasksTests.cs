using NotebookLab.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Tests.Data;

public class SequenceTasksTests
{
    [Fact]
    public void Copy_targets_repeat_the_symbols_after_the_delimiter()
    {
        var data = SequenceTasks.Copy(5, length: 3, symbols: 4, seed: 1);
        Assert.Equal([5L, 7], data.Inputs.shape);
        Assert.Equal([5L, 7], data.Targets.shape);
        Assert.Equal(6, data.VocabularySize);
        for (int n = 0; n < 5; n++)
        {
            var x = data.Inputs[n].data<long>().ToArray();
            var y = data.Targets[n].data<long>().ToArray();
            Assert.Equal(5, x[3]);
            Assert.Equal([0L, 0, 0], x[4..]);
            Assert.Equal([-100L, -100, -100, -100], y[..4]);
            Assert.Equal(x[..3], y[4..]);
            Assert.All(x[..3], s => Assert.InRange(s, 1, 4));
        }
    }

    [Fact]
    public void Same_seed_same_data_and_different_seed_different_data()
    {
        Assert.True(SequenceTasks.Reverse(20, seed: 5).Inputs.SameAs(SequenceTasks.Reverse(20, seed: 5).Inputs));
        Assert.False(SequenceTasks.Reverse(20, seed: 5).Inputs.SameAs(SequenceTasks.Reverse(20, seed: 6).Inputs));
        Assert.True(SequenceTasks.SineNextStep(4, seed: 1).Inputs.SameAs(SequenceTasks.SineNextStep(4, seed: 1).Inputs));
    }

    [Fact]
    public void Reverse_targets_are_the_inputs_backwards()
    {
        var (x, y) = SequenceTasks.Reverse(10, length: 6, seed: 2);
        Assert.True(x.flip(1).SameAs(y));
    }

    [Fact]
    public void Adding_problem_target_is_the_sum_of_the_two_marked_values()
    {
        var (x, y) = SequenceTasks.Adding(50, length: 20, seed: 3);
        Assert.Equal([50L, 20, 2], x.shape);
        Assert.Equal([50L, 1], y.shape);
        Assert.True(x[.., .., 1].sum(1).eq(2).all().item<bool>());
        Assert.True(x[.., ..10, 1].sum(1).eq(1).all().item<bool>(), "one marker in each half");
        var expected = (x[.., .., 0] * x[.., .., 1]).sum(1, keepdim: true);
        Assert.True(expected.allclose(y, atol: 1e-6));
    }

    [Fact]
    public void Sine_targets_are_the_next_inputs()
    {
        var (x, y) = SequenceTasks.SineNextStep(6, length: 30, seed: 4);
        Assert.Equal([6L, 30, 1], x.shape);
        Assert.True(x[.., 1..].allclose(y[.., ..^1], atol: 1e-6));
        Assert.InRange(x.abs().max().item<float>(), 0.5, 1.0);
    }

    [Fact]
    public void Brackets_are_half_balanced_with_labels_that_match_a_checker()
    {
        var (x, y) = SequenceTasks.BalancedBrackets(400, length: 10, seed: 5);
        Assert.Equal([400L, 10], x.shape);
        Assert.Equal(200, y.sum().item<long>());
        var rows = x.data<long>().ToArray();
        var labels = y.data<long>().ToArray();
        int hardNegatives = 0;
        for (int n = 0; n < 400; n++)
        {
            var row = rows.AsSpan(n * 10, 10);
            Assert.Equal(labels[n] == 1, SequenceTasks.IsBalanced(row));
            int opens = row.ToArray().Count(t => t == 1);
            if (labels[n] == 0 && opens == 5) hardNegatives++;
        }
        Assert.InRange(hardNegatives, 60, 140); // unbalanced strings that counting alone cannot catch
        Assert.Throws<ArgumentOutOfRangeException>(() => SequenceTasks.BalancedBrackets(4, length: 7));
    }
}
