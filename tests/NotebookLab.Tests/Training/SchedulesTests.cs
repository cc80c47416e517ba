using NotebookLab.Training;

namespace NotebookLab.Tests.Training;

public class SchedulesTests
{
    [Fact]
    public void Step_schedule_decays_every_n_epochs()
    {
        var s = LrSchedule.Step(everyEpochs: 2, gamma: 0.5);
        Assert.Equal(1.0, s.Factor(0, 100, 10));
        Assert.Equal(1.0, s.Factor(19, 100, 10));
        Assert.Equal(0.5, s.Factor(20, 100, 10));
        Assert.Equal(0.25, s.Factor(45, 100, 10));
    }

    [Fact]
    public void Cosine_schedule_warms_up_then_decays_to_the_minimum()
    {
        var s = LrSchedule.Cosine(warmupSteps: 10, minFactor: 0.1);
        Assert.Equal(0.1, s.Factor(0, 111, 10), 12);
        Assert.Equal(1.0, s.Factor(9, 111, 10), 12);
        Assert.Equal(1.0, s.Factor(10, 111, 10), 12);
        Assert.Equal(0.55, s.Factor(60, 111, 10), 12);
        Assert.Equal(0.1, s.Factor(110, 111, 10), 12);
    }

    [Fact]
    public void One_cycle_rises_to_the_peak_then_anneals_far_below_the_start()
    {
        var s = LrSchedule.OneCycle(pctStart: 0.25, divFactor: 25, finalDivFactor: 1e4);
        var values = Enumerable.Range(0, 101).Select(i => s.Factor(i, 101, 10)).ToArray();
        Assert.Equal(1 / 25.0, values[0], 12);
        Assert.Equal(1.0, values.Max(), 3);
        int peak = Array.IndexOf(values, values.Max());
        Assert.InRange(peak, 23, 26);
        Assert.Equal(1 / 25.0 / 1e4, values[^1], 12);
        for (int i = 1; i <= peak; i++) Assert.True(values[i] >= values[i - 1]);
        for (int i = peak + 1; i < values.Length; i++) Assert.True(values[i] <= values[i - 1]);
    }

    [Fact]
    public void Warmup_is_linear_then_flat_and_bad_arguments_are_refused()
    {
        var s = LrSchedule.Warmup(4);
        Assert.Equal([0.25, 0.5, 0.75, 1.0, 1.0], Enumerable.Range(0, 5).Select(i => s.Factor(i, 10, 5)));
        Assert.Equal(1.0, LrSchedule.Constant.Factor(7, 10, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => LrSchedule.Step(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => LrSchedule.OneCycle(pctStart: 1.5));
    }
}
