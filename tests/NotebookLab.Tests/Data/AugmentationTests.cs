using NotebookLab.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Tests.Data;

public class AugmentationTests
{
    static Tensor Images(int n = 8) => torch.rand(n, 1, 12, 12, generator: new Generator(7));

    [Fact]
    public void Flip_with_probability_one_mirrors_and_zero_keeps()
    {
        var x = Images();
        Assert.True(new RandomHorizontalFlip(1.0, new Random(1)).Apply(x).SameAs(x.flip(3)));
        Assert.True(new RandomHorizontalFlip(0.0, new Random(1)).Apply(x).SameAs(x));
        var half = new RandomHorizontalFlip(0.5, new Random(2)).Apply(Images(200));
        long flipped = Enumerable.Range(0, 200).Count(i => half[i].SameAs(Images(200)[i].flip(2)));
        Assert.InRange(flipped, 70, 130);
    }

    [Fact]
    public void Random_crop_shifts_each_image_within_the_padding()
    {
        var x = Images();
        Assert.True(new RandomCrop(0, new Random(1)).Apply(x).SameAs(x));
        var cropped = new RandomCrop(2, new Random(1)).Apply(x);
        Assert.Equal(x.shape, cropped.shape);
        var padded = nn.functional.pad(x, [2, 2, 2, 2]);
        for (int i = 0; i < 8; i++)
        {
            bool found = false;
            for (int top = 0; top <= 4 && !found; top++)
                for (int left = 0; left <= 4 && !found; left++)
                    found = padded[i].narrow(1, top, 12).narrow(2, left, 12).SameAs(cropped[i]);
            Assert.True(found, $"image {i} is not a window of the padded image");
        }
    }

    [Fact]
    public void Rotation_by_zero_degrees_is_the_identity_and_rotation_keeps_shape()
    {
        var x = Images();
        Assert.True(new RandomRotation(0).Apply(x).allclose(x, rtol: 1e-4, atol: 1e-5));
        var rotated = new RandomRotation(30, new Random(1)).Apply(x);
        Assert.Equal(x.shape, rotated.shape);
        Assert.False(rotated.allclose(x, atol: 1e-3));
    }

    [Fact]
    public void Noise_has_the_requested_std_and_clamping_holds()
    {
        var x = torch.full(1000, 1, 4, 4, 0.5f);
        var noisy = new GaussianNoise(0.1).Apply(x);
        Assert.InRange((noisy - x).std().item<float>(), 0.095, 0.105);
        var clamped = new GaussianNoise(2.0, clamp: (0, 1)).Apply(x);
        Assert.Equal(0f, clamped.min().item<float>());
        Assert.Equal(1f, clamped.max().item<float>());
    }

    [Fact]
    public void Random_erasing_blanks_a_rectangle_of_the_requested_area()
    {
        var x = torch.ones(50, 1, 20, 20);
        var erased = new RandomErasing(p: 1.0, scale: (0.1, 0.2), random: new Random(4)).Apply(x);
        for (int i = 0; i < 50; i++)
        {
            var zeros = erased[i].eq(0).nonzero();
            long count = zeros.shape[0];
            Assert.InRange(count, 0.1 * 400 * 0.8, 0.2 * 400 * 1.25);
            long rows = zeros[.., 1].max().item<long>() - zeros[.., 1].min().item<long>() + 1;
            long cols = zeros[.., 2].max().item<long>() - zeros[.., 2].min().item<long>() + 1;
            Assert.Equal(rows * cols, count); // a solid rectangle
        }
        Assert.Equal(1f, x.min().item<float>()); // input untouched
    }

    [Fact]
    public void Compose_applies_in_order_and_two_views_differ()
    {
        var x = Images();
        var flipThenErase = Augmentation.Compose(new RandomHorizontalFlip(1.0, new Random(1)), new RandomErasing(1.0, random: new Random(2)));
        var expected = new RandomErasing(1.0, random: new Random(2)).Apply(x.flip(3));
        Assert.True(flipThenErase.Apply(x).SameAs(expected));
        var contrastive = Augmentation.Compose(new RandomCrop(2), new RandomHorizontalFlip(), new GaussianNoise(0.05));
        var (a, b) = contrastive.TwoViews(x);
        Assert.Equal(x.shape, a.shape);
        Assert.False(a.SameAs(b));
        Assert.Equal([1L, 12, 12], contrastive.Apply(x[0]).shape);
    }

    [Fact]
    public void Wrong_rank_is_refused_with_the_shape()
    {
        var error = Assert.Throws<ArgumentException>(() => new RandomRotation(10).Apply(torch.zeros(12, 12)));
        Assert.Contains("[N, C, H, W] or [C, H, W]; found [12, 12]", error.Message);
    }
}
