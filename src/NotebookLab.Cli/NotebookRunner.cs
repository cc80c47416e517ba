using System.Diagnostics;
using System.IO.Pipes;
using System.Text;
using System.Text.Json;
using NotebookLab.Engine.Execution;
using NotebookLab.Engine.Notebooks;

namespace NotebookLab.Cli;

/// <summary>The outcome of one notebook, for the summary table and the exit code.</summary>
public sealed record NotebookOutcome(string Notebook, string? OutputPath, int CellsRun, int CodeCells, TimeSpan Elapsed, string Status, string? Error)
{
    public bool Succeeded => Status == "ok";
}

/// <summary>Options of <c>notebooklab run</c>.</summary>
public sealed record RunOptions(string? OutputDirectory, bool InPlace, TimeSpan? CellTimeout, IReadOnlyList<KeyValuePair<string, string>> Parameters);

/// <summary>
/// Runs notebooks, each in a fresh worker process (this executable's hidden <c>__worker</c> command), applies the
/// streamed results to the notebook, enforces the per-cell timeout by killing the worker, and writes the executed
/// notebook atomically, also when a cell failed (with the error in that cell and later cells unexecuted).
/// </summary>
public sealed class NotebookRunner(RunOptions options, TextWriter progress)
{
    public const string DefaultOutputDirectory = "artifacts/executed";

    /// <summary>Expands files and folders into (notebook, output path) pairs; folders recurse, sorted, skipping checkpoints and outputs.</summary>
    public IReadOnlyList<(string Input, string Output)> Plan(IEnumerable<string> paths)
    {
        var outputRoot = Path.GetFullPath(options.OutputDirectory ?? DefaultOutputDirectory);
        var plan = new List<(string, string)>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                var folder = Path.GetFullPath(path);
                var notebooks = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
                    .Where(NotebookFile.IsNotebook)
                    .Where(f => !IsSkipped(f, folder, outputRoot))
                    .Order(StringComparer.Ordinal)
                    .ToList();
                if (notebooks.Count == 0) throw new ArgumentException($"{path}: no .ipynb or .dib notebooks in this folder.");
                foreach (var notebook in notebooks)
                    plan.Add((Display(notebook), OutputFor(notebook, Path.GetRelativePath(folder, notebook), outputRoot)));
            }
            else if (File.Exists(path))
            {
                if (!NotebookFile.IsNotebook(path)) throw new ArgumentException($"{path}: not a notebook (expected .ipynb or .dib).");
                plan.Add((Display(Path.GetFullPath(path)), OutputFor(Path.GetFullPath(path), Path.GetFileName(path), outputRoot)));
            }
            else throw new ArgumentException($"{path}: no such file or folder.");
        }
        var duplicate = plan.GroupBy(p => p.Item2).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new ArgumentException($"{string.Join(" and ", duplicate.Select(d => d.Item1))} would both be written to {duplicate.Key}; run them separately or with --output.");
        return plan;
    }

    static string Display(string fullPath)
    {
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, fullPath);
        return relative.StartsWith("..", StringComparison.Ordinal) ? fullPath : relative;
    }

    string OutputFor(string input, string relative, string outputRoot)
    {
        var ipynb = Path.ChangeExtension(relative, ".ipynb");
        if (options.InPlace) return Path.ChangeExtension(input, ".ipynb");
        return Path.Combine(outputRoot, ipynb);
    }

    static bool IsSkipped(string file, string folder, string outputRoot)
    {
        var full = Path.GetFullPath(file);
        if (full.StartsWith(outputRoot + Path.DirectorySeparatorChar, StringComparison.Ordinal)) return true;
        if (file.EndsWith(".executed.ipynb", StringComparison.OrdinalIgnoreCase)) return true;
        var parts = Path.GetRelativePath(folder, full).Split(Path.DirectorySeparatorChar);
        return parts.Any(p => p is ".ipynb_checkpoints" or "bin" or "obj" or "artifacts" || p.StartsWith('.'));
    }

    public async Task<NotebookOutcome> RunAsync(string input, string output, CancellationToken cancellationToken = default)
    {
        var stopwatch = Stopwatch.StartNew();
        Notebook notebook;
        try
        {
            notebook = NotebookFile.Read(input);
        }
        catch (NotebookFormatException e)
        {
            progress.WriteLine($"error: {e.Message}");
            return new NotebookOutcome(input, null, 0, 0, stopwatch.Elapsed, "invalid", e.Message);
        }
        NotebookParameters.Inject(notebook, options.Parameters);
        NotebookExecutor.ClearOutputs(notebook);
        notebook.EnsureCSharpMetadata();
        int codeCells = notebook.Cells.Count(c => c.Type == CellType.Code);
        progress.WriteLine($"{input}: {codeCells} code cells -> {Display(output)}");

        var prepared = Path.Combine(Path.GetTempPath(), $"notebooklab-{Environment.ProcessId}-{Guid.NewGuid():N}.ipynb");
        IpynbFormat.Write(notebook, prepared);
        try
        {
            var (status, error, cellsRun) = await RunWorkerAsync(notebook, prepared, input, cancellationToken);
            RecordRun(notebook, status, stopwatch.Elapsed);
            IpynbFormat.Write(notebook, output);
            var line = status == "ok"
                ? $"{input}: ok, {cellsRun}/{codeCells} cells in {stopwatch.Elapsed.TotalSeconds:0.0} s"
                : $"{input}: {status}: {error}";
            progress.WriteLine(line);
            return new NotebookOutcome(input, output, cellsRun, codeCells, stopwatch.Elapsed, status, error);
        }
        finally
        {
            File.Delete(prepared);
        }
    }

    /// <summary>Records the run in the notebook metadata, as papermill does: parameters, status and duration.</summary>
    void RecordRun(Notebook notebook, string status, TimeSpan elapsed)
    {
        var parameters = new System.Text.Json.Nodes.JsonObject();
        foreach (var (name, value) in options.Parameters) parameters[name] = NotebookParameters.ToCSharpLiteral(value);
        notebook.Metadata["notebooklab"] = new System.Text.Json.Nodes.JsonObject
        {
            ["parameters"] = parameters,
            ["status"] = status,
            ["duration_seconds"] = Math.Round(elapsed.TotalSeconds, 3),
            ["end_time"] = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
        };
    }

    async Task<(string Status, string? Error, int CellsRun)> RunWorkerAsync(Notebook notebook, string prepared, string displayPath, CancellationToken cancellationToken)
    {
        var pipeName = $"nbl-{Environment.ProcessId}-{Guid.NewGuid():N}"[..24];
        await using var server = new NamedPipeServerStream(pipeName, PipeDirection.In, 1, PipeTransmissionMode.Byte, PipeOptions.Asynchronous);
        var workingDirectory = Path.GetDirectoryName(notebook.SourcePath) ?? Environment.CurrentDirectory;
        using var worker = StartWorker(prepared, displayPath, workingDirectory, pipeName);
        var rawOutput = new StringBuilder();
        var rawStderr = new StringBuilder();
        int currentCell = -1;
        var cellStarted = Stopwatch.StartNew();
        object sync = new();

        // Text the worker writes to its own stdout/stderr outside the managed console (native libraries, the
        // runtime) belongs to whichever cell is running.
        void OnRaw(string? line, string stream)
        {
            if (line is null) return;
            lock (sync)
            {
                rawOutput.AppendLine(line);
                if (stream == StreamOutput.Stderr) rawStderr.AppendLine(line);
                if (currentCell >= 0)
                    NotebookExecutor.Apply(notebook, currentCell, new StreamWritten(0, stream, line + "\n"));
            }
        }
        worker.OutputDataReceived += (_, e) => OnRaw(e.Data, StreamOutput.Stdout);
        worker.ErrorDataReceived += (_, e) => OnRaw(e.Data, StreamOutput.Stderr);
        worker.BeginOutputReadLine();
        worker.BeginErrorReadLine();

        using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        connectTimeout.CancelAfter(TimeSpan.FromSeconds(120));
        var exited = worker.WaitForExitAsync(CancellationToken.None);
        var connect = server.WaitForConnectionAsync(connectTimeout.Token);
        if (await Task.WhenAny(connect, exited) != connect || !server.IsConnected)
        {
            Kill(worker);
            return ("failed", $"{displayPath}: the worker process did not start ({LastLines(rawOutput.ToString())}).", 0);
        }

        using var reader = new StreamReader(server, Encoding.UTF8);
        int cellsRun = 0;
        string? status = null, error = null;
        int? requestedExit = null;
        var timeout = options.CellTimeout;
        while (true)
        {
            var readLine = reader.ReadLineAsync(cancellationToken).AsTask();
            Task finished = readLine;
            if (timeout is not null)
            {
                TimeSpan left;
                lock (sync) left = currentCell >= 0 ? timeout.Value - cellStarted.Elapsed : Timeout.InfiniteTimeSpan;
                if (left != Timeout.InfiniteTimeSpan)
                {
                    if (left < TimeSpan.Zero) left = TimeSpan.Zero;
                    using var delay = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    finished = await Task.WhenAny(readLine, Task.Delay(left, delay.Token));
                    delay.Cancel();
                }
            }

            if (finished != readLine)
            {
                Kill(worker);
                lock (sync)
                {
                    var cell = notebook.Cells[currentCell];
                    var location = new CellLocation(displayPath, NotebookExecutor.CellNumber(notebook, currentCell), cell.Id);
                    error = $"{location.Describe()}: the cell did not finish within {timeout!.Value.TotalSeconds:0.###} s (--timeout); the worker process was stopped.";
                    cell.Outputs.Add(new ErrorOutput("TimeoutError", error, [error]));
                    progress.WriteLine($"  cell {location.CellNumber}: timed out after {timeout.Value.TotalSeconds:0.###} s");
                }
                return ("timeout", error, cellsRun);
            }

            string? line;
            try { line = await readLine; }
            catch (IOException) { line = null; }
            catch (OperationCanceledException)
            {
                Kill(worker);
                lock (sync)
                {
                    error = $"{displayPath}: the run was cancelled; the worker process was stopped.";
                    if (currentCell >= 0) notebook.Cells[currentCell].Outputs.Add(new ErrorOutput("OperationCanceledException", error, [error]));
                }
                return ("cancelled", error, cellsRun);
            }
            if (line is null) break;

            WorkerMessage message;
            try { message = WorkerProtocol.Decode(line); }
            catch (JsonException e)
            {
                progress.WriteLine($"  ignored a malformed message from the worker: {e.Message}");
                continue;
            }
            lock (sync)
            {
                switch (message)
                {
                    case NotebookEventMessage { Event: CellStarted started }:
                        currentCell = started.CellIndex;
                        cellStarted.Restart();
                        break;
                    case NotebookEventMessage { Event: CellOutputEvent o }:
                        NotebookExecutor.Apply(notebook, o.CellIndex, o.Event);
                        break;
                    case NotebookEventMessage { Event: CellFinished f }:
                        notebook.Cells[f.CellIndex].ExecutionCount = f.ExecutionCount;
                        if (f.Status != CellStatus.Skipped) cellsRun++;
                        var label = notebook.Cells[f.CellIndex].HasTag(Notebook.InjectedParametersTag)
                            ? "injected parameters"
                            : $"cell {NotebookExecutor.CellNumber(notebook, f.CellIndex)}";
                        progress.WriteLine(f.Status switch
                        {
                            CellStatus.Ok => $"  {label}: ok ({f.Elapsed.TotalSeconds:0.00} s)",
                            CellStatus.Skipped => $"  {label}: skipped",
                            _ => $"  {label}: {f.Status.ToString().ToLowerInvariant()}: {f.Error}",
                        });
                        currentCell = -1;
                        break;
                    case ProcessExitingMessage exit:
                        requestedExit = exit.ExitCode;
                        break;
                    case RunFinishedMessage done:
                        status = done.Status.ToString();
                        error = done.Error;
                        break;
                    case WorkerFailedMessage fatal:
                        status = "Error";
                        error = fatal.Error;
                        break;
                }
            }
        }

        using (var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            try { await worker.WaitForExitAsync(grace.Token); }
            catch (OperationCanceledException) { Kill(worker); }
        }
        worker.WaitForExit();   // drains the redirected stdout/stderr
        if (status is null)
        {
            lock (sync)
            {
                var cause = WorkerProtocol.DescribeCrash(SafeExitCode(worker), rawStderr.ToString(), requestedExit);
                var where = currentCell >= 0 ? $"cell {NotebookExecutor.CellNumber(notebook, currentCell)}" : "the notebook, between cells";
                error = $"{displayPath}: {cause} in {where}; the worker process exited unexpectedly (exit code {SafeExitCode(worker)}). " +
                        $"Last output: {LastLines(string.Join('\n', rawOutput.ToString().Split('\n').Where(l => !l.TrimStart().StartsWith("at ", StringComparison.Ordinal))))}";
                if (currentCell >= 0) notebook.Cells[currentCell].Outputs.Add(new ErrorOutput("WorkerCrashed", error, [error]));
                progress.WriteLine($"  {where}: crashed: {cause}");
            }
            return ("crashed", error, cellsRun);
        }
        return status is "Ok" ? ("ok", null, cellsRun) : ("failed", error, cellsRun);
    }

    static int? SafeExitCode(Process p)
    {
        try { return p.ExitCode; } catch (InvalidOperationException) { return null; }
    }

    static void Kill(Process process)
    {
        try { process.Kill(entireProcessTree: true); process.WaitForExit(10_000); }
        catch (InvalidOperationException) { }
    }

    static string LastLines(string text) =>
        string.Join(" | ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(5));

    static Process StartWorker(string prepared, string displayPath, string workingDirectory, string pipeName)
    {
        var host = Environment.ProcessPath ?? "dotnet";
        var psi = new ProcessStartInfo(host)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = workingDirectory,
        };
        // Under the dotnet muxer (dotnet NotebookLab.Cli.dll) the worker needs the entry assembly too.
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            psi.ArgumentList.Add(typeof(NotebookRunner).Assembly.Location);
        foreach (var arg in new[] { Worker.CommandName, "--notebook", prepared, "--display-path", displayPath,
                     "--working-dir", workingDirectory, "--pipe", pipeName })
            psi.ArgumentList.Add(arg);
        var process = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {host}");
        process.StandardInput.Close();
        return process;
    }
}
