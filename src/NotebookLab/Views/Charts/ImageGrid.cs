using System.Globalization;
using System.Text;
using Microsoft.DotNet.Interactive.Formatting;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Views.Charts;

/// <summary>One tile of an <see cref="ImageGridView"/>.</summary>
public sealed record ImageTile(int Index, string PngDataUri, int Width, int Height, string? Label, string? Prediction)
{
    /// <summary>True/false when both label and prediction are known, else null.</summary>
    public bool? Correct => Label is not null && Prediction is not null ? Label == Prediction : null;
}

/// <summary>
/// A batch of images in a grid, captioned with labels and predictions; wrong predictions are framed red, correct ones
/// green. Formats to text/html and to a static image/svg+xml with the same tiles.
/// </summary>
[TypeFormatterSource(typeof(MimeViewFormatterSource<ImageGridView>), PreferredMimeTypes = [MimeType.Html, MimeType.Svg, MimeType.PlainText])]
public sealed class ImageGridView : IMimeView
{
    public IReadOnlyList<ImageTile> Tiles { get; }
    public int Columns { get; }
    public int TileSize { get; }
    public long TotalImages { get; }
    public string? Title { get; }
    public string Scaling { get; }

    internal ImageGridView(IReadOnlyList<ImageTile> tiles, int columns, int tileSize, long total, string? title, string scaling) =>
        (Tiles, Columns, TileSize, TotalImages, Title, Scaling) = (tiles, columns, tileSize, total, title, scaling);

    const int CaptionHeight = 30; // two lines: the label, then "→ prediction" when it is wrong
    static string Green => "#2ca02c";
    static string Red => "#d62728";

    static string CaptionOf(ImageTile t) => (t.Label, t.Prediction) switch
    {
        (null, null) => $"#{t.Index}",
        ({ } l, null) => l,
        (null, { } p) => $"pred {p}",
        ({ } l, { } p) => l == p ? l : $"{l} → {p}",
    };

    public int WrongCount => Tiles.Count(t => t.Correct == false);

    string Summary => $"{Tiles.Count} of {TotalImages} images" +
        (Tiles.Any(t => t.Correct is not null) ? $", {WrongCount} wrong (red: true → predicted)" : "") + $"; pixels {Scaling}";

    public string ToSvg()
    {
        var rows = (Tiles.Count + Columns - 1) / Columns;
        // Wide enough for the longest caption line (about 6 px a character at 11 px).
        var longest = Tiles.Select(t => Math.Max((t.Label ?? CaptionOf(t)).Length, t.Prediction is null ? 0 : t.Prediction.Length + 2)).DefaultIfEmpty(0).Max();
        var cell = Math.Max(TileSize + 8, 6 * longest + 8);
        var top = Title is null ? 0 : 22;
        var (w, h) = (Math.Max(Columns * cell, (int)(Summary.Length * 5.6) + 8), top + rows * (TileSize + 8 + CaptionHeight) + 18);
        var sb = new StringBuilder($"<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" version=\"1.1\" width=\"{w}\" height=\"{h}\" font-family=\"Helvetica, Arial, sans-serif\">");
        sb.Append($"<rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>");
        if (Title is not null) sb.Append($"<text x=\"4\" y=\"16\" font-size=\"14\">{Html.Encode(Title)}</text>");
        for (var i = 0; i < Tiles.Count; i++)
        {
            var t = Tiles[i];
            var (x, y) = (i % Columns * cell + (cell - TileSize) / 2, top + i / Columns * (TileSize + 8 + CaptionHeight) + 4);
            var stroke = t.Correct switch { true => Green, false => Red, null => "#cccccc" };
            sb.Append($"<g class=\"nl-tile\" data-index=\"{t.Index}\">");
            sb.Append($"<image x=\"{x}\" y=\"{y}\" width=\"{TileSize}\" height=\"{TileSize}\" preserveAspectRatio=\"xMidYMid meet\" style=\"image-rendering:pixelated\" href=\"{t.PngDataUri}\" xlink:href=\"{t.PngDataUri}\"/>");
            sb.Append($"<rect x=\"{x - 2}\" y=\"{y - 2}\" width=\"{TileSize + 4}\" height=\"{TileSize + 4}\" fill=\"none\" stroke=\"{stroke}\" stroke-width=\"{(t.Correct == false ? 3 : 2)}\"/>");
            var (line1, line2) = t.Correct == false ? (t.Label!, "→ " + t.Prediction) : (CaptionOf(t), null);
            sb.Append($"<text x=\"{x + TileSize / 2}\" y=\"{y + TileSize + 14}\" font-size=\"11\" text-anchor=\"middle\" fill=\"{(t.Correct == false ? Red : "#333333")}\">{Html.Encode(line1)}</text>");
            if (line2 is not null)
                sb.Append($"<text x=\"{x + TileSize / 2}\" y=\"{y + TileSize + 27}\" font-size=\"11\" text-anchor=\"middle\" fill=\"{Red}\">{Html.Encode(line2)}</text>");
            sb.Append("</g>");
        }
        sb.Append($"<text x=\"4\" y=\"{h - 4}\" font-size=\"10\" fill=\"#666666\">{Html.Encode(Summary)}</text>");
        return sb.Append("</svg>").ToString();
    }

    public string ToHtml()
    {
        var sb = new StringBuilder("<div class=\"nl-image-grid\" style=\"font-family:Helvetica,Arial,sans-serif;font-size:11px\">");
        if (Title is not null) sb.Append($"<div style=\"font-size:14px;margin-bottom:4px\">{Html.Encode(Title)}</div>");
        sb.Append($"<div style=\"display:grid;grid-template-columns:repeat({Columns},minmax({TileSize + 8}px,max-content));gap:4px\">");
        foreach (var t in Tiles)
        {
            var state = t.Correct switch { true => "correct", false => "wrong", null => "unknown" };
            var color = t.Correct switch { true => Green, false => Red, null => "#cccccc" };
            sb.Append($"<figure class=\"nl-tile nl-{state}\" data-index=\"{t.Index}\" style=\"margin:0;text-align:center\">");
            sb.Append($"<img src=\"{t.PngDataUri}\" width=\"{TileSize}\" height=\"{TileSize}\" style=\"image-rendering:pixelated;object-fit:contain;border:{(t.Correct == false ? 3 : 2)}px solid {color}\" alt=\"{Html.Encode(CaptionOf(t))}\"/>");
            sb.Append($"<figcaption style=\"color:{(t.Correct == false ? Red : "#333")}\">{Html.Encode(CaptionOf(t))}</figcaption></figure>");
        }
        sb.Append($"</div><div class=\"nl-image-grid-summary\" style=\"color:#666;margin-top:4px\">{Html.Encode(Summary)}</div></div>");
        return sb.ToString();
    }

    public string ToPlainText() => (Title is null ? "" : Title + ": ") + Summary + Environment.NewLine +
        string.Join("  ", Tiles.Select(CaptionOf));

    public IReadOnlyList<string> MimeTypes => MimeType.HtmlSvgAndText;

    public string Render(string mimeType) => mimeType switch
    {
        MimeType.Html => ToHtml(),
        MimeType.Svg => ToSvg(),
        MimeType.PlainText => ToPlainText(),
        _ => throw MimeViews.NotOffered(this, mimeType),
    };

    public override string ToString() => ToPlainText();
}

public static partial class Charts
{
    /// <summary>
    /// A grid of images (N×C×H×W with C ∈ {1, 3}, or N×H×W) with optional labels and predictions (class indices,
    /// named by <paramref name="classNames"/>). Shows at most <paramref name="max"/> images.
    /// </summary>
    public static ImageGridView ImageGrid(Tensor images, int[]? labels = null, int[]? predictions = null,
        string[]? classNames = null, int columns = 8, int max = 32, int tileSize = 56, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        var shape = images.shape;
        var ok = shape.Length == 3 || (shape.Length == 4 && shape[1] is 1 or 3);
        if (!ok) throw new ArgumentException($"ImageGrid takes N×C×H×W (C = 1 or 3) or N×H×W images, got shape {Shapes.Format(shape)}", nameof(images));
        var n = shape[0];
        if (labels is not null && labels.Length != n) throw new ArgumentException($"ImageGrid: {n} images but {labels.Length} labels", nameof(labels));
        if (predictions is not null && predictions.Length != n) throw new ArgumentException($"ImageGrid: {n} images but {predictions.Length} predictions", nameof(predictions));
        if (columns < 1) throw new ArgumentOutOfRangeException(nameof(columns), columns, "need at least one column");
        string Name(int c) => classNames is not null && c >= 0 && c < classNames.Length ? classNames[c] : c.ToString(CultureInfo.InvariantCulture);

        var shown = (int)Math.Min(n, max);
        var tiles = new List<ImageTile>(shown);
        string scaling;
        using (var scope = NewDisposeScope())
        using (no_grad())
        {
            var batch = images.detach().narrow(0, 0, shown);
            if (batch.dim() == 3) batch = batch.unsqueeze(1);
            var isByte = batch.dtype == ScalarType.Byte;
            var v = batch.cpu().to(ScalarType.Float64).contiguous();
            var (c, h, w) = ((int)v.shape[1], (int)v.shape[2], (int)v.shape[3]);
            var data = v.data<double>().ToArray();
            double lo = 0, hi = 1;
            if (isByte) { hi = 255; scaling = "0..255"; }
            else
            {
                var finite = data.Where(double.IsFinite).ToArray();
                var (mn, mx) = finite.Length > 0 ? (finite.Min(), finite.Max()) : (0.0, 1.0);
                if (mn >= 0 && mx <= 1) scaling = "0..1";
                else { (lo, hi) = (mn, mx); scaling = $"scaled from {mn:G4} to {mx:G4} (whole batch)"; }
            }
            var plane = h * w;
            for (var i = 0; i < shown; i++)
            {
                var rgb = new byte[plane * 3];
                for (var p = 0; p < plane; p++)
                    for (var ch = 0; ch < 3; ch++)
                    {
                        var x = data[(i * c + (c == 1 ? 0 : ch)) * plane + p];
                        var t = hi > lo ? (x - lo) / (hi - lo) : 0.5;
                        rgb[p * 3 + ch] = double.IsFinite(t) ? (byte)Math.Round(Math.Clamp(t, 0, 1) * 255) : (byte)0;
                    }
                tiles.Add(new ImageTile(i, PngEncoder.ToDataUri(w, h, rgb), w, h,
                    labels is null ? null : Name(labels[i]), predictions is null ? null : Name(predictions[i])));
            }
        }
        return new ImageGridView(tiles, Math.Min(columns, Math.Max(1, shown)), tileSize, n, title, scaling);
    }

    public static ImageGridView ImageGrid(Tensor images, Tensor? labels, Tensor? predictions = null, string[]? classNames = null,
        int columns = 8, int max = 32, int tileSize = 56, string? title = null)
    {
        int[]? l = labels is null ? null : ToInts(labels, nameof(labels));
        int[]? p = predictions is null ? null : ToInts(predictions, nameof(predictions));
        return ImageGrid(images, l, p, classNames, columns, max, tileSize, title);
    }
}
