using NotebookLab.Engine.Packages;

namespace NotebookLab.Engine.Execution;

/// <summary>A bad magic command or directive; <see cref="Line"/> is 1-based within the cell.</summary>
public sealed class CellDirectiveException(string message, int line) : Exception(message)
{
    public int Line { get; } = line;
}

/// <summary>A <c>#r "nuget: ..."</c> or <c>#i "nuget: ..."</c> or <c>#r "file.dll"</c> line of a cell.</summary>
public sealed record DirectiveLine<T>(T Value, int Line);

/// <summary>
/// The magic commands of one cell, taken out of its code. Removed lines are replaced by empty lines so that
/// Roslyn's line numbers are the cell's own line numbers.
/// </summary>
public sealed class CellDirectives
{
    /// <summary>Magic commands this engine implements, for error messages.</summary>
    public const string Supported = "#r \"nuget: Name, Version\", #i \"nuget: source\", #r \"file.dll\", #!time, #!csharp, #!markdown";

    public string Code { get; private set; } = "";
    public List<DirectiveLine<PackageRequest>> Packages { get; } = [];
    public List<DirectiveLine<string>> Sources { get; } = [];
    public List<DirectiveLine<string>> AssemblyReferences { get; } = [];
    public bool Time { get; private set; }

    /// <summary>True when the cell opened with <c>#!markdown</c> / <c>#!md</c>: it is prose, not code.</summary>
    public bool IsMarkdown { get; private set; }

    /// <summary>A kernel other than C# that the cell selects (#!fsharp, #!pwsh, ...), else null.</summary>
    public string? ForeignKernel { get; private set; }

    public static CellDirectives Parse(string source)
    {
        var lines = source.Replace("\r\n", "\n").Split('\n');
        var directives = new CellDirectives();
        bool sawCode = false;
        for (int i = 0; i < lines.Length; i++)
        {
            var trimmed = lines[i].Trim();
            int lineNumber = i + 1;
            if (trimmed.StartsWith("#!", StringComparison.Ordinal))
            {
                var name = trimmed[2..].Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
                switch (name)
                {
                    case "csharp" or "c#" or "C#" when !sawCode:
                        break;
                    case "markdown" or "md" when !sawCode:
                        directives.IsMarkdown = true;
                        directives.Code = string.Join("\n", lines.Skip(i + 1));
                        return directives;
                    case "time":
                        if (sawCode)
                            throw new CellDirectiveException("#!time must come before the cell's code.", lineNumber);
                        directives.Time = true;
                        break;
                    default:
                        if (!sawCode && Notebooks.DibFormat.KernelSelectors.TryGetValue(name, out var kernel) && kernel != "csharp")
                        {
                            directives.ForeignKernel = kernel;
                            break;
                        }
                        throw new CellDirectiveException(
                            $"unknown magic command '#!{name}'. This engine supports {Supported}.", lineNumber);
                }
                lines[i] = "";
                continue;
            }
            if (trimmed.StartsWith("#r ", StringComparison.Ordinal) || trimmed.StartsWith("#i ", StringComparison.Ordinal)
                || trimmed is "#r" or "#i")
            {
                var argument = QuotedArgument(trimmed, lineNumber);
                bool isReference = trimmed[1] == 'r';
                if (argument.StartsWith("nuget:", StringComparison.OrdinalIgnoreCase))
                {
                    var value = argument["nuget:".Length..].Trim();
                    if (isReference) directives.Packages.Add(new(ParsePackage(value, lineNumber), lineNumber));
                    else
                    {
                        if (value.Length == 0) throw new CellDirectiveException("#i \"nuget:\" needs a package source (a URL or a folder).", lineNumber);
                        directives.Sources.Add(new(value, lineNumber));
                    }
                }
                else if (isReference)
                    directives.AssemblyReferences.Add(new(argument, lineNumber));
                else
                    throw new CellDirectiveException($"#i expects \"nuget: <source>\", got \"{argument}\".", lineNumber);
                lines[i] = "";
                continue;
            }
            if (trimmed.Length > 0 && !trimmed.StartsWith("//", StringComparison.Ordinal)) sawCode = true;
        }
        directives.Code = string.Join("\n", lines);
        return directives;
    }

    CellDirectives() { }

    static string QuotedArgument(string line, int lineNumber)
    {
        var rest = line[2..].Trim();
        if (rest.Length < 2 || rest[0] != '"' || rest.IndexOf('"', 1) < 0)
            throw new CellDirectiveException($"{line[..2]} expects a quoted argument, e.g. #r \"nuget: TorchSharp-cpu, 0.107.0\".", lineNumber);
        int close = rest.IndexOf('"', 1);
        if (rest[(close + 1)..].Trim() is { Length: > 0 } extra && !extra.StartsWith("//", StringComparison.Ordinal))
            throw new CellDirectiveException($"unexpected text after the quoted argument of {line[..2]}: '{extra}'.", lineNumber);
        return rest[1..close].Trim();
    }

    static PackageRequest ParsePackage(string value, int lineNumber)
    {
        var parts = value.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length > 2 || parts[0].Length == 0)
            throw new CellDirectiveException($"#r \"nuget: {value}\" is not of the form \"nuget: Name\" or \"nuget: Name, Version\".", lineNumber);
        var version = parts.Length == 2 && parts[1].Length > 0 ? parts[1] : null;
        if (parts[0].Any(c => char.IsWhiteSpace(c) || c is '"' or '/' or '\\'))
            throw new CellDirectiveException($"'{parts[0]}' is not a valid package id.", lineNumber);
        return new PackageRequest(parts[0], version);
    }
}
