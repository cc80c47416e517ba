using System.IO.Pipes;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using NotebookLab.Engine.Execution;
using NotebookLab.Engine.Notebooks;

namespace NotebookLab.Cli.Grading;

/// <summary>
/// The hidden <c>__grade-worker</c> command: grades one submission in this process, started by <see cref="SubmissionGrader"/>
/// inside the sandbox. First the student's cells run (every one, errors included), streamed as <see cref="WorkerProtocol"/>
/// events; only then does the parent send the test cells, which run in the same session, and each test's result
/// goes back signed.
/// </summary>
/// <remarks>
/// Threat model (the student's code is hostile and runs in this process):
/// <list type="bullet">
/// <item>Hidden tests are not in this process, nor anywhere the sandbox lets it read, until every student cell has
/// finished: the parent sends them over the pipe after the worker reports the student phase done.</item>
/// <item>Results are trusted only when signed with HMAC-SHA256 under a per-run key that the parent sends as the very
/// first line, before any student code runs, and that lives only in a local of this method. Student code can write
/// to stdout, to the pipe's file descriptor, or to files: none of it carries a valid signature, so the parent ignores it.</item>
/// <item>Points never come from this process: the parent scores the tests it knows from the manifest; a test that
/// is not reported, reported twice, or whose cell failed scores 0 with the reason.</item>
/// <item>Tests run through the <c>Grader</c> of the NotebookLab package in the NuGet packages folder (checked here
/// by the assembly's location), not a look-alike the submission compiled; the parent refuses submissions that
/// declare, at the top level, a name the test cells bind to (<see cref="Shadowing"/>).</item>
/// <item>Residual risk, documented: a thread the student left running could read the reporter delegate in the
/// instant between the worker publishing it and the harness taking it, and report a pass for a test whose own
/// run never reports (every test that runs reports, and a duplicate report zeroes the test).</item>
/// </list>
/// </remarks>
static class GradeWorker
{
    public const string CommandName = "__grade-worker";
    public const string ReporterSlot = "notebooklab.grade.report";

    public static async Task<int> RunAsync(string notebookPath, string workingDirectory, string pipeName, IReadOnlySet<int> skipCells)
    {
        await using var pipe = new NamedPipeClientStream(".", pipeName, PipeDirection.InOut, PipeOptions.Asynchronous);
        await pipe.ConnectAsync(60_000);
        var writer = new StreamWriter(pipe, new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
        var reader = new StreamReader(pipe, new UTF8Encoding(false));
        var key = Convert.FromHexString((await reader.ReadLineAsync())?.Trim() ?? throw new IOException("no key"));
        var sendLock = new object();
        void Send(string line)
        {
            lock (sendLock) writer.WriteLine(line);
        }
        void SendSigned(JsonObject payload)
        {
            var text = payload.ToJsonString();
            var sig = Convert.ToHexString(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(text)));
            Send(new JsonObject { ["event"] = "signed", ["payload"] = text, ["sig"] = sig }.ToJsonString());
        }

        var markFinished = WorkerProtocol.ReportExitFromCells(Send);

        try
        {
            var notebook = IpynbFormat.Read(notebookPath);
            Directory.SetCurrentDirectory(workingDirectory);
            using var session = new NotebookSession(new SessionOptions { WorkingDirectory = workingDirectory });
            await session.WarmUpAsync();
            int current = -1;
            session.EventRaised += e =>
            {
                int index = Volatile.Read(ref current);
                if (index >= 0) Send(WorkerProtocol.Encode(new CellOutputEvent(index, e)));
            };

            // Phase 1: the student's cells, all of them; a failing cell does not stop the rest.
            for (int i = 0; i < notebook.Cells.Count; i++)
            {
                var cell = notebook.Cells[i];
                if (cell.Type != CellType.Code) continue;
                if (skipCells.Contains(i))
                {
                    Send(WorkerProtocol.Encode(new CellFinished(i, CellStatus.Skipped, null, TimeSpan.Zero, "skipped")));
                    continue;
                }
                var location = new CellLocation("submission", i + 1, cell.Id);
                Volatile.Write(ref current, i);
                Send(WorkerProtocol.Encode(new CellStarted(i, location)));
                var result = await session.ExecuteAsync(cell.Source, location);
                Send(WorkerProtocol.Encode(new CellFinished(i, result.Status, result.ExecutionCount, result.Elapsed, result.Error?.EValue)));
                Volatile.Write(ref current, -1);
            }

            // Phase 2: the parent now sends the test cells (never before this point).
            SendSigned(new JsonObject { ["kind"] = "student-done" });
            var payloadLine = await reader.ReadLineAsync() ?? throw new IOException("the grader closed the pipe");
            var payload = JsonNode.Parse(payloadLine)!.AsObject();
            double testTimeout = payload["timeout"]!.GetValue<double>();
            var run = payload["run"]!.AsArray().Select(n => n!.GetValue<string>()).ToList();

            var begin = await session.ExecuteAsync("global::NotebookLab.Grading.Grader.BeginCollecting();", new CellLocation("grader", 0));
            if (!begin.Succeeded)
            {
                SendSigned(new JsonObject { ["kind"] = "harness-error", ["error"] = "the NotebookLab package is not loaded (was the setup cell removed?): " + begin.Error?.EValue });
                return Finish();
            }
            foreach (var tc in payload["cells"]!.AsArray())
            {
                var id = tc!["id"]!.GetValue<string>();
                var r = await session.ExecuteAsync(tc["source"]!.GetValue<string>(), new CellLocation("tests", 0, id));
                if (!r.Succeeded) SendSigned(new JsonObject { ["kind"] = "test-cell", ["id"] = id, ["error"] = Truncate(r.Error?.EValue ?? r.Status.ToString()) });
            }

            var reporter = new Action<string, string, string, bool, string, double>((kind, question, name, passed, message, seconds) =>
                SendSigned(new JsonObject
                {
                    ["kind"] = kind, ["question"] = question, ["name"] = name, ["passed"] = passed,
                    ["message"] = Truncate(message), ["seconds"] = Math.Round(seconds, 3),
                }));
            AppDomain.CurrentDomain.SetData(ReporterSlot, reporter);
            var harness = await session.ExecuteAsync(HarnessSource(run, testTimeout), new CellLocation("grader", 0));
            AppDomain.CurrentDomain.SetData(ReporterSlot, null);
            if (!harness.Succeeded)
                SendSigned(new JsonObject { ["kind"] = "harness-error", ["error"] = Truncate(harness.Error?.EValue ?? harness.Status.ToString()) });
            return Finish();
        }
        catch (Exception e)
        {
            Send(WorkerProtocol.Encode(new WorkerFailedMessage($"{e.GetType().Name}: {e.Message}")));
            markFinished();
            return 3;
        }

        int Finish()
        {
            SendSigned(new JsonObject { ["kind"] = "tests-done" });
            markFinished();
            return 0;
        }
    }

    static string Truncate(string text) => text.Length <= 2000 ? text : text[..2000] + " …";

    /// <summary>
    /// The test phase, compiled after every student cell ran: takes the reporter out of the AppDomain slot first, checks
    /// that Grader is the package's, then runs each collected test that the parent asked for.
    /// </summary>
    internal static string HarnessSource(IEnumerable<string> run, double timeoutSeconds)
    {
        var keys = string.Join(", ", run.Select(k => Microsoft.CodeAnalysis.CSharp.SymbolDisplay.FormatLiteral(k, true)));
        return $$"""
            ((global::System.Action)(() =>
            {
                var report = (global::System.Action<string, string, string, bool, string, double>)global::System.AppDomain.CurrentDomain.GetData("{{ReporterSlot}}");
                global::System.AppDomain.CurrentDomain.SetData("{{ReporterSlot}}", null);
                report("assembly", "", typeof(global::NotebookLab.Grading.Grader).Assembly.Location, false, "", 0);
                var tests = global::NotebookLab.Grading.Grader.EndCollecting();
                var run = new global::System.Collections.Generic.HashSet<string> { {{keys}} };
                foreach (var test in tests)
                {
                    if (!run.Contains(test.Question + "/" + test.Name)) continue;
                    report("start", test.Question, test.Name, false, "", 0);
                    var outcome = global::NotebookLab.Grading.Grader.Run(test, global::System.TimeSpan.FromSeconds({{timeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)}}));
                    report("result", test.Question, test.Name, outcome.Passed, outcome.Message, outcome.Elapsed.TotalSeconds);
                }
            }))();
            """;
    }
}
