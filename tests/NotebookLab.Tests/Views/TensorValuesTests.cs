using NotebookLab.Views.Charts;
using static TorchSharp.torch;

namespace NotebookLab.Tests.Views;

public class TensorValuesTests
{
    [Fact]
    public void ToDoubles_reads_a_strided_float_tensor_row_major()
    {
        using var t = arange(6, dtype: ScalarType.Float32).reshape(2, 3).t();   // non-contiguous view
        Assert.Equal([0.0, 3, 1, 4, 2, 5], t.ToDoubles());
    }

    [Fact]
    public void ToInts_and_ToMatrix_keep_values_and_layout()
    {
        using var ids = tensor(new long[] { 4, 0, 7 });
        Assert.Equal([4, 0, 7], ids.ToInts());
        using var m = tensor(new double[] { 1, 2, 3, 4, 5, 6 }).reshape(3, 2);
        var matrix = m.ToMatrix();
        Assert.Equal((3, 2), (matrix.GetLength(0), matrix.GetLength(1)));
        Assert.Equal(6.0, matrix[2, 1]);
        var e = Assert.Throws<ArgumentException>(() => ids.ToMatrix());
        Assert.Contains("[3]", e.Message);
    }

    [Fact]
    public void LogY_and_LogX_set_the_axis_on_every_panel_and_keep_the_data()
    {
        var chart = Charts.Lines([1, 10, 100], "t", "n", "err", ("a", [1.0, 0.1, 0.01]));
        var log = chart.LogY().LogX();
        Assert.False(chart.Panels[0].YAxis.Log);
        Assert.True(log.Panels[0].YAxis.Log);
        Assert.True(log.Panels[0].XAxis.Log);
        Assert.Equal(chart.Panels[0].Series, log.Panels[0].Series);
        Assert.Contains("\"type\":\"log\"", log.ToHtml());
        Assert.DoesNotContain("\"type\":\"log\"", chart.ToHtml());
    }
}
