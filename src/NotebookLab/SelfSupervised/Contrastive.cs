using NotebookLab.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.SelfSupervised;

/// <summary>
/// Contrastive learning (SimCLR, Chen et al. 2020): two augmented views of each image should map to nearby unit
/// vectors, and views of different images to distant ones.
/// </summary>
public static class Contrastive
{
    /// <summary>
    /// NT-Xent, the normalised temperature-scaled cross-entropy of SimCLR. z1 and z2 are [N, D]; row i of each comes
    /// from the same image. With the 2N rows L2-normalised and s(i, k) their cosine similarity,
    /// ℓ(i) = −log( exp(s(i, j(i))/τ) / Σ_{k≠i} exp(s(i, k)/τ) ) where j(i) is i's partner view, averaged over all 2N rows.
    /// When every embedding is the same the loss is exactly log(2N − 1).
    /// </summary>
    public static Tensor NtXent(Tensor z1, Tensor z2, double temperature = 0.5)
    {
        ArgumentNullException.ThrowIfNull(z1);
        ArgumentNullException.ThrowIfNull(z2);
        if (z1.ndim != 2 || !z1.shape.SequenceEqual(z2.shape))
            throw new ArgumentException($"NtXent expects two views [N, D] of the same shape; found z1 {Shapes.Format(z1)} and z2 {Shapes.Format(z2)}.");
        if (z1.shape[0] < 2) throw new ArgumentException($"NtXent needs at least 2 images per batch (negatives); found z1 {Shapes.Format(z1)}.", nameof(z1));
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "The temperature must be positive.");
        using var scope = torch.NewDisposeScope();
        long n = z1.shape[0];
        var z = nn.functional.normalize(torch.cat([z1, z2], 0), dim: 1);
        var logits = z.matmul(z.T) / temperature;
        var self = torch.eye(2 * n, dtype: ScalarType.Bool, device: z.device);
        logits = logits.masked_fill(self, double.NegativeInfinity);
        var partner = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device);
        return nn.functional.cross_entropy(logits, partner).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Alignment (Wang and Isola 2020): the mean of ‖f(x) − f(x⁺)‖^α over positive pairs, on L2-normalised embeddings
    /// [N, D]. 0 when the two views always map to the same point; at most 2^α.
    /// </summary>
    public static double Alignment(Tensor z1, Tensor z2, double alpha = 2)
    {
        if (z1.ndim != 2 || !z1.shape.SequenceEqual(z2.shape))
            throw new ArgumentException($"Alignment expects two views [N, D] of the same shape; found {Shapes.Format(z1)} and {Shapes.Format(z2)}.");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var a = nn.functional.normalize(z1.to(float64), dim: 1);
        var b = nn.functional.normalize(z2.to(float64), dim: 1);
        return (a - b).norm(1).pow(alpha).mean().item<double>();
    }

    /// <summary>
    /// Uniformity (Wang and Isola 2020): log of the mean of exp(−t‖f(x) − f(y)‖²) over all pairs of distinct rows of
    /// L2-normalised embeddings [N, D]. 0 when everything collapses to one point; more negative is more spread out.
    /// </summary>
    public static double Uniformity(Tensor z, double t = 2)
    {
        if (z.ndim != 2 || z.shape[0] < 2) throw new ArgumentException($"Uniformity expects embeddings [N, D] with N ≥ 2; found {Shapes.Format(z)}.", nameof(z));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var u = nn.functional.normalize(z.to(float64), dim: 1);
        var squared = (2 - 2 * u.matmul(u.T)).clamp_min(0);
        long n = z.shape[0];
        var offDiagonal = ~torch.eye(n, dtype: ScalarType.Bool, device: u.device);
        return squared.masked_select(offDiagonal).mul(-t).exp().mean().log().item<double>();
    }

    /// <summary>
    /// The SimCLR recipe for small greyscale images, from composable augmentations: a random resized crop (the most
    /// important one), a horizontal flip, brightness and contrast jitter, and a little Gaussian noise.
    /// </summary>
    public static Augmentation SimClrAugmentation(double minScale = 0.35, double jitter = 0.4, double noise = 0.05, Random? random = null)
    {
        random ??= Lab.NextRandom();
        return Augmentation.Compose(
            new RandomResizedCrop(scale: (minScale, 1.0), random: new Random(random.Next())),
            new RandomHorizontalFlip(0.5, new Random(random.Next())),
            new ColorJitter(brightness: jitter, contrast: jitter, random: new Random(random.Next())),
            new GaussianNoise(noise, clamp: (0, 1)));
    }
}
