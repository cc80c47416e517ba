using System.IO.Compression;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace NotebookLab.Tests.Support;

/// <summary>Builds small real assemblies and .nupkg files for tests, so NuGet resolution is tested without the network.</summary>
public static class TestPackages
{
    /// <summary>Compiles C# source into a library at <paramref name="path"/>.</summary>
    public static string CompileLibrary(string assemblyName, string source, string path, params string[] references)
    {
        var frameworkDir = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var refs = ((AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") as string) ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(p => Path.GetDirectoryName(p) == frameworkDir)
            .Concat(references)
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p));
        var compilation = CSharpCompilation.Create(assemblyName, [CSharpSyntaxTree.ParseText(source)], refs,
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var result = compilation.Emit(path);
        if (!result.Success)
            throw new InvalidOperationException(string.Join("\n", result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error)));
        return path;
    }

    /// <summary>Writes a .nupkg into <paramref name="folder"/>: nuspec (with dependencies) plus the given files by package path.</summary>
    public static string WriteNupkg(string folder, string id, string version, IReadOnlyDictionary<string, byte[]> files,
        params (string Id, string Version)[] dependencies)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"{id}.{version}.nupkg");
        var deps = dependencies.Length == 0 ? "" :
            "<dependencies><group targetFramework=\"net8.0\">" +
            string.Concat(dependencies.Select(d => $"<dependency id=\"{d.Id}\" version=\"{d.Version}\" />")) +
            "</group></dependencies>";
        var nuspec = $"""
            <?xml version="1.0" encoding="utf-8"?>
            <package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
              <metadata>
                <id>{id}</id>
                <version>{version}</version>
                <authors>tests</authors>
                <description>Test package {id}</description>
                {deps}
              </metadata>
            </package>
            """;
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        void Add(string name, byte[] content)
        {
            using var stream = zip.CreateEntry(name).Open();
            stream.Write(content);
        }
        Add($"{id}.nuspec", Encoding.UTF8.GetBytes(nuspec));
        Add("[Content_Types].xml", Encoding.UTF8.GetBytes(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">" +
            "<Default Extension=\"nuspec\" ContentType=\"application/octet\" /><Default Extension=\"dll\" ContentType=\"application/octet\" />" +
            "<Default Extension=\"dib\" ContentType=\"application/octet\" /><Default Extension=\"so\" ContentType=\"application/octet\" /></Types>"));
        foreach (var (name, content) in files) Add(name, content);
        return path;
    }
}
