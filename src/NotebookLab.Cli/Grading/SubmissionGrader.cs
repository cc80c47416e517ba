using System.Diagnostics;
using System.Globalization;
using System.IO.Pipes;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using NotebookLab.Engine.Execution;
using NotebookLab.Engine.Notebooks;

namespace NotebookLab.Cli.Grading;

/// <summary>Limits for one submission.</summary>
public sealed record GradeLimits(TimeSpan CellTimeout, long? MemoryBytes, int MaxAttempts = 6)
{
    public TimeSpan TestTimeout => CellTimeout;
}

/// <summary>The result of one test of one submission: points scored from the manifest, and why.</summary>
public sealed record TestResult(TestSpec Test, double Score, bool Passed, string Message);

/// <summary>Everything known about one graded submission.</summary>
public sealed class SubmissionResult
{
    public required string Student { get; init; }
    public required List<TestResult> Tests { get; init; }
    public required Notebook Feedback { get; init; }
    public required TimeSpan Elapsed { get; init; }
    public List<string> Notes { get; } = [];
    public Dictionary<string, string> WrittenAnswers { get; } = [];
    public double Score => Tests.Sum(t => t.Score);
}

/// <summary>
/// Grades one submission against an autograder bundle: copies the submission into a private folder, runs the
/// worker (<see cref="GradeWorker"/>) there inside the <see cref="Sandbox"/> with time and memory limits, sends the
/// test cells only after the student's cells ran, and scores the signed results against the manifest. A worker
/// that dies or times out costs only the affected cell or test: the submission is run again without it (up to
/// <see cref="GradeLimits.MaxAttempts"/> times), and what was already decided is kept.
/// </summary>
public sealed class SubmissionGrader(AutograderBundle bundle, GradeLimits limits, Sandbox sandbox, string scratchRoot)
{
    /// <summary>Names the test cells bind to; a submission that declares one is refused (it would capture the tests).</summary>
    public static readonly IReadOnlySet<string> ReservedNames = new HashSet<string>(StringComparer.Ordinal)
    {
        "Grader", "GradedTest", "TestOutcome", "CheckReport", "Check", "CheckShape", "CheckClose", "CheckThat",
        "CheckFailedException", "NotebookLab", "AppDomain", "System", "Action", "TimeSpan", "torch", "TorchSharp",
    };

    const int MaxOutputPerCell = 20_000;

    public async Task<SubmissionResult> GradeAsync(string student, string submissionPath, bool copyFolder, CancellationToken cancellationToken = default)
    {
        var stopwatch = Stopwatch.StartNew();
        var submission = NotebookFile.Read(submissionPath);
        var decided = new Dictionary<string, TestResult>(StringComparer.Ordinal);
        var notes = new List<string>();

        var graded = BuildGraded(submission);
        var result = new SubmissionResult { Student = student, Tests = [], Feedback = graded, Elapsed = TimeSpan.Zero };
        foreach (var w in bundle.WrittenCells)
            if (submission.Cells.FirstOrDefault(c => c.Id == w.CellId) is { } answer)
                result.WrittenAnswers[w.Question] = answer.Source;

        var reserved = FindReservedDeclarations(graded);
        if (reserved is not null)
        {
            foreach (var t in bundle.Tests) decided[t.Key] = new TestResult(t, 0, false, reserved);
            notes.Add(reserved);
        }

        var skipCells = new HashSet<int>();
        for (int attempt = 1; decided.Count < bundle.Tests.Count && attempt <= limits.MaxAttempts; attempt++)
        {
            var pending = bundle.Tests.Where(t => !decided.ContainsKey(t.Key)).ToList();
            var outcome = await RunAttemptAsync(student, submissionPath, copyFolder, graded, skipCells, pending, cancellationToken);
            foreach (var (key, r) in outcome.Decided) decided.TryAdd(key, r);
            notes.AddRange(outcome.Notes);
            if (outcome.FailedCell is { } cell) skipCells.Add(cell);
            if (!outcome.Retry) break;
            if (attempt == limits.MaxAttempts)
                notes.Add($"gave up after {attempt} attempts");
        }
        foreach (var t in bundle.Tests.Where(t => !decided.ContainsKey(t.Key)))
            decided[t.Key] = new TestResult(t, 0, false, notes.LastOrDefault() ?? "the test did not run");
        result.Tests.AddRange(bundle.Tests.Select(t => decided[t.Key]));
        result.Notes.AddRange(notes.Distinct());
        return new SubmissionResult
        {
            Student = student, Tests = result.Tests, Feedback = graded, Elapsed = stopwatch.Elapsed,
        }.With(result);
    }


    /// <summary>The notebook a worker runs: the master's setup cells, then the student's cells (test cells dropped: the bundle's fresh copies run after).</summary>
    Notebook BuildGraded(Notebook submission)
    {
        var graded = new Notebook { Metadata = submission.Metadata.DeepClone().AsObject() };
        foreach (var (source, i) in bundle.Setup.Select((s, i) => (s, i)))
        {
            var setup = new NotebookCell(CellType.Code, source, $"grader-setup-{i + 1}");
            setup.AddTag("grader-setup");
            graded.Cells.Add(setup);
        }
        foreach (var cell in submission.Cells)
        {
            if (Assignment.IsTestCell(cell)) continue;
            var copy = new NotebookCell(cell.Type, cell.Source, cell.Id) { Metadata = cell.Metadata.DeepClone().AsObject() };
            graded.Cells.Add(copy);
        }
        return graded;
    }

    /// <summary>Runs the setup cells once, with no tests, so that package restores and the native fix are cached.</summary>
    public async Task GradeWarmUpAsync(string notebookPath, CancellationToken cancellationToken)
    {
        var graded = BuildGraded(NotebookFile.Read(notebookPath));
        await RunAttemptAsync("warm-up", notebookPath, false, graded, new HashSet<int>(), [], cancellationToken);
    }

    /// <summary>
    /// The first top-level declaration of the submission that would capture a name the tests bind to (a reserved name,
    /// or one the test cells use that the master does not declare the same way; see <see cref="Shadowing"/>), as a reason; else null.
    /// </summary>
    public string? FindReservedDeclarations(Notebook notebook)
    {
        int setupCells = notebook.Cells.Count(c => c.HasTag("grader-setup"));
        foreach (var (cell, index) in notebook.Cells.Select((c, i) => (c, i)))
        {
            if (cell.Type != CellType.Code || cell.HasTag("grader-setup")) continue;
            foreach (var d in Shadowing.TopLevel(cell.Source))
            {
                bool reserved = ReservedNames.Contains(d.Name);
                bool captures = bundle.NamesTestsRelyOn.Contains(d.Name) && !bundle.GivenDeclarations.Contains(d.Key);
                if (reserved || captures)
                    return $"the submission declares '{d.Name}' (cell {index + 1 - setupCells}, line {d.Line}), a name the tests use" +
                           (reserved ? "" : " that the assignment does not declare this way") + "; rename it and resubmit";
            }
        }
        return null;
    }

    sealed record AttemptOutcome(Dictionary<string, TestResult> Decided, List<string> Notes, int? FailedCell, bool Retry);

    async Task<AttemptOutcome> RunAttemptAsync(string student, string submissionPath, bool copyFolder, Notebook graded, IReadOnlySet<int> skipCells,
        IReadOnlyList<TestSpec> pending, CancellationToken cancellationToken)
    {
        var decided = new Dictionary<string, TestResult>(StringComparer.Ordinal);
        var notes = new List<string>();
        var reported = new HashSet<string>(StringComparer.Ordinal);
        var failedTestCells = new Dictionary<string, string>(StringComparer.Ordinal);

        // A private folder with a copy of the submission only.
        var root = Path.Combine(scratchRoot, Safe(student) + "-" + Guid.NewGuid().ToString("N")[..8]);
        var work = Path.Combine(root, "work");
        Directory.CreateDirectory(Path.Combine(work, ".tmp"));
        var submissionFolder = Path.GetDirectoryName(Path.GetFullPath(submissionPath))!;
        if (copyFolder)
            CopyFolder(submissionFolder, work);
        else
            File.Copy(submissionPath, Path.Combine(work, Path.GetFileName(submissionPath)));
        File.WriteAllText(Path.Combine(work, "nuget.config"), bundle.NuGetConfig());
        var prepared = Path.Combine(work, ".graded.ipynb");
        // Cells skipped after an earlier attempt keep the error that got them skipped.
        foreach (var (c, i) in graded.Cells.Select((c, i) => (c, i)))
            if (!skipCells.Contains(i)) c.ClearExecution();
        IpynbFormat.Write(graded, prepared);

        var key = RandomNumberGenerator.GetBytes(32);
        var pipePath = Path.Combine(root, "pipe");
        await using var server = new NamedPipeServerStream(pipePath, PipeDirection.InOut, 1, PipeTransmissionMode.Byte, PipeOptions.Asynchronous);
        using var worker = StartWorker(prepared, work, pipePath, skipCells, Path.Combine(root, "landlock.py"));
        var stderr = new StringBuilder();
        var raw = new StringBuilder();
        object sync = new();
        worker.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (sync) if (raw.Length < 64_000) raw.AppendLine(e.Data); };
        worker.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (sync) if (stderr.Length < 64_000) stderr.AppendLine(e.Data); };
        worker.BeginOutputReadLine();
        worker.BeginErrorReadLine();

        try
        {
            using (var connect = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                connect.CancelAfter(TimeSpan.FromSeconds(120));
                var exited = worker.WaitForExitAsync(CancellationToken.None);
                var connecting = server.WaitForConnectionAsync(connect.Token);
                if (await Task.WhenAny(connecting, exited) != connecting || !server.IsConnected)
                {
                    Kill(worker);
                    notes.Add($"the grading worker did not start: {Last(stderr.ToString())}");
                    return new AttemptOutcome(decided, notes, null, false);
                }
            }
            var writer = new StreamWriter(server, new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
            var reader = new StreamReader(server, Encoding.UTF8);
            await writer.WriteLineAsync(Convert.ToHexString(key));

            int currentCell = -1;
            string? currentTest = null;
            var phaseStarted = Stopwatch.StartNew();
            bool testPhase = false, done = false;
            int?[] requestedExit = [null];
            var outputPerCell = new Dictionary<int, int>();
            string? assemblyProblem = null;

            while (true)
            {
                var deadline = testPhase
                    ? (currentTest is null ? TimeSpan.FromSeconds(120) : limits.TestTimeout + TimeSpan.FromSeconds(15))
                    : (currentCell < 0 ? TimeSpan.FromSeconds(120)
                        // The master's setup cells (package restore, TorchSharp's first load) are not the student's to pay for.
                        : graded.Cells[currentCell].HasTag("grader-setup") ? Max(limits.CellTimeout, TimeSpan.FromMinutes(5))
                        : limits.CellTimeout);
                var left = deadline - phaseStarted.Elapsed;
                if (left < TimeSpan.Zero) left = TimeSpan.Zero;
                var readLine = reader.ReadLineAsync(cancellationToken).AsTask();
                using var delay = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var finished = await Task.WhenAny(readLine, Task.Delay(left, delay.Token));
                delay.Cancel();
                if (finished != readLine)
                {
                    Kill(worker);
                    if (testPhase && currentTest is not null)
                    {
                        var t = pending.First(p => p.Key == currentTest);
                        decided[t.Key] = new TestResult(t, 0, false, $"timed out: the test did not finish within {limits.TestTimeout.TotalSeconds:0.#} s; the worker was stopped");
                        notes.Add($"test {t.Key} timed out");
                        return new AttemptOutcome(decided, notes, null, true);
                    }
                    if (!testPhase && currentCell >= 0)
                    {
                        var reason = $"cell {UserCell(graded, currentCell)} did not finish within {limits.CellTimeout.TotalSeconds:0.#} s; it was stopped and is skipped when grading";
                        MarkError(graded, currentCell, "TimeoutError", reason);
                        notes.Add(reason);
                        return new AttemptOutcome(decided, notes, currentCell, true);
                    }
                    notes.Add(testPhase ? "the test phase stalled between tests; the worker was stopped" : "the worker stalled between cells; it was stopped");
                    return new AttemptOutcome(decided, notes, null, false);
                }
                string? line;
                try { line = await readLine; } catch (IOException) { line = null; }
                if (line is null) break;

                JsonObject obj;
                try { obj = JsonNode.Parse(line) as JsonObject ?? throw new FormatException(); }
                catch (Exception) { continue; }   // noise on the pipe (a submission writing to it) is ignored
                var ev = obj["event"]?.GetValue<string>();
                if (ev == "signed")
                {
                    var payloadText = obj["payload"]?.GetValue<string>() ?? "";
                    var sig = obj["sig"]?.GetValue<string>() ?? "";
                    var expected = Convert.ToHexString(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(payloadText)));
                    if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(sig))) continue;
                    var payload = JsonNode.Parse(payloadText)!.AsObject();
                    switch (payload["kind"]!.GetValue<string>())
                    {
                        case "student-done" when !testPhase:
                            testPhase = true;
                            currentCell = -1;
                            phaseStarted.Restart();
                            var cells = new JsonArray(bundle.TestCells.Where(tc => tc.Tests.Any(t => pending.Any(p => p.Key == t.Key)))
                                .Select(tc => (JsonNode)new JsonObject { ["id"] = tc.Id, ["source"] = tc.Source }).ToArray());
                            await writer.WriteLineAsync(new JsonObject
                            {
                                ["cells"] = cells,
                                ["run"] = new JsonArray(pending.Select(p => (JsonNode)JsonValue.Create(p.Key)!).ToArray()),
                                ["timeout"] = limits.TestTimeout.TotalSeconds,
                            }.ToJsonString());
                            break;
                        case "test-cell":
                            var id = payload["id"]!.GetValue<string>();
                            failedTestCells[id] = payload["error"]?.GetValue<string>() ?? "failed";
                            foreach (var t in bundle.TestCells.First(tc => tc.Id == id).Tests.Where(t => pending.Any(p => p.Key == t.Key)))
                                decided.TryAdd(t.Key, new TestResult(t, 0, false, $"the test cell failed: {failedTestCells[id]}"));
                            break;
                        case "assembly":
                            var location = payload["name"]?.GetValue<string>() ?? "";
                            if (!bundle.IsTrustedLibrary(location))
                                assemblyProblem = $"the tests did not run against the NotebookLab package (Grader came from '{location}')";
                            break;
                        case "start":
                            currentTest = $"{payload["question"]!.GetValue<string>()}/{payload["name"]!.GetValue<string>()}";
                            phaseStarted.Restart();
                            break;
                        case "result":
                        {
                            var testKey = $"{payload["question"]!.GetValue<string>()}/{payload["name"]!.GetValue<string>()}";
                            currentTest = null;
                            phaseStarted.Restart();
                            var spec = pending.FirstOrDefault(p => p.Key == testKey);
                            if (spec is null) break;
                            if (!reported.Add(testKey))
                            {
                                decided[testKey] = new TestResult(spec, 0, false, "the test reported twice (tampering?); scored 0");
                                break;
                            }
                            bool passed = payload["passed"]!.GetValue<bool>() && assemblyProblem is null;
                            var message = assemblyProblem ?? payload["message"]?.GetValue<string>() ?? "";
                            if (!failedTestCells.ContainsKey(bundle.CellOf(spec).Id))
                                decided.TryAdd(testKey, new TestResult(spec, passed ? spec.Points : 0, passed, message));
                            break;
                        }
                        case "harness-error":
                            notes.Add(payload["error"]?.GetValue<string>() ?? "the test harness failed");
                            foreach (var t in pending) decided.TryAdd(t.Key, new TestResult(t, 0, false, notes[^1]));
                            break;
                        case "tests-done":
                            done = true;
                            break;
                    }
                    continue;
                }
                WorkerMessage protocolMessage;
                try { protocolMessage = WorkerProtocol.Decode(line); } catch (Exception) { continue; }
                if (protocolMessage is ProcessExitingMessage exiting) requestedExit[0] = exiting.ExitCode;
                if (testPhase) continue;   // unsigned messages after the student phase only describe a crash
                switch (protocolMessage)
                {
                    case NotebookEventMessage { Event: CellStarted s } when s.CellIndex >= 0 && s.CellIndex < graded.Cells.Count:
                        currentCell = s.CellIndex;
                        phaseStarted.Restart();
                        break;
                    case NotebookEventMessage { Event: CellFinished f } when f.CellIndex >= 0 && f.CellIndex < graded.Cells.Count:
                        graded.Cells[f.CellIndex].ExecutionCount = f.ExecutionCount;
                        currentCell = -1;
                        phaseStarted.Restart();
                        break;
                    case WorkerFailedMessage failed:
                        notes.Add("the grading worker failed: " + failed.Error);
                        break;
                    case NotebookEventMessage { Event: CellOutputEvent o } when o.CellIndex >= 0 && o.CellIndex < graded.Cells.Count:
                    {
                        int used = outputPerCell.GetValueOrDefault(o.CellIndex);
                        int size = line.Length;
                        if (used > MaxOutputPerCell) break;
                        outputPerCell[o.CellIndex] = used + size;
                        if (used + size > MaxOutputPerCell)
                        {
                            NotebookExecutor.Apply(graded, o.CellIndex, new StreamWritten(0, StreamOutput.Stderr, "\n[output truncated by the grader]\n"));
                            break;
                        }
                        NotebookExecutor.Apply(graded, o.CellIndex, o.Event);
                        break;
                    }
                }
            }

            using (var grace = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
            {
                try { await worker.WaitForExitAsync(grace.Token); } catch (OperationCanceledException) { Kill(worker); }
            }
            if (done) return new AttemptOutcome(decided, notes, null, false);

            // The worker died: say why, charge it to the running cell or test, and run again without it.
            worker.WaitForExit();
            var cause = WorkerProtocol.DescribeCrash(SafeExitCode(worker), stderr.ToString(), requestedExit[0]);
            if (testPhase && currentTest is not null)
            {
                var t = pending.First(p => p.Key == currentTest);
                decided[t.Key] = new TestResult(t, 0, false, $"{cause} while this test ran; the worker died");
                notes.Add($"test {t.Key}: {cause}");
                return new AttemptOutcome(decided, notes, null, true);
            }
            if (!testPhase && currentCell >= 0)
            {
                var reason = $"cell {UserCell(graded, currentCell)}: {cause}; the cell is skipped when grading";
                MarkError(graded, currentCell, "WorkerCrashed", reason);
                notes.Add(reason);
                return new AttemptOutcome(decided, notes, currentCell, true);
            }
            notes.Add($"the worker ended early: {cause}");
            return new AttemptOutcome(decided, notes, null, false);
        }
        finally
        {
            Kill(worker);
            try { Directory.Delete(root, recursive: true); } catch (Exception) { }
        }
    }

    static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    static int UserCell(Notebook graded, int index) => index + 1 - graded.Cells.Take(index).Count(c => c.HasTag("grader-setup"));

    static void MarkError(Notebook graded, int cell, string name, string message) =>
        graded.Cells[cell].Outputs.Add(new ErrorOutput(name, message, [message]));

    Process StartWorker(string prepared, string work, string pipePath, IReadOnlySet<int> skipCells, string wrapperPath)
    {
        var host = Environment.ProcessPath ?? "dotnet";
        var command = new List<string> { host };
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            command.Add(typeof(SubmissionGrader).Assembly.Location);
        command.AddRange([GradeWorker.CommandName, "--notebook", prepared, "--working-dir", work, "--pipe", pipePath,
            "--skip-cells", string.Join(',', skipCells.Order())]);
        var line = sandbox.Wrap(command, work, bundle.ReadableRoots(), limits.MemoryBytes, wrapperPath);
        var psi = new ProcessStartInfo(line[0])
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
            WorkingDirectory = work,
        };
        foreach (var a in line.Skip(1)) psi.ArgumentList.Add(a);
        psi.Environment["TMPDIR"] = Path.Combine(work, ".tmp");
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_gcServer"] = "0";
        if (limits.MemoryBytes is { } bytes) psi.Environment["DOTNET_GCHeapHardLimit"] = "0x" + bytes.ToString("x", CultureInfo.InvariantCulture);
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {line[0]}");
        process.StandardInput.Close();
        return process;
    }

    static int? SafeExitCode(Process p)
    {
        try { return p.ExitCode; } catch (InvalidOperationException) { return null; }
    }

    static void Kill(Process process)
    {
        try { if (!process.HasExited) { process.Kill(entireProcessTree: true); process.WaitForExit(10_000); } }
        catch (Exception) { }
    }

    static string Last(string text) =>
        string.Join(" | ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(5));

    public static string Safe(string name) => new(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray());

    static void CopyFolder(string from, string to)
    {
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)), overwrite: true);
    }
}

static class SubmissionResultExtensions
{
    public static SubmissionResult With(this SubmissionResult target, SubmissionResult source)
    {
        target.Notes.AddRange(source.Notes);
        foreach (var (k, v) in source.WrittenAnswers) target.WrittenAnswers[k] = v;
        return target;
    }
}
