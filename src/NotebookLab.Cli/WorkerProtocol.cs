using System.Text.Json;
using System.Text.Json.Serialization;
using NotebookLab.Engine.Execution;

namespace NotebookLab.Cli;

/// <summary>One line a worker process sends its parent: a notebook event, or how the run or the process ended.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "message")]
[JsonDerivedType(typeof(NotebookEventMessage), "event")]
[JsonDerivedType(typeof(RunFinishedMessage), "done")]
[JsonDerivedType(typeof(ProcessExitingMessage), "exit")]
[JsonDerivedType(typeof(WorkerFailedMessage), "fatal")]
abstract record WorkerMessage;

/// <summary>A cell started, produced output or finished (the engine's own event types).</summary>
sealed record NotebookEventMessage(NotebookEvent Event) : WorkerMessage;

/// <summary>The notebook ran to its end or to its first failing cell.</summary>
sealed record RunFinishedMessage(CellStatus Status, string? Error) : WorkerMessage;

/// <summary>Sent from ProcessExit when code in a cell ended the process (Environment.Exit) before the notebook finished.</summary>
sealed record ProcessExitingMessage(int ExitCode) : WorkerMessage;

/// <summary>The worker itself failed (the notebook could not be read, the engine could not start).</summary>
sealed record WorkerFailedMessage(string Error) : WorkerMessage;

/// <summary>
/// The JSON-lines protocol between <c>notebooklab run</c> and its worker processes, one typed <see cref="WorkerMessage"/>
/// per line, so the parent can show progress, enforce the per-cell timeout and keep a partial notebook when the worker
/// is killed.
/// </summary>
static class WorkerProtocol
{
    static readonly JsonSerializerOptions Options = new()
    {
        Converters = { new JsonStringEnumConverter() },
        AllowOutOfOrderMetadataProperties = true,
    };

    public static string Encode(WorkerMessage message) => JsonSerializer.Serialize(message, Options);

    public static string Encode(NotebookEvent e) => Encode(new NotebookEventMessage(e));

    public static WorkerMessage Decode(string line)
    {
        try
        {
            return JsonSerializer.Deserialize<WorkerMessage>(line, Options) ?? throw new JsonException("an empty worker message");
        }
        catch (NotSupportedException e)
        {
            // A message without its type discriminator cannot be built (the base type is abstract).
            throw new JsonException($"not a worker message: {e.Message}", e);
        }
    }

    /// <summary>
    /// Code in a cell may end the process (<c>Environment.Exit</c>) before the worker reports its end: from ProcessExit,
    /// tell the parent while the pipe is still open. Returns the action that marks a normal end (nothing is sent after it).
    /// </summary>
    public static Action ReportExitFromCells(Action<string> send)
    {
        var finished = 0;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            if (Volatile.Read(ref finished) == 1) return;
            try { send(Encode(new ProcessExitingMessage(Environment.ExitCode))); } catch (IOException) { } catch (ObjectDisposedException) { }
        };
        return () => Volatile.Write(ref finished, 1);
    }

    /// <summary>
    /// Why a worker died without finishing, in words: what the process said on its way out (the runtime prints
    /// "Stack overflow." or "Process terminated." to stderr), what it told us (<see cref="ProcessExitingMessage"/>), or its exit status.
    /// </summary>
    public static string DescribeCrash(int? exitCode, string stderr, int? requestedExit)
    {
        if (requestedExit is { } code) return $"Environment.Exit({code}) was called";
        if (stderr.Contains("Stack overflow", StringComparison.Ordinal)) return "stack overflow";
        // FailFast prints "Process terminated." and then the message, on the same line or the next.
        var lines = stderr.Split('\n').Select(l => l.Trim()).ToList();
        var terminated = lines.FindIndex(l => l.StartsWith("Process terminated.", StringComparison.Ordinal));
        if (terminated >= 0)
        {
            var message = lines[terminated]["Process terminated.".Length..].Trim();
            if (message.Length == 0 && terminated + 1 < lines.Count && !lines[terminated + 1].StartsWith("at ", StringComparison.Ordinal))
                message = lines[terminated + 1];
            return message.Length > 0 ? $"Environment.FailFast (\"{message}\")" : "Environment.FailFast";
        }
        if (stderr.Contains("OutOfMemoryException", StringComparison.Ordinal)) return "out of memory";
        return exitCode switch
        {
            137 or -9 => "the process was killed (SIGKILL: out of memory, or killed from outside)",
            139 or -11 => "a native crash (segmentation fault)",
            134 or -6 => "a native abort (SIGABRT)",
            null => "the process ended",
            _ => $"the process exited with code {exitCode}",
        };
    }
}
