namespace NotebookLab.Tests.Support;

public static class RepoPaths
{
    /// <summary>The repository root: the folder holding NotebookLab.sln, found upwards from the test binaries.</summary>
    public static string Root { get; } = FindRoot();

    public static string Notebooks => Path.Combine(Root, "notebooks");
    public static string Data => Path.Combine(Root, "data");
    public static string LocalPackages => Path.Combine(Root, "artifacts", "packages");

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NotebookLab.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"NotebookLab.sln not found above {AppContext.BaseDirectory}");
    }
}
