using NotebookLab.SelfSupervised;
using NotebookLab.Tests.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Tests.SelfSupervised;

public class RotationTests
{
    static Tensor Images(int n = 6) => torch.rand(n, 1, 5, 5, generator: new Generator(3));

    [Fact]
    public void Four_quarter_turns_give_back_the_image_and_one_turn_is_counter_clockwise()
    {
        var x = Images();
        Assert.True(Rotation.Rotate(Rotation.Rotate(Rotation.Rotate(Rotation.Rotate(x, 1), 1), 1), 1).SameAs(x));
        var corner = torch.zeros(1, 1, 3, 3);
        corner[0, 0, 0, 2] = torch.tensor(1f);                 // top-right pixel
        var turned = Rotation.Rotate(corner, 1);
        Assert.Equal(1f, turned[0, 0, 0, 0].item<float>());    // counter-clockwise: top-right → top-left
        Assert.True(Rotation.Rotate(x, -1).SameAs(Rotation.Rotate(x, 3)));
    }

    [Fact]
    public void All_rotations_are_balanced_and_labelled_by_block()
    {
        var x = Images(4);
        var (images, labels) = Rotation.AllRotations(x);
        Assert.Equal([16L, 1, 5, 5], images.shape);
        Assert.Equal([0L, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3], labels.data<long>().ToArray());
        for (int k = 0; k < 4; k++)
            Assert.True(images[(4 * k)..(4 * k + 4)].SameAs(Rotation.Rotate(x, k)));
    }

    [Fact]
    public void Random_rotations_undo_exactly_and_use_every_label()
    {
        var x = torch.rand(200, 1, 4, 4, generator: new Generator(5));
        var (rotated, labels) = Rotation.RandomRotations(x, new Generator(6));
        Assert.True(Rotation.Unrotate(rotated, labels).SameAs(x));
        var counts = torch.bincount(labels, minlength: 4).data<long>().ToArray();
        Assert.All(counts, c => Assert.InRange(c, 30, 70));
        Assert.False(rotated.SameAs(x));
    }

    [Fact]
    public void Non_square_or_wrong_rank_input_is_rejected_with_its_shape()
    {
        var e = Assert.Throws<ArgumentException>(() => Rotation.Rotate(torch.zeros(2, 1, 4, 5), 1));
        Assert.Contains("[2, 1, 4, 5]", e.Message);
        Assert.Throws<ArgumentException>(() => Rotation.AllRotations(torch.zeros(4, 4)));
        Assert.Throws<ArgumentException>(() => Rotation.Unrotate(Images(3), torch.zeros(2, dtype: int64)));
    }
}
