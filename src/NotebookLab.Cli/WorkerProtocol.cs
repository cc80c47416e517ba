using System.Text.Json;
using System.Text.Json.Nodes;
using NotebookLab.Engine.Execution;
using NotebookLab.Engine.Notebooks;

namespace NotebookLab.Cli;

/// <summary>
/// The JSON-lines messages a worker process sends its parent over a local socket, one per notebook event, so the
/// parent can show progress, enforce the per-cell timeout and keep a partial notebook when the worker is killed.
/// </summary>
static class WorkerProtocol
{
    public static string Encode(NotebookEvent e)
    {
        var obj = new JsonObject { ["cell"] = e.CellIndex };
        switch (e)
        {
            case CellStarted:
                obj["event"] = "start";
                break;
            case CellFinished f:
                obj["event"] = "finish";
                obj["status"] = f.Status.ToString();
                obj["executionCount"] = f.ExecutionCount;
                obj["seconds"] = f.Elapsed.TotalSeconds;
                obj["error"] = f.Error;
                break;
            case CellOutputEvent { Event: StreamWritten s }:
                obj["event"] = "stream";
                obj["executionCount"] = s.ExecutionCount;
                obj["name"] = s.Name;
                obj["text"] = s.Text;
                break;
            case CellOutputEvent { Event: OutputProduced o }:
                obj["event"] = "output";
                obj["executionCount"] = o.ExecutionCount;
                obj["output"] = IpynbFormat.WriteOutput(o.Output, includeTransient: true);
                break;
            case CellOutputEvent { Event: DisplayUpdated u }:
                obj["event"] = "update";
                obj["executionCount"] = u.ExecutionCount;
                obj["output"] = IpynbFormat.WriteOutput(u.Output, includeTransient: true);
                break;
            case CellOutputEvent { Event: OutputCleared c }:
                obj["event"] = "clear";
                obj["executionCount"] = c.ExecutionCount;
                obj["wait"] = c.Wait;
                break;
            default:
                throw new ArgumentException($"unknown event {e}");
        }
        return obj.ToJsonString();
    }

    public static string Done(NotebookRunSummary summary) =>
        new JsonObject { ["event"] = "done", ["status"] = summary.Status.ToString(), ["error"] = summary.Error }.ToJsonString();

    /// <summary>Sent from ProcessExit when code in a cell ended the process (Environment.Exit) before the notebook finished.</summary>
    public static string Exit(int exitCode) => new JsonObject { ["event"] = "exit", ["code"] = exitCode }.ToJsonString();

    public static string Fatal(string message) => new JsonObject { ["event"] = "fatal", ["error"] = message }.ToJsonString();

    /// <summary>A decoded message: the event name, the cell index, and the notebook event when it carries one.</summary>
    public sealed record Message(string Event, int CellIndex, NotebookEvent? NotebookEvent, JsonObject Raw);

    public static Message Decode(string line)
    {
        var obj = JsonNode.Parse(line) as JsonObject ?? throw new JsonException("not a JSON object");
        var name = obj["event"]!.GetValue<string>();
        int cell = obj["cell"]?.GetValue<int>() ?? -1;
        int count = obj["executionCount"]?.GetValue<int?>() ?? 0;
        NotebookEvent? e = name switch
        {
            "stream" => new CellOutputEvent(cell, new StreamWritten(count, obj["name"]!.GetValue<string>(), obj["text"]!.GetValue<string>())),
            "output" => new CellOutputEvent(cell, new OutputProduced(count, IpynbFormat.ReadOutput((JsonObject)obj["output"]!))),
            "update" => new CellOutputEvent(cell, new DisplayUpdated(count, (DisplayOutput)IpynbFormat.ReadOutput((JsonObject)obj["output"]!))),
            "clear" => new CellOutputEvent(cell, new OutputCleared(count, obj["wait"]?.GetValue<bool>() ?? false)),
            "finish" => new CellFinished(cell, Enum.Parse<CellStatus>(obj["status"]!.GetValue<string>()), obj["executionCount"]?.GetValue<int?>(),
                TimeSpan.FromSeconds(obj["seconds"]!.GetValue<double>()), obj["error"]?.GetValue<string>()),
            _ => null,
        };
        return new Message(name, cell, e, obj);
    }

    /// <summary>
    /// Why a worker died without finishing, in words: what the process said on its way out (the runtime prints
    /// "Stack overflow." or "Process terminated." to stderr), what it told us (<see cref="Exit"/>), or its exit status.
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
