using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.SelfSupervised.WordEmbeddings;

/// <summary>One analogy question, a : b :: c : d ("man is to woman as king is to queen").</summary>
public sealed record Analogy(string A, string B, string C, string D)
{
    public override string ToString() => $"{A} : {B} :: {C} : {D}";

    /// <summary>Every question a : b :: c : d made from two different pairs (a, b) and (c, d) of a list.</summary>
    public static List<Analogy> FromPairs(IEnumerable<(string, string)> pairs)
    {
        var list = pairs.ToList();
        return [.. from p in list from q in list where p != q select new Analogy(p.Item1, p.Item2, q.Item1, q.Item2)];
    }
}

/// <summary>The result of an analogy test: questions answered correctly among those whose four words are in the vocabulary.</summary>
public sealed record AnalogyScore(int Correct, int Asked, int Skipped)
{
    public double Accuracy => Asked == 0 ? double.NaN : (double)Correct / Asked;
    public override string ToString() => $"{Correct}/{Asked} correct ({Accuracy:P1}); {Skipped} skipped (a word outside the vocabulary)";
}

/// <summary>Cosine geometry of a table of word vectors [V, D]: nearest neighbours and analogies (3CosAdd).</summary>
public sealed class WordVectors
{
    /// <summary>The vectors scaled to unit length, [V, D].</summary>
    public Tensor Unit { get; }
    public WordVocabulary Vocabulary { get; }

    public WordVectors(Tensor vectors, WordVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (vectors.ndim != 2 || vectors.shape[0] != vocabulary.Count)
            throw new ArgumentException($"WordVectors expects one row per word, [{vocabulary.Count}, D]; found {Shapes.Format(vectors)}.", nameof(vectors));
        Unit = nn.functional.normalize(vectors.detach().to(float32), p: 2, dim: 1);
        Vocabulary = vocabulary;
    }

    /// <summary>Cosine similarity of two words.</summary>
    public double Similarity(string a, string b) =>
        (Unit[Vocabulary[a]] * Unit[Vocabulary[b]]).sum().item<float>();

    /// <summary>The <paramref name="k"/> words closest to <paramref name="query"/> [D] by cosine, leaving out <paramref name="exclude"/>.</summary>
    public List<(string Word, double Similarity)> Nearest(Tensor query, int k = 5, IEnumerable<string>? exclude = null)
    {
        using var scope = torch.NewDisposeScope();
        var sims = Unit.matmul(nn.functional.normalize(query.to(float32).reshape(-1), p: 2, dim: 0));
        foreach (var w in exclude ?? []) if (Vocabulary.TryGetId(w, out var id)) sims[id] = float.NegativeInfinity;
        var (values, indices) = sims.topk(Math.Min(k, Vocabulary.Count));
        var v = values.data<float>().ToArray();
        var ix = indices.data<long>().ToArray();
        return [.. ix.Select((id, i) => (Vocabulary.Word(id), (double)v[i]))];
    }

    /// <summary>The <paramref name="k"/> nearest neighbours of a word (itself left out).</summary>
    public List<(string Word, double Similarity)> Nearest(string word, int k = 5) => Nearest(Unit[Vocabulary[word]], k, [word]);

    /// <summary>3CosAdd: the words closest to b − a + c, leaving out a, b and c (a : b :: c : ?).</summary>
    public List<(string Word, double Similarity)> Solve(string a, string b, string c, int k = 1) =>
        Nearest(Unit[Vocabulary[b]] - Unit[Vocabulary[a]] + Unit[Vocabulary[c]], k, [a, b, c]);

    /// <summary>
    /// The share of <paramref name="questions"/> whose answer d is among the <paramref name="topK"/> words closest to
    /// b − a + c (a, b, c left out). Questions with a word outside the vocabulary are skipped and counted.
    /// </summary>
    public AnalogyScore Score(IEnumerable<Analogy> questions, int topK = 1)
    {
        ArgumentNullException.ThrowIfNull(questions);
        int correct = 0, asked = 0, skipped = 0;
        foreach (var q in questions)
        {
            if (!new[] { q.A, q.B, q.C, q.D }.All(Vocabulary.Contains)) { skipped++; continue; }
            asked++;
            if (Solve(q.A, q.B, q.C, topK).Any(n => n.Word == q.D)) correct++;
        }
        return new AnalogyScore(correct, asked, skipped);
    }

    /// <summary>The rank of <paramref name="b"/> among the neighbours of <paramref name="a"/> (1 = nearest).</summary>
    public int Rank(string a, string b)
    {
        using var scope = torch.NewDisposeScope();
        var sims = Unit.matmul(Unit[Vocabulary[a]]);
        sims[Vocabulary[a]] = float.NegativeInfinity;
        return (int)(sims > sims[Vocabulary[b]]).sum().item<long>() + 1;
    }
}
