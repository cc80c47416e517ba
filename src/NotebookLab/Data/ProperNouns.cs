using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Data;

/// <summary>
/// A word-tagging task whose labels come free with edited text: in lower-cased text, which words did the author
/// capitalise in mid-sentence? Those are the proper nouns (names, titles, places, months), so a tagger trained on a
/// few labelled passages of one book can be tested on the names of another book it was never told about.
/// </summary>
public static class ProperNouns
{
    /// <summary>The tag of a token that is not scored (as in <c>cross_entropy</c>'s default ignore index).</summary>
    public const long Ignored = -100;

    /// <summary>Titles whose full stop does not end a sentence: the name after "Mr." is scored.</summary>
    static readonly HashSet<string> Abbreviations = new(StringComparer.Ordinal) { "Mr", "Mrs", "Dr", "St", "Messrs", "Col", "Capt" };

    /// <summary>The two tags of a scored word, by value.</summary>
    public static IReadOnlyList<string> TagNames { get; } = ["lower case", "proper noun"];

    /// <summary>
    /// Splits <paramref name="text"/> as <paramref name="tokenizer"/> does, in the original case. Ids: the lower-cased
    /// tokens in the tokenizer's vocabulary (what the model sees). Tags: 1 for a word capitalised in the original, 0 for a
    /// word in lower case, and <see cref="Ignored"/> for what the case says nothing about: punctuation, numbers, the word
    /// "I", and a word that opens a sentence or a quotation (after . ! ? or a quotation mark, line breaks skipped; the full
    /// stop of "Mr." and the like does not end a sentence).
    /// </summary>
    public static (Tensor Ids, Tensor Tags) Tag(string text, WordTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (!tokenizer.Lowercase)
            throw new ArgumentException("ProperNouns.Tag needs a lower-casing WordTokenizer: with case in the input the tags would be given away.", nameof(tokenizer));
        var ids = new List<long>();
        var tags = new List<long>();
        string previous = ".", beforePrevious = "";
        foreach (var token in WordTokenizer.Split(text, lowercase: false))
        {
            ids.Add(tokenizer.Vocabulary[token.ToLowerInvariant()]);
            bool opensSentence = previous is "!" or "?" or "\"" or "'" or "“" or "‘" || (previous == "." && !Abbreviations.Contains(beforePrevious));
            tags.Add(!char.IsLetter(token[0]) || token == "I" || opensSentence ? Ignored : char.IsUpper(token[0]) ? 1 : 0);
            if (token != "\n") (beforePrevious, previous) = (previous, token);
        }
        return (torch.tensor(ids.ToArray()), torch.tensor(tags.ToArray()));
    }

    /// <summary>
    /// <paramref name="count"/> passages of <paramref name="length"/> consecutive tokens from a tagged text, each starting at
    /// a random position: ids [count, length] and the matching tags [count, length].
    /// </summary>
    public static (Tensor Ids, Tensor Tags) Passages((Tensor Ids, Tensor Tags) tagged, int length, int count, Generator? generator = null)
    {
        if (tagged.Ids.ndim != 1 || !tagged.Ids.shape.SequenceEqual(tagged.Tags.shape))
            throw new ArgumentException($"ProperNouns.Passages: ids and tags must be 1-D streams of the same length; found {Shapes.Format(tagged.Ids)} and {Shapes.Format(tagged.Tags)}.", nameof(tagged));
        using var scope = NewDisposeScope();
        var index = LanguageModeling.RandomPassageIndex(tagged.Ids.shape[0], length, count, generator, nameof(ProperNouns));
        return (tagged.Ids[index].MoveToOuterDisposeScope(), tagged.Tags[index].MoveToOuterDisposeScope());
    }
}
