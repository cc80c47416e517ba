using OxyPlot;

namespace NotebookLab.Views.Charts;

/// <summary>
/// Measures text for OxyPlot's SVG exporter. Its default measurer uses the PDF standard-font metrics, which only know
/// Latin-1 and give other characters (ρ, θ, ‖, ∂, …) no width, so legends and titles holding them were laid out too
/// narrow and clipped ("ρ = 0.5" showed as "ρ = 0"). Characters outside Latin-1 are measured as a Latin letter of
/// similar width; everything else is measured as before.
/// </summary>
sealed class LatinTextMeasurer : RenderContextBase
{
    readonly PdfRenderContext pdf = new(100, 100, OxyColors.White);

    public override OxySize MeasureText(string text, string fontFamily, double fontSize, double fontWeight) =>
        pdf.MeasureText(ToLatin(text), fontFamily, fontSize, fontWeight);

    internal static string ToLatin(string text)
    {
        if (text is null || text.All(c => c <= '\u00ff')) return text!;
        return string.Create(text.Length, text, (span, source) =>
        {
            for (int i = 0; i < source.Length; i++)
                span[i] = source[i] <= '\u00ff' ? source[i] : char.IsUpper(source[i]) ? 'M' : 'm';
        });
    }

    public override void DrawLine(IList<ScreenPoint> points, OxyColor stroke, double thickness, EdgeRenderingMode edgeRenderingMode, double[]? dashArray = null, LineJoin lineJoin = LineJoin.Miter) =>
        throw new NotSupportedException("measures text only");

    public override void DrawPolygon(IList<ScreenPoint> points, OxyColor fill, OxyColor stroke, double thickness, EdgeRenderingMode edgeRenderingMode, double[]? dashArray = null, LineJoin lineJoin = LineJoin.Miter) =>
        throw new NotSupportedException("measures text only");

    public override void DrawText(ScreenPoint p, string text, OxyColor fill, string? fontFamily = null, double fontSize = 10, double fontWeight = 500, double rotate = 0, HorizontalAlignment halign = HorizontalAlignment.Left, VerticalAlignment valign = VerticalAlignment.Top, OxySize? maxSize = null) =>
        throw new NotSupportedException("measures text only");

    public override int ClipCount => 0;
    public override void PushClip(OxyRect clippingRectangle) { }
    public override void PopClip() { }
}
