using NotebookLab.Data;
using NotebookLab.Evaluation;
using NotebookLab.Models.Sequence;
using NotebookLab.SelfSupervised;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Tests.SelfSupervised;

public class MaskedLanguageModelingTests
{
    [Fact]
    public void Passages_are_runs_of_consecutive_tokens_of_the_stream()
    {
        var stream = arange(100, 200, dtype: int64);
        var passages = MaskedLanguageModeling.Passages(stream, length: 7, count: 50, new Generator(3));
        Assert.Equal(new long[] { 50, 7 }, passages.shape);
        var rows = passages.ToMatrix();
        for (int r = 0; r < 50; r++)
        {
            Assert.InRange(rows[r, 0], 100, 200 - 7);
            for (int t = 1; t < 7; t++) Assert.Equal(rows[r, t - 1] + 1, rows[r, t]);
        }
        Assert.True(Enumerable.Range(0, 50).Select(r => rows[r, 0]).Distinct().Count() > 10, "the starts should vary");
    }

    [Fact]
    public void Passages_longer_than_the_stream_are_refused_with_the_sizes()
    {
        var error = Assert.Throws<ArgumentException>(() => MaskedLanguageModeling.Passages(arange(5, dtype: int64), 8, 1));
        Assert.Contains("8 tokens", error.Message);
        Assert.Contains("has 5", error.Message);
        Assert.Throws<ArgumentException>(() => MaskedLanguageModeling.Passages(zeros(2, 10, dtype: int64), 3, 1));
    }

    [Fact]
    public void Mask_hides_about_the_rate_and_scores_exactly_the_hidden_positions()
    {
        var tokens = randint(1, 50, [200, 64], generator: new Generator(1), dtype: int64);
        var (input, target) = MaskedLanguageModeling.Mask(tokens, maskId: 50, rate: 0.15, new Generator(2));
        var hidden = input.eq(50);
        Assert.InRange(hidden.to(float32).mean().item<float>(), 0.14, 0.16);
        Assert.True(target.ne(MaskedLanguageModeling.Ignored).eq(hidden).all().item<bool>(), "scored exactly where hidden");
        Assert.True(target.masked_select(hidden).eq(tokens.masked_select(hidden)).all().item<bool>(), "the target is the hidden token");
        Assert.True(input.masked_select(hidden.logical_not()).eq(tokens.masked_select(hidden.logical_not())).all().item<bool>(), "the rest is unchanged");
        var (again, _) = MaskedLanguageModeling.Mask(tokens, 50, 0.15, new Generator(2));
        Assert.True(again.eq(input).all().item<bool>(), "the same generator seed gives the same mask");
        Assert.Throws<ArgumentOutOfRangeException>(() => MaskedLanguageModeling.Mask(tokens, 50, 1.5));
        Assert.Throws<ArgumentException>(() => MaskedLanguageModeling.Mask(tokens.to(float32), 50));
    }

    [Fact]
    public void Loss_at_the_masked_positions_equals_cross_entropy_over_all_positions_with_ignored_targets()
    {
        manual_seed(4);
        var encoder = new TransformerLanguageModel(vocabSize: 30, modelDim: 16, numHeads: 2, layers: 1, maxLength: 12, causal: false);
        var tokens = randint(0, 29, [6, 12], generator: new Generator(5), dtype: int64);
        var (input, target) = MaskedLanguageModeling.Mask(tokens, maskId: 29, rate: 0.3, new Generator(6));
        var everywhere = nn.functional.cross_entropy(encoder.call(input).reshape(-1, 30), target.reshape(-1)).item<float>();
        var atMasked = MaskedLanguageModeling.Loss(encoder, input, target).item<float>();
        Assert.Equal(everywhere, atMasked, 4);
        var nothingScored = full_like(target, MaskedLanguageModeling.Ignored);
        Assert.Contains("no position is scored", Assert.Throws<ArgumentException>(() => MaskedLanguageModeling.Loss(encoder, input, nothingScored)).Message);
        Assert.Contains("same shape", Assert.Throws<ArgumentException>(() => MaskedLanguageModeling.Loss(encoder, input, target[.., ..5])).Message);
    }
}

public class ProperNounsTests
{
    static readonly WordTokenizer Tokenizer = WordTokenizer.Fit("mr darcy said that elizabeth walked to longbourn . i saw jane in london", maxSize: 100);

    static (string Word, long Tag)[] Tags(string text)
    {
        var (ids, tags) = ProperNouns.Tag(text, Tokenizer);
        return ids.ToInts().Zip(tags.ToInts(), (i, t) => (Tokenizer.Vocabulary.Token(i), (long)t)).ToArray();
    }

    [Fact]
    public void Capitals_in_mid_sentence_are_proper_nouns_and_sentence_openers_are_not_scored()
    {
        var tags = Tags("Mr. Darcy said that Elizabeth walked to Longbourn. She saw Jane in London, and I saw him.");
        long Tag(string word) => tags.First(t => t.Word == word).Tag;
        Assert.Equal(ProperNouns.Ignored, Tag("mr"));          // opens the text
        Assert.Equal(1, Tag("darcy"));                          // after "Mr.", which does not end a sentence
        Assert.Equal(1, Tag("elizabeth"));
        Assert.Equal(1, Tag("longbourn"));
        Assert.Equal(0, Tag("said"));
        Assert.Equal(1, Tag("london"));
        Assert.Equal(ProperNouns.Ignored, Tag("."));             // punctuation
        Assert.Equal(ProperNouns.Ignored, Tag("i"));             // always capitalised
        Assert.Equal(ProperNouns.Ignored, tags.First(t => t.Word == "<unk>").Tag);   // "She" opens a sentence (and is not in the vocabulary)
    }

    [Fact]
    public void A_quotation_opens_a_sentence_across_line_breaks()
    {
        var tags = Tags("walked to Longbourn.\n\"Jane said so,\" said Elizabeth");
        Assert.Equal(ProperNouns.Ignored, tags.First(t => t.Word == "jane").Tag);
        Assert.Equal(1, tags.Last(t => t.Word == "elizabeth").Tag);
    }

    [Fact]
    public void The_model_sees_lower_case_ids_only()
    {
        var (ids, _) = ProperNouns.Tag("Darcy darcy DARCY", Tokenizer);
        Assert.Single(ids.ToInts().Distinct());
        var cased = WordTokenizer.Fit("Darcy", lowercase: false);
        Assert.Contains("lower-casing", Assert.Throws<ArgumentException>(() => ProperNouns.Tag("Darcy", cased)).Message);
    }

    [Fact]
    public void Passages_keep_ids_and_tags_aligned()
    {
        var ids = arange(1000, dtype: int64);
        var tags = ids % 3;
        var (x, t) = ProperNouns.Passages((ids, tags), 16, 20, new Generator(7));
        Assert.True((x % 3).eq(t).all().item<bool>());
        Assert.Throws<ArgumentException>(() => ProperNouns.Passages((ids, tags[..10]), 4, 2));
    }

    [Fact]
    public void F1_is_the_harmonic_mean_of_precision_and_recall()
    {
        // true:      0 0 0 0 1 1 1 1 ; predicted: 0 0 0 1 1 1 0 0 → class 1: precision 2/3, recall 2/4
        var matrix = Metrics.ConfusionMatrix([0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1, 0, 0]);
        Assert.Equal(2 * (2.0 / 3) * 0.5 / (2.0 / 3 + 0.5), matrix.F1[1], 12);
        Assert.Equal(2 * 0.6 * 0.75 / (0.6 + 0.75), matrix.F1[0], 12);
        var never = Metrics.ConfusionMatrix([0, 1, 1], [0, 0, 0]);
        Assert.Equal(0, never.F1[1]);
    }
}
