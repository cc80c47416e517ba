using System.Text.Json.Serialization;
using NotebookLab.Engine.Notebooks;

namespace NotebookLab.Engine.Execution;

/// <summary>A step of a notebook run, for progress reporting and for streaming results out of a worker process.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(CellStarted), "start")]
[JsonDerivedType(typeof(CellOutputEvent), "output")]
[JsonDerivedType(typeof(CellFinished), "finish")]
public abstract record NotebookEvent(int CellIndex);
public sealed record CellStarted(int CellIndex, CellLocation Location) : NotebookEvent(CellIndex);
public sealed record CellOutputEvent(int CellIndex, SessionEvent Event) : NotebookEvent(CellIndex);
public sealed record CellFinished(int CellIndex, CellStatus Status, int? ExecutionCount, TimeSpan Elapsed, string? Error) : NotebookEvent(CellIndex);

/// <summary>How a notebook run ended.</summary>
public sealed record NotebookRunSummary(int CodeCells, int CellsRun, TimeSpan Elapsed, CellStatus Status, string? Error)
{
    public bool Succeeded => Status is CellStatus.Ok or CellStatus.Skipped;
}

/// <summary>
/// Runs a notebook's code cells in order in one <see cref="NotebookSession"/>, writing outputs and execution counts
/// into the notebook as papermill does: outputs are cleared first, execution stops at the first failing cell (its
/// error is recorded in that cell), and later cells are left unexecuted.
/// </summary>
public static class NotebookExecutor
{
    /// <summary>The 1-based cell number users see: the position in the source file (the injected parameters cell shares its anchor's number).</summary>
    public static int CellNumber(Notebook notebook, int index)
    {
        int injectedBefore = notebook.Cells.Take(index).Count(c => c.HasTag(Notebook.InjectedParametersTag));
        return index + 1 - injectedBefore;
    }

    public static void ClearOutputs(Notebook notebook)
    {
        foreach (var cell in notebook.Cells.Where(c => c.Type == CellType.Code)) cell.ClearExecution();
    }

    public static async Task<NotebookRunSummary> RunAsync(Notebook notebook, NotebookSession session, string? displayPath = null,
        Action<NotebookEvent>? onEvent = null, CancellationToken cancellationToken = default)
    {
        ClearOutputs(notebook);
        var started = DateTime.UtcNow;
        var cellByExecution = new Dictionary<int, int>();
        int currentIndex = -1;
        int codeCells = notebook.Cells.Count(c => c.Type == CellType.Code);
        int run = 0;
        object sync = new();

        void OnSessionEvent(SessionEvent e)
        {
            int index;
            lock (sync) index = cellByExecution.TryGetValue(e.ExecutionCount, out var i) ? i : currentIndex;
            if (index < 0) return;
            lock (sync) Apply(notebook, index, e);
            onEvent?.Invoke(new CellOutputEvent(index, e));
        }

        session.EventRaised += OnSessionEvent;
        try
        {
            for (int index = 0; index < notebook.Cells.Count; index++)
            {
                var cell = notebook.Cells[index];
                if (cell.Type != CellType.Code) continue;
                if ((cell.KernelName ?? notebook.DefaultKernelName) is var kernel && kernel is not ("csharp" or "C#" or "c#"))
                {
                    var message = $"{new CellLocation(displayPath, CellNumber(notebook, index), cell.Id).Describe()}: this cell is for the '{kernel}' kernel; notebooklab runs C# cells only.";
                    cell.Outputs.Add(new ErrorOutput("UnsupportedKernel", message, [message]));
                    onEvent?.Invoke(new CellFinished(index, CellStatus.Error, null, TimeSpan.Zero, message));
                    return new NotebookRunSummary(codeCells, run, DateTime.UtcNow - started, CellStatus.Error, message);
                }
                var location = new CellLocation(displayPath, CellNumber(notebook, index), cell.Id);
                lock (sync)
                {
                    currentIndex = index;
                    cellByExecution[session.ExecutionCount + 1] = index;
                }
                onEvent?.Invoke(new CellStarted(index, location));
                var result = await session.ExecuteAsync(cell.Source, location, cancellationToken);
                lock (sync)
                {
                    if (result.ExecutionCount is { } count) cellByExecution[count] = index;
                    cell.ExecutionCount = result.ExecutionCount;
                }
                if (result.Status != CellStatus.Skipped) run++;
                onEvent?.Invoke(new CellFinished(index, result.Status, result.ExecutionCount, result.Elapsed, result.Error?.EValue));
                if (!result.Succeeded)
                    return new NotebookRunSummary(codeCells, run, DateTime.UtcNow - started, result.Status, result.Error?.EValue);
            }
            return new NotebookRunSummary(codeCells, run, DateTime.UtcNow - started, CellStatus.Ok, null);
        }
        finally
        {
            session.EventRaised -= OnSessionEvent;
        }
    }

    /// <summary>Applies one session event to the notebook: appends stream text, adds an output, or replaces an updated display.</summary>
    public static void Apply(Notebook notebook, int cellIndex, SessionEvent e)
    {
        var outputs = notebook.Cells[cellIndex].Outputs;
        switch (e)
        {
            case StreamWritten s:
                if (outputs.Count > 0 && outputs[^1] is StreamOutput last && last.Name == s.Name)
                    outputs[^1] = last with { Text = last.Text + s.Text };
                else
                    outputs.Add(new StreamOutput(s.Name, s.Text));
                break;
            case OutputProduced o:
                outputs.Add(o.Output);
                break;
            case OutputCleared:
                outputs.Clear();
                break;
            case DisplayUpdated u:
                foreach (var cell in notebook.Cells)
                    for (int i = 0; i < cell.Outputs.Count; i++)
                        if (cell.Outputs[i] is DisplayOutput d && d.DisplayId == u.Output.DisplayId)
                            cell.Outputs[i] = u.Output with { ExecutionCount = d.ExecutionCount, IsExecuteResult = d.IsExecuteResult };
                break;
        }
    }
}
