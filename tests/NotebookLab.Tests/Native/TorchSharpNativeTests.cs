using NotebookLab.Native;
using TorchSharp;

namespace NotebookLab.Tests.Native;

public class TorchSharpNativeTests
{
    static string OriginalLibrary =>
        TorchSharpNative.EnsureLoadable().OriginalLibrary ?? throw new InvalidOperationException("libLibTorchSharp.so not found");

    static ElfFile SystemLibStdCxx()
    {
        var path = TorchSharpNative.EnsureLoadable().LibStdCxxPath ?? throw new InvalidOperationException("no libstdc++ in process");
        return ElfFile.Read(path);
    }

    [Fact]
    public void Torch_runs_after_the_fix()
    {
        var report = TorchSharpNative.EnsureLoadable();
        Assert.NotEqual(NativeFixStatus.BackendNotFound, report.Status);
        using var scope = torch.NewDisposeScope();
        var x = torch.arange(6, dtype: torch.float32).reshape(2, 3);
        Assert.Equal(15f, x.sum().item<float>());
        Assert.Equal(new long[] { 3, 2 }, x.T.shape);
    }

    [Fact]
    public void The_fix_is_needed_exactly_when_the_system_libstdcxx_lacks_a_needed_version()
    {
        if (!OperatingSystem.IsLinux()) return;
        var needs = ElfFile.Read(OriginalLibrary).VersionNeeds.Where(n => n.File.StartsWith("libstdc++")).ToList();
        var defined = SystemLibStdCxx().VersionDefinitions.ToHashSet();
        var missing = needs.Where(n => !defined.Contains(n.Name)).Select(n => n.Name).ToList();
        var report = TorchSharpNative.EnsureLoadable();
        if (missing.Count == 0)
        {
            Assert.Equal(NativeFixStatus.NotNeeded, report.Status);
        }
        else
        {
            // Debian 12 / Ubuntu 22.04: libstdc++ stops at GLIBCXX_3.4.30, TorchSharp 0.107.0 asks for 3.4.32.
            Assert.Equal(NativeFixStatus.Applied, report.Status);
            Assert.Equal(missing, report.MissingVersions);
            Assert.NotEqual(report.OriginalLibrary, report.LoadedLibrary);
            Assert.Equal(report.LoadedLibrary, TorchSharpNative.LoadedLibraryPath("libLibTorchSharp.so"));
        }
    }

    [Fact]
    public void The_original_in_the_package_is_left_untouched_and_the_copy_differs_only_in_the_weak_flags()
    {
        var report = TorchSharpNative.EnsureLoadable();
        if (report.Status != NativeFixStatus.Applied) return;
        var original = ElfFile.Read(report.OriginalLibrary!);
        var patched = ElfFile.Read(report.LoadedLibrary!);
        Assert.All(original.VersionNeeds, n => Assert.False(n.IsWeak));
        var changed = patched.VersionNeeds.Where(n => n.IsWeak).Select(n => n.Name).ToList();
        Assert.Equal(report.MissingVersions, changed);
        var a = File.ReadAllBytes(report.OriginalLibrary!);
        var b = File.ReadAllBytes(report.LoadedLibrary!);
        Assert.Equal(a.Length, b.Length);
        // VER_FLG_WEAK (0x2) changes one byte per weakened version, and nothing else changes.
        Assert.Equal(changed.Count, a.Zip(b).Count(p => p.First != p.Second));
    }

    [Fact]
    public void Without_the_fix_the_package_library_does_not_load_here()
    {
        var report = TorchSharpNative.EnsureLoadable();
        if (report.Status != NativeFixStatus.Applied) return; // nothing to prove where the system is new enough
        // The dynamic loader refuses the untouched copy (a failed dlopen leaves nothing loaded).
        var error = Assert.Throws<DllNotFoundException>(() => System.Runtime.InteropServices.NativeLibrary.Load(report.OriginalLibrary!));
        Assert.Contains(report.MissingVersions[0], error.Message);
    }

    [Fact]
    public void Only_the_marker_symbol_uses_the_missing_version()
    {
        var elf = ElfFile.Read(OriginalLibrary);
        var need = elf.VersionNeeds.Single(n => n.Name == "GLIBCXX_3.4.32");
        Assert.Equal(new[] { "_ZSt21ios_base_library_initv" }, elf.SymbolsUsingVersion(need.Index));
    }

    [Fact]
    public void The_elf_reader_rejects_a_file_that_is_not_elf()
    {
        var path = Path.GetTempFileName();
        File.WriteAllText(path, "not a shared library");
        var error = Assert.Throws<InvalidDataException>(() => ElfFile.Read(path));
        Assert.Contains(path, error.Message);
        File.Delete(path);
    }
}
