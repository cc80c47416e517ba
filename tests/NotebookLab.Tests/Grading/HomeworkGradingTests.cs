using NotebookLab.Tests.Support;
using static NotebookLab.Tests.Grading.Submissions;

namespace NotebookLab.Tests.Grading;

/// <summary>
/// Every homework in notebooks/homework: the master scores full marks, the untouched release 0 (without crashing
/// the grader), and a release with its first exercise solved something in between.
/// </summary>
public sealed class HomeworkGradingTests
{
    public static TheoryData<string> Assignments() => new(
        Directory.GetFiles(Path.Combine(RepoPaths.Notebooks, "homework"), "*-master.ipynb")
            .Select(p => Path.GetFileName(p).Replace("-master.ipynb", "")).Order());

    [RequiresToolTheory("unshare")]
    [MemberData(nameof(Assignments))]
    public void Master_scores_full_marks_release_zero_and_a_partial_solution_in_between(string assignment)
    {
        var dir = Directory.CreateTempSubdirectory("nbl-hw-").FullName;
        var (bundle, releasePath) = Assign(Master(assignment), dir);
        var master = Load(Master(assignment));
        var release = Load(releasePath);
        var subs = Directory.CreateDirectory(Path.Combine(dir, "submissions")).FullName;
        Save(master, Path.Combine(subs, "master.ipynb"));
        Save(release, Path.Combine(subs, "untouched.ipynb"));
        Save(Partial(master, release), Path.Combine(subs, "partial.ipynb"));
        var output = Path.Combine(dir, "out");

        var run = Grade(dir, bundle, subs, output, "--parallel", "2", "--timeout", "60");

        Assert.True(run.ExitCode == 0, run.Stderr);
        double max = Results(output, "master")["notebooklab"]!["max_score"]!.GetValue<double>();
        Assert.True(Score(output, "master") == max, Results(output, "master").ToJsonString());
        Assert.Equal(0, Score(output, "untouched"));
        Assert.InRange(Score(output, "partial"), 0.5, max - 0.5);
        Assert.All(TestsOf(output, "untouched"), t => Assert.Equal("failed", t["status"]!.GetValue<string>()));
    }
}
