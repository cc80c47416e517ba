using System.CommandLine;
using NotebookLab.Cli;
using NotebookLab.Engine.Notebooks;
using Spectre.Console;

var root = new RootCommand("NotebookLab: run C# deep-learning notebooks headless and check the TorchSharp setup.");

// ---------------------------------------------------------------- run
var paths = new Argument<string[]>("notebooks")
{
    Description = "Notebook files (.ipynb, .dib) or folders; folders are searched recursively, in sorted order, " +
                  "skipping .ipynb_checkpoints, hidden folders, bin/obj/artifacts and *.executed.ipynb.",
    Arity = ArgumentArity.OneOrMore,
};
var output = new Option<string?>("--output", "-o")
{
    Description = $"Folder for the executed notebooks (default: {NotebookRunner.DefaultOutputDirectory} under the current folder). " +
                  "A notebook given as a file is written as <folder>/<name>.ipynb; notebooks found in a folder keep their path relative to it. " +
                  ".dib notebooks are written as .ipynb.",
};
var inplace = new Option<bool>("--inplace") { Description = "Overwrite the source notebooks with the executed ones (a .dib source is written next to itself as .ipynb)." };
var timeout = new Option<double?>("--timeout", "-t") { Description = "Per-cell time limit in seconds; a cell past it fails with a timeout error and its worker process is stopped. Default: none." };
var parameters = new Option<string[]>("--param", "-p")
{
    Description = "A notebook parameter name=value, injected papermill-style as 'var name = value;' in a cell after the cell tagged 'parameters' " +
                  "(bool, integer and number values become C# literals, anything else a string). Repeatable.",
    Arity = ArgumentArity.ZeroOrMore,
    AllowMultipleArgumentsPerToken = false,
};
var run = new Command("run", "Execute notebooks, each in a fresh worker process, and write executed copies; the sources are never modified unless --inplace. " +
                             "Cells run with the notebook's folder as the current directory, as in Jupyter, so relative paths (data files, #r \"x.dll\") and the notebook folder's nuget.config apply as they do there. " +
                             "On a failing cell the partial notebook is still written, with the error in that cell and later cells unexecuted. " +
                             "Set NOTEBOOKLAB_TORCH_BACKEND=cuda-linux (or cuda-windows) to load TorchSharp-cuda-* wherever a notebook references TorchSharp-cpu. " +
                             "Exit code 0 when every notebook succeeds, 1 when one fails, 2 for bad arguments.")
{
    paths, output, inplace, timeout, parameters,
};
run.Validators.Add(result =>
{
    if (result.GetValue(inplace) && result.GetValue(output) is not null)
        result.AddError("--output and --inplace cannot be used together.");
    if (result.GetValue(timeout) is <= 0)
        result.AddError("--timeout must be a positive number of seconds.");
});
run.SetAction(async (parseResult, cancellationToken) =>
{
    IReadOnlyList<KeyValuePair<string, string>> parsed;
    try { parsed = NotebookParameters.ParseAssignments(parseResult.GetValue(parameters) ?? []); }
    catch (ArgumentException e) { Console.Error.WriteLine($"error: {e.Message}"); return 2; }
    var seconds = parseResult.GetValue(timeout);
    var runner = new NotebookRunner(new RunOptions(parseResult.GetValue(output), parseResult.GetValue(inplace),
        seconds is null ? null : TimeSpan.FromSeconds(seconds.Value), parsed), Console.Error);

    IReadOnlyList<(string Input, string Output)> plan;
    try { plan = runner.Plan(parseResult.GetValue(paths)!); }
    catch (ArgumentException e) { Console.Error.WriteLine($"error: {e.Message}"); return 2; }

    var outcomes = new List<NotebookOutcome>();
    foreach (var (input, target) in plan)
    {
        if (cancellationToken.IsCancellationRequested) break;
        outcomes.Add(await runner.RunAsync(input, target, cancellationToken));
    }

    var table = new Table().Border(TableBorder.Rounded)
        .AddColumn("Notebook").AddColumn("Cells", c => c.RightAligned()).AddColumn("Seconds", c => c.RightAligned()).AddColumn("Status");
    foreach (var o in outcomes)
        table.AddRow(Markup.Escape(o.Notebook), $"{o.CellsRun}/{o.CodeCells}", $"{o.Elapsed.TotalSeconds:0.0}",
            o.Succeeded ? "[green]ok[/]" : $"[red]{Markup.Escape(o.Status)}[/]");
    var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
    console.Write(table);
    foreach (var o in outcomes.Where(o => !o.Succeeded))
        Console.Error.WriteLine($"FAILED {o.Notebook}: {o.Error}" + (o.OutputPath is null ? "" : $"\n  partial notebook written to {o.OutputPath}"));
    return outcomes.All(o => o.Succeeded) ? 0 : 1;
});
root.Subcommands.Add(run);

// ---------------------------------------------------------------- doctor
var doctor = new Command("doctor", "Report the OS, libstdc++, TorchSharp/libtorch versions, backend, CUDA devices, thread count, and whether the native-loading fix was applied. Exits non-zero when TorchSharp cannot load.");
doctor.SetAction(_ => Doctor.Run(AnsiConsole.Console));
root.Subcommands.Add(doctor);

// ---------------------------------------------------------------- kernel
var connectionFile = new Option<string?>("--connection-file", "-f") { Description = "The connection file Jupyter wrote (Jupyter passes it; see 'kernel install')." };
var kernel = new Command("kernel", "Serve NotebookLab's engine as a Jupyter kernel (messaging protocol 5.3 over ZeroMQ). Jupyter starts it from the kernelspec that 'notebooklab kernel install' writes; " +
                                   "cells run with the notebook's folder as the current directory, and an interrupt stops a running loop while the session's variables survive.")
{
    connectionFile,
};
kernel.SetAction(parseResult =>
{
    if (parseResult.GetValue(connectionFile) is not { } file)
    {
        Console.Error.WriteLine("error: --connection-file is required to start the kernel (Jupyter passes it). To make Jupyter find this kernel: notebooklab kernel install");
        return 2;
    }
    int code = NotebookLab.Cli.Jupyter.JupyterKernel.Run(file, Console.Error);
    Console.Out.Flush();
    Console.Error.Flush();
    // Threads a notebook left running must not keep the kernel alive.
    Environment.Exit(code);
    return code;
});
var specName = new Option<string>("--name") { Description = $"The kernelspec's name (default: {NotebookLab.Cli.Jupyter.Kernelspec.DefaultName}).", DefaultValueFactory = _ => NotebookLab.Cli.Jupyter.Kernelspec.DefaultName };
var userScope = new Option<bool>("--user") { Description = "Into the user's Jupyter data folder (~/.local/share/jupyter/kernels on Linux); the default." };
var sysPrefixScope = new Option<bool>("--sys-prefix") { Description = "Into the Python environment's share/jupyter/kernels (sys.prefix of python3 on PATH), as in a JupyterHub image." };
var prefixScope = new Option<string?>("--prefix") { Description = "Into PREFIX/share/jupyter/kernels." };
string KernelsDirectory(ParseResult r)
{
    var prefix = r.GetValue(prefixScope);
    var scope = prefix is not null ? NotebookLab.Cli.Jupyter.Kernelspec.Scope.Prefix
        : r.GetValue(sysPrefixScope) ? NotebookLab.Cli.Jupyter.Kernelspec.Scope.SysPrefix
        : NotebookLab.Cli.Jupyter.Kernelspec.Scope.User;
    return NotebookLab.Cli.Jupyter.Kernelspec.KernelsDirectory(scope, prefix);
}
void OneScope(System.CommandLine.Parsing.CommandResult result)
{
    int given = (result.GetValue(userScope) ? 1 : 0) + (result.GetValue(sysPrefixScope) ? 1 : 0) + (result.GetValue(prefixScope) is null ? 0 : 1);
    if (given > 1) result.AddError("give at most one of --user, --sys-prefix, --prefix.");
}
var install = new Command("install", $"Write the kernelspec \"{NotebookLab.Cli.Jupyter.Kernelspec.DisplayName}\" so that Jupyter (Notebook, Lab, nbclient, VS Code's Jupyter) can start this kernel.")
{
    specName, userScope, sysPrefixScope, prefixScope,
};
install.Validators.Add(OneScope);
install.SetAction(parseResult =>
{
    try
    {
        var dir = NotebookLab.Cli.Jupyter.Kernelspec.Install(KernelsDirectory(parseResult), parseResult.GetValue(specName)!);
        Console.WriteLine($"Installed kernelspec {parseResult.GetValue(specName)} in {dir}");
        return 0;
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
});
var uninstall = new Command("uninstall", "Remove the kernelspec that 'kernel install' wrote (same --user / --sys-prefix / --prefix and --name).")
{
    specName, userScope, sysPrefixScope, prefixScope,
};
uninstall.Validators.Add(OneScope);
uninstall.SetAction(parseResult =>
{
    try
    {
        var dir = KernelsDirectory(parseResult);
        var name = parseResult.GetValue(specName)!;
        if (!NotebookLab.Cli.Jupyter.Kernelspec.Uninstall(dir, name))
        {
            Console.Error.WriteLine($"error: no kernelspec {name} in {dir}");
            return 1;
        }
        Console.WriteLine($"Removed kernelspec {name} from {dir}");
        return 0;
    }
    catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ArgumentException)
    {
        Console.Error.WriteLine($"error: {e.Message}");
        return 1;
    }
});
kernel.Subcommands.Add(install);
kernel.Subcommands.Add(uninstall);
root.Subcommands.Add(kernel);

// ---------------------------------------------------------------- worker (internal)
var workerNotebook = new Option<string>("--notebook") { Required = true };
var workerDisplay = new Option<string>("--display-path") { Required = true };
var workerDir = new Option<string>("--working-dir") { Required = true };
var workerPipe = new Option<string>("--pipe") { Required = true };
var worker = new Command(Worker.CommandName, "Internal: runs one notebook for 'run'.") { Hidden = true };
worker.Options.Add(workerNotebook);
worker.Options.Add(workerDisplay);
worker.Options.Add(workerDir);
worker.Options.Add(workerPipe);
worker.SetAction(async (parseResult, _) =>
{
    int code = await Worker.RunAsync(parseResult.GetValue(workerNotebook)!, parseResult.GetValue(workerDisplay)!,
        parseResult.GetValue(workerDir)!, parseResult.GetValue(workerPipe)!);
    // Threads a notebook left running must not keep the worker alive.
    Console.Out.Flush();
    Environment.Exit(code);
    return code;
});
root.Subcommands.Add(worker);

// ---------------------------------------------------------------- assign, grade (homework; see Grading/)
var assignMaster = new Argument<string>("master") { Description = "The master notebook of an assignment (solutions, tests tagged 'test' / 'hidden-test')." };
var assignOut = new Option<string>("--out", "-o") { Description = "Folder for student/<name>.ipynb and the autograder/ bundle.", Required = true };
var assign = new Command("assign", "Write the student notebook (solutions replaced by stubs, hidden tests removed, outputs cleared) and the autograder bundle " +
                                   "(also a Gradescope autograder: zip autograder/). A master that breaks the conventions is refused with the cell named. Exit code 1 then.")
{
    assignMaster, assignOut,
};
assign.SetAction(parseResult => NotebookLab.Cli.Grading.AssignCommand.Run(parseResult.GetValue(assignMaster)!, parseResult.GetValue(assignOut)!, Console.Error));
root.Subcommands.Add(assign);

var gradeBundle = new Option<string>("--assignment", "-a") { Description = "The autograder bundle folder written by 'assign' (autograder/).", Required = true };
var gradeSubmissions = new Option<string>("--submissions", "-s") { Description = "Folder of submissions: <student>.ipynb files, or <student>/ folders holding one notebook.", Required = true };
var gradeOut = new Option<string>("--out", "-o") { Description = "Folder for grades.csv, similarity.csv and <student>/results.json, feedback.ipynb, feedback.html.", Required = true };
var gradeParallel = new Option<int>("--parallel", "-j") { Description = "Submissions graded at once (default 1).", DefaultValueFactory = _ => 1 };
var gradeTimeout = new Option<double>("--timeout", "-t") { Description = "Seconds each student cell and each test may run (default 120).", DefaultValueFactory = _ => 120 };
var gradeMemory = new Option<int?>("--memory") { Description = "Memory limit per submission in MB (default 4096; 0 for none)." };
var gradeHidden = new Option<string>("--hidden-feedback") { Description = "Hidden tests in feedback: show (names and messages), score (pass/fail and points only; Gradescope 'after_published'), hide. Default: score.", DefaultValueFactory = _ => "score" };
var gradeForce = new Option<bool>("--force") { Description = "Grade again submissions that already have results for this bundle (by default an interrupted run resumes)." };
var grade = new Command("grade", "Grade submissions, each in its own sandboxed process with time and memory limits: the student's cells, then the bundle's tests (hidden ones included). " +
                                 "Writes grades.csv (one row per student, one column per question), a Gradescope-shaped results.json, feedback.ipynb and feedback.html per student, " +
                                 "and similarity.csv (pairs of unusually similar submissions).")
{
    gradeBundle, gradeSubmissions, gradeOut, gradeParallel, gradeTimeout, gradeMemory, gradeHidden, gradeForce,
};
grade.SetAction(async (parseResult, cancellationToken) =>
{
    if (!Enum.TryParse<NotebookLab.Cli.Grading.HiddenFeedback>(parseResult.GetValue(gradeHidden), ignoreCase: true, out var hidden))
    {
        Console.Error.WriteLine("error: --hidden-feedback is show, score or hide.");
        return 2;
    }
    var memory = parseResult.GetValue(gradeMemory) ?? 4096;
    try
    {
        return await NotebookLab.Cli.Grading.GradeCommand.RunAsync(new NotebookLab.Cli.Grading.GradeOptions(
            parseResult.GetValue(gradeBundle)!, parseResult.GetValue(gradeSubmissions)!, parseResult.GetValue(gradeOut)!,
            Math.Max(1, parseResult.GetValue(gradeParallel)), TimeSpan.FromSeconds(parseResult.GetValue(gradeTimeout)),
            memory > 0 ? memory * 1024L * 1024L : null, hidden, parseResult.GetValue(gradeForce),
            Environment.GetEnvironmentVariable("NOTEBOOKLAB_GRADE_NO_SANDBOX") == "1"), Console.Error, cancellationToken);
    }
    catch (ArgumentException e) { Console.Error.WriteLine($"error: {e.Message}"); return 2; }
});
root.Subcommands.Add(grade);

var gwNotebook = new Option<string>("--notebook") { Required = true };
var gwDir = new Option<string>("--working-dir") { Required = true };
var gwPipe = new Option<string>("--pipe") { Required = true };
var gwSkip = new Option<string>("--skip-cells") { DefaultValueFactory = _ => "" };
var gradeWorker = new Command(NotebookLab.Cli.Grading.GradeWorker.CommandName, "Internal: grades one submission for 'grade'.") { Hidden = true };
gradeWorker.Options.Add(gwNotebook);
gradeWorker.Options.Add(gwDir);
gradeWorker.Options.Add(gwPipe);
gradeWorker.Options.Add(gwSkip);
gradeWorker.SetAction(async (parseResult, _) =>
{
    var skip = (parseResult.GetValue(gwSkip) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToHashSet();
    int code = await NotebookLab.Cli.Grading.GradeWorker.RunAsync(parseResult.GetValue(gwNotebook)!, parseResult.GetValue(gwDir)!,
        parseResult.GetValue(gwPipe)!, skip);
    Console.Out.Flush();
    Environment.Exit(code);
    return code;
});
root.Subcommands.Add(gradeWorker);

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0 && !args.Any(a => a is "-h" or "--help" or "-?"))
{
    foreach (var error in parsed.Errors) Console.Error.WriteLine($"error: {error.Message}");
    Console.Error.WriteLine("See 'notebooklab --help'.");
    return 2;
}
return await parsed.InvokeAsync();
