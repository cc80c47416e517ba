using System.Globalization;
using System.Text;
using Microsoft.DotNet.Interactive.Formatting;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Views;

/// <summary>How much of a tensor a <see cref="TensorView"/> shows and how it computes statistics.</summary>
public sealed record TensorViewOptions
{
    /// <summary>Items kept at each end of a summarised dimension (torch's <c>edgeitems</c>).</summary>
    public int EdgeItems { get; init; } = 3;
    /// <summary>Tensors with more elements than this are summarised (torch's <c>threshold</c>).</summary>
    public long Threshold { get; init; } = 1000;
    /// <summary>Statistics are exact up to this many elements; above it they are computed on a strided sample.</summary>
    public long ExactStatsLimit { get; init; } = 1L << 20;
    /// <summary>Elements in the strided sample used for statistics of larger tensors.</summary>
    public long SampleSize { get; init; } = 1L << 16;
    /// <summary>Force exact statistics regardless of size (costs a full pass over the tensor).</summary>
    public bool ExactStats { get; init; }
    /// <summary>Most 2-D slices shown for tensors of rank ≥ 3.</summary>
    public int MaxSlices { get; init; } = 4;
    /// <summary>Largest side, in pixels, of the heatmap/image rendition (larger tensors are sampled with a stride).</summary>
    public int HeatmapMaxSide { get; init; } = 128;
    /// <summary>Show the heatmap/image rendition for 2-D and image-shaped tensors.</summary>
    public bool Heatmap { get; init; } = true;
}

/// <summary>Summary statistics of a tensor, exact or over a labelled strided sample.</summary>
public sealed record TensorStats(double Min, double Max, double Mean, double Std, long NaNCount, long InfCount,
    long ElementsUsed, long TotalElements, long Stride, string? Note)
{
    public bool IsExact => ElementsUsed == TotalElements;
}

/// <summary>One displayed 2-D (or 1-D/0-D) block of values: the kept row/column indices and their values.</summary>
public sealed record TensorGrid(string Caption, long[] RowIndices, long[] ColumnIndices, long Rows, long Columns, string[,] Cells, bool IsVector);

/// <summary>
/// A rich, cheap view of a tensor: header (shape, dtype, device, requires_grad), summary statistics, a value grid
/// with torch-style edge-item truncation (≤ 2-D) or slices (higher ranks), and a heatmap/image for 2-D and
/// image-shaped (C×H×W, C ∈ {1, 3}) tensors. Everything is captured when the view is built, inside a private
/// dispose scope on a CPU copy of only what is shown; the user's tensor is never modified or disposed.
/// Cost grows with what is shown, not with the tensor: large tensors get statistics over a strided sample,
/// which the view labels as such (ask for <see cref="TensorViewOptions.ExactStats"/> to pay for a full pass).
/// </summary>
[TypeFormatterSource(typeof(MimeViewFormatterSource<TensorView>), PreferredMimeTypes = [MimeType.Html, MimeType.PlainText])]
public sealed class TensorView : IMimeView
{
    public static TensorViewOptions DefaultOptions { get; set; } = new();

    public IReadOnlyList<long> Shape { get; }
    public string DType { get; }
    public string Device { get; }
    public bool RequiresGrad { get; }
    public bool HasGrad { get; }
    /// <summary>False for tensors produced by a recorded operation, i.e. tensors with a grad_fn. (TorchSharp 0.107
    /// does not expose the grad_fn node itself, so the view says whether there is one, not its name.)</summary>
    public bool IsLeaf { get; }
    public long NumberOfElements { get; }
    public TensorStats? Stats { get; }
    public IReadOnlyList<TensorGrid> Grids { get; }
    /// <summary>Slices of a rank ≥ 3 tensor that were left out of <see cref="Grids"/>.</summary>
    public long OmittedSlices { get; }
    /// <summary>PNG data URI of the heatmap/image rendition, when there is one.</summary>
    public string? ImageDataUri { get; }
    public string? ImageCaption { get; }
    public (int Width, int Height) ImageSize { get; }

    // Direct memory reads for contiguous CPU float tensors (the common case); torch ops otherwise. Used only while constructing.
    CpuFloatReader? reader;

    public TensorView(Tensor tensor, TensorViewOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.IsInvalid) throw new ObjectDisposedException(nameof(tensor), "TensorView: the tensor has been disposed");
        var o = options ?? DefaultOptions;
        Shape = tensor.shape;
        DType = DTypeName(tensor.dtype);
        Device = tensor.device.ToString();
        RequiresGrad = tensor.requires_grad;
        IsLeaf = tensor.is_leaf;
        NumberOfElements = tensor.numel();
        if (tensor.device_type == DeviceType.META) { Grids = []; return; }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        HasGrad = tensor.requires_grad && tensor.grad is { } g && !g.IsInvalid;
        var t = tensor.detach();
        reader = CpuFloatReader.TryCreate(t);
        Stats = NumberOfElements == 0 ? null : ComputeStats(t, o);
        (Grids, OmittedSlices) = BuildGrids(t, o);
        if (o.Heatmap) (ImageDataUri, ImageCaption, ImageSize) = BuildImage(t, o);
        reader = null;
    }

    public static TensorView Of(Tensor tensor, bool exactStats = false) =>
        new(tensor, exactStats ? DefaultOptions with { ExactStats = true } : DefaultOptions);

    static bool IsFloating(ScalarType s) => s is ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float32 or ScalarType.Float64;
    static bool IsComplex(ScalarType s) => s is ScalarType.ComplexFloat32 or ScalarType.ComplexFloat64;

    public static string DTypeName(ScalarType s) => s switch
    {
        ScalarType.Float16 => "float16", ScalarType.BFloat16 => "bfloat16", ScalarType.Float32 => "float32",
        ScalarType.Float64 => "float64", ScalarType.Int8 => "int8", ScalarType.Byte => "uint8", ScalarType.Int16 => "int16",
        ScalarType.Int32 => "int32", ScalarType.Int64 => "int64", ScalarType.Bool => "bool",
        ScalarType.ComplexFloat32 => "complex64", ScalarType.ComplexFloat64 => "complex128",
        _ => s.ToString().ToLowerInvariant(),
    };

    // ---------- statistics ----------

    TensorStats ComputeStats(Tensor t, TensorViewOptions o)
    {
        var n = t.numel();
        if (reader is not null)
        {
            var sampleStride = o.ExactStats || n <= o.ExactStatsLimit ? 1 : SampleStride(n, o.SampleSize, t.dim() > 0 ? t.shape[^1] : 1);
            return reader.Stats(sampleStride, SampleNote(sampleStride, (n + sampleStride - 1) / sampleStride, n));
        }
        Tensor values;
        long stride = 1;
        if (o.ExactStats || n <= o.ExactStatsLimit)
            values = t.reshape(-1);
        else
        {
            stride = SampleStride(n, o.SampleSize, t.dim() > 0 ? t.shape[^1] : 1);
            // take() indexes in logical order without materialising a contiguous copy of the whole tensor.
            var index = arange(0, n, stride, ScalarType.Int64, t.device);
            values = t.take(index);
        }
        if (values.device_type != DeviceType.CPU) values = values.cpu();
        var used = values.numel();
        var dtype = values.dtype;
        if (IsComplex(dtype)) values = values.abs();
        else if (dtype == ScalarType.Bool) values = values.to(ScalarType.Float32);
        else if (!IsFloating(dtype)) values = values.to(ScalarType.Float64);
        else if (dtype is ScalarType.Float16 or ScalarType.BFloat16) values = values.to(ScalarType.Float32);

        long nan = 0, inf = 0;
        var (min, max) = values.aminmax();
        var (lo, hi) = (D(min), D(max));
        if (!double.IsFinite(lo) || !double.IsFinite(hi))
        {
            // Only pay for the NaN/Inf passes when min/max show that a non-finite value exists.
            nan = values.isnan().sum().item<long>();
            inf = values.isinf().sum().item<long>();
            values = values.masked_select(values.isfinite());
            if (values.numel() > 0) (min, max) = values.aminmax();
            (lo, hi) = values.numel() > 0 ? (D(min), D(max)) : (double.NaN, double.NaN);
        }
        double mean = double.NaN, std = double.NaN;
        if (values.numel() > 0)
        {
            // Two cheap passes instead of torch's Welford std_mean (several times slower): the mean accumulated in
            // float64, then the centred sum of squares as a BLAS dot product. Unbiased, as torch.std.
            var count = values.numel();
            mean = D(values.sum(type: ScalarType.Float64)) / count;
            if (count > 1)
            {
                var centred = values - mean;
                std = Math.Sqrt(Math.Max(0, D(centred.dot(centred))) / (count - 1));
            }
        }
        return new TensorStats(lo, hi, mean, std, nan, inf, used, n, stride, SampleNote(stride, used, n));
    }

    static string? SampleNote(long stride, long used, long n) => stride == 1 ? null
        : $"statistics over a strided sample: {used:N0} of {n:N0} elements (every {stride:N0}th); TensorView.Of(t, exactStats: true) for exact values";

    /// <summary>A stride giving about <paramref name="sampleSize"/> elements that is coprime with the last dimension,
    /// so the sample does not keep hitting the same columns.</summary>
    internal static long SampleStride(long n, long sampleSize, long lastDim)
    {
        var stride = Math.Max(1, (n + sampleSize - 1) / sampleSize);
        if (lastDim > 1) while (Gcd(stride, lastDim) != 1) stride++;
        return stride;
    }

    static double D(Tensor scalar) => scalar.to(ScalarType.Float64).item<double>();

    static long Gcd(long a, long b) { while (b != 0) (a, b) = (b, a % b); return a; }

    // ---------- value grids ----------

    static long[] KeptIndices(long size, bool summarize, int edge) =>
        summarize && size > 2L * edge
            ? [.. Enumerable.Range(0, edge).Select(i => (long)i), .. Enumerable.Range(0, edge).Select(i => size - edge + i)]
            : [.. Enumerable.Range(0, (int)size).Select(i => (long)i)];

    (IReadOnlyList<TensorGrid>, long) BuildGrids(Tensor t, TensorViewOptions o)
    {
        var summarize = NumberOfElements > o.Threshold;
        var rank = t.dim();
        if (rank <= 2) return ([BuildGrid(t, "", summarize, o)], 0);

        var leading = Shape.Take((int)rank - 2).Select(size => KeptIndices(size, summarize, o.EdgeItems)).ToArray();
        var combos = new List<long[]> { Array.Empty<long>() };
        foreach (var kept in leading) combos = [.. combos.SelectMany(c => kept.Select(k => (long[])[.. c, k]))];
        long totalSlices = 1;
        foreach (var size in Shape.Take((int)rank - 2)) totalSlices *= size;
        var shown = combos.Count <= o.MaxSlices ? combos
            : [.. combos.Take((o.MaxSlices + 1) / 2), .. combos.Skip(combos.Count - o.MaxSlices / 2)];
        var strides = t.stride();
        var grids = shown.Select(c =>
        {
            var slice = t;
            long offset = 0;
            for (var d = 0; d < c.Length; d++) { slice = slice.select(0, c[d]); offset += c[d] * strides[d]; }
            return BuildGrid(slice, "[" + string.Join(", ", c) + ", :, :]", summarize, o, offset);
        }).ToList();
        return (grids, totalSlices - grids.Count);
    }

    TensorGrid BuildGrid(Tensor t, string caption, bool summarize, TensorViewOptions o, long offset = 0)
    {
        var isVector = t.dim() <= 1;
        var m = t.dim() switch { 0 => t.reshape(1, 1), 1 => t.unsqueeze(0), _ => t };
        var (rows, cols) = (m.shape[0], m.shape[1]);
        var rowIdx = isVector ? [0L] : KeptIndices(rows, summarize, o.EdgeItems);
        var colIdx = KeptIndices(cols, summarize, o.EdgeItems);
        var cells = new string[rowIdx.Length, colIdx.Length];
        if (reader is not null && rowIdx.Length > 0 && colIdx.Length > 0)
        {
            // Contiguous: element (r, c) of this slice sits at offset + r·cols + c.
            var values = new double[rowIdx.Length * colIdx.Length];
            for (var i = 0; i < rowIdx.Length; i++)
                for (var j = 0; j < colIdx.Length; j++) values[i * colIdx.Length + j] = reader[offset + rowIdx[i] * cols + colIdx[j]];
            var fmt = NumberFormat.Choose(values);
            for (var k = 0; k < values.Length; k++) cells[k / colIdx.Length, k % colIdx.Length] = fmt.Format(values[k]);
        }
        else if (rowIdx.Length > 0 && colIdx.Length > 0)
        {
            var part = m.index_select(0, tensor(rowIdx, device: m.device)).index_select(1, tensor(colIdx, device: m.device)).cpu().contiguous();
            FillCells(part, cells);
        }
        return new TensorGrid(caption, rowIdx, colIdx, isVector ? 1 : rows, cols, cells, isVector);
    }

    static void FillCells(Tensor part, string[,] cells)
    {
        var (r, c) = (cells.GetLength(0), cells.GetLength(1));
        var dtype = part.dtype;
        if (dtype == ScalarType.Bool)
        {
            var v = part.data<bool>().ToArray();
            for (var i = 0; i < v.Length; i++) cells[i / c, i % c] = v[i] ? "True" : "False";
        }
        else if (IsComplex(dtype))
        {
            var re = real(part).to(ScalarType.Float64).contiguous().data<double>().ToArray();
            var im = imag(part).to(ScalarType.Float64).contiguous().data<double>().ToArray();
            var fmt = NumberFormat.Choose([.. re, .. im]);
            for (var i = 0; i < re.Length; i++)
                cells[i / c, i % c] = $"{fmt.Format(re[i])}{(im[i] < 0 || double.IsNegative(im[i]) ? "-" : "+")}{fmt.Format(Math.Abs(im[i]))}j";
        }
        else if (!IsFloating(dtype))
        {
            var v = part.to(ScalarType.Int64).data<long>().ToArray();
            for (var i = 0; i < v.Length; i++) cells[i / c, i % c] = v[i].ToString(CultureInfo.InvariantCulture);
        }
        else
        {
            var v = part.to(ScalarType.Float64).data<double>().ToArray();
            var fmt = NumberFormat.Choose(v);
            for (var i = 0; i < v.Length; i++) cells[i / c, i % c] = fmt.Format(v[i]);
        }
    }

    /// <summary>One number format for a whole grid, chosen like torch: fixed point unless the magnitudes call for scientific.</summary>
    internal readonly record struct NumberFormat(bool Scientific, int Decimals)
    {
        public static NumberFormat Choose(IReadOnlyList<double> values)
        {
            var finite = values.Where(double.IsFinite).Select(Math.Abs).ToArray();
            if (finite.Length == 0) return new(false, 4);
            var max = finite.Max();
            var nonZero = finite.Where(v => v > 0).ToArray();
            var minNz = nonZero.Length > 0 ? nonZero.Min() : 0;
            if (finite.All(v => v == Math.Floor(v)) && max < 1e8) return new(false, 0);
            var sci = max >= 1e8 || (minNz > 0 && (minNz < 1e-4 || max / minNz > 1e3));
            return new(sci, 4);
        }

        public string Format(double v)
        {
            if (double.IsNaN(v)) return "nan";
            if (double.IsPositiveInfinity(v)) return "inf";
            if (double.IsNegativeInfinity(v)) return "-inf";
            if (Scientific) return v.ToString("0.0000e+00", CultureInfo.InvariantCulture);
            return Decimals == 0 ? v.ToString("0", CultureInfo.InvariantCulture) + "." : v.ToString("F" + Decimals, CultureInfo.InvariantCulture);
        }
    }

    // ---------- heatmap / image ----------

    (string?, string?, (int, int)) BuildImage(Tensor t, TensorViewOptions o)
    {
        var rank = t.dim();
        var imageShaped = rank == 3 && (Shape[0] == 1 || Shape[0] == 3) && Shape[1] >= 2 && Shape[2] >= 2;
        var heat = rank == 2 && Shape[0] >= 2 && Shape[1] >= 2;
        if ((!imageShaped && !heat) || IsComplex(t.dtype)) return (null, null, (0, 0));

        var (h, w) = heat ? (Shape[0], Shape[1]) : (Shape[1], Shape[2]);
        var rowStep = (h + o.HeatmapMaxSide - 1) / o.HeatmapMaxSide;
        var colStep = (w + o.HeatmapMaxSide - 1) / o.HeatmapMaxSide;
        var (ph, pw) = ((int)((h + rowStep - 1) / rowStep), (int)((w + colStep - 1) / colStep));
        double[] v;
        if (reader is not null)
        {
            var channels = heat ? 1 : (int)Shape[0];
            v = new double[channels * ph * pw];
            for (var c = 0; c < channels; c++)
                for (var r = 0; r < ph; r++)
                    for (var q = 0; q < pw; q++)
                        v[(c * ph + r) * pw + q] = reader[(c * h + r * rowStep) * w + q * colStep];
        }
        else
        {
            var rowsIdx = arange(0, h, rowStep, ScalarType.Int64, t.device);
            var colsIdx = arange(0, w, colStep, ScalarType.Int64, t.device);
            var hd = heat ? 0 : 1;
            v = t.index_select(hd, rowsIdx).index_select(hd + 1, colsIdx).cpu().to(ScalarType.Float64).contiguous().data<double>().ToArray();
        }
        var rgb = new byte[ph * pw * 3];
        var finite = v.Where(double.IsFinite).ToArray();
        double lo = finite.Length > 0 ? finite.Min() : 0, hi = finite.Length > 0 ? finite.Max() : 1;
        string caption;
        if (heat || Shape[0] == 1)
        {
            var gray = !heat;
            for (var i = 0; i < ph * pw; i++)
            {
                var x = hi > lo ? (v[i] - lo) / (hi - lo) : 0.5;
                if (gray) { var b = double.IsFinite(x) ? (byte)Math.Round(Math.Clamp(x, 0, 1) * 255) : (byte)0; rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = b; }
                else { var (r, g, b) = ColorMaps.Viridis(double.IsFinite(v[i]) ? x : double.NaN); rgb[3 * i] = r; rgb[3 * i + 1] = g; rgb[3 * i + 2] = b; }
            }
            caption = (heat ? "heatmap (viridis)" : "image (grayscale)") + $", scaled from {Fmt(lo)} to {Fmt(hi)}";
        }
        else
        {
            // RGB: values already in [0, 1] or [0, 255] are shown as they are; anything else is min-max scaled.
            var (scaleLo, scaleHi, how) = t.dtype == ScalarType.Byte || (lo >= 0 && hi <= 255 && hi > 1 && finite.All(x => x == Math.Floor(x)))
                ? (0.0, 255.0, "0..255") : lo >= 0 && hi <= 1 ? (0.0, 1.0, "0..1") : (lo, hi, $"scaled from {Fmt(lo)} to {Fmt(hi)}");
            var plane = ph * pw;
            for (var c = 0; c < 3; c++)
                for (var i = 0; i < plane; i++)
                {
                    var x = scaleHi > scaleLo ? (v[c * plane + i] - scaleLo) / (scaleHi - scaleLo) : 0.5;
                    rgb[3 * i + c] = double.IsFinite(x) ? (byte)Math.Round(Math.Clamp(x, 0, 1) * 255) : (byte)0;
                }
            caption = $"image (RGB, {how})";
        }
        if (rowStep > 1 || colStep > 1) caption += $"; every {rowStep}th row and {colStep}th column shown";
        return (PngEncoder.ToDataUri(pw, ph, rgb), caption, (pw, ph));
    }

    static string Fmt(double v) => double.IsFinite(v) ? v.ToString("G4", CultureInfo.InvariantCulture) : v.ToString(CultureInfo.InvariantCulture);

    // ---------- rendering ----------

    public string ShapeText => Shapes.Format(Shape);

    string GradText => RequiresGrad ? (IsLeaf ? "requires_grad=True (leaf)" : "requires_grad=True grad_fn (result of a recorded operation)") : "";

    string HeaderText => $"tensor{ShapeText} {DType} {Device}" + (RequiresGrad ? " " + GradText : "") + (HasGrad ? " (has .grad)" : "");

    string StatsText(TensorStats s) =>
        $"min {Fmt(s.Min)}  max {Fmt(s.Max)}  mean {Fmt(s.Mean)}  std {Fmt(s.Std)}  nan {s.NaNCount:N0}  inf {s.InfCount:N0}" +
        (s.IsExact ? "" : $"  ({s.Note})");

    public string ToPlainText()
    {
        var sb = new StringBuilder();
        sb.AppendLine(HeaderText);
        if (Stats is { } s) sb.AppendLine(StatsText(s));
        foreach (var g in Grids)
        {
            if (g.Caption.Length > 0) sb.AppendLine(g.Caption);
            AppendGridText(sb, g);
        }
        if (OmittedSlices > 0) sb.AppendLine($"… {OmittedSlices:N0} more slices");
        return sb.ToString().TrimEnd();
    }

    static void AppendGridText(StringBuilder sb, TensorGrid g)
    {
        var width = 1;
        foreach (var cell in g.Cells) width = Math.Max(width, cell.Length);
        for (var i = 0; i < g.RowIndices.Length; i++)
        {
            if (i > 0 && g.RowIndices[i] != g.RowIndices[i - 1] + 1) sb.AppendLine(" ...");
            sb.Append(i == 0 ? "[" : " ").Append(g.IsVector ? "" : "[");
            for (var j = 0; j < g.ColumnIndices.Length; j++)
            {
                if (j > 0) sb.Append(g.ColumnIndices[j] != g.ColumnIndices[j - 1] + 1 ? ", ..., " : ", ");
                sb.Append(g.Cells[i, j].PadLeft(width));
            }
            sb.Append(g.IsVector ? "" : "]").AppendLine(i == g.RowIndices.Length - 1 ? "]" : ",");
        }
    }

    public string ToHtml()
    {
        var sb = new StringBuilder();
        sb.Append("<div class=\"nl-tensor\" style=\"font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px\">");
        sb.Append("<div class=\"nl-tensor-header\" style=\"margin-bottom:4px\"><b>tensor</b> ");
        sb.Append($"<span class=\"nl-shape\" title=\"shape\">{ShapeText}</span> · <span class=\"nl-dtype\">{DType}</span> · <span class=\"nl-device\">{Html.Encode(Device)}</span>");
        sb.Append($" · <span class=\"nl-numel\">{NumberOfElements:N0}</span> elements");
        if (RequiresGrad) sb.Append(" · <span class=\"nl-requires-grad\">requires_grad</span>")
            .Append(IsLeaf ? " · <span class=\"nl-leaf\">leaf</span>" : " · <span class=\"nl-grad-fn\" title=\"produced by an operation autograd recorded\">grad_fn</span>");
        if (HasGrad) sb.Append(" · <span class=\"nl-has-grad\">has .grad</span>");
        sb.Append("</div>");
        if (Stats is { } s)
        {
            sb.Append("<table class=\"nl-stats\" style=\"border-collapse:collapse;margin-bottom:4px\"><tr>");
            foreach (var h in new[] { "min", "max", "mean", "std", "NaN", "Inf" }) sb.Append($"<th style=\"padding:1px 8px;text-align:right\">{h}</th>");
            sb.Append("</tr><tr>");
            foreach (var (name, val) in new[] { ("min", Fmt(s.Min)), ("max", Fmt(s.Max)), ("mean", Fmt(s.Mean)), ("std", Fmt(s.Std)), ("nan", s.NaNCount.ToString(CultureInfo.InvariantCulture)), ("inf", s.InfCount.ToString(CultureInfo.InvariantCulture)) })
                sb.Append($"<td data-stat=\"{name}\" style=\"padding:1px 8px;text-align:right\">{val}</td>");
            sb.Append("</tr></table>");
            if (!s.IsExact) sb.Append($"<div class=\"nl-stats-note\" data-sampled=\"{s.ElementsUsed}\" style=\"color:#a15c00\">{Html.Encode(s.Note)}</div>");
        }
        sb.Append("<div style=\"display:flex;gap:16px;align-items:flex-start;flex-wrap:wrap\"><div>");
        foreach (var g in Grids) AppendGridHtml(sb, g);
        if (OmittedSlices > 0) sb.Append($"<div class=\"nl-omitted\">… {OmittedSlices:N0} more slices</div>");
        sb.Append("</div>");
        if (ImageDataUri is not null)
        {
            var scale = Math.Max(1, 160 / Math.Max(ImageSize.Width, ImageSize.Height));
            sb.Append($"<figure class=\"nl-heatmap\" style=\"margin:0\"><img src=\"{ImageDataUri}\" width=\"{ImageSize.Width * scale}\" height=\"{ImageSize.Height * scale}\" style=\"image-rendering:pixelated;border:1px solid #ccc\" alt=\"{Html.Encode(ImageCaption)}\"/>");
            sb.Append($"<figcaption style=\"color:#666;max-width:240px\">{Html.Encode(ImageCaption)}</figcaption></figure>");
        }
        sb.Append("</div></div>");
        return sb.ToString();
    }

    static void AppendGridHtml(StringBuilder sb, TensorGrid g)
    {
        const string cellStyle = "padding:1px 6px;text-align:right;border:none";
        const string indexStyle = "padding:1px 6px;text-align:right;color:#999;font-weight:normal;border:none";
        sb.Append("<table class=\"nl-values\" style=\"border-collapse:collapse;margin-bottom:6px\">");
        if (g.Caption.Length > 0) sb.Append($"<caption style=\"text-align:left;color:#666\">{Html.Encode(g.Caption)}</caption>");
        sb.Append($"<thead><tr><th style=\"{indexStyle}\"></th>");
        for (var j = 0; j < g.ColumnIndices.Length; j++)
        {
            if (j > 0 && g.ColumnIndices[j] != g.ColumnIndices[j - 1] + 1) sb.Append($"<th class=\"nl-gap\" style=\"{indexStyle}\">…</th>");
            sb.Append($"<th style=\"{indexStyle}\">{g.ColumnIndices[j]}</th>");
        }
        sb.Append("</tr></thead><tbody>");
        for (var i = 0; i < g.RowIndices.Length; i++)
        {
            if (i > 0 && g.RowIndices[i] != g.RowIndices[i - 1] + 1)
                sb.Append($"<tr class=\"nl-gap\"><th style=\"{indexStyle}\">⋮</th><td colspan=\"{g.Cells.GetLength(1) + 1}\" style=\"{cellStyle};text-align:center\">⋮</td></tr>");
            sb.Append($"<tr><th style=\"{indexStyle}\">{(g.IsVector ? "" : g.RowIndices[i].ToString(CultureInfo.InvariantCulture))}</th>");
            for (var j = 0; j < g.ColumnIndices.Length; j++)
            {
                if (j > 0 && g.ColumnIndices[j] != g.ColumnIndices[j - 1] + 1) sb.Append($"<td class=\"nl-gap\" style=\"{cellStyle}\">…</td>");
                sb.Append($"<td style=\"{cellStyle}\">{g.Cells[i, j]}</td>");
            }
            sb.Append("</tr>");
        }
        sb.Append("</tbody></table>");
    }

    public IReadOnlyList<string> MimeTypes => MimeType.HtmlAndText;

    public string Render(string mimeType) => mimeType switch
    {
        MimeType.Html => ToHtml(),
        MimeType.PlainText => ToPlainText(),
        _ => throw MimeViews.NotOffered(this, mimeType),
    };

    public override string ToString() => ToPlainText();
}
