using System.Buffers.Binary;
using System.IO.Compression;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Data;

/// <summary>Images [N, C, H, W] (float32 in 0…1), labels [N] (int64), class names and where they came from.</summary>
public sealed record LabeledImages(Tensor Images, Tensor Labels, IReadOnlyList<string> ClassNames, string Source)
{
    public long Count => Labels.shape[0];
    public void Deconstruct(out Tensor images, out Tensor labels) => (images, labels) = (Images, Labels);
}

/// <summary>
/// Fashion-MNIST (Xiao, Rasul, Vollgraf 2017; MIT licence): 28×28 greyscale images of 10 kinds of clothing, read from
/// the original IDX files (gzip). Three sources:
/// <list type="bullet">
/// <item>the subset shipped with NotebookLab (<c>data/fashion-mnist</c>: the first 2,000 training and 500 test images) — the default;</item>
/// <item>the full set (60,000 + 10,000) from Debian's <c>dataset-fashion-mnist</c> package (<see cref="DebianFolder"/>) with <c>full: true</c>;</item>
/// <item>any folder holding the four files (<c>path:</c>).</item>
/// </list>
/// </summary>
public static class FashionMnist
{
    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> installs the full data set.</summary>
    public const string DebianFolder = "/usr/share/datasets/fashion-mnist";

    /// <summary>Environment variable naming a folder that holds NotebookLab's <c>data/</c> (or the IDX files directly).</summary>
    public const string DataVariable = "NOTEBOOKLAB_DATA";

    /// <summary>Label → name.</summary>
    public static IReadOnlyList<string> ClassNames { get; } =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    /// <summary>Mean and standard deviation of the full training set's pixels (in 0…1), for normalisation.</summary>
    public const double Mean = 0.2860, Std = 0.3530;

    /// <summary>Loads the training (<paramref name="train"/>) or test split.</summary>
    /// <param name="train">Training split (true) or test split.</param>
    /// <param name="full">Read the full set from <see cref="DebianFolder"/> instead of the shipped subset.</param>
    /// <param name="path">A folder with train-images-idx3-ubyte.gz etc.; overrides <paramref name="full"/>.</param>
    /// <param name="limit">Keep only the first n examples.</param>
    /// <exception cref="FileNotFoundException">No folder holds the files; the message lists every path tried.</exception>
    public static LabeledImages Load(bool train = true, bool full = false, string? path = null, int? limit = null)
    {
        string prefix = train ? "train" : "t10k";
        string imagesFile = $"{prefix}-images-idx3-ubyte.gz", labelsFile = $"{prefix}-labels-idx1-ubyte.gz";
        var candidates = path is not null ? [path] : full ? [DebianFolder] : SubsetFolders().ToList();
        var folder = candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, imagesFile)) && File.Exists(Path.Combine(d, labelsFile)));
        if (folder is null)
        {
            var hint = path is not null ? "Check the folder: it must hold the four Fashion-MNIST IDX .gz files."
                : full ? "Install the full set with `sudo apt install dataset-fashion-mnist`, or pass path: to a folder holding the files."
                : $"The subset ships in the repository's data/fashion-mnist and in the NotebookLab package; set {DataVariable} to the folder holding data/.";
            throw new FileNotFoundException(
                $"Fashion-MNIST files {imagesFile} and {labelsFile} were not found. Tried:\n  " +
                string.Join("\n  ", candidates.Select(Path.GetFullPath)) + "\n" + hint, Path.Combine(candidates.FirstOrDefault() ?? ".", imagesFile));
        }
        var images = Idx.ReadImages(Path.Combine(folder, imagesFile), limit);
        var labels = Idx.ReadLabels(Path.Combine(folder, labelsFile), limit);
        if (images.shape[0] != labels.shape[0])
        {
            images.Dispose(); labels.Dispose();
            throw new InvalidDataException($"{folder}: {imagesFile} holds {images.shape[0]} images but {labelsFile} holds {labels.shape[0]} labels.");
        }
        return new LabeledImages(images, labels, ClassNames, Path.GetFullPath(folder));
    }

    /// <summary>Folders searched for the shipped subset, in order.</summary>
    public static IEnumerable<string> SubsetFolders()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        IEnumerable<string> Candidates()
        {
            if (Environment.GetEnvironmentVariable(DataVariable) is { Length: > 0 } root)
            {
                yield return Path.Combine(root, "fashion-mnist");
                yield return root;
            }
            foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
                for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                    yield return Path.Combine(dir.FullName, "data", "fashion-mnist");
            // Inside the NuGet package: lib/net8.0/NotebookLab.dll → data/fashion-mnist.
            var assemblyDir = Path.GetDirectoryName(typeof(FashionMnist).Assembly.Location);
            if (!string.IsNullOrEmpty(assemblyDir)) yield return Path.GetFullPath(Path.Combine(assemblyDir, "..", "..", "data", "fashion-mnist"));
        }
        foreach (var c in Candidates())
            if (seen.Add(Path.GetFullPath(c))) yield return c;
    }
}

/// <summary>Reader for the IDX format (LeCun's MNIST files), optionally gzip-compressed.</summary>
public static class Idx
{
    /// <summary>Reads an idx3 file of unsigned bytes as float32 images [N, 1, rows, cols] scaled to 0…1.</summary>
    public static Tensor ReadImages(string path, int? limit = null)
    {
        var (dims, data) = Read(path, expectedDims: 3, limit);
        var bytes = torch.tensor(data, dtype: ScalarType.Byte).reshape(dims[0], 1, dims[1], dims[2]);
        var images = bytes.to(float32).div_(255f);
        bytes.Dispose();
        return images;
    }

    /// <summary>Reads an idx1 file of unsigned bytes as int64 labels [N].</summary>
    public static Tensor ReadLabels(string path, int? limit = null)
    {
        var (dims, data) = Read(path, expectedDims: 1, limit);
        var labels = new long[dims[0]];
        for (int i = 0; i < labels.Length; i++) labels[i] = data[i];
        return torch.tensor(labels);
    }

    static (int[] Dims, byte[] Data) Read(string path, int expectedDims, int? limit)
    {
        using var file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        Span<byte> header = stackalloc byte[4];
        stream.ReadExactly(header);
        if (header[0] != 0 || header[1] != 0 || header[2] != 0x08 || header[3] != expectedDims)
            throw new InvalidDataException(
                $"{path} is not an IDX file of unsigned bytes with {expectedDims} dimension(s): magic bytes {Convert.ToHexString(header)}, expected 000008{expectedDims:X2}.");
        var dims = new int[expectedDims];
        Span<byte> word = stackalloc byte[4];
        for (int d = 0; d < expectedDims; d++)
        {
            stream.ReadExactly(word);
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(word);
        }
        if (limit is { } n)
        {
            if (n < 1) throw new ArgumentOutOfRangeException(nameof(limit), n, "limit must be at least 1.");
            dims[0] = Math.Min(dims[0], n);
        }
        long length = dims.Aggregate(1L, (a, b) => a * b);
        var data = new byte[length];
        try { stream.ReadExactly(data); }
        catch (EndOfStreamException) { throw new InvalidDataException($"{path} is truncated: its header promises {length} bytes of data."); }
        return (dims, data);
    }
}
