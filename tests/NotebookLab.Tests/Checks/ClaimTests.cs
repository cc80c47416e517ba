using NotebookLab.Checks;
using static NotebookLab.Checks.Check;

namespace NotebookLab.Tests.Checks;

public class ClaimTests
{
    static readonly object ConsoleGate = new();

    /// <summary>Runs <paramref name="action"/> with stdout captured; returns what it printed and what it threw.</summary>
    static (string Output, Exception? Error) Capture(Action action)
    {
        lock (ConsoleGate)
        {
            var original = Console.Out;
            var writer = new StringWriter { NewLine = "\n" };
            Console.SetOut(writer);
            try { action(); return (writer.ToString(), null); }
            catch (Exception e) { return (writer.ToString(), e); }
            finally { Console.SetOut(original); }
        }
    }

    [Fact]
    public void A_claim_that_holds_prints_one_machine_readable_line_and_returns_the_value()
    {
        double returned = 0;
        var (output, error) = Capture(() => returned = ClaimAtLeast("held-out accuracy", 0.8125, 0.7));
        Assert.Null(error);
        Assert.Equal(0.8125, returned);
        Assert.Equal("claim: held-out accuracy | measured 0.8125 | at least 0.7\n", output);

        (output, error) = Capture(() => ClaimAtMost("loss ratio", 0.25, 0.7));
        Assert.Null(error);
        Assert.Equal("claim: loss ratio | measured 0.25 | at most 0.7\n", output);
    }

    [Fact]
    public void The_threshold_itself_passes()
    {
        Assert.Null(Capture(() => ClaimAtLeast("a", 0.9, 0.9)).Error);
        Assert.Null(Capture(() => ClaimAtMost("b", -3, -3)).Error);
    }

    [Fact]
    public void A_failing_claim_still_prints_its_line_then_throws_with_the_shortfall()
    {
        var (output, error) = Capture(() => ClaimAtLeast("with positions it should learn the task", 0.88, 0.9));
        Assert.Equal("claim: with positions it should learn the task | measured 0.88 | at least 0.9\n", output);
        var failed = Assert.IsType<CheckFailedException>(error);
        Assert.Equal("claim failed: with positions it should learn the task = 0.88, expected at least 0.9 (short by 0.02).", failed.Message);

        var over = Assert.IsType<CheckFailedException>(Capture(() => ClaimAtMost("RNN accuracy at T = 40", 0.75, 0.5)).Error);
        Assert.Equal("claim failed: RNN accuracy at T = 40 = 0.75, expected at most 0.5 (over by 0.25).", over.Message);
    }

    [Fact]
    public void NaN_never_passes_and_infinity_is_printed_parseably()
    {
        var (output, error) = Capture(() => ClaimAtMost("loss", double.NaN, 1));
        Assert.Equal("claim: loss | measured NaN | at most 1\n", output);
        Assert.Contains("measured NaN", Assert.IsType<CheckFailedException>(error).Message);
        Assert.IsType<CheckFailedException>(Capture(() => ClaimAtLeast("loss", double.NaN, 1)).Error);

        (output, error) = Capture(() => ClaimAtLeast("log10 final loss without clipping", double.PositiveInfinity, 3));
        Assert.Null(error);
        Assert.Equal("claim: log10 final loss without clipping | measured Infinity | at least 3\n", output);
    }

    [Fact]
    public void A_name_that_would_break_the_line_format_is_refused()
    {
        Assert.IsType<ArgumentException>(Capture(() => ClaimAtLeast("a | b", 1, 0)).Error);
        Assert.Null(Capture(() => ClaimAtLeast("max |error|", 1, 0)).Error);
        Assert.IsType<ArgumentException>(Capture(() => ClaimAtLeast("two\nlines", 1, 0)).Error);
        Assert.IsType<ArgumentException>(Capture(() => ClaimAtMost(" ", 1, 0)).Error);
        Assert.IsType<ArgumentException>(Capture(() => ClaimAtMost("x", 1, double.NaN)).Error);
    }
}
