using System.Runtime.CompilerServices;
using NotebookLab.Native;

namespace NotebookLab.Tests;

static class TestSetup
{
    /// <summary>Every test process makes TorchSharp loadable before the first tensor, as every host does.</summary>
    [ModuleInitializer]
    internal static void MakeTorchLoadable() => TorchSharpNative.EnsureLoadable();
}
