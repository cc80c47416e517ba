using static TorchSharp.torch;

namespace NotebookLab.Tests;

static class TensorComparison
{
    /// <summary>Same shape and exactly equal elements (NaN never equal).</summary>
    public static bool SameAs(this Tensor a, Tensor b) =>
        a.shape.SequenceEqual(b.shape) && (a.NumberOfElements == 0 || a.eq(b.to(a.device)).all().item<bool>());
}
