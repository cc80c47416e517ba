using NotebookLab.Checks;
using NotebookLab.Grading;
using NotebookLab.Views;

namespace NotebookLab.Tests.Grading;

/// <summary>The student-facing API: Grader.Test registers, Grader.Check runs one question's tests and shows a table.</summary>
[Collection("Grader registry")]
public sealed class GraderTests
{
    public GraderTests() => Grader.Reset();

    [Fact]
    public void Check_runs_the_questions_tests_and_reports_passed_failed_message_and_points()
    {
        Grader.Test("q1", "adds", 2, () => Check.CheckThat(1 + 1 == 2, "1 + 1 should be 2"));
        Grader.Test("q1", "subtracts", 1.5, () => Check.CheckThat(1 - 1 == 2, "1 - 1 should be 2"));
        Grader.Test("q1", "stub", 1, () => throw new NotImplementedException("implement Foo"));
        Grader.Test("q2", "other", 1, () => { });

        var report = Grader.Check("q1");

        Assert.Equal(3, report.Outcomes.Count);
        Assert.Equal(2, report.Score);
        Assert.Equal(4.5, report.MaxScore);
        Assert.True(report.Outcomes[0].Passed);
        Assert.Equal("1 - 1 should be 2", report.Outcomes[1].Message);
        Assert.Equal("not implemented yet: implement Foo", report.Outcomes[2].Message);
        var text = report.Render(MimeType.PlainText);
        Assert.Contains("q1: 1/3 tests passed, 2/4.5 points", text);
        Assert.Contains("FAILED q1 / subtracts (0/1.5): 1 - 1 should be 2", text);
        var html = report.Render(MimeType.Html);
        Assert.Contains("<table>", html);
        Assert.Contains("failed", html);
    }

    [Fact]
    public void CheckAll_runs_every_question_and_rerunning_a_test_cell_replaces_its_tests()
    {
        Grader.Test("q1", "a", 1, () => throw new InvalidOperationException("first version"));
        Grader.Test("q1", "a", 1, () => { });
        Grader.Test("q2", "b", 2, () => { });
        var all = Grader.CheckAll();
        Assert.Equal(2, all.Outcomes.Count);
        Assert.True(all.AllPassed);
        Assert.Equal(["q1", "q2"], Grader.Questions);
    }

    [Fact]
    public void A_test_that_never_returns_fails_after_the_time_limit_and_Check_without_tests_says_what_to_do()
    {
        var outcome = Grader.Run(new GradedTest("q", "hangs", 1, () => Thread.Sleep(Timeout.Infinite)), TimeSpan.FromMilliseconds(200));
        Assert.False(outcome.Passed);
        Assert.Contains("did not finish within 0.2 s", outcome.Message);
        Assert.Contains("no tests registered", Grader.Check("q9").ToString());
    }

    [Fact]
    public void While_collecting_tests_are_not_registered_for_Check()
    {
        Grader.BeginCollecting();
        Grader.Test("q1", "collected", 1, () => { });
        var collected = Grader.EndCollecting();
        Assert.Single(collected);
        Assert.Empty(Grader.Check("q1").Outcomes);
    }
}
