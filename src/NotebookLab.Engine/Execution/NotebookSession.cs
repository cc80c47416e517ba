using System.Diagnostics;
using System.Reflection;
using System.Runtime.Loader;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Scripting;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Scripting;
using NotebookLab.Engine.Notebooks;
using NotebookLab.Engine.Packages;

namespace NotebookLab.Engine.Execution;

/// <summary>Where a cell is, for messages: "notebooks/x.ipynb, cell 4, line 2".</summary>
public sealed record CellLocation(string? NotebookPath, int CellNumber, string? CellId = null)
{
    public string Describe(int? line = null)
    {
        var sb = new StringBuilder();
        if (NotebookPath is not null) sb.Append(NotebookPath).Append(", ");
        sb.Append("cell ").Append(CellNumber);
        if (line is not null) sb.Append(", line ").Append(line);
        return sb.ToString();
    }
}

public enum CellStatus { Ok, Error, TimedOut, Cancelled, Skipped, Interrupted }

/// <summary>The result of one cell: status, outputs (including the error output on failure) and timing.</summary>
public sealed record CellResult(CellStatus Status, int? ExecutionCount, IReadOnlyList<CellOutput> Outputs, TimeSpan Elapsed,
    ErrorOutput? Error = null, int? ErrorLine = null)
{
    public bool Succeeded => Status is CellStatus.Ok or CellStatus.Skipped;
}

public sealed class SessionOptions
{
    /// <summary>The notebook's folder: relative <c>#r</c> paths, <c>#i</c> folders and <c>#load</c> resolve against it.</summary>
    public string WorkingDirectory { get; init; } = Environment.CurrentDirectory;

    /// <summary>NuGet resolution; null for a default <see cref="PackageResolver"/> over the global packages folder.</summary>
    public PackageResolver? PackageResolver { get; init; }

    /// <summary>Each cell fails with a timeout error past this; null for no limit.</summary>
    public TimeSpan? CellTimeout { get; init; }

    /// <summary>The torch backend for the TorchSharp-cpu substitution; null reads $NOTEBOOKLAB_TORCH_BACKEND.</summary>
    public string? TorchBackend { get; init; }
}

/// <summary>
/// A C# notebook session, executing cells in order with Roslyn scripting (<c>RunAsync</c>, then
/// <c>ContinueWithAsync</c>) so that variables, functions, types and usings carry across cells, as the
/// .NET Interactive C# kernel does: the same default imports, <c>display(...)</c> and <c>HTML(...)</c>, the trailing
/// expression's value shown as the cell's result, stdout/stderr captured per cell, and the magic commands
/// <c>#r "nuget: ..."</c>, <c>#i "nuget: ..."</c>, <c>#r "file.dll"</c>, <c>#!time</c>.
/// </summary>
/// <remarks>
/// A cell that times out or is cancelled cannot be stopped inside the process (.NET has no thread abort), so the
/// session is abandoned after it: later cells are refused. Hosts that must reclaim the CPU run each notebook in a
/// worker process and kill it (as <c>notebooklab run</c> does).
/// </remarks>
public sealed class NotebookSession : IDisposable
{
    /// <summary>The namespaces .NET Interactive's C# kernel imports by default.</summary>
    public static readonly IReadOnlyList<string> DefaultImports =
        ["System", "System.Text", "System.Collections", "System.Collections.Generic", "System.Threading.Tasks", "System.Linq"];

    static readonly Lazy<IReadOnlyList<MetadataReference>> frameworkReferences = new(LoadFrameworkReferences);
    static readonly Lazy<HashSet<string>> frameworkAssemblyNames = new(() =>
        FrameworkAssemblyPaths().Select(Path.GetFileNameWithoutExtension).OfType<string>().ToHashSet(StringComparer.OrdinalIgnoreCase));

    /// <summary>The shared-framework assemblies every session compiles against.</summary>
    internal static IReadOnlyList<MetadataReference> FrameworkReferences => frameworkReferences.Value;

    readonly SessionOptions options;
    readonly PackageResolver resolver;
    readonly SemaphoreSlim gate = new(1, 1);
    readonly List<PackageRequest> packages = [];
    readonly List<string> sources = [];
    readonly HashSet<string> referencedPaths = new(StringComparer.Ordinal);
    readonly HashSet<string> loadedPackageRoots = new(StringComparer.Ordinal);
    readonly Dictionary<string, CellLocation> cellFiles = new(StringComparer.Ordinal);
    ScriptOptions scriptOptions;
    ScriptState<object>? state;
    int executionCount;
    string? abandonedBecause;
    readonly object runningGate = new();
    CellRun? running;
    CancellationTokenSource? runningInterrupt;

    public NotebookSession(SessionOptions? options = null)
    {
        this.options = options ?? new SessionOptions();
        resolver = this.options.PackageResolver ?? new PackageResolver();
        ConsoleRouter.Install();
        MimeBundles.EnsureConfigured();
        scriptOptions = ScriptOptions.Default
            .WithLanguageVersion(LanguageVersion.Latest)
            .WithReferences(frameworkReferences.Value)
            .AddReferences(typeof(NotebookHelpers).Assembly,
                typeof(Microsoft.DotNet.Interactive.Formatting.Formatter).Assembly,
                typeof(Microsoft.AspNetCore.Html.IHtmlContent).Assembly)
            .WithImports(DefaultImports)
            .WithMetadataResolver(ScriptMetadataResolver.Default.WithBaseDirectory(this.options.WorkingDirectory))
            .WithSourceResolver(ScriptSourceResolver.Default.WithBaseDirectory(this.options.WorkingDirectory))
            .WithEmitDebugInformation(true)
            .WithFileEncoding(Encoding.UTF8)
            .WithAllowUnsafe(true);
    }

    /// <summary>Raised, on the thread that produced it, for every output, stream write and display update.</summary>
    public event Action<SessionEvent>? EventRaised;

    public int ExecutionCount => executionCount;

    /// <summary>
    /// Where <c>Console.ReadLine()</c> in a cell gets its line (a Jupyter kernel sends an input_request); null reads the
    /// process's standard input.
    /// </summary>
    public Func<InputRequest, string?>? InputProvider { get; set; }

    /// <summary>
    /// Interrupts the running cell: it fails with an "Interrupted" error at its next loop iteration or method call
    /// (see <see cref="Interrupts"/>), or, while its packages restore or its code compiles, at once. The session and its
    /// variables survive, and the next cell runs. Returns false when no cell is running.
    /// </summary>
    public bool Interrupt()
    {
        lock (runningGate)
        {
            if (running is null) return false;
            running.Interrupt();
            try { runningInterrupt?.Cancel(); } catch (ObjectDisposedException) { }
            return true;
        }
    }

    /// <summary>Completions at <paramref name="cursor"/> (a UTF-16 offset into <paramref name="code"/>), knowing the session's earlier cells.</summary>
    public async Task<Completions> CompleteAsync(string code, int cursor, CancellationToken cancellationToken = default) =>
        CodeAssistance.Complete(await CompilationForAsync(code, cancellationToken), cursor);

    /// <summary>The signature(s) and documentation of the symbol at <paramref name="cursor"/>, or null when there is none.</summary>
    public async Task<Inspection?> InspectAsync(string code, int cursor, CancellationToken cancellationToken = default) =>
        CodeAssistance.Inspect(await CompilationForAsync(code, cancellationToken), cursor);

    /// <summary>Whether <paramref name="code"/> is a whole cell (complete), needs more lines (incomplete), or cannot parse (invalid).</summary>
    public static CodeCompleteness IsComplete(string code) => CodeAssistance.IsComplete(code);

    /// <summary>The compilation <paramref name="code"/> would get as the next cell (magic-command lines blanked out).</summary>
    async Task<Compilation> CompilationForAsync(string code, CancellationToken cancellationToken)
    {
        if (state is null) await WarmUpAsync(cancellationToken);
        return state!.Script.ContinueWith(CodeAssistance.WithoutDirectives(code), scriptOptions.WithFilePath("inspected.csx")).GetCompilation();
    }

    string? ReadInput(InputRequest request) => InputProvider is { } provider ? provider(request) : Console.In.ReadLine();

    /// <summary>Why the session no longer accepts cells (a cell timed out or was cancelled), else null.</summary>
    public string? AbandonedBecause => abandonedBecause;

    /// <summary>The packages resolved so far (the union of every cell's <c>#r "nuget:"</c> lines, with dependencies).</summary>
    public PackageResolution? Packages { get; private set; }

    /// <summary>
    /// Compiles and runs the session prelude (imports, helpers) now, so that the compiler's one-time start-up cost is
    /// not charged to the first cell (and its timeout).
    /// </summary>
    public async Task WarmUpAsync(CancellationToken cancellationToken = default)
    {
        await gate.WaitAsync(cancellationToken);
        try { await EnsureStartedAsync(cancellationToken); }
        finally { gate.Release(); }
    }

    async Task EnsureStartedAsync(CancellationToken cancellationToken)
    {
        if (state is not null) return;
        var prelude = CSharpScript.Create($"using static {typeof(NotebookHelpers).FullName};", scriptOptions.WithFilePath("prelude.csx"));
        state = await prelude.RunAsync(null, _ => true, cancellationToken);
        // Compiles one trivial submission too: the first compilation with a trailing expression is the slow one.
        state = await state.ContinueWithAsync<object>("0", scriptOptions.WithFilePath("prelude.csx"), _ => true, cancellationToken);
    }

    /// <summary>Executes one cell. Never throws for problems in the cell: they come back as an error output.</summary>
    public async Task<CellResult> ExecuteAsync(string source, CellLocation? location = null, CancellationToken cancellationToken = default)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            if (abandonedBecause is not null)
                throw new InvalidOperationException($"This session was abandoned because {abandonedBecause}; start a new session.");
            location ??= new CellLocation(null, executionCount + 1);
            var stopwatch = Stopwatch.StartNew();

            CellDirectives directives;
            try { directives = CellDirectives.Parse(source); }
            catch (CellDirectiveException e)
            {
                var count = ++executionCount;
                return Fail(new CellRun(count, Raise), CellStatus.Error, "MagicCommandError", e.Message, location, e.Line, stopwatch.Elapsed);
            }
            if (directives.IsMarkdown) return new CellResult(CellStatus.Skipped, null, [], stopwatch.Elapsed);

            ConsoleRouter.Install();
            var run = new CellRun(++executionCount, Raise, InputProvider is null ? null : ReadInput);
            if (directives.ForeignKernel is { } foreign)
                return Fail(run, CellStatus.Error, "UnsupportedKernel",
                    $"this cell is for the '{foreign}' kernel; notebooklab runs C# cells only.", location, 1, stopwatch.Elapsed);

            using var interrupt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            lock (runningGate) { running = run; runningInterrupt = interrupt; }
            var work = Task.Run(() =>
            {
                ConsoleRouter.Current = run;
                return RunCellAsync(directives, run, location, interrupt.Token);
            }, CancellationToken.None);
            try
            {
                var outcome = options.CellTimeout is { } timeout
                    ? await work.WaitAsync(timeout, cancellationToken)
                    : await work.WaitAsync(cancellationToken);
                return outcome is null
                    ? new CellResult(CellStatus.Ok, run.ExecutionCount, run.Snapshot(), stopwatch.Elapsed)
                    : Fail(run, outcome.Value.Name == InterruptedName ? CellStatus.Interrupted : CellStatus.Error, outcome.Value.Name, outcome.Value.Message, location, outcome.Value.Line, stopwatch.Elapsed, outcome.Value.Traceback);
            }
            catch (TimeoutException)
            {
                abandonedBecause = $"{location.Describe()} timed out";
                return Fail(run, CellStatus.TimedOut, "TimeoutError",
                    $"the cell did not finish within {options.CellTimeout!.Value.TotalSeconds:0.###} s.", location, null, stopwatch.Elapsed);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                abandonedBecause = $"{location.Describe()} was cancelled";
                return Fail(run, CellStatus.Cancelled, "OperationCanceledException", "the cell was cancelled.", location, null, stopwatch.Elapsed);
            }
            catch (OperationCanceledException) when (run.IsInterrupted)
            {
                // Interrupted while restoring packages or compiling: the cell's code never ran.
                return Fail(run, CellStatus.Interrupted, InterruptedName, InterruptedMessage, location, null, stopwatch.Elapsed);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A failure of the engine itself (restore could not start, I/O error, ...): still the cell's error.
                return Fail(run, CellStatus.Error, e.GetType().FullName ?? "Error", $"{e.GetType().Name}: {e.Message}", location, null,
                    stopwatch.Elapsed, e.ToString().Split('\n'));
            }
            finally
            {
                lock (runningGate) { running = null; runningInterrupt = null; }
                run.Finished();
            }
        }
        finally
        {
            gate.Release();
        }
    }

    void Raise(SessionEvent e) => EventRaised?.Invoke(e);

    const string InterruptedName = "Interrupted";
    const string InterruptedMessage = "interrupted: the cell was stopped on request; the session and its variables are intact.";

    readonly record struct Failure(string Name, string Message, int? Line, IReadOnlyList<string>? Traceback = null);

    static CellResult Fail(CellRun run, CellStatus status, string name, string message, CellLocation location, int? line,
        TimeSpan elapsed, IReadOnlyList<string>? traceback = null)
    {
        var headline = $"{location.Describe(line)}: {message}";
        var error = new ErrorOutput(name, headline, traceback is { Count: > 0 } ? [headline, .. traceback] : [headline]);
        run.Add(error);
        return new CellResult(status, run.ExecutionCount, run.Snapshot(), elapsed, error, line);
    }

    /// <summary>Runs on a worker thread with the console routed to <paramref name="run"/>; returns null on success.</summary>
    async Task<Failure?> RunCellAsync(CellDirectives directives, CellRun run, CellLocation location, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        if (await AddPackagesAsync(directives, run, location, cancellationToken) is { } packageFailure) return packageFailure;

        foreach (var reference in directives.AssemblyReferences)
        {
            var path = Path.GetFullPath(Path.Combine(options.WorkingDirectory, reference.Value));
            if (!File.Exists(path))
                return new Failure("AssemblyReferenceError", $"#r \"{reference.Value}\": no such file ({path}).", reference.Line);
            AddReference(path);
        }

        if (!string.IsNullOrWhiteSpace(directives.Code))
        {
            var failure = await RunSubmissionAsync(directives.Code, location, run, cancellationToken);
            if (failure is not null) return failure;
        }
        if (directives.Time)
            run.Add(new DisplayOutput(new Dictionary<string, string> { [MimeBundles.PlainText] = $"Wall time: {stopwatch.Elapsed.TotalMilliseconds:0.####}ms" }));
        return null;
    }

    /// <summary>This engine as errors name it: "notebooklab 0.1.0-dev… (.NET 10.0.1)".</summary>
    static string HostDescription { get; } =
        $"notebooklab {typeof(NotebookSession).Assembly.GetCustomAttribute<System.Reflection.AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]} (.NET {Environment.Version})";

    async Task<Failure?> AddPackagesAsync(CellDirectives directives, CellRun run, CellLocation location, CancellationToken cancellationToken)
    {
        foreach (var source in directives.Sources)
        {
            var value = source.Value;
            if (!value.Contains("://", StringComparison.Ordinal))
            {
                value = Path.GetFullPath(Path.Combine(options.WorkingDirectory, value));
                if (!Directory.Exists(value))
                    return new Failure("PackageSourceError", $"#i \"nuget: {source.Value}\": the package source folder {value} does not exist.", source.Line);
            }
            if (!sources.Contains(value, StringComparer.Ordinal)) sources.Add(value);
        }
        if (directives.Packages.Count == 0) return null;

        var requested = new List<DirectiveLine<PackageRequest>>();
        foreach (var line in directives.Packages)
        {
            PackageRequest request;
            try { request = PackageResolver.ApplyTorchBackend(line.Value, options.TorchBackend); }
            catch (PackageResolutionException e) { return new Failure("PackageResolutionError", e.Message, line.Line); }
            var existing = packages.FirstOrDefault(p => p.Id.Equals(request.Id, StringComparison.OrdinalIgnoreCase));
            if (existing is not null && existing.Version != request.Version && request.Version is not null)
            {
                var loaded = Packages?.Packages.FirstOrDefault(p => p.Id.Equals(request.Id, StringComparison.OrdinalIgnoreCase));
                if (loaded is null || loaded.Version != request.Version)
                    return new Failure("PackageResolutionError",
                        $"package '{request.Id}' version {existing.Version ?? loaded?.Version ?? "latest"} is already loaded in this session; cannot also load version {request.Version}.", line.Line);
            }
            requested.Add(line with { Value = request });
        }

        var all = packages.ToList();
        foreach (var request in requested.Select(r => r.Value))
            if (!all.Any(p => p.Id.Equals(request.Id, StringComparison.OrdinalIgnoreCase))) all.Add(request);

        PackageResolution resolution;
        try
        {
            resolution = await resolver.ResolveAsync(all, sources, cancellationToken, options.WorkingDirectory);
        }
        catch (PackageResolutionException e)
        {
            var line = requested.FirstOrDefault(r => e.PackageId is not null && r.Value.Id.Equals(e.PackageId, StringComparison.OrdinalIgnoreCase))
                ?? requested.FirstOrDefault(r => e.Message.Contains(r.Value.Id, StringComparison.OrdinalIgnoreCase))
                ?? requested[0];
            var message = e.PackageId is null || e.PackageId.Equals(line.Value.Id, StringComparison.OrdinalIgnoreCase)
                ? $"#r \"nuget: {line.Value}\" in {HostDescription}: {e.Message}"
                : $"#r \"nuget: {line.Value}\" (dependency '{e.PackageId}') in {HostDescription}: {e.Message}";
            return new Failure("PackageResolutionError", message, line.Line);
        }
        packages.Clear();
        packages.AddRange(all);
        Packages = resolution;
        RuntimeAssets.Add(resolution);

        foreach (var path in ReferenceAssemblies(resolution)) AddReference(path);

        var installed = resolution.Packages
            .Where(p => requested.Any(r => r.Value.Id.Equals(p.Id, StringComparison.OrdinalIgnoreCase)))
            .Select(p => $"{p.Id}, {p.Version}").ToList();
        run.Add(new DisplayOutput(new Dictionary<string, string>
        {
            [MimeBundles.PlainText] = "Installed Packages\n" + string.Join("\n", installed.Select(p => "  • " + p)),
            [MimeBundles.Html] = "<div><strong>Installed Packages</strong><ul>"
                + string.Concat(installed.Select(p => $"<li><span>{System.Net.WebUtility.HtmlEncode(p)}</span></li>")) + "</ul></div>",
        }));

        // Extensions, as .NET Interactive loads them: each newly resolved package's interactive-extensions/dotnet/extension.dib.
        foreach (var package in resolution.Packages)
        {
            if (!loadedPackageRoots.Add(package.Root)) continue;
            var extension = Path.Combine(package.Root, "interactive-extensions", "dotnet", "extension.dib");
            if (!File.Exists(extension)) continue;
            if (await LoadExtensionAsync(package, extension, run, cancellationToken) is { } failure)
            {
                var line = requested.FirstOrDefault(r => r.Value.Id.Equals(package.Id, StringComparison.OrdinalIgnoreCase)) ?? requested[0];
                return failure with { Line = line.Line };
            }
        }
        return null;
    }

    async Task<Failure?> LoadExtensionAsync(ResolvedPackage package, string path, CellRun run, CancellationToken cancellationToken)
    {
        Notebook extension;
        try { extension = DibFormat.Read(path); }
        catch (NotebookFormatException e)
        {
            return new Failure("ExtensionLoadError", $"the extension of package '{package.Id}' {package.Version} cannot be read: {e.Message}", null);
        }
        int number = 0;
        foreach (var cell in extension.Cells)
        {
            number++;
            if (cell.Type != CellType.Code || (cell.KernelName ?? "csharp") != "csharp") continue;
            var where = new CellLocation(path, number);
            var failure = await RunSubmissionAsync(CellDirectives.Parse(cell.Source).Code, where, run, cancellationToken);
            if (failure is not null)
                return new Failure("ExtensionLoadError",
                    $"the extension of package '{package.Id}' {package.Version} ({path}) failed: {failure.Value.Message}", null, failure.Value.Traceback);
        }
        return null;
    }

    /// <summary>Package assemblies to compile against: runtime assets, minus what the shared framework provides.</summary>
    static IEnumerable<string> ReferenceAssemblies(PackageResolution resolution)
    {
        var runtime = resolution.RuntimeAssemblies.Where(p => p.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)).ToList();
        var names = runtime.Select(Path.GetFileNameWithoutExtension).ToHashSet(StringComparer.OrdinalIgnoreCase);
        // A package with reference assemblies only (no runtime asset of that name) still needs its compile asset.
        var compileOnly = resolution.CompileAssemblies.Where(p => p.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
            && !names.Contains(Path.GetFileNameWithoutExtension(p)));
        return runtime.Concat(compileOnly).Where(p => !frameworkAssemblyNames.Value.Contains(Path.GetFileNameWithoutExtension(p)));
    }

    void AddReference(string path)
    {
        // An assembly the host has already loaded is referenced from where it was loaded, so that the notebook and
        // the host share one copy (one Formatter registry, one TorchSharp).
        var name = Path.GetFileNameWithoutExtension(path);
        var hostCopy = AssemblyLoadContext.Default.Assemblies
            .FirstOrDefault(a => !a.IsDynamic && string.Equals(a.GetName().Name, name, StringComparison.OrdinalIgnoreCase) && a.Location.Length > 0);
        var reference = hostCopy?.Location ?? path;
        if (!referencedPaths.Add(reference)) return;
        scriptOptions = scriptOptions.AddReferences(MetadataReference.CreateFromFile(reference, documentation: Documentation(reference)));
    }

    async Task<Failure?> RunSubmissionAsync(string code, CellLocation location, CellRun run, CancellationToken cancellationToken)
    {
        var fileName = $"notebook-cell-{cellFiles.Count + 1}.csx";
        cellFiles[fileName] = location;
        var submissionOptions = scriptOptions.WithFilePath(fileName);
        try
        {
            await EnsureStartedAsync(cancellationToken);
            var next = await state!.ContinueWithAsync<object>(InterruptCheckInserter.Rewrite(code), submissionOptions, _ => true, cancellationToken);
            if (next.Exception is { } exception)
            {
                state = next;
                return DescribeException(exception, location);
            }
            state = next;
        }
        catch (CompilationErrorException e)
        {
            var errors = e.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).ToList();
            var first = errors.FirstOrDefault() ?? e.Diagnostics.First();
            int line = first.Location.GetLineSpan().StartLinePosition.Line + 1;
            var traceback = errors.Select(d =>
            {
                var span = d.Location.GetLineSpan().StartLinePosition;
                return $"{location.Describe(span.Line + 1)}, column {span.Character + 1}: error {d.Id}: {d.GetMessage()}";
            }).ToList();
            return new Failure("CompilationError", $"error {first.Id}: {first.GetMessage()}", line, traceback.Count > 1 ? traceback : null);
        }

        if (HasTrailingExpression(code, out var expression) && !IsVoid(expression))
            run.Add(new DisplayOutput(MimeBundles.Format(state.ReturnValue), ExecutionCount: run.ExecutionCount, IsExecuteResult: true));
        return null;
    }

    Failure DescribeException(Exception exception, CellLocation location)
    {
        while (exception is AggregateException { InnerExceptions.Count: 1 } aggregate) exception = aggregate.InnerExceptions[0];
        if (exception is TargetInvocationException { InnerException: { } inner }) exception = inner;
        if (exception is CellInterruptedException)
        {
            var at = new StackTrace(exception, fNeedFileInfo: true).GetFrames()
                .FirstOrDefault(f => f.GetFileName() is { } file && cellFiles.TryGetValue(Path.GetFileName(file), out var l) && ReferenceEquals(l, location));
            return new Failure(InterruptedName, InterruptedMessage, at?.GetFileLineNumber());
        }

        var frames = new StackTrace(exception, fNeedFileInfo: true).GetFrames()
            .Select(f => (File: f.GetFileName() is { } file ? Path.GetFileName(file) : null, Line: f.GetFileLineNumber()))
            .Where(f => f.File is not null && cellFiles.ContainsKey(f.File))
            .ToList();
        int? line = null;
        var chain = new List<string>();
        var message = $"{exception.GetType().FullName}: {exception.Message}";
        if (frames.Count > 0)
        {
            // The headline names this cell's line (the call site); where the exception was raised comes after.
            var own = frames.FirstOrDefault(f => ReferenceEquals(cellFiles[f.File!], location));
            line = own.File is not null ? own.Line : frames[0].Line;
            var raisedIn = cellFiles[frames[0].File!];
            if (!ReferenceEquals(raisedIn, location)) message += $" (raised in {raisedIn.Describe(frames[0].Line)})";
            chain.AddRange(frames.Skip(1).Select(f => $"called from {cellFiles[f.File!].Describe(f.Line)}").Distinct());
        }
        var traceback = new List<string>(chain);
        traceback.AddRange(exception.ToString().Split('\n').Select(l => l.TrimEnd('\r'))
            .Where(l => !l.Contains("Microsoft.CodeAnalysis.Scripting", StringComparison.Ordinal)
                && !l.Contains("System.Runtime.CompilerServices", StringComparison.Ordinal)
                && !l.Contains("--- End of stack trace", StringComparison.Ordinal)));
        return new Failure(exception.GetType().FullName ?? exception.GetType().Name, message, line, traceback);
    }

    static bool HasTrailingExpression(string code, out ExpressionSyntax expression)
    {
        var tree = CSharpSyntaxTree.ParseText(code, CSharpParseOptions.Default.WithKind(SourceCodeKind.Script).WithLanguageVersion(LanguageVersion.Latest));
        if (tree.GetCompilationUnitRoot().Members.LastOrDefault() is GlobalStatementSyntax { Statement: ExpressionStatementSyntax { SemicolonToken.IsMissing: true } statement })
        {
            expression = statement.Expression;
            return true;
        }
        expression = null!;
        return false;
    }

    bool IsVoid(ExpressionSyntax expression)
    {
        if (state is null || state.ReturnValue is not null) return false;
        var compilation = state.Script.GetCompilation();
        var tree = compilation.SyntaxTrees.Last();
        var node = tree.GetRoot().DescendantNodes().OfType<GlobalStatementSyntax>().LastOrDefault()?.Statement as ExpressionStatementSyntax;
        if (node is null) return false;
        var type = compilation.GetSemanticModel(tree).GetTypeInfo(node.Expression).Type;
        return type is null || type.SpecialType == SpecialType.System_Void
            || type.ToDisplayString() is "System.Threading.Tasks.Task" or "System.Threading.Tasks.ValueTask";
    }

    static IEnumerable<string> FrameworkAssemblyPaths()
    {
        var runtimeDirectory = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        return ((AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string) ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(p => string.Equals(Path.GetDirectoryName(p), runtimeDirectory, StringComparison.Ordinal));
    }

    static IReadOnlyList<MetadataReference> LoadFrameworkReferences()
    {
        var docs = FrameworkDocumentationDirectory();
        return FrameworkAssemblyPaths()
            .Where(p => !Path.GetFileName(p).StartsWith("Microsoft.VisualBasic", StringComparison.Ordinal))
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p,
                documentation: docs is null ? null : Documentation(Path.Combine(docs,
                    // CoreLib's public types are documented as the reference assembly that forwards to it.
                    Path.GetFileName(p) is "System.Private.CoreLib.dll" ? "System.Runtime.dll" : Path.GetFileName(p)))))
            .ToList();
    }

    /// <summary>An assembly's XML documentation (the .xml beside it), read lazily for inspection; null when there is none.</summary>
    static DocumentationProvider? Documentation(string assemblyPath)
    {
        var xml = Path.ChangeExtension(assemblyPath, ".xml");
        return File.Exists(xml) ? new XmlDocumentationFile(xml) : null;
    }

    /// <summary>
    /// The shared framework's XML documentation lives in the SDK's reference pack (packs/Microsoft.NETCore.App.Ref), not
    /// beside the runtime assemblies; null where only a runtime is installed.
    /// </summary>
    static string? FrameworkDocumentationDirectory()
    {
        try
        {
            var runtime = new DirectoryInfo(Path.GetDirectoryName(typeof(object).Assembly.Location)!);
            var packs = Path.Combine(runtime.Parent!.Parent!.Parent!.FullName, "packs", "Microsoft.NETCore.App.Ref");
            if (!Directory.Exists(packs)) return null;
            var version = Directory.Exists(Path.Combine(packs, runtime.Name)) ? runtime.Name
                : Directory.GetDirectories(packs).Select(Path.GetFileName).Where(v => v!.StartsWith($"{Environment.Version.Major}.", StringComparison.Ordinal)).Order().LastOrDefault();
            var dir = version is null ? null : Path.Combine(packs, version, "ref", $"net{Environment.Version.Major}.0");
            return dir is not null && Directory.Exists(dir) ? dir : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NullReferenceException) { return null; }
    }

    public void Dispose() => gate.Dispose();
}
