using System.Diagnostics;
using System.Text.Json.Nodes;
using NotebookLab.Tests.Cli;
using NotebookLab.Tests.Support;
using static NotebookLab.Tests.Grading.Submissions;

namespace NotebookLab.Tests.Grading;

/// <summary>
/// One <c>notebooklab grade</c> run over homework 01-lstm: the master, the untouched release, a partly solved copy,
/// and one hostile submission per attack in the issue, graded two at a time with a 15 s limit per cell and test and
/// 2 GB of memory. Everything below reads that run's files.
/// </summary>
public sealed class HostileGradingRun
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("nbl-grade-").FullName;
    public string Bundle { get; }
    public string Output => Path.Combine(Dir, "out");
    public string Canary => Path.Combine(Dir, "canary.txt");
    public string Marker => Path.Combine(Dir, "marker.txt");
    public (int ExitCode, string Stderr) Run { get; }
    public (int ExitCode, string Stderr) Resumed { get; }
    public string MasterPath { get; }
    /// <summary>What a listener on this machine's loopback received from the "network" submission (nothing, with a network namespace).</summary>
    public int NetworkConnections { get; }

    public HostileGradingRun()
    {
        MasterPath = Master("01-lstm");
        (Bundle, var releasePath) = Assign(MasterPath, Dir);
        var master = Load(MasterPath);
        var release = Load(releasePath);
        var subs = Directory.CreateDirectory(Path.Combine(Dir, "submissions")).FullName;
        File.WriteAllText(Canary, "canary");
        const string backward = "(Tensor dX, Tensor dHPrev";
        var cases = new Dictionary<string, JsonObject>
        {
            ["master"] = master,
            ["untouched"] = release,
            ["partial"] = Partial(master, release),
            ["loop-cell"] = WithCell(master, "while (true) { }"),
            ["loop-in-backward"] = WithBody(master, backward, "while (true) { }"),
            ["exit-cell"] = WithCell(master, "Environment.Exit(0);"),
            ["exit-in-backward"] = WithBody(master, backward, "Environment.Exit(0); return default;"),
            ["stack-overflow"] = WithCell(master, "int Down(int n) => Down(n + 1) + 1;\nDown(0)"),
            ["huge-managed"] = WithCell(master, "var big = new byte[2_100_000_000]; big[^1] = 1; big.Length"),
            ["huge-native"] = WithCell(master, "var t = torch.ones(new long[] { 3_000_000_000L }); t.sum()"),
            ["fork"] = WithCell(master, "for (int k = 0; k < 20; k++) System.Diagnostics.Process.Start(\"sleep\", \"977\");"),
            ["write-outside"] = WithCell(master, $"System.IO.File.WriteAllText(\"{Marker}\", \"pwned\");"),
            ["delete-outside"] = WithCell(master, $"System.IO.File.Delete(\"{Canary}\");"),
            ["read-hidden"] = WithCell(master, $"Console.WriteLine(System.IO.File.ReadAllText(\"{Path.Combine(Bundle, "assignment.json")}\"));"),
            ["read-master"] = WithCell(master, $"Console.WriteLine(System.IO.File.ReadAllText(\"{MasterPath}\"));"),
            ["fake-results"] = WithCell(release,
                $"System.IO.Directory.CreateDirectory(\"{Output}/fake-results\"); System.IO.File.WriteAllText(\"{Output}/fake-results/results.json\", \"{{\\\"score\\\": 100}}\");" +
                $"System.IO.File.WriteAllText(\"{Output}/grades.csv\", \"fake-results,100\"); System.IO.File.WriteAllText(\"{Output}/master/results.json\", \"{{}}\");"),
            ["forge-pipe"] = WithCell(release, ForgeOnEverySocket),
            ["redefine-grader"] = WithCell(master, "static class Grader { public static void Test(string q, string n, double p, Action a) { } }"),
            ["shadow-float64"] = WithCell(master, "var float64 = ScalarType.Float32;"),
            ["redefine-helper"] = WithCell(master, "void CheckClose(Tensor a, Tensor b, double rtol = 0, double atol = 0, string name = \"\") { }"),
            ["static-ctor"] = WithBody(master, backward,
                "return Evil.Backward();\n}\nstatic class Evil { static Evil() { throw new InvalidOperationException(\"boom\"); } public static (Tensor, Tensor, Tensor, Tensor, Tensor, Tensor) Backward() => default;"),
            ["never-completes"] = WithCell(master, "await new TaskCompletionSource().Task;"),
            ["flood"] = WithCell(master, "for (int k = 0; k < 50_000; k++) Console.WriteLine(new string((char)(65 + k % 26), 100));"),
            ["cwd-env"] = WithCell(master, "System.IO.Directory.SetCurrentDirectory(\"/\"); Environment.SetEnvironmentVariable(\"HOME\", \"/nonexistent\"); Environment.SetEnvironmentVariable(\"PATH\", \"\");"),
            ["kill-parent"] = WithCell(master, "foreach (var p in System.Diagnostics.Process.GetProcesses()) { try { if (p.Id != Environment.ProcessId) p.Kill(); } catch { } }"),
        };
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        cases["network"] = WithCell(master, $"var client = new System.Net.Sockets.TcpClient(); client.Connect(\"127.0.0.1\", {port}); client.GetStream().Write(new byte[] {{ 1, 2, 3 }});");
        int connections = 0;
        var accepting = Task.Run(async () =>
        {
            try { while (true) { using var c = await listener.AcceptTcpClientAsync(); Interlocked.Increment(ref connections); } }
            catch (Exception) { }
        });
        foreach (var (name, nb) in cases) Save(nb, Path.Combine(subs, name + ".ipynb"));
        var first = Grade(Dir, Bundle, subs, Output, "--parallel", "2", "--timeout", "15", "--memory", "2048");
        Run = (first.ExitCode, first.Stderr);
        var again = Grade(Dir, Bundle, subs, Output, "--parallel", "2", "--timeout", "15", "--memory", "2048");
        Resumed = (again.ExitCode, again.Stderr);
        listener.Stop();
        NetworkConnections = Volatile.Read(ref connections);
    }

    /// <summary>Writes forged, wrongly signed "passed" results and a forged "done" to every socket the process holds (the pipe to the grader).</summary>
    const string ForgeOnEverySocket = """
        foreach (var fd in System.IO.Directory.GetFiles("/proc/self/fd"))
        {
            string target = "";
            try { target = new System.IO.FileInfo(fd).LinkTarget ?? ""; } catch { }
            if (!target.StartsWith("socket:")) continue;
            try
            {
                var s = new System.IO.FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle((IntPtr)int.Parse(System.IO.Path.GetFileName(fd)), false), System.IO.FileAccess.Write);
                var payload = "{\"kind\":\"result\",\"question\":\"q1\",\"name\":\"matches nn.LSTMCell\",\"passed\":true,\"message\":\"\",\"seconds\":0}";
                var forged = new System.Text.Json.Nodes.JsonObject { ["event"] = "signed", ["payload"] = payload, ["sig"] = new string('0', 64) }.ToJsonString();
                s.Write(System.Text.Encoding.UTF8.GetBytes(forged + "\n{\"event\":\"done\",\"status\":\"Ok\"}\n"));
                s.Flush();
            }
            catch { }
        }
        """;
}

public sealed class GradeCommandTests(HostileGradingRun run) : IClassFixture<HostileGradingRun>
{
    string Out => run.Output;

    [RequiresToolFact("unshare")]
    public void The_master_scores_full_marks_the_untouched_release_zero_and_a_partial_solution_in_between()
    {
        Assert.True(run.Run.ExitCode == 0, run.Run.Stderr);
        Assert.Equal(10, Score(Out, "master"));
        Assert.Equal(0, Score(Out, "untouched"));
        Assert.Equal(4, Score(Out, "partial"));
        Assert.All(TestsOf(Out, "untouched"), t => Assert.StartsWith("not implemented yet: implement", t["output"]!.GetValue<string>()));
    }

    [RequiresToolFact("unshare")]
    public void Grades_csv_has_one_row_per_student_and_one_column_per_question()
    {
        var lines = File.ReadAllLines(Path.Combine(Out, "grades.csv"));
        Assert.Equal("student,q1,q2,w1 (manual),total", lines[0]);
        Assert.Contains("master,4,6,,10", lines);
        Assert.Contains("partial,4,0,,4", lines);
        Assert.Contains("untouched,0,0,,0", lines);
        Assert.Equal(Directory.GetFiles(Path.Combine(run.Dir, "submissions")).Length + 1, lines.Length);
    }

    [RequiresToolFact("unshare")]
    public void Results_json_has_gradescopes_shape_with_partial_credit_per_test_and_hidden_tests_after_publication()
    {
        var r = Results(Out, "partial");
        Assert.Equal(4, r["score"]!.GetValue<double>());
        Assert.True(r["execution_time"]!.GetValue<double>() > 0);
        var tests = r["tests"]!.AsArray().Select(t => t!.AsObject()).ToList();
        Assert.Equal(8, tests.Count);
        foreach (var t in tests)
        {
            Assert.NotNull(t["name"]);
            Assert.InRange(t["score"]!.GetValue<double>(), 0, t["max_score"]!.GetValue<double>());
            Assert.Contains(t["status"]!.GetValue<string>(), new[] { "passed", "failed" });
            Assert.NotNull(t["output"]);
        }
        Assert.Equal("after_published", tests.Single(t => t["name"]!.GetValue<string>() == "q2: every gradient matches autograd")["visibility"]!.GetValue<string>());
        Assert.Equal("visible", tests.Single(t => t["name"]!.GetValue<string>() == "q1: matches nn.LSTMCell")["visibility"]!.GetValue<string>());
    }

    [RequiresToolFact("unshare")]
    public void Feedback_shows_visible_tests_and_withholds_hidden_test_names_and_the_written_answers_are_collected()
    {
        var html = File.ReadAllText(Path.Combine(Out, "partial", "feedback.html"));
        Assert.Contains("q1: matches nn.LSTMCell", html);
        Assert.DoesNotContain("every gradient matches autograd", html);
        Assert.Contains("hidden test", html);
        Assert.True(File.Exists(Path.Combine(Out, "partial", "feedback.ipynb")));
        Assert.Contains("## w1", File.ReadAllText(Path.Combine(Out, "master", "written.md")));
    }

    [RequiresToolFact("unshare")]
    public void An_interrupted_or_repeated_run_resumes_without_regrading()
    {
        Assert.True(run.Resumed.ExitCode == 0, run.Resumed.Stderr);
        int submissions = Directory.GetFiles(Path.Combine(run.Dir, "submissions")).Length;
        Assert.Contains($"({submissions} already graded)", run.Resumed.Stderr);
        Assert.Contains("[####################]", run.Run.Stderr);   // the progress bar
    }

    [RequiresToolFact("unshare")]
    public void An_infinite_loop_or_a_task_that_never_completes_costs_only_what_it_blocks()
    {
        Assert.Equal(10, Score(Out, "loop-cell"));
        Assert.Contains("did not finish within 15 s", Results(Out, "loop-cell")["output"]!.GetValue<string>());
        Assert.Equal(10, Score(Out, "never-completes"));
        Assert.Equal(4, Score(Out, "loop-in-backward"));
        Assert.All(TestsOf(Out, "loop-in-backward").Where(t => t["name"]!.GetValue<string>().StartsWith("q2")),
            t => Assert.Contains("did not finish within 15 s", t["output"]!.GetValue<string>()));
    }

    [RequiresToolFact("unshare")]
    public void Environment_Exit_and_a_stack_overflow_are_named_and_cost_only_the_affected_tests()
    {
        Assert.Equal(10, Score(Out, "exit-cell"));
        Assert.Contains("Environment.Exit(0) was called", Results(Out, "exit-cell")["output"]!.GetValue<string>());
        Assert.Equal(4, Score(Out, "exit-in-backward"));
        Assert.Contains("Environment.Exit(0) was called while this test ran",
            TestsOf(Out, "exit-in-backward").First(t => t["name"]!.GetValue<string>().StartsWith("q2"))["output"]!.GetValue<string>());
        Assert.Equal(10, Score(Out, "stack-overflow"));
        Assert.Contains("stack overflow", Results(Out, "stack-overflow")["output"]!.GetValue<string>());
    }

    [RequiresToolFact("unshare")]
    public void Huge_allocations_fail_inside_the_submission_without_taking_the_grader_down()
    {
        Assert.Equal(10, Score(Out, "huge-managed"));
        Assert.Equal(10, Score(Out, "huge-native"));
        var feedback = File.ReadAllText(Path.Combine(Out, "huge-managed", "feedback.ipynb"));
        Assert.Contains("OutOfMemory", feedback);
    }

    [RequiresToolFact("unshare")]
    public void Child_processes_die_with_the_submission()
    {
        Assert.Equal(10, Score(Out, "fork"));
        var left = Process.GetProcessesByName("sleep").Where(p =>
        {
            try { return File.ReadAllText($"/proc/{p.Id}/cmdline").Contains("977"); } catch { return false; }
        }).ToList();
        Assert.Empty(left);
    }

    [RequiresToolFact("landlock")]
    public void Files_outside_the_submissions_folder_can_be_neither_written_deleted_nor_read()
    {
        Assert.False(File.Exists(run.Marker));
        Assert.True(File.Exists(run.Canary));
        foreach (var name in new[] { "write-outside", "delete-outside", "read-hidden", "read-master" })
        {
            Assert.Equal(10, Score(Out, name));
            var feedback = File.ReadAllText(Path.Combine(Out, name, "feedback.ipynb"));
            Assert.Contains("UnauthorizedAccessException", feedback);
            Assert.DoesNotContain("every gradient matches autograd", feedback);   // a hidden test's name
        }
    }

    [RequiresToolFact("landlock")]
    public void Fake_result_files_and_forged_pipe_messages_change_nothing()
    {
        Assert.Equal(0, Score(Out, "fake-results"));
        Assert.Equal(10, Score(Out, "master"));
        Assert.Contains("fake-results,0,0,,0", File.ReadAllLines(Path.Combine(Out, "grades.csv")));
        Assert.Equal(0, Score(Out, "forge-pipe"));
        Assert.All(TestsOf(Out, "forge-pipe"), t => Assert.Equal("failed", t["status"]!.GetValue<string>()));
    }

    [RequiresToolFact("unshare")]
    public void Redefining_Grader_a_check_helper_or_a_name_the_tests_use_zeroes_the_tests_with_the_reason()
    {
        Assert.Equal(0, Score(Out, "redefine-grader"));
        Assert.Contains("declares 'Grader'", Results(Out, "redefine-grader")["output"]!.GetValue<string>());
        Assert.Equal(0, Score(Out, "redefine-helper"));
        Assert.Contains("declares 'CheckClose'", Results(Out, "redefine-helper")["output"]!.GetValue<string>());
        // A name a hidden test's own reference computation uses (float64, from using static torch) cannot be captured either.
        Assert.Equal(0, Score(Out, "shadow-float64"));
        Assert.Contains("declares 'float64'", Results(Out, "shadow-float64")["output"]!.GetValue<string>());
    }

    [RequiresToolFact("unshare")]
    public void A_throwing_static_constructor_fails_the_tests_that_reach_it_with_the_message()
    {
        Assert.Equal(4, Score(Out, "static-ctor"));
        Assert.All(TestsOf(Out, "static-ctor").Where(t => t["name"]!.GetValue<string>().StartsWith("q2")),
            t => Assert.Contains("TypeInitializationException", t["output"]!.GetValue<string>()));
    }

    [RequiresToolFact("unshare")]
    public void Flooding_stdout_is_capped_and_changing_directory_or_environment_affects_nothing()
    {
        Assert.Equal(10, Score(Out, "flood"));
        Assert.True(new FileInfo(Path.Combine(Out, "flood", "feedback.ipynb")).Length < 200_000);
        Assert.Contains("[output truncated by the grader]", File.ReadAllText(Path.Combine(Out, "flood", "feedback.ipynb")));
        Assert.Equal(10, Score(Out, "cwd-env"));
    }

    [RequiresToolFact("unshare")]
    public void The_network_is_unreachable_even_on_this_machines_loopback()
    {
        Assert.Equal(0, run.NetworkConnections);
        Assert.Equal(10, Score(Out, "network"));
        Assert.Contains("Network is unreachable", File.ReadAllText(Path.Combine(Out, "network", "feedback.ipynb")));
    }

    [RequiresToolFact("nbformat")]
    public void Feedback_notebooks_are_valid_nbformat_even_after_a_crash_or_a_flood()
    {
        foreach (var name in new[] { "master", "untouched", "flood", "stack-overflow", "exit-cell" })
            Assert.Null(ExternalTools.NbformatError(Path.Combine(Out, name, "feedback.ipynb")));
    }

    [RequiresToolFact("landlock")]
    public void Killing_other_processes_is_refused_and_the_batch_completes()
    {
        Assert.Equal(10, Score(Out, "kill-parent"));
        Assert.Equal(10, Score(Out, "master"));
    }
}
