using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.CodeAnalysis.CSharp;
using NetMQ;
using NetMQ.Sockets;
using NotebookLab.Engine.Execution;
using NotebookLab.Engine.Notebooks;

namespace NotebookLab.Cli.Jupyter;

/// <summary>
/// NotebookLab's engine served over the Jupyter messaging protocol (5.3) with ZeroMQ (NetMQ): shell, control, iopub,
/// stdin and heartbeat sockets bound as the connection file says. Every incoming message is authenticated
/// (<see cref="MessageCodec"/>); one that is unsigned, mis-signed, replayed or malformed is logged to stderr and
/// dropped, never executed. Shell requests run one at a time on the shell thread; control (interrupt, shutdown) is
/// served on its own thread, so an interrupt reaches a running cell.
/// </summary>
sealed class JupyterKernel : IDisposable
{
    static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);
    static readonly Regex PagerRequest = new(@"^\s*(?<name>[A-Za-z_][\w.]*)\s*\?\s*$");

    readonly ConnectionInfo connection;
    readonly MessageCodec codec;
    readonly TextWriter log;
    readonly string sessionId = Guid.NewGuid().ToString("N");
    readonly NotebookSession session;
    readonly ExecutionHistory history = new();
    readonly RouterSocket shell = new(), control = new(), stdin = new();
    readonly PublisherSocket iopub = new();
    readonly ResponseSocket heartbeat = new();
    readonly object iopubGate = new(), stdinGate = new();
    readonly ManualResetEventSlim stopped = new();
    volatile bool stopping;
    volatile JupyterMessage? executing;
    volatile bool executingSilently, executingAllowsStdin;

    JupyterKernel(ConnectionInfo connection, TextWriter log, string workingDirectory)
    {
        this.connection = connection;
        this.log = log;
        codec = new MessageCodec(connection.Key);
        session = new NotebookSession(new SessionOptions { WorkingDirectory = workingDirectory });
        session.EventRaised += Forward;
        session.InputProvider = ReadInput;
    }

    /// <summary>Serves until a shutdown_request; returns the process exit code.</summary>
    public static int Run(string connectionFile, TextWriter log)
    {
        ConnectionInfo connection;
        try { connection = ConnectionInfo.Read(connectionFile); }
        catch (Exception e) when (e is IOException or JsonException or InvalidDataException or UnauthorizedAccessException)
        {
            log.WriteLine($"notebooklab kernel: cannot read the connection file: {e.Message}");
            return 2;
        }
        using var kernel = new JupyterKernel(connection, log, Environment.CurrentDirectory);
        return kernel.Serve();
    }

    int Serve()
    {
        try
        {
            shell.Bind(connection.Endpoint(connection.ShellPort));
            control.Bind(connection.Endpoint(connection.ControlPort));
            stdin.Bind(connection.Endpoint(connection.StdinPort));
            iopub.Bind(connection.Endpoint(connection.IopubPort));
            heartbeat.Bind(connection.Endpoint(connection.HeartbeatPort));
        }
        catch (NetMQException e)
        {
            Log($"cannot bind the kernel's sockets: {e.Message}");
            return 1;
        }
        if (!codec.Signs) Log("warning: the connection file has no key, so messages are not authenticated");

        // The compiler's start-up cost is paid while the front end connects, not by the first cell.
        _ = Task.Run(async () =>
        {
            try { await session.WarmUpAsync(); }
            catch (Exception e) { Log($"warm-up failed: {e.Message}"); }
        });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            Log(session.Interrupt() ? "SIGINT: interrupting the running cell" : "SIGINT: no cell is running");
        });

        var threads = new[]
        {
            new Thread(() => Listen(shell, "shell", HandleShell)) { Name = "jupyter shell", IsBackground = true },
            new Thread(() => Listen(control, "control", HandleControl)) { Name = "jupyter control", IsBackground = true },
            new Thread(Heartbeat) { Name = "jupyter heartbeat", IsBackground = true },
        };
        foreach (var thread in threads) thread.Start();
        Publish("status", new JsonObject { ["execution_state"] = "starting" }, null);
        Log($"listening on {connection.Endpoint(connection.ShellPort)} (protocol {JupyterMessage.ProtocolVersion})");
        stopped.Wait();
        stopping = true;
        foreach (var thread in threads) thread.Join(TimeSpan.FromSeconds(2));
        return 0;
    }

    void Log(string message) => log.WriteLine($"[notebooklab kernel {DateTime.UtcNow:HH:mm:ss.fff}] {message}");

    // ------------------------------------------------------------------ sockets

    void Listen(RouterSocket socket, string channel, Action<JupyterMessage, RouterSocket> handle)
    {
        var frames = new List<byte[]>();
        while (!stopping)
        {
            try
            {
                if (!socket.TryReceiveMultipartBytes(Poll, ref frames)) continue;
            }
            catch (Exception e) when (e is NetMQException or ObjectDisposedException)
            {
                if (!stopping) Log($"{channel}: receive failed: {e.Message}");
                continue;
            }
            JupyterMessage message;
            try { message = codec.Decode(frames); }
            catch (RejectedMessageException e)
            {
                Log($"rejected a message on {channel}: {e.Message}");
                continue;
            }
            Dispatch(message, socket, channel, handle);
        }
    }

    void Dispatch(JupyterMessage message, RouterSocket socket, string channel, Action<JupyterMessage, RouterSocket> handle)
    {
        try { handle(message, socket); }
        catch (Exception e)
        {
            // A request the kernel cannot serve (bad content, an engine failure) is answered with an error, never fatal.
            var reason = e is RejectedMessageException or InvalidOperationException or FormatException or JsonException
                ? e.Message : e.ToString();
            Log($"{channel}: {message.Type} from {message.Id} failed: {reason}");
            if (message.Type.EndsWith("_request", StringComparison.Ordinal))
                TrySend(socket, Reply(message, new JsonObject
                {
                    ["status"] = "error", ["ename"] = "BadRequest", ["evalue"] = $"{message.Type}: {e.Message}", ["traceback"] = new JsonArray(),
                }));
        }
    }

    void Heartbeat()
    {
        var frames = new List<byte[]>();
        while (!stopping)
        {
            try
            {
                if (heartbeat.TryReceiveMultipartBytes(Poll, ref frames)) heartbeat.SendMultipartBytes(frames);
            }
            catch (Exception e) when (e is NetMQException or ObjectDisposedException) { if (!stopping) Log($"heartbeat: {e.Message}"); }
        }
    }

    JupyterMessage Reply(JupyterMessage request, JsonObject content) =>
        JupyterMessage.Create(request.Type.Replace("_request", "_reply", StringComparison.Ordinal), content, request, sessionId);

    void Send(RouterSocket socket, JupyterMessage message) => socket.SendMultipartBytes(codec.Encode(message));

    void TrySend(RouterSocket socket, JupyterMessage message)
    {
        try { Send(socket, message); }
        catch (Exception e) when (e is NetMQException or ObjectDisposedException) { Log($"could not send {message.Type}: {e.Message}"); }
    }

    void Publish(string type, JsonObject content, JupyterMessage? parent)
    {
        var message = JupyterMessage.Create(type, content, parent, sessionId, identities: []);
        lock (iopubGate)
        {
            try { iopub.SendMultipartBytes(codec.Encode(message, topic: $"kernel.{sessionId}.{type}")); }
            catch (Exception e) when (e is NetMQException or ObjectDisposedException) { Log($"could not publish {type}: {e.Message}"); }
        }
    }

    // ------------------------------------------------------------------ requests

    void HandleShell(JupyterMessage request, RouterSocket socket)
    {
        Publish("status", new JsonObject { ["execution_state"] = "busy" }, request);
        try
        {
            switch (request.Type)
            {
                case "execute_request": Execute(request, socket); break;
                case "kernel_info_request": Send(socket, Reply(request, KernelInfo())); break;
                case "is_complete_request": Send(socket, Reply(request, IsComplete(request.Content))); break;
                case "complete_request": Send(socket, Reply(request, Complete(request.Content))); break;
                case "inspect_request": Send(socket, Reply(request, Inspect(request.Content))); break;
                case "history_request": Send(socket, Reply(request, new JsonObject { ["status"] = "ok", ["history"] = history.Reply(request.Content) })); break;
                case "comm_info_request": Send(socket, Reply(request, new JsonObject { ["status"] = "ok", ["comms"] = new JsonObject() })); break;
                case "shutdown_request": Shutdown(request, socket); break;
                case "comm_open" or "comm_msg" or "comm_close": break;   // no comm targets (widgets) in this kernel
                default: Log($"shell: ignored a message of unknown type '{request.Type}'"); break;
            }
        }
        finally
        {
            Publish("status", new JsonObject { ["execution_state"] = "idle" }, request);
        }
        if (queuedBehindFailure is { } queued)
        {
            queuedBehindFailure = null;
            AbortQueuedCells(socket, queued);
        }
    }

    void HandleControl(JupyterMessage request, RouterSocket socket)
    {
        switch (request.Type)
        {
            case "interrupt_request":
                Log(session.Interrupt() ? "interrupt_request: interrupting the running cell" : "interrupt_request: no cell is running");
                Send(socket, Reply(request, new JsonObject { ["status"] = "ok" }));
                break;
            case "shutdown_request": Shutdown(request, socket); break;
            case "kernel_info_request": Send(socket, Reply(request, KernelInfo())); break;
            default: Log($"control: ignored a message of unknown type '{request.Type}'"); break;
        }
    }

    void Shutdown(JupyterMessage request, RouterSocket socket)
    {
        bool restart = Optional(request.Content, "restart", false);
        Log(restart ? "shutdown_request (restart)" : "shutdown_request");
        session.Interrupt();
        Send(socket, Reply(request, new JsonObject { ["status"] = "ok", ["restart"] = restart }));
        Publish("shutdown_reply", new JsonObject { ["status"] = "ok", ["restart"] = restart }, request);
        stopped.Set();
    }

    static string RequiredString(JsonObject content, string name) =>
        content[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String
            ? v.GetValue<string>()
            : throw new RejectedMessageException($"content.{name} must be a string");

    static T Optional<T>(JsonObject content, string name, T fallback)
    {
        if (content[name] is not JsonValue v) return fallback;
        return v.TryGetValue<T>(out var value) ? value : throw new RejectedMessageException($"content.{name} must be a {typeof(T).Name}");
    }

    static JsonObject KernelInfo() => new()
    {
        ["status"] = "ok",
        ["protocol_version"] = JupyterMessage.ProtocolVersion,
        ["implementation"] = "notebooklab",
        ["implementation_version"] = Version,
        ["language_info"] = new JsonObject
        {
            ["name"] = "C#",
            ["version"] = LanguageVersion.Latest.MapSpecifiedToEffectiveVersion().ToDisplayString(),
            ["mimetype"] = "text/x-csharp",
            ["file_extension"] = ".cs",
            ["pygments_lexer"] = "csharp",
            ["codemirror_mode"] = "text/x-csharp",
        },
        ["banner"] = $"NotebookLab {Version}: C# with Roslyn on .NET {Environment.Version}. Interrupt stops a running loop; the session survives.",
        ["help_links"] = new JsonArray(),
        ["debugger"] = false,
    };

    static string Version { get; } =
        typeof(JupyterKernel).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0";

    void Execute(JupyterMessage request, RouterSocket socket)
    {
        var code = RequiredString(request.Content, "code");
        if (abortingQueuedCells)
        {
            // "Run all" queues every cell; after a failing cell, the ones queued behind it are not run (as ipykernel does).
            Send(socket, Reply(request, new JsonObject { ["status"] = "aborted", ["execution_count"] = session.ExecutionCount }));
            return;
        }
        bool silent = Optional(request.Content, "silent", false);
        bool storeHistory = Optional(request.Content, "store_history", !silent);
        bool allowStdin = Optional(request.Content, "allow_stdin", false);

        if (PagerRequest.Match(code) is { Success: true } pager)
        {
            Send(socket, Reply(request, Page(pager.Groups["name"].Value)));
            return;
        }

        int number = session.ExecutionCount + 1;
        if (!silent) Publish("execute_input", new JsonObject { ["code"] = code, ["execution_count"] = number }, request);
        executingSilently = silent;
        executingAllowsStdin = allowStdin;
        executing = request;
        CellResult result;
        try
        {
            result = session.ExecuteAsync(code, new CellLocation(null, number)).GetAwaiter().GetResult();
        }
        catch (InvalidOperationException e)
        {
            var error = new ErrorOutput("SessionAbandoned", e.Message, [e.Message]);
            if (!silent) Publish("error", ErrorContent(error), request);
            result = new CellResult(CellStatus.Error, number, [error], TimeSpan.Zero, error);
        }
        int count = result.ExecutionCount ?? session.ExecutionCount;
        if (storeHistory && result.Status != CellStatus.Skipped)
            history.Add(count, code, result.Outputs.OfType<DisplayOutput>().LastOrDefault(o => o.IsExecuteResult)?.Data.GetValueOrDefault("text/plain"));

        var reply = result.Error is { } failure
            ? ErrorContent(failure)
            : new JsonObject { ["payload"] = new JsonArray(), ["user_expressions"] = new JsonObject() };
        reply["status"] = result.Error is null ? "ok" : "error";
        reply["execution_count"] = count;
        Send(socket, Reply(request, reply));
        // The requests already queued when a cell fails are taken now, before the reply goes out, so that a request the
        // client sends after seeing the error is never among them.
        if (result.Error is not null && Optional(request.Content, "stop_on_error", true)) queuedBehindFailure = TakeQueued(socket);
    }

    bool abortingQueuedCells;
    List<JupyterMessage>? queuedBehindFailure;

    List<JupyterMessage> TakeQueued(RouterSocket socket)
    {
        var queued = new List<JupyterMessage>();
        var frames = new List<byte[]>();
        while (socket.TryReceiveMultipartBytes(TimeSpan.Zero, ref frames))
        {
            try { queued.Add(codec.Decode(frames)); }
            catch (RejectedMessageException e) { Log($"rejected a message on shell: {e.Message}"); }
        }
        return queued;
    }

    /// <summary>Answers the execute requests that were queued behind a failing cell with "aborted"; anything else is served.</summary>
    void AbortQueuedCells(RouterSocket socket, List<JupyterMessage> queued)
    {
        abortingQueuedCells = true;
        try
        {
            foreach (var message in queued) Dispatch(message, socket, "shell", HandleShell);
        }
        finally { abortingQueuedCells = false; }
    }

    JsonObject Page(string name)
    {
        var inspection = session.InspectAsync(name, name.Length).GetAwaiter().GetResult();
        var text = inspection?.ToPlainText() ?? $"no symbol named '{name}' here.";
        return new JsonObject
        {
            ["status"] = "ok",
            ["execution_count"] = session.ExecutionCount,
            ["payload"] = new JsonArray(new JsonObject { ["source"] = "page", ["data"] = new JsonObject { ["text/plain"] = text }, ["start"] = 0 }),
            ["user_expressions"] = new JsonObject(),
        };
    }

    static JsonObject IsComplete(JsonObject content) =>
        NotebookSession.IsComplete(RequiredString(content, "code")) switch
        {
            CodeCompleteness.Complete => new JsonObject { ["status"] = "complete" },
            CodeCompleteness.Incomplete => new JsonObject { ["status"] = "incomplete", ["indent"] = "    " },
            _ => new JsonObject { ["status"] = "invalid" },
        };

    JsonObject Complete(JsonObject content)
    {
        var code = RequiredString(content, "code");
        int cursor = CodePoints.ToUtf16(code, Optional(content, "cursor_pos", CodePoints.Count(code)));
        var completions = session.CompleteAsync(code, cursor).GetAwaiter().GetResult();
        return new JsonObject
        {
            ["status"] = "ok",
            ["matches"] = new JsonArray(completions.Matches.Select(m => (JsonNode?)JsonValue.Create(m)).ToArray()),
            ["cursor_start"] = CodePoints.FromUtf16(code, completions.ReplaceStart),
            ["cursor_end"] = CodePoints.FromUtf16(code, completions.ReplaceEnd),
            ["metadata"] = new JsonObject(),
        };
    }

    JsonObject Inspect(JsonObject content)
    {
        var code = RequiredString(content, "code");
        int cursor = CodePoints.ToUtf16(code, Optional(content, "cursor_pos", CodePoints.Count(code)));
        var inspection = session.InspectAsync(code, cursor).GetAwaiter().GetResult();
        var data = new JsonObject();
        if (inspection is not null)
        {
            data["text/plain"] = inspection.ToPlainText();
            data["text/markdown"] = "```csharp\n" + string.Join("\n", inspection.Signatures) + "\n```" + (inspection.Summary is { } s ? "\n\n" + s : "");
        }
        return new JsonObject { ["status"] = "ok", ["found"] = inspection is not null, ["data"] = data, ["metadata"] = new JsonObject() };
    }

    // ------------------------------------------------------------------ cell events → iopub

    void Forward(SessionEvent e)
    {
        var parent = executing;
        if (parent is null || executingSilently) return;
        switch (e)
        {
            case StreamWritten s:
                Publish("stream", new JsonObject { ["name"] = s.Name, ["text"] = s.Text }, parent);
                break;
            case OutputProduced { Output: ErrorOutput error }:
                Publish("error", ErrorContent(error), parent);
                break;
            case OutputProduced { Output: DisplayOutput { IsExecuteResult: true } result }:
                Publish("execute_result", new JsonObject
                {
                    ["execution_count"] = result.ExecutionCount ?? e.ExecutionCount, ["data"] = Data(result), ["metadata"] = Metadata(result),
                }, parent);
                break;
            case OutputProduced { Output: DisplayOutput display }:
                Publish("display_data", DisplayContent(display), parent);
                break;
            case OutputProduced { Output: StreamOutput stream }:
                Publish("stream", new JsonObject { ["name"] = stream.Name, ["text"] = stream.Text }, parent);
                break;
            case DisplayUpdated u:
                Publish("update_display_data", DisplayContent(u.Output), parent);
                break;
            case OutputCleared c:
                Publish("clear_output", new JsonObject { ["wait"] = c.Wait }, parent);
                break;
        }
    }

    static JsonObject ErrorContent(ErrorOutput error) => new()
    {
        ["ename"] = error.EName,
        ["evalue"] = error.EValue,
        ["traceback"] = new JsonArray(error.Traceback.Select(t => (JsonNode?)JsonValue.Create(t)).ToArray()),
    };

    static JsonObject DisplayContent(DisplayOutput display)
    {
        var content = new JsonObject { ["data"] = Data(display), ["metadata"] = Metadata(display) };
        content["transient"] = display.DisplayId is { } id ? new JsonObject { ["display_id"] = id } : new JsonObject();
        return content;
    }

    static JsonObject Data(DisplayOutput display)
    {
        var data = new JsonObject();
        foreach (var (mime, value) in display.Data)
        {
            JsonNode? node = JsonValue.Create(value);
            if (DisplayOutput.IsJsonMimeType(mime))
                try { node = JsonNode.Parse(value); } catch (JsonException) { }
            data[mime] = node;
        }
        return data;
    }

    static JsonObject Metadata(DisplayOutput display) => (JsonObject?)display.OutputMetadata?.DeepClone() ?? new JsonObject();

    // ------------------------------------------------------------------ Console.ReadLine → input_request

    string? ReadInput(InputRequest request)
    {
        var parent = executing;
        if (parent is null || !executingAllowsStdin)
            throw new InvalidOperationException("Console.ReadLine(): this front end does not accept input (allow_stdin is false).");
        lock (stdinGate)
        {
            var frames = new List<byte[]>();
            while (stdin.TryReceiveMultipartBytes(TimeSpan.Zero, ref frames)) { }   // a stale reply to an earlier request
            stdin.SendMultipartBytes(codec.Encode(JupyterMessage.Create("input_request",
                new JsonObject { ["prompt"] = request.Prompt, ["password"] = request.Password }, parent, sessionId)));
            while (true)
            {
                Interrupts.Check();
                if (stopping) throw new InvalidOperationException("the kernel is shutting down.");
                if (!stdin.TryReceiveMultipartBytes(Poll, ref frames)) continue;
                JupyterMessage reply;
                try { reply = codec.Decode(frames); }
                catch (RejectedMessageException e) { Log($"rejected a message on stdin: {e.Message}"); continue; }
                if (reply.Type != "input_reply") { Log($"stdin: ignored a '{reply.Type}' while waiting for input_reply"); continue; }
                return reply.Content["value"] is JsonValue v && v.TryGetValue<string>(out var value) ? value : "";
            }
        }
    }

    public void Dispose()
    {
        stopping = true;
        foreach (var socket in new NetMQSocket[] { shell, control, stdin, iopub, heartbeat })
        {
            try { socket.Options.Linger = TimeSpan.FromMilliseconds(200); socket.Dispose(); }
            catch (Exception e) when (e is NetMQException or ObjectDisposedException) { }
        }
        session.Dispose();
        stopped.Dispose();
    }
}

/// <summary>Jupyter counts cursor positions in Unicode code points (protocol 5.2+); .NET strings are UTF-16.</summary>
static class CodePoints
{
    public static int Count(string text) => text.EnumerateRunes().Count();

    public static int ToUtf16(string text, int codePoints)
    {
        int index = 0;
        for (int i = 0; i < codePoints && index < text.Length; i++) index += char.IsSurrogatePair(text, index) ? 2 : 1;
        return index;
    }

    public static int FromUtf16(string text, int index) => text.AsSpan(0, Math.Clamp(index, 0, text.Length)).ToString().EnumerateRunes().Count();
}
