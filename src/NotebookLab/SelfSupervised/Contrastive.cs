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

/// <summary>
/// Crops a random region covering <see cref="Scale"/> of the image area with an aspect ratio in <see cref="Ratio"/>
/// and resizes it back to the input size (bilinear), as torchvision's <c>RandomResizedCrop</c>.
/// </summary>
public sealed class RandomResizedCrop((double Min, double Max)? scale = null, (double Min, double Max)? ratio = null, Random? random = null)
    : Augmentation(random)
{
    public (double Min, double Max) Scale { get; } = scale is { } s && (s.Min <= 0 || s.Max > 1 || s.Min > s.Max)
        ? throw new ArgumentOutOfRangeException(nameof(scale), s, "The area scale is a range inside (0, 1].")
        : scale ?? (0.08, 1.0);
    public (double Min, double Max) Ratio { get; } = ratio ?? (3.0 / 4, 4.0 / 3);

    protected override Tensor ApplyBatch(Tensor images)
    {
        long n = images.shape[0];
        var theta = new float[n * 6];
        for (long i = 0; i < n; i++)
        {
            double area = Uniform(Scale.Min, Scale.Max);
            double aspect = Math.Exp(Uniform(Math.Log(Ratio.Min), Math.Log(Ratio.Max)));
            double w = Math.Min(1, Math.Sqrt(area * aspect)), h = Math.Min(1, Math.Sqrt(area / aspect));   // fractions of width and height
            double cx = Uniform(-(1 - w), 1 - w), cy = Uniform(-(1 - h), 1 - h);                          // centre in [-1, 1] coordinates
            theta[i * 6 + 0] = (float)w; theta[i * 6 + 1] = 0; theta[i * 6 + 2] = (float)cx;
            theta[i * 6 + 3] = 0; theta[i * 6 + 4] = (float)h; theta[i * 6 + 5] = (float)cy;
        }
        var x = images.is_floating_point() ? images : images.to(float32);
        var matrices = torch.tensor(theta, dtype: x.dtype, device: x.device).reshape(n, 2, 3);
        var grid = nn.functional.affine_grid(matrices, x.shape, align_corners: false);
        return nn.functional.grid_sample(x, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Border, align_corners: false);
    }
}

/// <summary>
/// Brightness and contrast jitter for images in 0…1 (torchvision's <c>ColorJitter</c> without saturation and hue,
/// which greyscale images do not have): each image is scaled by a brightness factor in 1 ± <see cref="Brightness"/>,
/// its contrast around its own mean by a factor in 1 ± <see cref="Contrast"/>, then clamped to 0…1.
/// </summary>
public sealed class ColorJitter(double brightness = 0.4, double contrast = 0.4, Random? random = null) : Augmentation(random)
{
    public double Brightness { get; } = brightness is >= 0 and < 1 ? brightness : throw new ArgumentOutOfRangeException(nameof(brightness), brightness, "Between 0 and 1.");
    public double Contrast { get; } = contrast is >= 0 and < 1 ? contrast : throw new ArgumentOutOfRangeException(nameof(contrast), contrast, "Between 0 and 1.");

    protected override Tensor ApplyBatch(Tensor images)
    {
        long n = images.shape[0];
        var b = new float[n];
        var c = new float[n];
        for (long i = 0; i < n; i++)
        {
            b[i] = (float)Uniform(1 - Brightness, 1 + Brightness);
            c[i] = (float)Uniform(1 - Contrast, 1 + Contrast);
        }
        var x = images.is_floating_point() ? images : images.to(float32);
        var bright = x * torch.tensor(b, dtype: x.dtype, device: x.device).reshape(n, 1, 1, 1);
        var mean = bright.mean([1, 2, 3], keepdim: true);
        var contrasted = (bright - mean) * torch.tensor(c, dtype: x.dtype, device: x.device).reshape(n, 1, 1, 1) + mean;
        return contrasted.clamp(0, 1);
    }
}
