using NotebookLab.Data;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Tests.Data;

public class TextTests
{
    static readonly Lazy<string> Novel = new(TextCorpus.PrideAndPrejudice);

    [Fact]
    public void Pride_and_prejudice_ships_complete()
    {
        var text = Novel.Value;
        Assert.StartsWith("PRIDE AND PREJUDICE", text);
        Assert.Contains("It is a truth universally acknowledged, that a single man in possession\nof a good fortune, must be in want of a wife.", text);
        Assert.InRange(text.Length, 650_000, 700_000);
        Assert.Equal(13030, text.Count(c => c == '\n'));
        var (train, valid) = TextCorpus.Split(text, 0.1);
        Assert.Equal(text, train + valid);
        Assert.EndsWith("\n", train);
    }

    [Fact]
    public void Char_tokenizer_round_trips_and_maps_unseen_characters_to_unk()
    {
        var text = Novel.Value[..5000];
        var tokenizer = CharTokenizer.Fit(text);
        var ids = tokenizer.Encode(text);
        Assert.Equal(ScalarType.Int64, ids.dtype);
        Assert.Equal(text.Length, ids.shape[0]);
        Assert.Equal(text, tokenizer.Decode(ids));
        Assert.Equal(" ", tokenizer.Vocabulary.Token(1)); // the most frequent character
        Assert.Equal("a<unk>b", tokenizer.Decode(tokenizer.Encode("a€b")));
        Assert.Equal(0, tokenizer.Vocabulary["€"]);
    }

    [Fact]
    public void Word_tokenizer_splits_words_and_punctuation_and_round_trips()
    {
        var tokenizer = WordTokenizer.Fit(Novel.Value, minFrequency: 2);
        Assert.Equal(["it", "is", "a", "truth", "universally", "acknowledged", ",", "that", "mr", ".", "bennet's", "\n", "wife"],
            tokenizer.Tokenize("It is a truth universally acknowledged, that Mr. Bennet's\nwife"));
        var sentence = "it is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.";
        Assert.Equal(sentence, tokenizer.Decode(tokenizer.Encode(sentence)));
        Assert.Equal(["\n", ",", ".", "the"], tokenizer.Vocabulary.Tokens.Skip(1).Take(4).Order(StringComparer.Ordinal).ToArray()); // newlines are the most frequent token
        Assert.Equal("the <unk> elizabeth", tokenizer.Decode(tokenizer.Encode("the zyzzyva elizabeth")));
        Assert.InRange(tokenizer.Vocabulary.Count, 3000, 8000);
        Assert.Equal(100, WordTokenizer.Fit(Novel.Value[..50_000], maxSize: 100).Vocabulary.Count);
    }

    [Fact]
    public void Language_model_windows_pair_each_token_with_the_next()
    {
        var ids = torch.arange(23);
        var (x, y) = LanguageModeling.Windows(ids, length: 5);
        Assert.Equal([4L, 5], x.shape);
        Assert.True((x + 1).SameAs(y));
        Assert.Equal([0L, 5, 10, 15], x[.., 0].data<long>().ToArray());
        var (xs, _) = LanguageModeling.Windows(ids, length: 5, stride: 2);
        Assert.Equal(9, xs.shape[0]);
        var loader = LanguageModeling.Loader(ids, 5, batchSize: 3, random: new Random(1));
        Assert.Equal(2, loader.Count);
        Assert.Contains("needs at least 31 tokens", Assert.Throws<ArgumentException>(() => LanguageModeling.Windows(ids, 30)).Message);
    }
}
