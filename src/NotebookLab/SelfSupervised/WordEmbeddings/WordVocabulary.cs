using System.Text.RegularExpressions;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.SelfSupervised.WordEmbeddings;

/// <summary>
/// Words with their corpus counts, for word2vec-style training. Ids run from 0 (the most frequent word) to
/// <see cref="Count"/> − 1, ties in ordinal order. Words seen fewer than <c>minCount</c> times are left out, and
/// <see cref="Encode"/> drops them from a text (as word2vec does) instead of mapping them to an unknown token.
/// </summary>
public sealed class WordVocabulary
{
    readonly string[] words;
    readonly long[] counts;
    readonly Dictionary<string, int> ids;

    WordVocabulary(string[] words, long[] counts)
    {
        this.words = words;
        this.counts = counts;
        ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < words.Length; i++) ids[words[i]] = i;
    }

    /// <summary>Counts <paramref name="tokens"/> and keeps the words seen at least <paramref name="minCount"/> times (at most <paramref name="maxSize"/> of them).</summary>
    public static WordVocabulary Build(IEnumerable<string> tokens, int minCount = 1, int? maxSize = null)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (minCount < 1) throw new ArgumentOutOfRangeException(nameof(minCount), minCount, "must be at least 1");
        if (maxSize is < 1) throw new ArgumentOutOfRangeException(nameof(maxSize), maxSize, "must be at least 1");
        var tally = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var t in tokens) tally[t] = tally.GetValueOrDefault(t) + 1;
        var kept = tally.Where(kv => kv.Value >= minCount)
            .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal);
        var list = (maxSize is { } m ? kept.Take(m) : kept).ToArray();
        if (list.Length == 0) throw new ArgumentException($"No word occurs at least {minCount} times.", nameof(tokens));
        return new WordVocabulary(list.Select(kv => kv.Key).ToArray(), list.Select(kv => kv.Value).ToArray());
    }

    public int Count => words.Length;
    public IReadOnlyList<string> Words => words;
    /// <summary>How often each word occurs in the corpus the vocabulary was built from, by id.</summary>
    public IReadOnlyList<long> Counts => counts;
    /// <summary>Occurrences of the kept words in total.</summary>
    public long TotalCount => counts.Sum();
    public bool Contains(string word) => ids.ContainsKey(word);

    /// <summary>The id of a word; a word outside the vocabulary is an error naming it.</summary>
    public int this[string word] => ids.TryGetValue(word, out var id) ? id
        : throw new KeyNotFoundException($"'{word}' is not in the vocabulary ({Count} words seen at least as often as the minimum count).");

    public bool TryGetId(string word, out int id) => ids.TryGetValue(word, out id);

    /// <summary>The word of an id.</summary>
    public string Word(long id) => id >= 0 && id < words.Length ? words[id]
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"Word ids run from 0 to {words.Length - 1}.");

    /// <summary>Ids of the words of <paramref name="tokens"/> that are in the vocabulary (the others are dropped).</summary>
    public long[] Encode(IEnumerable<string> tokens) =>
        tokens.Select(t => ids.TryGetValue(t, out var id) ? id : -1).Where(id => id >= 0).Select(id => (long)id).ToArray();

    /// <summary>The counts as a float64 tensor [V].</summary>
    public Tensor CountsTensor() => torch.tensor(counts.Select(c => (double)c).ToArray());

    public override string ToString() =>
        $"WordVocabulary of {Count:N0} words ({TotalCount:N0} occurrences): {string.Join(" ", words.Take(12).Select((w, i) => $"{w}×{counts[i]:N0}"))}{(Count > 12 ? " …" : "")}";
}

/// <summary>Plain words for embedding training: lower-cased runs of letters (with inner apostrophes), punctuation and digits dropped.</summary>
public static class Words
{
    static readonly Regex Word = new(@"\p{L}+(?:['’]\p{L}+)*", RegexOptions.Compiled | RegexOptions.CultureInvariant);
    static readonly Regex Token = new(@"\p{L}+(?:['’]\p{L}+)*|[.!?]", RegexOptions.Compiled | RegexOptions.CultureInvariant);
    static readonly HashSet<string> Abbreviations = new(StringComparer.Ordinal) { "mr", "mrs", "dr", "st", "messrs" };

    /// <summary>The words of <paramref name="text"/>, lower-cased, in order.</summary>
    public static string[] Of(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Word.Matches(text).Select(m => m.Value.ToLowerInvariant().Replace('’', '\'')).ToArray();
    }

    /// <summary>
    /// The sentences of <paramref name="text"/> as word lists: a sentence ends at '.', '!' or '?', except the full stop
    /// after Mr, Mrs, Dr, St and Messrs. Sentences with fewer than <paramref name="minWords"/> words are left out.
    /// </summary>
    public static List<string[]> Sentences(string text, int minWords = 1)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sentences = new List<string[]>();
        var current = new List<string>();
        foreach (Match m in Token.Matches(text))
        {
            var token = m.Value;
            if (token is "." or "!" or "?")
            {
                if (token == "." && current.Count > 0 && Abbreviations.Contains(current[^1])) continue;
                if (current.Count >= minWords && current.Count > 0) sentences.Add([.. current]);
                current.Clear();
            }
            else current.Add(token.ToLowerInvariant().Replace('’', '\''));
        }
        if (current.Count >= minWords && current.Count > 0) sentences.Add([.. current]);
        return sentences;
    }
}
