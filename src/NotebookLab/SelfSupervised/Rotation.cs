using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.SelfSupervised;

/// <summary>
/// The rotation pretext task (RotNet, Gidaris et al. 2018): turn each image by 0°, 90°, 180° or 270° and ask a network
/// which one it was. The label is the number of quarter turns k ∈ {0, 1, 2, 3}; no human labels are needed.
/// </summary>
public static class Rotation
{
    /// <summary>Four classes: 0°, 90°, 180°, 270°.</summary>
    public const int Classes = 4;

    /// <summary>Class names for the four labels.</summary>
    public static IReadOnlyList<string> ClassNames { get; } = ["0°", "90°", "180°", "270°"];

    /// <summary>Turns every image of a batch [N, C, H, W] (H = W) by <paramref name="quarterTurns"/> × 90° counter-clockwise.</summary>
    public static Tensor Rotate(Tensor images, int quarterTurns)
    {
        CheckImages(images, nameof(images));
        return images.rot90(((quarterTurns % 4) + 4) % 4, (2, 3));
    }

    /// <summary>
    /// Every image in all four orientations: images [4N, C, H, W] (block k holds the batch turned k times) and labels [4N].
    /// Balanced by construction, so chance accuracy is exactly 25%.
    /// </summary>
    public static (Tensor Images, Tensor Labels) AllRotations(Tensor images)
    {
        CheckImages(images, nameof(images));
        using var scope = torch.NewDisposeScope();
        long n = images.shape[0];
        var rotated = torch.cat(Enumerable.Range(0, Classes).Select(k => Rotate(images, k)).ToArray(), 0);
        var labels = torch.arange(Classes, dtype: int64, device: images.device).repeat_interleave(n);
        return (rotated.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }

    /// <summary>Each image turned by its own random number of quarter turns: images [N, C, H, W] and labels [N].</summary>
    public static (Tensor Images, Tensor Labels) RandomRotations(Tensor images, Generator? generator = null)
    {
        CheckImages(images, nameof(images));
        using var scope = torch.NewDisposeScope();
        long n = images.shape[0];
        var labels = torch.randint(0, Classes, [n], generator: generator, dtype: int64).to(images.device);
        var result = images.clone();
        for (int k = 1; k < Classes; k++)
        {
            var mask = (labels == k).reshape(n, 1, 1, 1);
            result = torch.where(mask, Rotate(images, k), result);
        }
        return (result.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }

    /// <summary>Undoes <see cref="RandomRotations"/>: turns image i back by labels[i] quarter turns.</summary>
    public static Tensor Unrotate(Tensor images, Tensor labels)
    {
        CheckImages(images, nameof(images));
        if (labels.ndim != 1 || labels.shape[0] != images.shape[0])
            throw new ArgumentException($"Unrotate needs one label per image: images {Shapes.Format(images)}, labels {Shapes.Format(labels)}.", nameof(labels));
        using var scope = torch.NewDisposeScope();
        long n = images.shape[0];
        var result = images.clone();
        for (int k = 1; k < Classes; k++)
        {
            var mask = (labels.to(images.device) == k).reshape(n, 1, 1, 1);
            result = torch.where(mask, Rotate(images, -k), result);
        }
        return result.MoveToOuterDisposeScope();
    }

    static void CheckImages(Tensor images, string name)
    {
        ArgumentNullException.ThrowIfNull(images, name);
        if (images.ndim != 4 || images.shape[2] != images.shape[3])
            throw new ArgumentException($"Rotation expects square images [N, C, H, W] with H = W; found {Shapes.Format(images)}.", name);
    }
}
