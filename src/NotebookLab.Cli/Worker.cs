using System.IO.Pipes;
using System.Text;
using NotebookLab.Engine.Execution;
using NotebookLab.Engine.Notebooks;

namespace NotebookLab.Cli;

/// <summary>
/// The hidden <c>worker</c> subcommand: runs one prepared notebook in this fresh process and streams every event to
/// the parent <c>notebooklab run</c> over a local socket. The process ends with the notebook, so formatter
/// registrations, torch globals and native state never leak into the next notebook.
/// </summary>
static class Worker
{
    public const string CommandName = "__worker";

    public static async Task<int> RunAsync(string notebookPath, string displayPath, string workingDirectory, string pipeName)
    {
        await using var pipe = new NamedPipeClientStream(".", pipeName, PipeDirection.Out, PipeOptions.Asynchronous);
        await pipe.ConnectAsync(60_000);
        var writer = new StreamWriter(pipe, new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
        var sendLock = new object();
        void Send(string line)
        {
            lock (sendLock) writer.WriteLine(line);
        }

        var markFinished = WorkerProtocol.ReportExitFromCells(Send);

        try
        {
            var notebook = IpynbFormat.Read(notebookPath);
            Directory.SetCurrentDirectory(workingDirectory);
            using var session = new NotebookSession(new SessionOptions { WorkingDirectory = workingDirectory });
            await session.WarmUpAsync();
            var summary = await NotebookExecutor.RunAsync(notebook, session, displayPath, e => Send(WorkerProtocol.Encode(e)));
            Send(WorkerProtocol.Encode(new RunFinishedMessage(summary.Status, summary.Error)));
            markFinished();
            return summary.Succeeded ? 0 : 1;
        }
        catch (Exception e)
        {
            Send(WorkerProtocol.Encode(new WorkerFailedMessage($"{displayPath}: {e.GetType().Name}: {e.Message}")));
            markFinished();
            return 3;
        }
    }
}
