using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using NotebookLab.Cli.Jupyter;

namespace NotebookLab.Tests.Jupyter;

/// <summary>The Jupyter wire format: signed with HMAC-SHA256 as jupyter_client signs, and nothing else accepted.</summary>
public class MessageCodecTests
{
    const string Key = "a0436f6c-1916-498b-8eb9-e81ab9368e84";

    static JupyterMessage Request(string code = "1 + 1") =>
        JupyterMessage.Create("execute_request", new JsonObject { ["code"] = code }, null, "client", [Encoding.UTF8.GetBytes("peer")]);

    [Fact]
    public void A_signed_message_decodes_with_its_identities_and_parts()
    {
        var codec = new MessageCodec(Key);
        var frames = codec.Encode(Request());
        // The signature is HMAC-SHA256 over header, parent_header, metadata, content, in hex: what jupyter_client checks.
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Key), frames.Skip(3).Take(4).SelectMany(f => f).ToArray()));
        Assert.Equal(expected, Encoding.ASCII.GetString(frames[2]));

        var decoded = new MessageCodec(Key).Decode(frames);
        Assert.Equal("execute_request", decoded.Type);
        Assert.Equal("peer", Encoding.UTF8.GetString(decoded.Identities.Single()));
        Assert.Equal("1 + 1", decoded.Content["code"]!.GetValue<string>());
    }

    [Fact]
    public void Unsigned_mis_signed_tampered_and_replayed_messages_are_rejected()
    {
        var codec = new MessageCodec(Key);
        var frames = new MessageCodec(Key).Encode(Request());

        var unsigned = frames.ToList();
        unsigned[2] = [];
        Assert.Contains("unsigned", Assert.Throws<RejectedMessageException>(() => codec.Decode(unsigned)).Message);

        var misSigned = new MessageCodec("another key").Encode(Request());
        Assert.Contains("invalid signature", Assert.Throws<RejectedMessageException>(() => codec.Decode(misSigned)).Message);

        var tampered = frames.ToList();
        tampered[6] = Encoding.UTF8.GetBytes("{\"code\":\"System.IO.File.Delete(\\\"x\\\")\"}");
        Assert.Contains("invalid signature", Assert.Throws<RejectedMessageException>(() => codec.Decode(tampered)).Message);

        codec.Decode(frames);
        Assert.Contains("replayed", Assert.Throws<RejectedMessageException>(() => codec.Decode(frames)).Message);
    }

    [Fact]
    public void Malformed_frames_are_rejected_with_a_reason()
    {
        var codec = new MessageCodec(Key);
        Assert.Contains("delimiter", Assert.Throws<RejectedMessageException>(() => codec.Decode([[1, 2, 3]])).Message);
        Assert.Contains("frames", Assert.Throws<RejectedMessageException>(() => codec.Decode(["<IDS|MSG>"u8.ToArray(), [0]])).Message);

        List<byte[]> Signed(string header)
        {
            byte[][] parts = [Encoding.UTF8.GetBytes(header), "{}"u8.ToArray(), "{}"u8.ToArray(), "{}"u8.ToArray()];
            var signature = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Key), parts.SelectMany(p => p).ToArray()));
            return ["<IDS|MSG>"u8.ToArray(), Encoding.ASCII.GetBytes(signature), .. parts];
        }
        Assert.Contains("not valid JSON", Assert.Throws<RejectedMessageException>(() => codec.Decode(Signed("{oops"))).Message);
        Assert.Contains("not a JSON object", Assert.Throws<RejectedMessageException>(() => codec.Decode(Signed("[1]"))).Message);
        Assert.Contains("msg_type", Assert.Throws<RejectedMessageException>(() => codec.Decode(Signed("{\"msg_id\":\"1\"}"))).Message);
    }

    [Fact]
    public void Without_a_key_messages_are_neither_signed_nor_checked()
    {
        var codec = new MessageCodec("");
        var frames = codec.Encode(Request());
        Assert.Empty(frames[2]);
        Assert.Equal("execute_request", codec.Decode(frames).Type);
    }
}
