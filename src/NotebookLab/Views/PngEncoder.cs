using System.Buffers.Binary;
using System.IO.Compression;

namespace NotebookLab.Views;

/// <summary>A minimal PNG writer (8-bit RGB, no interlacing) for heatmaps and image previews, so views need no imaging library.</summary>
public static class PngEncoder
{
    /// <summary>Encodes <paramref name="rgb"/> (row-major, 3 bytes per pixel) as a PNG file.</summary>
    public static byte[] EncodeRgb(int width, int height, ReadOnlySpan<byte> rgb)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"PNG size must be positive, got {width}×{height}");
        if (rgb.Length != width * height * 3)
            throw new ArgumentException($"expected {width}×{height}×3 = {width * height * 3} bytes of RGB, got {rgb.Length}", nameof(rgb));

        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);

        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], height);
        header[8] = 8;  // bit depth
        header[9] = 2;  // colour type: truecolour
        header[10] = 0; header[11] = 0; header[12] = 0;
        WriteChunk(png, "IHDR", header);

        using var raw = new MemoryStream();
        using (var z = new ZLibStream(raw, CompressionLevel.Fastest, leaveOpen: true))
        {
            var stride = width * 3;
            for (var y = 0; y < height; y++)
            {
                z.WriteByte(0); // filter: none
                z.Write(rgb.Slice(y * stride, stride));
            }
        }
        WriteChunk(png, "IDAT", raw.ToArray());
        WriteChunk(png, "IEND", ReadOnlySpan<byte>.Empty);
        return png.ToArray();
    }

    /// <summary>A <c>data:image/png;base64,…</c> URI for the image.</summary>
    public static string ToDataUri(int width, int height, ReadOnlySpan<byte> rgb) =>
        "data:image/png;base64," + Convert.ToBase64String(EncodeRgb(width, height, rgb));

    static void WriteChunk(Stream s, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        s.Write(len);
        Span<byte> typeBytes = stackalloc byte[4];
        for (var i = 0; i < 4; i++) typeBytes[i] = (byte)type[i];
        s.Write(typeBytes);
        s.Write(data);
        var crc = Crc32.Update(Crc32.Update(0xFFFFFFFFu, typeBytes), data) ^ 0xFFFFFFFFu;
        BinaryPrimitives.WriteUInt32BigEndian(len, crc);
        s.Write(len);
    }

    static class Crc32
    {
        static readonly uint[] Table = BuildTable();

        static uint[] BuildTable()
        {
            var table = new uint[256];
            for (uint n = 0; n < 256; n++)
            {
                var c = n;
                for (var k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
                table[n] = c;
            }
            return table;
        }

        public static uint Update(uint crc, ReadOnlySpan<byte> data)
        {
            foreach (var b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
            return crc;
        }
    }
}

/// <summary>Perceptually uniform colour maps for heatmaps (sampled anchor points, linearly interpolated).</summary>
public static class ColorMaps
{
    // Viridis at 9 evenly spaced anchors.
    static readonly (byte R, byte G, byte B)[] ViridisAnchors =
    [
        (68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
        (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37),
    ];

    /// <summary>The viridis colour for <paramref name="t"/> in [0, 1] (clamped; NaN maps to grey).</summary>
    public static (byte R, byte G, byte B) Viridis(double t)
    {
        if (double.IsNaN(t)) return (128, 128, 128);
        t = Math.Clamp(t, 0, 1) * (ViridisAnchors.Length - 1);
        var i = Math.Min((int)t, ViridisAnchors.Length - 2);
        var f = t - i;
        var (a, b) = (ViridisAnchors[i], ViridisAnchors[i + 1]);
        return ((byte)Math.Round(a.R + (b.R - a.R) * f), (byte)Math.Round(a.G + (b.G - a.G) * f), (byte)Math.Round(a.B + (b.B - a.B) * f));
    }

    /// <summary>CSS hex for a viridis value.</summary>
    public static string ViridisHex(double t)
    {
        var (r, g, b) = Viridis(t);
        return $"#{r:x2}{g:x2}{b:x2}";
    }
}
