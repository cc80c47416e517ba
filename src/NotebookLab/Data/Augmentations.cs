using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Data;

/// <summary>
/// A random image transformation applied to a batch [N, C, H, W] (a single image [C, H, W] works too), each image
/// drawing its own random parameters. Compose them with <see cref="Compose"/>; use one as a
/// <see cref="DataLoader"/> transform, or call <see cref="TwoViews"/> for contrastive learning.
/// </summary>
/// <remarks>
/// Per-image choices come from the augmentation's own <see cref="System.Random"/>, drawn from <c>Lab.Random</c> unless
/// one is given; pixel noise comes from torch's generator. <c>Lab.Seed(n)</c> before creating them makes both reproducible.
/// Input batches are never modified; a new tensor is returned.
/// </remarks>
public abstract class Augmentation
{
    protected Augmentation(Random? random) => Random = random ?? Lab.NextRandom();

    protected Random Random { get; }

    /// <summary>Transforms a batch [N, C, H, W] or one image [C, H, W].</summary>
    public Tensor Apply(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.ndim == 3)
        {
            using var scope = torch.NewDisposeScope();
            return ApplyBatch(images.unsqueeze(0)).squeeze(0).MoveToOuterDisposeScope();
        }
        if (images.ndim != 4)
            throw new ArgumentException($"{GetType().Name} expects images [N, C, H, W] or [C, H, W]; found {Shapes.Format(images)}.", nameof(images));
        using (var scope = torch.NewDisposeScope())
            return ApplyBatch(images).MoveToOuterDisposeScope();
    }

    /// <summary>Two independently augmented views of the same batch (SimCLR-style positive pairs).</summary>
    public (Tensor View1, Tensor View2) TwoViews(Tensor images) => (Apply(images), Apply(images));

    protected abstract Tensor ApplyBatch(Tensor images);

    /// <summary>Use as a <see cref="DataLoader"/> transform: <c>transform: augment</c>.</summary>
    public static implicit operator Func<Tensor, Tensor>(Augmentation augmentation) => augmentation.Apply;

    protected double Uniform(double low, double high) => low + (high - low) * Random.NextDouble();

    /// <summary>Runs the augmentations in order.</summary>
    public static Augmentation Compose(params Augmentation[] steps) => new ComposeAugmentation(steps);
}

/// <summary>Applies several augmentations in order.</summary>
public sealed class ComposeAugmentation(IReadOnlyList<Augmentation> steps) : Augmentation(null)
{
    public IReadOnlyList<Augmentation> Steps { get; } = steps;

    protected override Tensor ApplyBatch(Tensor images)
    {
        var x = images;
        foreach (var step in Steps) x = step.Apply(x);
        return ReferenceEquals(x, images) ? images.clone() : x;
    }
}

/// <summary>Pads each side with zeros by <see cref="Padding"/> pixels, then cuts a random crop of the original size.</summary>
public sealed class RandomCrop(int padding = 4, Random? random = null) : Augmentation(random)
{
    public int Padding { get; } = padding >= 0 ? padding : throw new ArgumentOutOfRangeException(nameof(padding), padding, "Padding must not be negative.");

    protected override Tensor ApplyBatch(Tensor images)
    {
        long n = images.shape[0], h = images.shape[2], w = images.shape[3];
        var padded = nn.functional.pad(images, [Padding, Padding, Padding, Padding]);
        var crops = new Tensor[n];
        for (long i = 0; i < n; i++)
        {
            long top = Random.Next(2 * Padding + 1), left = Random.Next(2 * Padding + 1);
            crops[i] = padded[i].narrow(1, top, h).narrow(2, left, w);
        }
        return torch.stack(crops);
    }
}

/// <summary>Mirrors each image left–right with probability <see cref="P"/>.</summary>
public sealed class RandomHorizontalFlip(double p = 0.5, Random? random = null) : Augmentation(random)
{
    public double P { get; } = p is >= 0 and <= 1 ? p : throw new ArgumentOutOfRangeException(nameof(p), p, "A probability is between 0 and 1.");

    protected override Tensor ApplyBatch(Tensor images)
    {
        long n = images.shape[0];
        var flip = new bool[n];
        for (long i = 0; i < n; i++) flip[i] = Random.NextDouble() < P;
        var mask = torch.tensor(flip, device: images.device).reshape(n, 1, 1, 1);
        return torch.where(mask, images.flip(3), images);
    }
}

/// <summary>Rotates each image by a random angle in ±<see cref="Degrees"/> (bilinear, zeros outside).</summary>
public sealed class RandomRotation(double degrees = 15, Random? random = null) : Augmentation(random)
{
    public double Degrees { get; } = degrees >= 0 ? degrees : throw new ArgumentOutOfRangeException(nameof(degrees), degrees, "Use a non-negative maximum angle.");

    protected override Tensor ApplyBatch(Tensor images)
    {
        long n = images.shape[0];
        var theta = new float[n * 6];
        for (long i = 0; i < n; i++)
        {
            double a = Uniform(-Degrees, Degrees) * Math.PI / 180;
            float c = (float)Math.Cos(a), s = (float)Math.Sin(a);
            theta[i * 6 + 0] = c; theta[i * 6 + 1] = -s; theta[i * 6 + 2] = 0;
            theta[i * 6 + 3] = s; theta[i * 6 + 4] = c; theta[i * 6 + 5] = 0;
        }
        var x = images.is_floating_point() ? images : images.to(float32);
        var matrices = torch.tensor(theta, dtype: x.dtype, device: x.device).reshape(n, 2, 3);
        var grid = nn.functional.affine_grid(matrices, x.shape, align_corners: false);
        return nn.functional.grid_sample(x, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Zeros, align_corners: false);
    }
}

/// <summary>Adds Gaussian noise with standard deviation <see cref="Std"/>, optionally clamped to a range.</summary>
public sealed class GaussianNoise(double std = 0.1, (double Min, double Max)? clamp = null) : Augmentation(null)
{
    public double Std { get; } = std >= 0 ? std : throw new ArgumentOutOfRangeException(nameof(std), std, "The noise std must not be negative.");

    protected override Tensor ApplyBatch(Tensor images)
    {
        var noisy = images + torch.randn_like(images) * Std;
        return clamp is { } range ? noisy.clamp(range.Min, range.Max) : noisy;
    }
}

/// <summary>
/// Random erasing (Zhong et al. 2017): with probability <see cref="P"/>, sets a random rectangle covering
/// <see cref="Scale"/> of the image area, with aspect ratio in <see cref="Ratio"/>, to <see cref="Value"/>.
/// </summary>
public sealed class RandomErasing(double p = 0.5, (double Min, double Max)? scale = null, (double Min, double Max)? ratio = null,
    double value = 0, Random? random = null) : Augmentation(random)
{
    public double P { get; } = p is >= 0 and <= 1 ? p : throw new ArgumentOutOfRangeException(nameof(p), p, "A probability is between 0 and 1.");
    public (double Min, double Max) Scale { get; } = scale ?? (0.02, 0.33);
    public (double Min, double Max) Ratio { get; } = ratio ?? (0.3, 3.3);
    public double Value { get; } = value;

    protected override Tensor ApplyBatch(Tensor images)
    {
        long n = images.shape[0], h = images.shape[2], w = images.shape[3];
        var result = images.clone();
        for (long i = 0; i < n; i++)
        {
            if (Random.NextDouble() >= P) continue;
            for (int attempt = 0; attempt < 10; attempt++)
            {
                double area = h * w * Uniform(Scale.Min, Scale.Max);
                double aspect = Math.Exp(Uniform(Math.Log(Ratio.Min), Math.Log(Ratio.Max)));
                long eh = (long)Math.Round(Math.Sqrt(area * aspect)), ew = (long)Math.Round(Math.Sqrt(area / aspect));
                if (eh < 1 || ew < 1 || eh > h || ew > w) continue;
                long top = Random.NextInt64(h - eh + 1), left = Random.NextInt64(w - ew + 1);
                using var region = result[i].narrow(1, top, eh).narrow(2, left, ew);
                region.fill_(Value);
                break;
            }
        }
        return result;
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
