using NotebookLab.Data;
using NotebookLab.SelfSupervised;
using NotebookLab.Tests.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Tests.SelfSupervised;

public class ContrastiveTests
{
    /// <summary>NT-Xent term by term, in doubles, sharing no code with the library.</summary>
    static double Reference(double[,] a, double[,] b, double tau)
    {
        int n = a.GetLength(0), d = a.GetLength(1);
        var rows = new double[2 * n][];
        for (int i = 0; i < 2 * n; i++)
        {
            var src = i < n ? a : b;
            var r = Enumerable.Range(0, d).Select(c => src[i % n, c]).ToArray();
            var norm = Math.Sqrt(r.Sum(v => v * v));
            rows[i] = r.Select(v => v / norm).ToArray();
        }
        double total = 0;
        for (int i = 0; i < 2 * n; i++)
        {
            int j = (i + n) % (2 * n);
            double denominator = 0;
            for (int k = 0; k < 2 * n; k++)
                if (k != i) denominator += Math.Exp(rows[i].Zip(rows[k], (u, v) => u * v).Sum() / tau);
            total -= Math.Log(Math.Exp(rows[i].Zip(rows[j], (u, v) => u * v).Sum() / tau) / denominator);
        }
        return total / (2 * n);
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    [InlineData(2.0)]
    public void Nt_xent_matches_the_term_by_term_reference(double tau)
    {
        var a = torch.randn(5, 4, generator: new Generator(1), dtype: float64);
        var b = torch.randn(5, 4, generator: new Generator(2), dtype: float64);
        Assert.Equal(Reference(a.ToMatrix(), b.ToMatrix(), tau), Contrastive.NtXent(a, b, tau).item<double>(), 9);
    }

    [Fact]
    public void Nt_xent_of_identical_embeddings_is_log_2n_minus_1_and_matched_views_score_lower()
    {
        var same = torch.ones(7, 3, dtype: float64) * 2.5;
        Assert.Equal(Math.Log(13), Contrastive.NtXent(same, same, 0.3).item<double>(), 9);
        var z = torch.randn(16, 8, generator: new Generator(3));
        double matched = Contrastive.NtXent(z, z + 0.01 * torch.randn(16, 8, generator: new Generator(4))).item<float>();
        double unmatched = Contrastive.NtXent(z, torch.randn(16, 8, generator: new Generator(5))).item<float>();
        Assert.True(matched < unmatched - 1, $"matched {matched}, unmatched {unmatched}");
    }

    [Fact]
    public void Nt_xent_has_gradients_and_rejects_bad_input()
    {
        var a = torch.randn(4, 3, requires_grad: true);
        var b = torch.randn(4, 3);
        Contrastive.NtXent(a, b).backward();
        Assert.True(a.grad!.abs().sum().item<float>() > 0);
        var e = Assert.Throws<ArgumentException>(() => Contrastive.NtXent(torch.zeros(4, 3), torch.zeros(5, 3)));
        Assert.Contains("[5, 3]", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Contrastive.NtXent(a, b, 0));
        Assert.Throws<ArgumentException>(() => Contrastive.NtXent(torch.zeros(1, 3), torch.zeros(1, 3)));
    }

    [Fact]
    public void Alignment_and_uniformity_take_their_extreme_values()
    {
        var z = torch.randn(10, 4, generator: new Generator(6));
        Assert.Equal(0, Contrastive.Alignment(z, 3 * z), 9);                   // same direction: aligned
        Assert.Equal(4, Contrastive.Alignment(z, -z), 9);                      // opposite: ‖u − (−u)‖² = 4
        Assert.Equal(0, Contrastive.Uniformity(torch.ones(6, 3)), 9);          // collapsed to one point
        Assert.Equal(-8, Contrastive.Uniformity(torch.tensor(new double[,] { { 1, 0 }, { -1, 0 } })), 9);
        double spread = Contrastive.Uniformity(torch.randn(200, 8, generator: new Generator(7)));
        double crowded = Contrastive.Uniformity(torch.randn(200, 8, generator: new Generator(7)) * 0.05 + 1);
        Assert.True(spread < crowded - 1, $"spread {spread}, crowded {crowded}");
    }

    [Fact]
    public void Random_resized_crop_and_color_jitter_keep_shape_and_range_and_repeat_under_a_seed()
    {
        var x = torch.rand(8, 1, 12, 12, generator: new Generator(8));
        var crop = new RandomResizedCrop(scale: (0.3, 1.0), random: new Random(1)).Apply(x);
        Assert.Equal(x.shape, crop.shape);
        Assert.True(crop.min().item<float>() >= 0 && crop.max().item<float>() <= 1);
        Assert.True(crop.SameAs(new RandomResizedCrop(scale: (0.3, 1.0), random: new Random(1)).Apply(x)));
        Assert.False(crop.SameAs(x));
        Assert.True(new RandomResizedCrop(scale: (1.0, 1.0), ratio: (1.0, 1.0), random: new Random(2)).Apply(x).allclose(x, rtol: 1e-4, atol: 1e-5));
        var jitter = new ColorJitter(0.5, 0.5, new Random(3)).Apply(x);
        Assert.Equal(x.shape, jitter.shape);
        Assert.True(jitter.min().item<float>() >= 0 && jitter.max().item<float>() <= 1);
        Assert.True(new ColorJitter(0, 0, new Random(3)).Apply(x).allclose(x, rtol: 1e-5, atol: 1e-6));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RandomResizedCrop(scale: (0.0, 1.0)));
    }

    [Fact]
    public void Sim_clr_augmentation_makes_two_different_views_of_the_same_shape()
    {
        Lab.Seed(4);
        var x = torch.rand(6, 1, 10, 10, generator: new Generator(9));
        var (v1, v2) = Contrastive.SimClrAugmentation(random: new Random(5)).TwoViews(x);
        Assert.Equal(x.shape, v1.shape);
        Assert.False(v1.SameAs(v2));
        Assert.True(v1.min().item<float>() >= 0 && v1.max().item<float>() <= 1);
    }

    [Fact]
    public void Conv_encoder_pools_any_image_size_to_its_feature_count_and_all_stages_concatenates()
    {
        var encoder = new ConvEncoder(1, 4, 8, 16);
        Assert.Equal(16, encoder.FeatureCount);
        Assert.Equal([3L, 16], encoder.call(torch.rand(3, 1, 28, 28)).shape);
        Assert.Equal([3L, 16], encoder.call(torch.rand(3, 1, 6, 6)).shape);
        encoder.eval();
        var stages = encoder.AllStages(torch.rand(3, 1, 28, 28, generator: new Generator(1)));
        Assert.Equal([3L, 28], stages.shape);
        Assert.True(stages[.., 12..].allclose(encoder.call(torch.rand(3, 1, 28, 28, generator: new Generator(1))), rtol: 1e-5, atol: 1e-6));
        Assert.Throws<ArgumentException>(() => encoder.call(torch.rand(3, 28, 28)));
    }
}
