using System.Text.Json;
using System.Text.Json.Serialization;

namespace NotebookLab.Cli.Jupyter;

/// <summary>The connection file Jupyter writes for a kernel: where to bind each socket and the key that signs messages.</summary>
sealed record ConnectionInfo(
    [property: JsonPropertyName("transport")] string Transport,
    [property: JsonPropertyName("ip")] string Ip,
    [property: JsonPropertyName("shell_port")] int ShellPort,
    [property: JsonPropertyName("control_port")] int ControlPort,
    [property: JsonPropertyName("iopub_port")] int IopubPort,
    [property: JsonPropertyName("stdin_port")] int StdinPort,
    [property: JsonPropertyName("hb_port")] int HeartbeatPort,
    [property: JsonPropertyName("key")] string Key,
    [property: JsonPropertyName("signature_scheme")] string SignatureScheme)
{
    public static ConnectionInfo Read(string path)
    {
        var info = JsonSerializer.Deserialize<ConnectionInfo>(File.ReadAllText(path))
            ?? throw new InvalidDataException($"{path}: not a Jupyter connection file");
        if (info.Transport is not ("tcp" or "ipc"))
            throw new InvalidDataException($"{path}: transport '{info.Transport}' is not supported (tcp or ipc)");
        if (!string.IsNullOrEmpty(info.Key) && info.SignatureScheme != "hmac-sha256")
            throw new InvalidDataException($"{path}: signature scheme '{info.SignatureScheme}' is not supported (hmac-sha256)");
        return info;
    }

    /// <summary>The ZeroMQ endpoint for a port: tcp://ip:port, or ipc://ip-port as Jupyter names ipc sockets.</summary>
    public string Endpoint(int port) => Transport == "ipc" ? $"ipc://{Ip}-{port}" : $"tcp://{Ip}:{port}";
}
