using System.Text.Json.Serialization;
using NotebookLab.Engine.Notebooks;

namespace NotebookLab.Engine.Execution;

/// <summary>
/// Something that happened while a cell ran, for hosts that stream results (the CLI worker, a Jupyter kernel). The
/// types serialize with System.Text.Json as they are (a "type" discriminator), so hosts exchange them typed.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(StreamWritten), "stream")]
[JsonDerivedType(typeof(OutputProduced), "output")]
[JsonDerivedType(typeof(DisplayUpdated), "update")]
[JsonDerivedType(typeof(OutputCleared), "clear")]
public abstract record SessionEvent(int ExecutionCount);

/// <summary>Text written to stdout/stderr; consecutive writes of one stream belong to one stream output.</summary>
public sealed record StreamWritten(int ExecutionCount, string Name, string Text) : SessionEvent(ExecutionCount);

/// <summary>A new output: display_data, execute_result or error.</summary>
public sealed record OutputProduced(int ExecutionCount, CellOutput Output) : SessionEvent(ExecutionCount);

/// <summary>A display was updated; the output with the same display id, in whatever cell, is replaced.</summary>
public sealed record DisplayUpdated(int ExecutionCount, DisplayOutput Output) : SessionEvent(ExecutionCount);

/// <summary>The cell asked to clear its outputs (Jupyter's clear_output); with <see cref="Wait"/>, when the next output comes.</summary>
public sealed record OutputCleared(int ExecutionCount, bool Wait) : SessionEvent(ExecutionCount);

/// <summary>What a cell asks its host for when it reads a line (Console.ReadLine): Jupyter's input_request.</summary>
public sealed record InputRequest(string Prompt, bool Password);

/// <summary>The outputs of one cell execution, gathered as they are produced.</summary>
public sealed class CellRun
{
    static readonly object lastGate = new();
    static CellRun? last;

    readonly object gate = new();
    readonly List<CellOutput> outputs = [];
    readonly Action<SessionEvent> raise;

    readonly Func<InputRequest, string?>? readInput;
    int interrupted;

    internal CellRun(int executionCount, Action<SessionEvent> raise, Func<InputRequest, string?>? readInput = null)
    {
        ExecutionCount = executionCount;
        this.raise = raise;
        this.readInput = readInput;
        lock (lastGate) last = this;
    }

    public int ExecutionCount { get; }

    /// <summary>True once the cell was interrupted: its next <see cref="Interrupts.Check"/> throws.</summary>
    public bool IsInterrupted => Volatile.Read(ref interrupted) != 0;

    /// <summary>Marks the cell interrupted; false when it already was.</summary>
    internal bool Interrupt()
    {
        if (Interlocked.Exchange(ref interrupted, 1) != 0) return false;
        Interrupts.Raised();
        return true;
    }

    /// <summary>Called once the cell has finished, so that a pending interrupt no longer costs other cells anything.</summary>
    internal void Finished()
    {
        if (Interlocked.Exchange(ref interrupted, 2) == 1) Interrupts.Cleared();
    }

    /// <summary>A line of input from the host (a Jupyter front end), or null when the host has none to give.</summary>
    internal string? ReadInput(InputRequest request, Func<string?> fallback) =>
        readInput is null ? fallback() : readInput(request);

    /// <summary>The cell running on this async flow, else the last cell that ran (for updates from stray threads).</summary>
    internal static CellRun? CurrentOrLast
    {
        get
        {
            if (ConsoleRouter.Current is { } current) return current;
            lock (lastGate) return last;
        }
    }

    public IReadOnlyList<CellOutput> Snapshot()
    {
        lock (gate) return outputs.ToList();
    }

    internal void AppendStream(string name, string text)
    {
        lock (gate)
        {
            if (outputs.Count > 0 && outputs[^1] is StreamOutput s && s.Name == name)
                outputs[^1] = s with { Text = s.Text + text };
            else
                outputs.Add(new StreamOutput(name, text));
        }
        raise(new StreamWritten(ExecutionCount, name, text));
    }

    internal void Add(CellOutput output)
    {
        lock (gate) outputs.Add(output);
        raise(new OutputProduced(ExecutionCount, output));
    }

    internal void ClearOutputs(bool wait)
    {
        lock (gate) outputs.Clear();
        raise(new OutputCleared(ExecutionCount, wait));
    }

    internal DisplayedValue Display(object? value, string[] mimeTypes)
    {
        var id = Guid.NewGuid().ToString("N");
        Add(new DisplayOutput(MimeBundles.Format(value, mimeTypes), id));
        return new DisplayedValue(this, id, mimeTypes);
    }

    internal void UpdateDisplay(string displayId, object? value, IReadOnlyList<string> mimeTypes)
    {
        var output = new DisplayOutput(MimeBundles.Format(value, mimeTypes), displayId);
        lock (gate)
        {
            int index = outputs.FindIndex(o => o is DisplayOutput d && d.DisplayId == displayId);
            if (index >= 0) outputs[index] = output;
        }
        raise(new DisplayUpdated(ExecutionCount, output));
    }
}
