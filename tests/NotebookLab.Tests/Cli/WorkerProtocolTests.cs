using System.Text.Json;
using System.Text.Json.Nodes;
using NotebookLab.Cli;
using NotebookLab.Engine.Execution;
using NotebookLab.Engine.Notebooks;

namespace NotebookLab.Tests.Cli;

/// <summary>The worker's JSON lines carry the engine's typed events and come back as the same types and values.</summary>
public class WorkerProtocolTests
{
    public static TheoryData<string> Messages() => new(new WorkerMessage[]
    {
        new NotebookEventMessage(new CellStarted(2, new CellLocation("nb.ipynb", 3, "c3"))),
        new NotebookEventMessage(new CellOutputEvent(2, new StreamWritten(4, "stderr", "warn\n"))),
        new NotebookEventMessage(new CellOutputEvent(2, new OutputProduced(4, new DisplayOutput(
            new Dictionary<string, string> { ["text/plain"] = "42", ["application/json"] = "{\"a\":1}" }, "d1", 4, true, new JsonObject { ["x"] = 1 })))),
        new NotebookEventMessage(new CellOutputEvent(2, new OutputProduced(4, new ErrorOutput("E", "cell 3: boom", ["cell 3: boom", "at X"])))),
        new NotebookEventMessage(new CellOutputEvent(2, new DisplayUpdated(4, new DisplayOutput(new Dictionary<string, string> { ["text/html"] = "<b>2</b>" }, "d1")))),
        new NotebookEventMessage(new CellOutputEvent(2, new OutputCleared(4, true))),
        new NotebookEventMessage(new CellFinished(2, CellStatus.Interrupted, 4, TimeSpan.FromSeconds(1.5), "cell 3: interrupted")),
        new RunFinishedMessage(CellStatus.Ok, null),
        new ProcessExitingMessage(3),
        new WorkerFailedMessage("nb.ipynb: IOException: gone"),
    }.Select(WorkerProtocol.Encode));

    [Theory]
    [MemberData(nameof(Messages))]
    public void Every_message_round_trips_typed(string line)
    {
        var decoded = WorkerProtocol.Decode(line);
        Assert.Equal(line, WorkerProtocol.Encode(decoded));
    }

    [Fact]
    public void Decoded_messages_are_the_engine_types_with_their_values()
    {
        var line = WorkerProtocol.Encode(new CellOutputEvent(1, new OutputProduced(7, new DisplayOutput(new Dictionary<string, string> { ["text/plain"] = "x" }, "id", 7, true))));
        var message = Assert.IsType<NotebookEventMessage>(WorkerProtocol.Decode(line));
        var e = Assert.IsType<CellOutputEvent>(message.Event);
        var output = Assert.IsType<DisplayOutput>(Assert.IsType<OutputProduced>(e.Event).Output);
        Assert.True(output.IsExecuteResult);
        Assert.Equal("id", output.DisplayId);
        Assert.Equal("x", output.Data["text/plain"]);
        Assert.Contains("\"Interrupted\"", WorkerProtocol.Encode(new RunFinishedMessage(CellStatus.Interrupted, "e")));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"message\":\"nonsense\"}")]
    [InlineData("{}")]
    public void A_malformed_line_is_a_JsonException(string line) =>
        Assert.ThrowsAny<JsonException>(() => WorkerProtocol.Decode(line));
}
