using NotebookLab.SelfSupervised;
using NotebookLab.Tests.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Tests.SelfSupervised;

public class JigsawTests
{
    /// <summary>Smooth images (sums of gradients) so that touching tile edges really do continue each other.</summary>
    static Tensor SmoothImages(int n, int size = 12, int seed = 1)
    {
        var g = new Generator((ulong)seed);
        var coords = torch.linspace(0, 1, size);
        var yy = coords.reshape(1, 1, size, 1);
        var xx = coords.reshape(1, 1, 1, size);
        var a = torch.rand(n, 1, 1, 1, generator: g) * 6;
        var b = torch.rand(n, 1, 1, 1, generator: g) * 6;
        var phase = torch.rand(n, 1, 1, 1, generator: g) * 6;
        return (torch.sin(a * xx + b * yy * yy + phase) + 1) / 2;
    }

    [Fact]
    public void Tiles_at_gap_zero_are_the_grid_cells_in_row_major_order()
    {
        var x = torch.arange(36f).reshape(1, 1, 6, 6);
        var tiles = Jigsaw.Tiles(x, grid: 3, gap: 0);
        Assert.Equal([1L, 9, 1, 2, 2], tiles.shape);
        Assert.True(tiles[0, 5, 0].SameAs(x[0, 0, 2..4, 4..6]));
        Assert.True(Jigsaw.Assemble(tiles, border: 0).SameAs(x));
    }

    [Fact]
    public void Gaps_shrink_the_tiles_and_jitter_keeps_them_inside_their_cell()
    {
        var x = torch.arange(81f).reshape(1, 1, 9, 9);
        var centred = Jigsaw.Tiles(x, grid: 3, gap: 1);
        Assert.Equal([1L, 9, 1, 2, 2], centred.shape);
        Assert.True(centred[0, 4, 0].SameAs(x[0, 0, 3..5, 3..5]));
        var jittered = Jigsaw.Tiles(x.repeat(50, 1, 1, 1), grid: 3, gap: 1, random: new Random(2));
        // Tile 4 (the centre cell, rows and columns 3..5) starts at row 3 or 4 and column 3 or 4.
        var topLeft = jittered[.., 4, 0, 0, 0].data<float>().ToArray();
        Assert.All(topLeft, v => Assert.Contains(v, new[] { 30f, 31f, 39f, 40f }));
        Assert.True(topLeft.Distinct().Count() > 1, "jitter should move some tiles");
        Assert.Throws<ArgumentOutOfRangeException>(() => Jigsaw.Tiles(x, grid: 3, gap: 3));
    }

    [Fact]
    public void Shuffle_puts_tile_p_k_at_position_k_and_unshuffle_undoes_it()
    {
        var permutations = Jigsaw.RandomPermutations(5, tiles: 9, random: new Random(3));
        var tiles = torch.rand([4, 9, 1, 3, 3], generator: new Generator(4));
        var labels = torch.tensor(new long[] { 0, 4, 2, 4 });
        var shuffled = Jigsaw.Shuffle(tiles, permutations, labels);
        var p = permutations[4];
        for (int k = 0; k < 9; k++) Assert.True(shuffled[1, k].SameAs(tiles[1, p[k]]));
        Assert.True(Jigsaw.Unshuffle(shuffled, permutations, labels).SameAs(tiles));
        Assert.Throws<ArgumentOutOfRangeException>(() => Jigsaw.Shuffle(tiles, permutations, torch.tensor(new long[] { 0, 5, 0, 0 })));
    }

    [Fact]
    public void Hamming_set_is_valid_and_farther_apart_than_a_random_set()
    {
        var set = Jigsaw.HammingPermutations(30, tiles: 9, random: new Random(5));
        Assert.Equal(30, set.Count);
        Assert.All(set, p => Assert.Equal(Enumerable.Range(0, 9), p.Order()));
        Assert.Equal(30, set.Select(p => string.Join(",", p)).Distinct().Count());
        var random = Jigsaw.RandomPermutations(30, tiles: 9, random: new Random(5));
        Assert.True(Jigsaw.MinimumHammingDistance(set) > Jigsaw.MinimumHammingDistance(random),
            $"greedy {Jigsaw.MinimumHammingDistance(set)} vs random {Jigsaw.MinimumHammingDistance(random)}");
        Assert.True(Jigsaw.MeanHammingDistance(set) > Jigsaw.MeanHammingDistance(random));
        // Four items: 24 permutations; the first four picked greedily are pairwise at the maximum distance 4 (a Latin square).
        Assert.Equal(4, Jigsaw.MinimumHammingDistance(Jigsaw.HammingPermutations(4, tiles: 4, random: new Random(6))));
        Assert.Equal(3, Jigsaw.HammingDistance([0, 1, 2, 3], [1, 2, 0, 3]));
    }

    [Fact]
    public void Edge_matching_solves_touching_tiles_and_loses_them_with_gaps()
    {
        var images = SmoothImages(60, size: 12);
        var permutations = Jigsaw.HammingPermutations(10, tiles: 9, random: new Random(7));
        var (puzzles, labels) = Jigsaw.MakePuzzles(images, permutations, grid: 3, gap: 0, random: new Random(8));
        double solved = (Jigsaw.SolveByEdges(puzzles, permutations) == labels).to(float32).mean().item<float>();
        Assert.True(solved > 0.9, $"gap 0: solved {solved}");
        // Noise tiles have no continuity: the solver is no better than a guess.
        var noise = torch.rand(200, 1, 12, 12, generator: new Generator(9));
        var (noisy, noisyLabels) = Jigsaw.MakePuzzles(noise, permutations, grid: 3, gap: 0, random: new Random(10));
        double guessed = (Jigsaw.SolveByEdges(noisy, permutations) == noisyLabels).to(float32).mean().item<float>();
        Assert.InRange(guessed, 0.0, 0.3);
    }

    [Fact]
    public void Solver_cost_of_the_true_permutation_is_the_sum_of_its_edges()
    {
        // Two-by-two grid, identity shuffle: the true arrangement's cost is exactly the four edge terms.
        var x = torch.rand(1, 1, 4, 4, generator: new Generator(11));
        var tiles = Jigsaw.Tiles(x, grid: 2);
        var (right, below) = Jigsaw.EdgeDissimilarity(tiles);
        double expected = ((tiles[0, 0, 0, .., 1] - tiles[0, 1, 0, .., 0]).square().mean()
                         + (tiles[0, 2, 0, .., 1] - tiles[0, 3, 0, .., 0]).square().mean()
                         + (tiles[0, 0, 0, 1, ..] - tiles[0, 2, 0, 0, ..]).square().mean()
                         + (tiles[0, 1, 0, 1, ..] - tiles[0, 3, 0, 0, ..]).square().mean()).item<float>();
        double fromMatrices = (right[0, 0, 1] + right[0, 2, 3] + below[0, 0, 2] + below[0, 1, 3]).item<float>();
        Assert.Equal(expected, fromMatrices, 5);
    }

    [Fact]
    public void Jigsaw_network_maps_puzzles_to_permutation_logits()
    {
        var net = new JigsawNetwork(new ConvEncoder(1, 4, 8), tiles: 9, permutations: 7);
        Assert.Equal([2L, 7], net.call(torch.rand([2, 9, 1, 6, 6])).shape);
        var e = Assert.Throws<ArgumentException>(() => net.call(torch.rand([2, 4, 1, 6, 6])));
        Assert.Contains("[2, 4, 1, 6, 6]", e.Message);
    }
}
