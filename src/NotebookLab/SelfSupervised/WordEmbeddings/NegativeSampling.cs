using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace NotebookLab.SelfSupervised.WordEmbeddings;

/// <summary>The negative-sampling loss of word2vec.</summary>
public static class NegativeSampling
{
    /// <summary>
    /// Mean over the batch of −log σ(u_o·v) − Σ_k log σ(−u_k·v), where v [B, D] is the input-side vector (the centre
    /// word for skip-gram, the averaged context for CBOW), u_o [B, D] the output vector of the true word and
    /// u_k [B, K, D] those of the K noise words.
    /// </summary>
    public static Tensor Loss(Tensor input, Tensor positive, Tensor negatives)
    {
        if (input.ndim != 2 || positive.ndim != 2 || negatives.ndim != 3 || !input.shape.SequenceEqual(positive.shape)
            || negatives.shape[0] != input.shape[0] || negatives.shape[2] != input.shape[1])
            throw new ArgumentException($"NegativeSampling.Loss expects input [B, D], positive [B, D], negatives [B, K, D]; found input {Shapes.Format(input)}, positive {Shapes.Format(positive)}, negatives {Shapes.Format(negatives)}.");
        using var scope = torch.NewDisposeScope();
        var positiveScore = (input * positive).sum(1);                              // [B]
        var negativeScores = negatives.bmm(input.unsqueeze(2)).squeeze(2);          // [B, K]
        var loss = -nn.functional.logsigmoid(positiveScore) - nn.functional.logsigmoid(-negativeScores).sum(1);
        return loss.mean().MoveToOuterDisposeScope();
    }
}

/// <summary>
/// word2vec's two tables: <see cref="input"/> (v, the vectors kept as the embeddings) and <see cref="output"/>
/// (u, used only to score a (context, word) pair). Input vectors start small and random, output vectors at zero,
/// as in word2vec.
/// </summary>
public abstract class Word2VecModel : nn.Module<Tensor, Tensor, Tensor, Tensor>
{
    public Embedding input;
    public Embedding output;

    protected Word2VecModel(string name, int vocabularySize, int dimensions) : base(name)
    {
        if (vocabularySize < 2) throw new ArgumentOutOfRangeException(nameof(vocabularySize), vocabularySize, "must be at least 2");
        if (dimensions < 1) throw new ArgumentOutOfRangeException(nameof(dimensions), dimensions, "must be at least 1");
        input = nn.Embedding(vocabularySize, dimensions);
        output = nn.Embedding(vocabularySize, dimensions);
        using (torch.no_grad())
        {
            input.weight!.uniform_(-0.5 / dimensions, 0.5 / dimensions);
            output.weight!.zero_();
        }
    }

    /// <summary>The learned word vectors (the input table), detached, [V, D].</summary>
    public Tensor Vectors => input.weight!.detach();
}

/// <summary>Skip-gram with negative sampling: the centre word's vector scores one nearby word against K noise words.</summary>
public sealed class SkipGram : Word2VecModel
{
    public SkipGram(int vocabularySize, int dimensions) : base(nameof(SkipGram), vocabularySize, dimensions) => RegisterComponents();

    /// <summary>centre [B], context [B], noise [B, K] → the mean negative-sampling loss.</summary>
    public override Tensor forward(Tensor center, Tensor context, Tensor noise) =>
        NegativeSampling.Loss(input.call(center), output.call(context), output.call(noise));
}

/// <summary>CBOW with negative sampling: the average of the context words' vectors scores the middle word against K noise words.</summary>
public sealed class Cbow : Word2VecModel
{
    public Cbow(int vocabularySize, int dimensions) : base(nameof(Cbow), vocabularySize, dimensions) => RegisterComponents();

    /// <summary>context [B, 2w], middle word [B], noise [B, K] → the mean negative-sampling loss.</summary>
    public override Tensor forward(Tensor context, Tensor target, Tensor noise)
    {
        if (context.ndim != 2) throw new ArgumentException($"Cbow expects context words [B, 2w]; found {Shapes.Format(context)}.", nameof(context));
        return NegativeSampling.Loss(input.call(context).mean([1]), output.call(target), output.call(noise));
    }
}
