using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.SelfSupervised;

/// <summary>
/// The jigsaw pretext task (Noroozi and Favaro 2016): cut an image into a grid of tiles, shuffle them with one
/// permutation out of a fixed set, and ask a network which permutation it was.
/// </summary>
/// <remarks>
/// Convention: a permutation <c>p</c> shows original tile <c>p[k]</c> at position <c>k</c>
/// (<c>shuffled[k] = tiles[p[k]]</c>); the label of a puzzle is the index of its permutation in the set.
/// </remarks>
public static class Jigsaw
{
    /// <summary>
    /// Cuts each image [N, C, H, W] into <paramref name="grid"/>×<paramref name="grid"/> cells of
    /// ⌊min(H, W) / grid⌋ pixels and takes a tile of (cell − <paramref name="gap"/>) pixels from each cell, so
    /// neighbouring tiles never share their touching pixels when <paramref name="gap"/> &gt; 0. With
    /// <paramref name="random"/> each tile sits at a random offset 0…gap inside its cell (jitter, as in the paper),
    /// otherwise in the middle. Returns tiles [N, grid², C, t, t] in row-major order.
    /// </summary>
    public static Tensor Tiles(Tensor images, int grid = 3, int gap = 0, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.ndim != 4) throw new ArgumentException($"Jigsaw.Tiles expects images [N, C, H, W]; found {Shapes.Format(images)}.", nameof(images));
        if (grid < 2) throw new ArgumentOutOfRangeException(nameof(grid), grid, "A puzzle needs a grid of at least 2×2.");
        long cell = Math.Min(images.shape[2], images.shape[3]) / grid;
        long tile = cell - gap;
        if (gap < 0 || tile < 1)
            throw new ArgumentOutOfRangeException(nameof(gap), gap, $"The gap must be between 0 and {cell - 1} for {grid}×{grid} cells of {cell} pixels ({Shapes.Format(images)}).");
        long n = images.shape[0];
        using var scope = torch.NewDisposeScope();
        var tiles = new Tensor[grid * grid];
        for (int row = 0; row < grid; row++)
            for (int col = 0; col < grid; col++)
            {
                if (random is null)
                {
                    long top = row * cell + gap / 2, left = col * cell + gap / 2;
                    tiles[row * grid + col] = images.narrow(2, top, tile).narrow(3, left, tile);
                }
                else
                {
                    var perImage = new Tensor[n];
                    for (long i = 0; i < n; i++)
                    {
                        long top = row * cell + random.Next(gap + 1), left = col * cell + random.Next(gap + 1);
                        perImage[i] = images[i].narrow(1, top, tile).narrow(2, left, tile);
                    }
                    tiles[row * grid + col] = torch.stack(perImage);
                }
            }
        return torch.stack(tiles, 1).MoveToOuterDisposeScope();
    }

    /// <summary>Number of positions at which two permutations differ.</summary>
    public static int HammingDistance(IReadOnlyList<int> a, IReadOnlyList<int> b)
    {
        if (a.Count != b.Count) throw new ArgumentException($"Permutations of different lengths: {a.Count} and {b.Count}.");
        int d = 0;
        for (int i = 0; i < a.Count; i++) if (a[i] != b[i]) d++;
        return d;
    }

    /// <summary>The smallest Hamming distance between any two permutations of the set.</summary>
    public static int MinimumHammingDistance(IReadOnlyList<int[]> permutations)
    {
        int best = int.MaxValue;
        for (int i = 0; i < permutations.Count; i++)
            for (int j = i + 1; j < permutations.Count; j++)
                best = Math.Min(best, HammingDistance(permutations[i], permutations[j]));
        return best;
    }

    /// <summary>The mean Hamming distance over all pairs of permutations of the set.</summary>
    public static double MeanHammingDistance(IReadOnlyList<int[]> permutations)
    {
        long sum = 0, pairs = 0;
        for (int i = 0; i < permutations.Count; i++)
            for (int j = i + 1; j < permutations.Count; j++) { sum += HammingDistance(permutations[i], permutations[j]); pairs++; }
        return pairs == 0 ? double.NaN : (double)sum / pairs;
    }

    /// <summary>
    /// Picks <paramref name="count"/> permutations of <paramref name="tiles"/> items that lie far apart in Hamming
    /// distance, greedily as the jigsaw paper does: start from a random permutation, then repeatedly add the permutation
    /// (out of all tiles!) whose distance to the nearest one already chosen is largest, breaking ties at random.
    /// Far-apart permutations make the classes easy to tell apart for a network that sees the content, and none is a
    /// near-copy of another. <paramref name="tiles"/> ≤ 9 (9! = 362,880 candidates).
    /// </summary>
    public static IReadOnlyList<int[]> HammingPermutations(int count, int tiles = 9, Random? random = null)
    {
        if (tiles < 2 || tiles > 9) throw new ArgumentOutOfRangeException(nameof(tiles), tiles, "Between 2 and 9 tiles (all permutations are enumerated).");
        int total = Factorial(tiles);
        if (count < 1 || count > total) throw new ArgumentOutOfRangeException(nameof(count), count, $"Between 1 and {tiles}! = {total}.");
        random ??= Lab.NextRandom();
        var all = AllPermutations(tiles);          // total × tiles, flattened
        var nearest = new int[total];
        Array.Fill(nearest, int.MaxValue);
        var chosen = new List<int[]>(count);
        int next = random.Next(total);
        var candidates = new List<int>();
        while (true)
        {
            var p = new int[tiles];
            for (int k = 0; k < tiles; k++) p[k] = all[next * tiles + k];
            chosen.Add(p);
            if (chosen.Count == count) break;
            int best = -1;
            candidates.Clear();
            for (int i = 0; i < total; i++)
            {
                int d = 0, offset = i * tiles;
                for (int k = 0; k < tiles; k++) if (all[offset + k] != p[k]) d++;
                if (d < nearest[i]) nearest[i] = d;
                if (nearest[i] > best) { best = nearest[i]; candidates.Clear(); }
                if (nearest[i] == best) candidates.Add(i);
            }
            next = candidates[random.Next(candidates.Count)];
        }
        return chosen;
    }

    /// <summary><paramref name="count"/> distinct permutations drawn uniformly at random (the baseline for <see cref="HammingPermutations"/>).</summary>
    public static IReadOnlyList<int[]> RandomPermutations(int count, int tiles = 9, Random? random = null)
    {
        if (tiles < 2) throw new ArgumentOutOfRangeException(nameof(tiles), tiles, "At least 2 tiles.");
        if (tiles <= 9 && count > Factorial(tiles)) throw new ArgumentOutOfRangeException(nameof(count), count, $"At most {tiles}! permutations exist.");
        random ??= Lab.NextRandom();
        var seen = new HashSet<string>();
        var result = new List<int[]>();
        while (result.Count < count)
        {
            var p = Enumerable.Range(0, tiles).ToArray();
            random.Shuffle(p);
            if (seen.Add(string.Join(",", p))) result.Add(p);
        }
        return result;
    }

    /// <summary>
    /// Shuffles tiles [N, T, ...] puzzle by puzzle: puzzle i uses permutation <c>permutations[labels[i]]</c>, so
    /// position k shows original tile p[k].
    /// </summary>
    public static Tensor Shuffle(Tensor tiles, IReadOnlyList<int[]> permutations, Tensor labels) =>
        Reorder(tiles, permutations, labels, inverse: false);

    /// <summary>Undoes <see cref="Shuffle"/>: puts every tile back where it came from.</summary>
    public static Tensor Unshuffle(Tensor shuffled, IReadOnlyList<int[]> permutations, Tensor labels) =>
        Reorder(shuffled, permutations, labels, inverse: true);

    /// <summary>
    /// Makes a batch of puzzles from images: tiles (<see cref="Tiles"/>), a random permutation index per image, and the
    /// shuffled tiles. Returns puzzles [N, T, C, t, t] and labels [N] (indices into <paramref name="permutations"/>).
    /// </summary>
    public static (Tensor Puzzles, Tensor Labels) MakePuzzles(Tensor images, IReadOnlyList<int[]> permutations, int grid = 3,
        int gap = 0, Random? random = null)
    {
        random ??= Lab.NextRandom();
        using var scope = torch.NewDisposeScope();
        var tiles = Tiles(images, grid, gap, random);
        var labelArray = new long[images.shape[0]];
        for (int i = 0; i < labelArray.Length; i++) labelArray[i] = random.Next(permutations.Count);
        var labels = torch.tensor(labelArray);
        return (Shuffle(tiles, permutations, labels).MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// Lays tiles [N, T, C, t, t] (T = grid²) out as images [N, C, H, W] with <paramref name="border"/> pixels of
    /// <paramref name="fill"/> between tiles, for showing puzzles with <c>Charts.ImageGrid</c>.
    /// </summary>
    public static Tensor Assemble(Tensor tiles, int border = 1, double fill = 1.0)
    {
        if (tiles.ndim != 5) throw new ArgumentException($"Jigsaw.Assemble expects tiles [N, T, C, t, t]; found {Shapes.Format(tiles)}.", nameof(tiles));
        int grid = GridOf(tiles.shape[1], nameof(tiles));
        long n = tiles.shape[0], c = tiles.shape[2], t = tiles.shape[3];
        long size = grid * t + (grid - 1) * border;
        var canvas = torch.full([n, c, size, size], fill, dtype: tiles.dtype, device: tiles.device);
        for (int row = 0; row < grid; row++)
            for (int col = 0; col < grid; col++)
                canvas.narrow(2, row * (t + border), t).narrow(3, col * (t + border), t).copy_(tiles.select(1, row * grid + col));
        return canvas;
    }

    /// <summary>
    /// Dissimilarity of touching edges between every ordered pair of tiles: <c>Right[n, a, b]</c> is the mean squared
    /// difference between tile a's rightmost pixel column and tile b's leftmost one (how badly b fits to the right of
    /// a); <c>Below[n, a, b]</c> the same for a's bottom row and b's top row.
    /// </summary>
    public static (Tensor Right, Tensor Below) EdgeDissimilarity(Tensor tiles)
    {
        if (tiles.ndim != 5) throw new ArgumentException($"EdgeDissimilarity expects tiles [N, T, C, t, t]; found {Shapes.Format(tiles)}.", nameof(tiles));
        using var scope = torch.NewDisposeScope();
        long n = tiles.shape[0], count = tiles.shape[1];
        var x = tiles.to(float32);
        Tensor Pairwise(Tensor first, Tensor second) => (first.unsqueeze(2) - second.unsqueeze(1)).square().mean([3]);
        var rightEdge = x.select(4, -1).reshape(n, count, -1);
        var leftEdge = x.select(4, 0).reshape(n, count, -1);
        var bottomEdge = x.select(3, -1).reshape(n, count, -1);
        var topEdge = x.select(3, 0).reshape(n, count, -1);
        return (Pairwise(rightEdge, leftEdge).MoveToOuterDisposeScope(), Pairwise(bottomEdge, topEdge).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// A jigsaw "solver" with no learning at all: for each shuffled puzzle [N, T, C, t, t] it tries every permutation of
    /// the set, puts the tiles back as that permutation says, adds up the <see cref="EdgeDissimilarity"/> of every pair
    /// of touching tiles, and answers the permutation with the smallest total. Returns predicted labels [N].
    /// </summary>
    public static Tensor SolveByEdges(Tensor puzzles, IReadOnlyList<int[]> permutations)
    {
        ArgumentNullException.ThrowIfNull(puzzles);
        if (puzzles.ndim != 5) throw new ArgumentException($"SolveByEdges expects puzzles [N, T, C, t, t]; found {Shapes.Format(puzzles)}.", nameof(puzzles));
        int tiles = (int)puzzles.shape[1];
        int grid = GridOf(tiles, nameof(puzzles));
        CheckPermutations(permutations, tiles);
        using var scope = torch.NewDisposeScope();
        var (right, below) = EdgeDissimilarity(puzzles);
        long n = puzzles.shape[0];
        // For candidate p the original position p[k] holds shuffled tile k, i.e. position j holds shuffled tile inv[j].
        int pairsPerKind = grid * (grid - 1);
        var rightIndex = new long[permutations.Count * pairsPerKind];
        var belowIndex = new long[permutations.Count * pairsPerKind];
        for (int m = 0; m < permutations.Count; m++)
        {
            var inv = Inverse(permutations[m]);
            int h = 0, v = 0;
            for (int row = 0; row < grid; row++)
                for (int col = 0; col < grid; col++)
                {
                    int j = row * grid + col;
                    if (col + 1 < grid) rightIndex[m * pairsPerKind + h++] = inv[j] * tiles + inv[j + 1];
                    if (row + 1 < grid) belowIndex[m * pairsPerKind + v++] = inv[j] * tiles + inv[j + grid];
                }
        }
        var rIdx = torch.tensor(rightIndex, device: puzzles.device).unsqueeze(0).expand(n, -1);
        var bIdx = torch.tensor(belowIndex, device: puzzles.device).unsqueeze(0).expand(n, -1);
        var cost = right.reshape(n, -1).gather(1, rIdx).reshape(n, permutations.Count, pairsPerKind).sum(2)
                 + below.reshape(n, -1).gather(1, bIdx).reshape(n, permutations.Count, pairsPerKind).sum(2);
        return cost.argmin(1).MoveToOuterDisposeScope();
    }

    /// <summary>The inverse permutation: inv[p[k]] = k.</summary>
    public static int[] Inverse(IReadOnlyList<int> permutation)
    {
        var inv = new int[permutation.Count];
        for (int k = 0; k < permutation.Count; k++) inv[permutation[k]] = k;
        return inv;
    }

    static Tensor Reorder(Tensor tiles, IReadOnlyList<int[]> permutations, Tensor labels, bool inverse)
    {
        ArgumentNullException.ThrowIfNull(tiles);
        if (tiles.ndim < 2) throw new ArgumentException($"Expected tiles [N, T, ...]; found {Shapes.Format(tiles)}.", nameof(tiles));
        int count = (int)tiles.shape[1];
        CheckPermutations(permutations, count);
        if (labels.ndim != 1 || labels.shape[0] != tiles.shape[0])
            throw new ArgumentException($"One permutation label per puzzle: tiles {Shapes.Format(tiles)}, labels {Shapes.Format(labels)}.", nameof(labels));
        var labelValues = labels.cpu().to(int64).data<long>().ToArray();
        long n = tiles.shape[0];
        var order = new long[n * count];
        for (long i = 0; i < n; i++)
        {
            long l = labelValues[i];
            if (l < 0 || l >= permutations.Count) throw new ArgumentOutOfRangeException(nameof(labels), l, $"Label of puzzle {i} is outside 0…{permutations.Count - 1}.");
            var p = inverse ? Inverse(permutations[(int)l]) : permutations[(int)l];
            for (int k = 0; k < count; k++) order[i * count + k] = p[k];
        }
        using var scope = torch.NewDisposeScope();
        var index = torch.tensor(order, device: tiles.device).reshape(n, count);
        var shape = tiles.shape;
        var view = new long[shape.Length];
        view[0] = n; view[1] = count;
        for (int d = 2; d < shape.Length; d++) view[d] = 1;
        var expanded = index.reshape(view).expand(shape);
        return tiles.gather(1, expanded).MoveToOuterDisposeScope();
    }

    static void CheckPermutations(IReadOnlyList<int[]> permutations, int tiles)
    {
        ArgumentNullException.ThrowIfNull(permutations);
        if (permutations.Count == 0) throw new ArgumentException("The permutation set is empty.", nameof(permutations));
        for (int m = 0; m < permutations.Count; m++)
        {
            var p = permutations[m];
            if (p.Length != tiles || p.Distinct().Count() != tiles || p.Any(v => v < 0 || v >= tiles))
                throw new ArgumentException($"Permutation {m} [{string.Join(", ", p)}] is not a permutation of 0…{tiles - 1}.", nameof(permutations));
        }
    }

    static int GridOf(long tiles, string name)
    {
        int grid = (int)Math.Round(Math.Sqrt(tiles));
        if (grid * grid != tiles) throw new ArgumentException($"{tiles} tiles do not form a square grid.", name);
        return grid;
    }

    static int Factorial(int n) => n <= 1 ? 1 : n * Factorial(n - 1);

    static int[] AllPermutations(int n)
    {
        var result = new int[Factorial(n) * n];
        var p = Enumerable.Range(0, n).ToArray();
        int row = 0;
        // Heap's algorithm would do; lexicographic next-permutation keeps the order easy to read.
        while (true)
        {
            Array.Copy(p, 0, result, row++ * n, n);
            int i = n - 2;
            while (i >= 0 && p[i] >= p[i + 1]) i--;
            if (i < 0) break;
            int j = n - 1;
            while (p[j] <= p[i]) j--;
            (p[i], p[j]) = (p[j], p[i]);
            Array.Reverse(p, i + 1, n - i - 1);
        }
        return result;
    }
}
