using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookLab.Models.Vision;

/// <summary>One convolution or linear layer's share of a forward pass.</summary>
public sealed record LayerCost(string Name, string Kind, long[] OutputShape, long Parameters, long Macs);

/// <summary>
/// Counts what a network costs: parameters, and multiply-accumulates (MACs) of its convolutions and linear layers for
/// one input. A convolution producing C_out×H_out×W_out values from C_in input channels with a k×k kernel does
/// C_out·H_out·W_out·(C_in/groups)·k·k MACs; a linear layer in·out. BatchNorm, ReLU, pooling and additions are left
/// out (they are a few percent), as in the ResNet paper's "FLOPs", which are really multiply-adds.
/// </summary>
public static class ModelCost
{
    /// <summary>Number of parameters (trainable or not).</summary>
    public static long Parameters(nn.Module module) => module.parameters().Sum(p => p.numel());

    /// <summary>
    /// Runs one forward pass on zeros of <paramref name="inputShape"/> (batch included, usually 1) in eval mode without
    /// gradients and returns the cost of every convolution and linear layer, in call order. MACs are per example.
    /// </summary>
    public static IReadOnlyList<LayerCost> Layers(nn.Module<Tensor, Tensor> model, params long[] inputShape)
    {
        if (inputShape.Length < 2) throw new ArgumentException($"inputShape must include the batch dimension, e.g. [1, 3, 224, 224]; got {Shapes.Format(inputShape)}", nameof(inputShape));
        var costs = new List<LayerCost>();
        var handles = new List<Action>();
        foreach (var (name, module) in model.named_modules())
        {
            if (module is Conv2d conv)
            {
                var hc = conv.register_forward_hook((m, x, y) =>
                {
                    var w = conv.weight!;
                    long perOutput = w.shape[1] * w.shape[2] * w.shape[3];
                    long outputs = y.numel() / y.shape[0];
                    costs.Add(new LayerCost(name, "Conv2d", y.shape.Skip(1).ToArray(), Parameters(conv), outputs * perOutput));
                    return y;
                });
                handles.Add(hc.remove);
            }
            else if (module is Linear linear)
            {
                var hl = linear.register_forward_hook((m, x, y) =>
                {
                    var w = linear.weight!;
                    long rows = y.numel() / y.shape[^1] / y.shape[0];
                    costs.Add(new LayerCost(name, "Linear", y.shape.Skip(1).ToArray(), Parameters(linear), rows * w.shape[0] * w.shape[1]));
                    return y;
                });
                handles.Add(hl.remove);
            }
        }
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            var device = model.parameters().FirstOrDefault()?.device ?? torch.CPU;
            model.call(torch.zeros(inputShape, device: device));
        }
        finally
        {
            foreach (var remove in handles) remove();
            model.train(wasTraining);
        }
        return costs;
    }

    /// <summary>Total multiply-accumulates of convolutions and linear layers for one example of shape <paramref name="inputShape"/> (batch dimension 1).</summary>
    public static long Macs(nn.Module<Tensor, Tensor> model, params long[] inputShape) => Layers(model, inputShape).Sum(c => c.Macs);

    /// <summary>MACs of one k×k convolution (no bias) from <paramref name="inChannels"/> to <paramref name="outChannels"/> on an H×W output.</summary>
    public static long ConvMacs(long inChannels, long outChannels, long kernel, long outHeight, long outWidth) =>
        inChannels * outChannels * kernel * kernel * outHeight * outWidth;

    /// <summary>Weights of one k×k convolution without bias.</summary>
    public static long ConvWeights(long inChannels, long outChannels, long kernel) => inChannels * outChannels * kernel * kernel;
}
