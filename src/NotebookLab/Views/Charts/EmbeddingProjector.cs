using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Views.Charts;

public static partial class Charts
{
    /// <summary>
    /// Embedding projector: the embeddings (N×D) projected on their first 2 or 3 principal components, coloured by
    /// <paramref name="labels"/>, plus cosine nearest-neighbour lists (in the original D dimensions) for
    /// <paramref name="queries"/> (default: the first 5 points).
    /// </summary>
    public static ChartView Embedding(Tensor embeddings, IReadOnlyList<string> labels, IReadOnlyList<string>? names = null,
        int dims = 2, IReadOnlyList<int>? queries = null, int neighbours = 5, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(embeddings);
        if (embeddings.dim() != 2) throw new ArgumentException($"embeddings must be N×D, got shape {Shapes.Format(embeddings.shape)}", nameof(embeddings));
        var n = (int)embeddings.shape[0];
        if (labels.Count != n) throw new ArgumentException($"Embedding: {n} embeddings but {labels.Count} labels", nameof(labels));
        if (names is not null && names.Count != n) throw new ArgumentException($"Embedding: {n} embeddings but {names.Count} names", nameof(names));
        if (dims is not (2 or 3)) throw new ArgumentOutOfRangeException(nameof(dims), dims, "Embedding projects to 2 or 3 dimensions");
        if (embeddings.shape[1] < dims) throw new ArgumentException($"Embedding: {embeddings.shape[1]}-D embeddings cannot be projected to {dims} components", nameof(embeddings));
        names ??= [.. Enumerable.Range(0, n).Select(i => $"#{i}")];
        queries ??= [.. Enumerable.Range(0, Math.Min(5, n))];
        foreach (var q in queries)
            if (q < 0 || q >= n) throw new ArgumentOutOfRangeException(nameof(queries), q, $"query index outside 0..{n - 1}");

        double[] proj, explained;
        var tableRows = new List<string[]>();
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var x = embeddings.detach().cpu().to(ScalarType.Float64);
            var centred = x - x.mean([0], keepdim: true);
            var (_, s, vh) = linalg.svd(centred, fullMatrices: false);
            var components = vh.narrow(0, 0, dims);
            proj = centred.matmul(components.t()).contiguous().data<double>().ToArray();
            var variance = s.pow(2);
            explained = (variance / variance.sum()).narrow(0, 0, dims).data<double>().ToArray();

            var unit = nn.functional.normalize(x, p: 2, dim: 1);
            var k = Math.Min(neighbours, n - 1);
            if (k > 0)
                foreach (var q in queries)
                {
                    var sims = unit.matmul(unit[q]);
                    sims[q] = tensor(double.NegativeInfinity);
                    var (vals, idx) = sims.topk(k);
                    var v = vals.data<double>().ToArray();
                    var ix = idx.data<long>().ToArray();
                    tableRows.Add([names[q], labels[q], string.Join(", ", ix.Select((j, r) => $"{names[(int)j]} ({v[r].ToString("F3", CultureInfo.InvariantCulture)})"))]);
                }
        }

        var groups = labels.Select((g, i) => (g, i)).GroupBy(p => p.g).ToList();
        var series = groups.Select(grp =>
        {
            var idx = grp.Select(p => p.i).ToArray();
            var px = idx.Select(i => proj[i * dims]).ToArray();
            var py = idx.Select(i => proj[i * dims + 1]).ToArray();
            var hover = idx.Select(i => names[i]).ToArray();
            return dims == 2
                ? (ChartSeries)new ScatterSeries(grp.Key, px, py) { HoverText = hover }
                : new Scatter3DSeries(grp.Key, px, py, [.. idx.Select(i => proj[i * dims + 2])]) { HoverText = hover };
        }).ToList();
        string Pc(int i) => $"PC{i + 1} ({(explained[i] * 100).ToString("F1", CultureInfo.InvariantCulture)}% of variance)";
        var spec = new ChartSpec
        {
            Title = title ?? $"Embeddings: PCA to {dims}-D",
            XAxis = new ChartAxis { Title = Pc(0) },
            YAxis = new ChartAxis { Title = Pc(1) },
            ZAxis = dims == 3 ? new ChartAxis { Title = Pc(2) } : new ChartAxis(),
            Series = series,
            Width = 680,
            Height = 460,
        };
        var table = new ChartTable($"Nearest neighbours by cosine similarity ({embeddings.shape[1]}-D)", ["query", "label", "neighbours (similarity)"], [.. tableRows]);
        return new ChartView(spec, tableRows.Count > 0 ? [table] : null) { };
    }
}
