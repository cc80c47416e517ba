using System.Globalization;
using NotebookLab.Views;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Tests.Views;

public class TensorViewTests
{
    static double Num(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    [Fact]
    public void Small_matrix_shows_every_value_and_exact_stats()
    {
        using var t = tensor(new float[] { 1, 2, 3, 4, 5, 6 }).reshape(2, 3);
        var doc = HtmlAssert.Parse(new TensorView(t).ToHtml());
        Assert.Equal("[2, 3]", doc.QuerySelector(".nl-shape")!.TextContent);
        Assert.Equal("float32", doc.QuerySelector(".nl-dtype")!.TextContent);
        Assert.Equal("cpu", doc.QuerySelector(".nl-device")!.TextContent.ToLowerInvariant());
        var cells = doc.QuerySelectorAll("table.nl-values tbody td").Select(c => Num(c.TextContent)).ToArray();
        Assert.Equal([1, 2, 3, 4, 5, 6], cells);
        Assert.Equal(1, Num(doc.QuerySelector("td[data-stat=min]")!.TextContent));
        Assert.Equal(6, Num(doc.QuerySelector("td[data-stat=max]")!.TextContent));
        Assert.Equal(3.5, Num(doc.QuerySelector("td[data-stat=mean]")!.TextContent));
        Assert.Equal(1.871, Num(doc.QuerySelector("td[data-stat=std]")!.TextContent), 3); // unbiased, as torch.std
        Assert.Null(doc.QuerySelector(".nl-stats-note"));
        Assert.NotNull(doc.QuerySelector(".nl-heatmap img[src^='data:image/png;base64,']"));
    }

    [Fact]
    public void Large_matrix_is_truncated_to_edge_items_with_their_real_indices()
    {
        using var t = arange(0, 100 * 50, dtype: ScalarType.Float32).reshape(100, 50);
        var view = new TensorView(t);
        var grid = Assert.Single(view.Grids);
        Assert.Equal([0L, 1, 2, 97, 98, 99], grid.RowIndices);
        Assert.Equal([0L, 1, 2, 47, 48, 49], grid.ColumnIndices);
        var doc = HtmlAssert.Parse(view.ToHtml());
        var lastRow = doc.QuerySelectorAll("table.nl-values tbody tr").Last().QuerySelectorAll("td:not(.nl-gap)").Select(c => Num(c.TextContent)).ToArray();
        Assert.Equal([4950, 4951, 4952, 4997, 4998, 4999], lastRow);
        Assert.Equal(2, doc.QuerySelectorAll("table.nl-values tr.nl-gap, table.nl-values thead th.nl-gap").Length);
        Assert.Contains("...", view.ToPlainText());
    }

    [Fact]
    public void NaN_and_Inf_are_counted_and_excluded_from_the_other_stats()
    {
        using var t = tensor(new[] { 1f, float.NaN, 3f, float.PositiveInfinity, float.NaN });
        var s = new TensorView(t).Stats!;
        Assert.Equal(2, s.NaNCount);
        Assert.Equal(1, s.InfCount);
        Assert.Equal(1, s.Min);
        Assert.Equal(3, s.Max);
        Assert.Equal(2, s.Mean, 6);
    }

    [Fact]
    public void Std_stays_accurate_when_the_mean_dwarfs_the_spread()
    {
        manual_seed(3);
        using var t = randn(100_000) * 0.01f + 1000f;
        var s = new TensorView(t).Stats!;
        Assert.Equal(t.std().item<float>(), s.Std, 0.01 * s.Std);
        Assert.Equal(t.to(ScalarType.Float64).mean().item<double>(), s.Mean, 1e-6);
    }

    [Fact]
    public void Direct_memory_path_and_torch_path_agree()
    {
        manual_seed(5);
        using var a = randn(40, 70);
        a[3, 4] = tensor(float.NaN);
        a[5, 6] = tensor(float.NegativeInfinity);
        using var transposed = a.t();                  // non-contiguous: torch ops path
        using var copy = transposed.contiguous();      // contiguous: direct memory path
        var (slow, fast) = (new TensorView(transposed), new TensorView(copy));
        Assert.Equal(slow.Stats!.NaNCount, fast.Stats!.NaNCount);
        Assert.Equal(1, fast.Stats.InfCount);
        Assert.Equal(slow.Stats.Min, fast.Stats.Min, 6);
        Assert.Equal(slow.Stats.Max, fast.Stats.Max, 6);
        Assert.Equal(slow.Stats.Mean, fast.Stats.Mean, 6);
        Assert.Equal(slow.Stats.Std, fast.Stats.Std, 5);
        Assert.Equal(slow.Grids[0].Cells.Cast<string>(), fast.Grids[0].Cells.Cast<string>());
        Assert.Equal(slow.ImageDataUri, fast.ImageDataUri);
        using var d = copy.to(ScalarType.Float64);
        Assert.Equal(fast.Stats.Std, new TensorView(d).Stats!.Std, 5);
    }

    [Fact]
    public void Higher_ranks_show_labelled_slices_and_count_the_rest()
    {
        using var t = arange(0, 5 * 4 * 3 * 3, dtype: ScalarType.Float32).reshape(5, 4, 3, 3);
        var view = new TensorView(t, TensorView.DefaultOptions with { Threshold = 10, MaxSlices = 4 });
        Assert.Equal(4, view.Grids.Count);
        Assert.Equal("[0, 0, :, :]", view.Grids[0].Caption);
        Assert.Equal("[4, 3, :, :]", view.Grids[^1].Caption);
        Assert.Equal(20 - 4, view.OmittedSlices);
        Assert.Equal((4 * 4 + 3) * 9 + 8, double.Parse(view.Grids[^1].Cells[2, 2].TrimEnd('.'), CultureInfo.InvariantCulture));
    }

    [Fact]
    public void Large_tensor_gets_labelled_sampled_stats_and_the_users_tensor_survives()
    {
        using var t = arange(0, 5_000_000, dtype: ScalarType.Float32).reshape(1000, 5000).requires_grad_(true);
        var view = new TensorView(t);
        Assert.False(t.IsInvalid);
        Assert.True(t.requires_grad);
        var s = view.Stats!;
        Assert.False(s.IsExact);
        Assert.True(s.ElementsUsed <= TensorView.DefaultOptions.SampleSize + 1);
        Assert.Equal(1, TensorViewStride.Gcd(s.Stride, 5000));
        Assert.Equal(0, s.Min);
        Assert.InRange(s.Mean, 2_450_000, 2_550_000);
        var doc = HtmlAssert.Parse(view.ToHtml());
        Assert.Contains("strided sample", doc.QuerySelector(".nl-stats-note")!.TextContent);
        Assert.NotNull(doc.QuerySelector(".nl-requires-grad"));

        var exact = TensorView.Of(t, exactStats: true).Stats!;
        Assert.True(exact.IsExact);
        Assert.Equal(4_999_999, exact.Max);
    }

    [Fact]
    public void Image_shaped_tensor_gets_an_rgb_png_of_the_right_size()
    {
        using var img = rand(3, 20, 30);
        var view = new TensorView(img);
        Assert.Equal((30, 20), view.ImageSize);
        Assert.Contains("RGB", view.ImageCaption);
        var png = Convert.FromBase64String(view.ImageDataUri!["data:image/png;base64,".Length..]);
        Assert.Equal(0x89, png[0]);
        Assert.Equal(30, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
        Assert.Equal(20, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }

    [Fact]
    public void Integer_bool_and_scalar_tensors_render()
    {
        using var ints = tensor(new long[] { -3, 7 });
        Assert.Equal(["-3", "7"], [.. new TensorView(ints).Grids[0].Cells.Cast<string>()]);
        using var bools = tensor(new[] { true, false, true });
        var bv = new TensorView(bools);
        Assert.Equal(["True", "False", "True"], [.. bv.Grids[0].Cells.Cast<string>()]);
        Assert.Equal(2.0 / 3, bv.Stats!.Mean, 6);
        using var scalar = tensor(2.5);
        Assert.Contains("2.5000", new TensorView(scalar).ToPlainText());
    }

    [Fact]
    public void A_disposed_tensor_is_a_clear_error()
    {
        var t = ones(2);
        t.Dispose();
        var e = Assert.Throws<ObjectDisposedException>(() => new TensorView(t));
        Assert.Contains("disposed", e.Message);
    }
}

static class TensorViewStride
{
    public static long Gcd(long a, long b) { while (b != 0) (a, b) = (b, a % b); return a; }
}
