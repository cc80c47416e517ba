using System.IO.Compression;
using NotebookLab.Data;
using NotebookLab.Tests.Support;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Tests.Data;

public class FashionMnistTests
{
    [Fact]
    public void Shipped_subset_loads_with_the_expected_shapes_and_values()
    {
        var train = FashionMnist.Load();
        Assert.Equal([2000L, 1, 28, 28], train.Images.shape);
        Assert.Equal([2000L], train.Labels.shape);
        Assert.Equal(ScalarType.Float32, train.Images.dtype);
        Assert.Equal(ScalarType.Int64, train.Labels.dtype);
        Assert.Equal(0f, train.Images.min().item<float>());
        Assert.Equal(1f, train.Images.max().item<float>());
        Assert.InRange(train.Images.mean().item<float>(), 0.27, 0.30);
        Assert.Equal(9, train.Labels[0].item<long>()); // the first training image is an ankle boot
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), train.Labels.unique().Item1.data<long>().ToArray());
        Assert.Equal("Ankle boot", train.ClassNames[9]);
        Assert.Equal(Path.Combine(RepoPaths.Data, "fashion-mnist"), train.Source);

        var (images, labels) = FashionMnist.Load(train: false, limit: 100);
        Assert.Equal([100L, 1, 28, 28], images.shape);
        Assert.Equal([100L], labels.shape);
        Assert.Equal(500, FashionMnist.Load(train: false).Count);
    }

    [Fact]
    public void Full_set_loads_from_the_debian_package_or_says_how_to_install_it()
    {
        if (Directory.Exists(FashionMnist.DebianFolder))
        {
            var test = FashionMnist.Load(train: false, full: true);
            Assert.Equal(10000, test.Count);
            Assert.Equal(FashionMnist.DebianFolder, test.Source);
            var subset = FashionMnist.Load(train: false, limit: 500);
            Assert.True(subset.Images.SameAs(test.Images.narrow(0, 0, 500)), "the shipped subset must be the first 500 test images");
        }
        else
        {
            var error = Assert.Throws<FileNotFoundException>(() => FashionMnist.Load(full: true));
            Assert.Contains("apt install dataset-fashion-mnist", error.Message);
            Assert.Contains(FashionMnist.DebianFolder, error.Message);
        }
    }

    [Fact]
    public void Missing_files_name_every_path_tried()
    {
        var nowhere = Path.Combine(Path.GetTempPath(), "notebooklab-no-such-folder");
        var error = Assert.Throws<FileNotFoundException>(() => FashionMnist.Load(path: nowhere));
        Assert.Contains("train-images-idx3-ubyte.gz", error.Message);
        Assert.Contains(nowhere, error.Message);
    }

    [Fact]
    public void A_file_that_is_not_idx_is_refused()
    {
        var folder = Directory.CreateTempSubdirectory("notebooklab-idx").FullName;
        try
        {
            foreach (var name in new[] { "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz" })
            {
                using var gzip = new GZipStream(File.Create(Path.Combine(folder, name)), CompressionMode.Compress);
                gzip.Write("<html>not found</html>"u8);
            }
            var error = Assert.Throws<InvalidDataException>(() => FashionMnist.Load(train: false, path: folder));
            Assert.Contains("is not an IDX file", error.Message);
        }
        finally { Directory.Delete(folder, true); }
    }
}
