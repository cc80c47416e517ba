using System.Text;
using System.Text.RegularExpressions;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Data;

/// <summary>
/// A token ↔ id table. Id 0 is the unknown token (<see cref="UnknownToken"/>), so any token never seen in training
/// encodes to 0 instead of failing. Ids are assigned by descending frequency, ties in ordinal order (deterministic).
/// </summary>
public sealed class Vocabulary
{
    readonly List<string> tokens;
    readonly Dictionary<string, int> ids;

    /// <summary>The token that stands for anything not in the vocabulary.</summary>
    public const string UnknownToken = "<unk>";

    Vocabulary(List<string> tokens)
    {
        this.tokens = tokens;
        ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < tokens.Count; i++) ids[tokens[i]] = i;
    }

    /// <summary>Builds a vocabulary of tokens seen at least <paramref name="minFrequency"/> times, at most <paramref name="maxSize"/> (incl. &lt;unk&gt;).</summary>
    public static Vocabulary Build(IEnumerable<string> corpusTokens, int minFrequency = 1, int? maxSize = null, IEnumerable<string>? specials = null)
    {
        if (minFrequency < 1) throw new ArgumentOutOfRangeException(nameof(minFrequency), minFrequency, "must be at least 1");
        if (maxSize is < 1) throw new ArgumentOutOfRangeException(nameof(maxSize), maxSize, "must be at least 1");
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var t in corpusTokens) counts[t] = counts.GetValueOrDefault(t) + 1;
        var list = new List<string> { UnknownToken };
        foreach (var s in specials ?? []) if (!list.Contains(s)) list.Add(s);
        var frequent = counts.Where(kv => kv.Value >= minFrequency && !list.Contains(kv.Key))
            .OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key);
        list.AddRange(maxSize is { } m ? frequent.Take(Math.Max(0, m - list.Count)) : frequent);
        return new Vocabulary(list);
    }

    public int Count => tokens.Count;
    public int UnknownId => 0;
    public IReadOnlyList<string> Tokens => tokens;
    public bool Contains(string token) => ids.ContainsKey(token);

    /// <summary>The id of a token, or <see cref="UnknownId"/>.</summary>
    public int this[string token] => ids.TryGetValue(token, out var id) ? id : UnknownId;

    /// <summary>The token of an id.</summary>
    public string Token(long id) => id >= 0 && id < tokens.Count ? tokens[(int)id]
        : throw new ArgumentOutOfRangeException(nameof(id), id, $"Token ids run from 0 to {tokens.Count - 1}.");

    public long[] Encode(IEnumerable<string> sequence) => sequence.Select(t => (long)this[t]).ToArray();
    public string[] Decode(IEnumerable<long> sequence) => sequence.Select(Token).ToArray();
    public override string ToString() => $"Vocabulary of {Count} tokens: {string.Join(" ", tokens.Take(20).Select(t => t == "\n" ? "\\n" : t == " " ? "␣" : t))}{(Count > 20 ? " …" : "")}";
}

/// <summary>Splits text into tokens and joins them back; with its <see cref="Vocabulary"/>, encodes text to ids and back.</summary>
public abstract class Tokenizer
{
    protected Tokenizer(Vocabulary vocabulary) => Vocabulary = vocabulary;

    public Vocabulary Vocabulary { get; }

    public abstract IReadOnlyList<string> Tokenize(string text);
    public abstract string Join(IEnumerable<string> tokens);

    /// <summary>Text → int64 ids [L].</summary>
    public Tensor Encode(string text) => torch.tensor(Vocabulary.Encode(Tokenize(text)));

    /// <summary>Ids → text (unknown ids decode to &lt;unk&gt;).</summary>
    public string Decode(IEnumerable<long> ids) => Join(Vocabulary.Decode(ids));

    /// <summary>Ids [L] (any integer dtype) → text.</summary>
    public string Decode(Tensor ids)
    {
        if (ids.ndim != 1) throw new ArgumentException($"Decode expects a 1-D tensor of ids; found {Shapes.Format(ids)}.", nameof(ids));
        using var longs = ids.to(int64).cpu();
        return Decode((IEnumerable<long>)longs.data<long>().ToArray());
    }
}

/// <summary>One token per character: tiny vocabulary, exact round trip for characters it has seen.</summary>
public sealed class CharTokenizer : Tokenizer
{
    CharTokenizer(Vocabulary vocabulary) : base(vocabulary) { }

    /// <summary>A tokenizer whose vocabulary holds every character of <paramref name="text"/>.</summary>
    public static CharTokenizer Fit(string text, int minFrequency = 1) =>
        new(Vocabulary.Build(text.Select(c => c.ToString()), minFrequency));

    public override IReadOnlyList<string> Tokenize(string text) => text.Select(c => c.ToString()).ToArray();
    public override string Join(IEnumerable<string> tokens) => string.Concat(tokens);
}

/// <summary>
/// Words, numbers and punctuation marks as tokens (optionally lower-cased); newlines are kept as "\n" tokens so
/// paragraphs survive. <see cref="Join"/> puts spaces between words but not before punctuation.
/// </summary>
public sealed class WordTokenizer : Tokenizer
{
    static readonly Regex Pattern = new(@"[\p{L}]+(?:['’][\p{L}]+)*|\p{N}+|\n|[^\s\p{L}\p{N}]", RegexOptions.Compiled | RegexOptions.CultureInvariant);

    WordTokenizer(Vocabulary vocabulary, bool lowercase) : base(vocabulary) => Lowercase = lowercase;

    public bool Lowercase { get; }

    /// <summary>A tokenizer whose vocabulary holds the words of <paramref name="text"/> seen at least <paramref name="minFrequency"/> times.</summary>
    public static WordTokenizer Fit(string text, int minFrequency = 1, int? maxSize = null, bool lowercase = true) =>
        new(Vocabulary.Build(Split(text, lowercase), minFrequency, maxSize), lowercase);

    internal static IEnumerable<string> Split(string text, bool lowercase)
    {
        var normalized = text.Replace("\r\n", "\n");
        foreach (Match m in Pattern.Matches(normalized))
            yield return lowercase ? m.Value.ToLowerInvariant() : m.Value;
    }

    public override IReadOnlyList<string> Tokenize(string text) => Split(text, Lowercase).ToArray();

    public override string Join(IEnumerable<string> tokens)
    {
        var text = new StringBuilder();
        foreach (var token in tokens)
        {
            bool noSpace = text.Length == 0 || text[^1] == '\n' || token == "\n" ||
                           (token.Length == 1 && ".,;:!?)]}'’\"".Contains(token[0])) || text[^1] is '(' or '[' or '{';
            if (!noSpace) text.Append(' ');
            text.Append(token);
        }
        return text.ToString();
    }
}

/// <summary>Public-domain English text for language models, shipped in <c>data/text</c>.</summary>
public static class TextCorpus
{
    /// <summary>Jane Austen, <i>Pride and Prejudice</i> (1813; public domain): the full novel, about 685 kB, 13,030 lines.</summary>
    public static string PrideAndPrejudice() => Load("pride-and-prejudice.txt");

    /// <summary>The six novels of Jane Austen shipped in <c>data/text</c> (public domain), as (title, file), in order of publication.</summary>
    public static IReadOnlyList<(string Title, string File)> AustenNovels { get; } =
    [
        ("Sense and Sensibility", "sense-and-sensibility.txt"), ("Pride and Prejudice", "pride-and-prejudice.txt"),
        ("Mansfield Park", "mansfield-park.txt"), ("Emma", "emma.txt"),
        ("Northanger Abbey", "northanger-abbey.txt"), ("Persuasion", "persuasion.txt"),
    ];

    /// <summary>One of <see cref="AustenNovels"/> by title (case-insensitive), the full text.</summary>
    public static string Austen(string title)
    {
        var match = AustenNovels.FirstOrDefault(n => string.Equals(n.Title, title, StringComparison.OrdinalIgnoreCase));
        if (match.File is null)
            throw new ArgumentException($"No Austen novel titled '{title}'. The shipped ones are: {string.Join(", ", AustenNovels.Select(n => n.Title))}.", nameof(title));
        return Load(match.File);
    }

    /// <summary>Reads a text file from <c>data/text</c> (found like the Fashion-MNIST subset) or from a path.</summary>
    public static string Load(string fileOrPath)
    {
        if (File.Exists(fileOrPath)) return File.ReadAllText(fileOrPath).Replace("\r\n", "\n");
        var tried = new List<string>();
        foreach (var fashionFolder in FashionMnist.SubsetFolders())
        {
            var candidate = Path.GetFullPath(Path.Combine(fashionFolder, "..", "text", fileOrPath));
            if (tried.Contains(candidate)) continue;
            tried.Add(candidate);
            if (File.Exists(candidate)) return File.ReadAllText(candidate).Replace("\r\n", "\n");
        }
        throw new FileNotFoundException(
            $"Text '{fileOrPath}' not found. Tried:\n  {Path.GetFullPath(fileOrPath)}\n  {string.Join("\n  ", tried)}\n" +
            $"Set {FashionMnist.DataVariable} to the folder holding NotebookLab's data/.", fileOrPath);
    }

    /// <summary>Splits text at a line boundary: the first (1 − <paramref name="validFraction"/>) for training, the rest for validation.</summary>
    public static (string Train, string Valid) Split(string text, double validFraction = 0.1)
    {
        if (validFraction is <= 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(validFraction), validFraction, "must be between 0 and 1");
        int cut = (int)(text.Length * (1 - validFraction));
        int newline = text.IndexOf('\n', cut);
        if (newline >= 0) cut = newline + 1;
        return (text[..cut], text[cut..]);
    }
}

/// <summary>Cuts a long token stream into fixed-length training windows for next-token prediction.</summary>
public static class LanguageModeling
{
    /// <summary>
    /// Windows of <paramref name="length"/> tokens starting every <paramref name="stride"/> tokens (default: non-overlapping):
    /// inputs X [N, T] and targets Y [N, T] with Y[n, t] = X[n, t + 1] (the next token). Both int64.
    /// </summary>
    public static (Tensor X, Tensor Y) Windows(Tensor ids, int length, int? stride = null)
    {
        if (ids.ndim != 1) throw new ArgumentException($"Expected a 1-D tensor of token ids; found {Shapes.Format(ids)}.", nameof(ids));
        if (length < 1) throw new ArgumentOutOfRangeException(nameof(length), length, "The window length must be at least 1.");
        int step = stride ?? length;
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(stride), stride, "The stride must be at least 1.");
        long available = ids.shape[0] - 1;
        if (available < length)
            throw new ArgumentException($"A window of {length} tokens needs at least {length + 1} tokens; the stream has {ids.shape[0]}.", nameof(ids));
        long count = (available - length) / step + 1;
        using var scope = torch.NewDisposeScope();
        var source = ids.to(int64);
        var starts = torch.arange(0, count * step, step, dtype: int64).unsqueeze(1);
        var offsets = torch.arange(length, dtype: int64).unsqueeze(0);
        var index = (starts + offsets).to(source.device);
        var x = source[index];
        var y = source[index + 1];
        return (x.MoveToOuterDisposeScope(), y.MoveToOuterDisposeScope());
    }

    /// <summary>A <see cref="DataLoader"/> over <see cref="Windows"/>, ready for <c>Fit(..., task: TaskKind.Sequence)</c>.</summary>
    public static DataLoader Loader(Tensor ids, int length, int batchSize = 32, bool shuffle = true, int? stride = null, Random? random = null)
    {
        var (x, y) = Windows(ids, length, stride);
        return new DataLoader(x, y, batchSize, shuffle, random: random);
    }

    /// <summary>Index [count, length] of <paramref name="count"/> random runs of consecutive positions in a stream of <paramref name="streamLength"/>.</summary>
    internal static Tensor RandomPassageIndex(long streamLength, int length, int count, Generator? generator, string where)
    {
        if (length < 1) throw new ArgumentOutOfRangeException(nameof(length), length, "A passage holds at least one token.");
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "The number of passages cannot be negative.");
        if (streamLength <= length)
            throw new ArgumentException($"{where}: a passage of {length} tokens needs a stream of more than {length} tokens; this one has {streamLength}.");
        var starts = randint(0, streamLength - length, [count, 1], generator: generator, dtype: int64);
        return starts + arange(length, dtype: int64).unsqueeze(0);
    }
}
