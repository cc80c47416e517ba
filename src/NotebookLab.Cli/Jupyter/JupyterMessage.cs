using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NotebookLab.Cli.Jupyter;

/// <summary>
/// One message of the Jupyter messaging protocol (5.3): the routing identities it came with, its four JSON parts, and
/// any binary buffers.
/// </summary>
sealed record JupyterMessage(
    IReadOnlyList<byte[]> Identities,
    JsonObject Header,
    JsonObject ParentHeader,
    JsonObject Metadata,
    JsonObject Content,
    IReadOnlyList<byte[]> Buffers)
{
    public const string ProtocolVersion = "5.3";

    public string Type => Header["msg_type"]?.GetValue<string>() ?? "";
    public string Id => Header["msg_id"]?.GetValue<string>() ?? "";

    /// <summary>A new message of <paramref name="type"/> in reply to (or caused by) <paramref name="parent"/>.</summary>
    public static JupyterMessage Create(string type, JsonObject content, JupyterMessage? parent, string session, IReadOnlyList<byte[]>? identities = null) =>
        new(identities ?? parent?.Identities ?? [],
            new JsonObject
            {
                ["msg_id"] = Guid.NewGuid().ToString("N"),
                ["session"] = session,
                ["username"] = parent?.Header["username"]?.GetValue<string>() ?? "kernel",
                ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'"),
                ["msg_type"] = type,
                ["version"] = ProtocolVersion,
            },
            parent is null ? new JsonObject() : (JsonObject)parent.Header.DeepClone(),
            new JsonObject(), content, []);
}

/// <summary>Why an incoming message was refused.</summary>
sealed class RejectedMessageException(string reason) : Exception(reason);

/// <summary>
/// The wire format: [identities…, "&lt;IDS|MSG&gt;", HMAC-SHA256 signature (hex), header, parent_header, metadata,
/// content, buffers…]. Every incoming message must carry the right signature for the connection's key and must not
/// repeat a signature already seen (a replay); anything else is refused before it is parsed.
/// </summary>
sealed class MessageCodec
{
    static readonly byte[] Delimiter = "<IDS|MSG>"u8.ToArray();
    const int RememberedSignatures = 100_000;

    // Messages are JSON on a socket, never inlined into HTML: no need to escape <, >, & or + as \uXXXX.
    static readonly JsonSerializerOptions Wire = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    readonly byte[] key;
    readonly HashSet<string> seen = new(StringComparer.Ordinal);
    readonly Queue<string> seenOrder = new();
    readonly object gate = new();

    public MessageCodec(string key) => this.key = Encoding.UTF8.GetBytes(key);

    public bool Signs => key.Length > 0;

    public List<byte[]> Encode(JupyterMessage message, string? topic = null)
    {
        var parts = new[] { message.Header, message.ParentHeader, message.Metadata, message.Content }
            .Select(p => Encoding.UTF8.GetBytes(p.ToJsonString(Wire))).ToArray();
        var frames = new List<byte[]>();
        if (topic is not null) frames.Add(Encoding.UTF8.GetBytes(topic));
        else frames.AddRange(message.Identities);
        frames.Add(Delimiter);
        frames.Add(Encoding.ASCII.GetBytes(Sign(parts)));
        frames.AddRange(parts);
        frames.AddRange(message.Buffers);
        return frames;
    }

    /// <summary>Decodes and authenticates a received multipart message; throws <see cref="RejectedMessageException"/> with the reason.</summary>
    public JupyterMessage Decode(IReadOnlyList<byte[]> frames)
    {
        int delimiter = -1;
        for (int i = 0; i < frames.Count; i++)
            if (frames[i].AsSpan().SequenceEqual(Delimiter)) { delimiter = i; break; }
        if (delimiter < 0) throw new RejectedMessageException("no <IDS|MSG> delimiter");
        if (frames.Count < delimiter + 6) throw new RejectedMessageException($"{frames.Count - delimiter - 1} frames after the delimiter; a message has at least 5");

        var parts = frames.Skip(delimiter + 2).Take(4).ToArray();
        var signature = Encoding.ASCII.GetString(frames[delimiter + 1]);
        if (Signs)
        {
            if (signature.Length == 0) throw new RejectedMessageException("unsigned message");
            var expected = Encoding.ASCII.GetBytes(Sign(parts));
            if (!CryptographicOperations.FixedTimeEquals(expected, frames[delimiter + 1]))
                throw new RejectedMessageException("invalid signature");
            lock (gate)
            {
                if (!seen.Add(signature)) throw new RejectedMessageException("replayed message (its signature was seen before)");
                seenOrder.Enqueue(signature);
                if (seenOrder.Count > RememberedSignatures) seen.Remove(seenOrder.Dequeue());
            }
        }

        JsonObject Parse(int i, string name)
        {
            try
            {
                return JsonNode.Parse(parts[i]) as JsonObject ?? throw new RejectedMessageException($"{name} is not a JSON object");
            }
            catch (JsonException e) { throw new RejectedMessageException($"{name} is not valid JSON: {e.Message}"); }
        }
        var header = Parse(0, "header");
        if (header["msg_type"] is not JsonValue type || type.GetValueKind() != JsonValueKind.String)
            throw new RejectedMessageException("header has no msg_type");
        if (header["msg_id"] is not JsonValue id || id.GetValueKind() != JsonValueKind.String)
            throw new RejectedMessageException("header has no msg_id");
        return new JupyterMessage(frames.Take(delimiter).ToList(), header, Parse(1, "parent_header"), Parse(2, "metadata"),
            Parse(3, "content"), frames.Skip(delimiter + 6).ToList());
    }

    string Sign(byte[][] parts)
    {
        if (!Signs) return "";
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        foreach (var part in parts) hmac.AppendData(part);
        return Convert.ToHexStringLower(hmac.GetHashAndReset());
    }
}
