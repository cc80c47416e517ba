using NotebookLab.Data;
using NotebookLab.SelfSupervised.WordEmbeddings;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Tests.SelfSupervised;

public class WordEmbeddingsTests
{
    static long[] L(Tensor t) => t.to(int64).data<long>().ToArray();

    [Fact]
    public void Vocabulary_counts_orders_by_frequency_and_drops_rare_words()
    {
        var tokens = "b a c a b a d".Split(' ');
        var vocab = WordVocabulary.Build(tokens, minCount: 2);
        Assert.Equal(["a", "b"], vocab.Words);
        Assert.Equal([3L, 2L], vocab.Counts);
        Assert.Equal(5, vocab.TotalCount);
        Assert.Equal([1L, 0L, 0L], vocab.Encode(["b", "a", "c", "a"]));
        Assert.Equal([0L, 1L], vocab.Encode(["a", "zzz", "b"]));   // unknown words are dropped, not mapped to an id
        var error = Assert.Throws<KeyNotFoundException>(() => vocab["zzz"]);
        Assert.Contains("'zzz'", error.Message);
        Assert.Throws<ArgumentException>(() => WordVocabulary.Build(["x"], minCount: 2));
        Assert.Equal([3.0, 2.0], vocab.CountsTensor().data<double>().ToArray());
    }

    [Fact]
    public void Words_lower_case_and_sentences_end_at_stops_but_not_after_titles()
    {
        Assert.Equal(["it", "is", "mr", "darcy's", "letter"], Words.Of("It is Mr. Darcy's letter!"));
        var sentences = Words.Sentences("Mr. Darcy came. Did he? Yes! Mrs. Bennet said so.\nEnd", minWords: 1);
        Assert.Equal(5, sentences.Count);
        Assert.Equal(["mr", "darcy", "came"], sentences[0]);
        Assert.Equal(["mrs", "bennet", "said", "so"], sentences[3]);
        Assert.Equal(["end"], sentences[4]);
        Assert.Equal(2, Words.Sentences("Mr. Darcy came. Did he? Yes! Mrs. Bennet said so.", minWords: 3).Count);
    }

    [Fact]
    public void Austen_novels_ship_all_six()
    {
        Assert.Equal(6, TextCorpus.AustenNovels.Count);
        var emma = TextCorpus.Austen("emma");
        Assert.StartsWith("EMMA", emma);
        Assert.Contains("Emma Woodhouse, handsome, clever, and rich", emma);
        Assert.Equal(TextCorpus.PrideAndPrejudice(), TextCorpus.Austen("Pride and Prejudice"));
        foreach (var (title, _) in TextCorpus.AustenNovels) Assert.InRange(TextCorpus.Austen(title).Length, 400_000, 900_000);
        Assert.Contains("Persuasion", Assert.Throws<ArgumentException>(() => TextCorpus.Austen("Ulysses")).Message);
    }

    [Fact]
    public void Subsampling_keeps_rare_words_and_thins_frequent_ones_by_the_square_root_rule()
    {
        long[] counts = [9000, 900, 90, 10];          // frequencies 0.9, 0.09, 0.009, 0.001
        var keep = Subsampling.KeepProbabilities(counts, threshold: 1e-3).data<double>().ToArray();
        Assert.Equal(Math.Sqrt(1e-3 / 0.9), keep[0], 1e-12);
        Assert.Equal(Math.Sqrt(1e-3 / 0.09), keep[1], 1e-12);
        Assert.Equal(1.0, keep[3]);                 // f = t: kept with probability 1

        var ids = torch.tensor(Enumerable.Range(0, 40_000).Select(i => (long)(i % 4)).ToArray());
        var kept = L(Subsampling.Apply(ids, torch.tensor(keep), new Generator(3)));
        Assert.Equal(10_000, kept.Count(i => i == 3));                        // always kept
        Assert.InRange(kept.Count(i => i == 0) / 10_000.0, keep[0] - 0.01, keep[0] + 0.01);
        Assert.Throws<ArgumentException>(() => Subsampling.Apply(ids.reshape(2, -1), torch.tensor(keep)));
    }

    [Fact]
    public void Noise_table_follows_count_to_the_three_quarters()
    {
        long[] counts = [1000, 100, 10, 1];
        var table = new NoiseTable(counts, power: 0.75, size: 100_000);
        var expected = counts.Select(c => Math.Pow(c, 0.75)).ToArray();
        var p = table.Probabilities.data<double>().ToArray();
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i] / expected.Sum(), p[i], 1e-12);
        var share = torch.bincount(table.Table, minlength: 4).to(float64).data<double>().Select(c => c / 100_000).ToArray();
        for (int i = 0; i < 4; i++) Assert.Equal(p[i], share[i], 2e-5);
        Assert.True(p[3] > 1.0 / 1111 * 1.5, "the power 3/4 gives rare words more than their frequency");

        var draws = table.Sample(20_000, 5, new Generator(1));
        Assert.Equal([20_000L, 5L], draws.shape);
        var drawn = torch.bincount(draws.reshape(-1), minlength: 4).to(float64) / 100_000;
        Assert.InRange(drawn[0].item<double>(), p[0] - 0.01, p[0] + 0.01);
        var uniform = new NoiseTable(counts, power: 0).Probabilities.data<double>().ToArray();
        Assert.All(uniform, u => Assert.Equal(0.25, u, 1e-12));
        Assert.Throws<ArgumentException>(() => new NoiseTable([5, 0]));
    }

    [Fact]
    public void Context_pairs_match_the_three_definitions()
    {
        var ids = torch.tensor(new long[] { 10, 11, 12, 13, 14 });
        var (prevX, prevY) = ContextPairs.Previous(ids, 2);
        Assert.Equal([10L, 11, 11, 12, 12, 13], L(prevX.reshape(-1)));
        Assert.Equal([12L, 13, 14], L(prevY));

        var (winX, winY) = ContextPairs.Window(ids, 1);
        Assert.Equal([10L, 12, 11, 13, 12, 14], L(winX.reshape(-1)));
        Assert.Equal([11L, 12, 13], L(winY));

        var (center, context) = ContextPairs.SkipGram(ids, 2);
        var pairs = L(center).Zip(L(context)).OrderBy(p => p.First).ThenBy(p => p.Second).ToArray();
        var expected = (from t in Enumerable.Range(0, 5) from j in new[] { -2, -1, 1, 2 } where t + j is >= 0 and < 5
                        select (10L + t, 10L + t + j)).OrderBy(p => p.Item1).ThenBy(p => p.Item2).ToArray();
        Assert.Equal(expected.Length, pairs.Length);
        Assert.Equal(2 * (2 * 5 - 3), pairs.Length);        // 2(wL − w(w+1)/2)
        Assert.Equal(expected, pairs.Select(p => (p.First, p.Second)).ToArray());

        Assert.Contains("[2, 3]", Assert.Throws<ArgumentException>(() => ContextPairs.Window(torch.zeros(2, 3, dtype: int64), 1)).Message);
        Assert.Throws<ArgumentException>(() => ContextPairs.Previous(ids, 5));
    }

    [Fact]
    public void Negative_sampling_loss_matches_its_formula()
    {
        var g = new Generator(7);
        var (v, u, n) = (torch.randn(4, 3, generator: g), torch.randn(4, 3, generator: g), torch.randn(4, 2, 3, generator: g));
        double manual = 0;
        for (int b = 0; b < 4; b++)
        {
            double Dot(Tensor a, Tensor c) => (a * c).sum().item<float>();
            manual += -Math.Log(1 / (1 + Math.Exp(-Dot(v[b], u[b]))));
            for (int k = 0; k < 2; k++) manual += -Math.Log(1 / (1 + Math.Exp(Dot(v[b], n[b, k]))));
        }
        Assert.Equal(manual / 4, NegativeSampling.Loss(v, u, n).item<float>(), 4);
        Assert.Equal(3 * Math.Log(2), NegativeSampling.Loss(v, torch.zeros(4, 3), torch.zeros(4, 2, 3)).item<float>(), 5);
        Assert.Contains("negatives [B, K, D]", Assert.Throws<ArgumentException>(() => NegativeSampling.Loss(v, u, n[.., .., ..2])).Message);
    }

    [Fact]
    public void Skip_gram_and_cbow_learn_which_words_share_contexts()
    {
        // Two "topics": words 0-4 only ever appear next to each other, and so do words 5-9.
        var random = new Random(1);
        var stream = new List<long>();
        for (int s = 0; s < 400; s++)
        {
            int topic = s % 2 * 5;
            for (int i = 0; i < 8; i++) stream.Add(topic + random.Next(5));
        }
        var ids = torch.tensor(stream.ToArray());
        var noise = new NoiseTable(Enumerable.Repeat(100L, 10).ToArray());
        var vocab = WordVocabulary.Build(Enumerable.Range(0, 10).Select(i => $"w{i}"));
        foreach (var kind in new[] { "skip-gram", "cbow" })
        {
            torch.manual_seed(0);
            var g = new Generator(2);
            Word2VecModel model = kind == "skip-gram" ? new SkipGram(10, 8) : new Cbow(10, 8);
            var optimizer = torch.optim.Adagrad(model.parameters(), lr: 0.2);
            double first = 0, last = 0;
            for (int step = 0; step < 150; step++)
            {
                using var scope = torch.NewDisposeScope();
                Tensor loss;
                if (model is SkipGram sg)
                {
                    var (c, o) = ContextPairs.SkipGram(ids, 2);
                    var pick = torch.randint(0, c.shape[0], [256], dtype: int64, generator: g);
                    loss = sg.call(c[pick], o[pick], noise.Sample(256, 3, g));
                }
                else
                {
                    var (x, y) = ContextPairs.Window(ids, 2);
                    var pick = torch.randint(0, y.shape[0], [256], dtype: int64, generator: g);
                    loss = ((Cbow)model).call(x[pick], y[pick], noise.Sample(256, 3, g));
                }
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                if (step == 0) first = loss.item<float>();
                last = loss.item<float>();
            }
            Assert.True(last < first - 0.3, $"{kind}: loss {first:F3} → {last:F3}");
            var vectors = new WordVectors(model.Vectors, vocab);
            double within = vectors.Similarity("w0", "w1") + vectors.Similarity("w5", "w6");
            double across = vectors.Similarity("w0", "w6") + vectors.Similarity("w5", "w1");
            Assert.True(within - across > 0.5, $"{kind}: within-topic similarity {within / 2:F2}, across {across / 2:F2}");
            Assert.Equal("w1", new[] { "w1", "w6" }.MinBy(w => vectors.Rank("w0", w)));
        }
    }

    [Fact]
    public void Analogies_are_solved_by_vector_offsets_and_scored()
    {
        // man, woman, king, queen, apple: woman − man = queen − king exactly.
        var vocab = WordVocabulary.Build(["man", "man", "man", "man", "man", "woman", "woman", "woman", "woman", "king", "king", "king", "queen", "queen", "apple"]);
        var table = torch.zeros(5, 3);
        table[vocab["man"]] = torch.tensor(new float[] { 1, 0, 0.2f });
        table[vocab["woman"]] = torch.tensor(new float[] { 1, 1, 0.2f });
        table[vocab["king"]] = torch.tensor(new float[] { 1, 0, 1 });
        table[vocab["queen"]] = torch.tensor(new float[] { 1, 1, 1 });
        table[vocab["apple"]] = torch.tensor(new float[] { -1, 0.3f, 0 });
        var vectors = new WordVectors(table, vocab);
        Assert.Equal("queen", vectors.Solve("man", "woman", "king")[0].Word);
        var questions = Analogy.FromPairs([("man", "woman"), ("king", "queen"), ("pear", "pears")]);
        Assert.Equal(6, questions.Count);
        var score = vectors.Score(questions);
        Assert.Equal(new AnalogyScore(2, 2, 4), score);
        Assert.Equal(1.0, score.Accuracy);
        Assert.Equal("queen", vectors.Nearest("woman", 1)[0].Word);   // cosine 0.89, then man 0.71, king 0.59
        Assert.Equal(2, vectors.Rank("woman", "man"));
        Assert.Equal(4, vectors.Rank("woman", "apple"));
        Assert.Throws<ArgumentException>(() => new WordVectors(torch.zeros(4, 3), vocab));
    }
}
