using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace NotebookLab.Training;

/// <summary>Thrown when a checkpoint does not fit the model it is loaded into; the message lists every difference.</summary>
public sealed class CheckpointMismatchException(string message) : Exception(message);

/// <summary>
/// Saves and loads a model's <c>state_dict()</c> (parameters and buffers such as BatchNorm running statistics) to a
/// file. The file records each tensor's name, dtype and shape, so loading into a different architecture fails
/// with a message naming the missing, unexpected and mismatched tensors instead of a native error.
/// </summary>
public static class Checkpoint
{
    const string Magic = "NOTEBOOKLAB-CHECKPOINT";
    const int FormatVersion = 1;

    /// <summary>Writes <c>model.state_dict()</c> to <paramref name="path"/> (folders are created).</summary>
    public static void Save(nn.Module model, string path)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        using var scope = torch.NewDisposeScope();
        var state = model.state_dict();
        using var stream = File.Create(path);
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write(model.GetName());
        writer.Write(state.Count);
        foreach (var (name, tensor) in state)
        {
            writer.Write(name);
            writer.Write((int)tensor.dtype);
            writer.Write((long)tensor.ndim);
            foreach (var size in tensor.shape) writer.Write(size);
            writer.Flush();
            var cpu = tensor.detach().cpu().contiguous();
            writer.Write((long)cpu.NumberOfElements * cpu.ElementSize);
            writer.Flush();
            cpu.WriteBytesToStream(stream);
        }
    }

    /// <summary>The names, dtypes and shapes stored in a checkpoint file, without loading the data.</summary>
    public static (string ModelName, IReadOnlyList<(string Name, ScalarType DType, long[] Shape)> Tensors) Describe(string path)
    {
        using var stream = OpenChecked(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        var modelName = ReadHeader(reader, path);
        int count = reader.ReadInt32();
        var tensors = new List<(string, ScalarType, long[])>(count);
        for (int i = 0; i < count; i++)
        {
            var (name, dtype, shape, bytes) = ReadEntryHeader(reader);
            stream.Seek(bytes, SeekOrigin.Current);
            tensors.Add((name, dtype, shape));
        }
        return (modelName, tensors);
    }

    /// <summary>
    /// Loads a checkpoint into <paramref name="model"/> (in place, on the model's device).
    /// </summary>
    /// <exception cref="CheckpointMismatchException">Names, shapes or dtypes differ; nothing is changed.</exception>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    public static void Load(nn.Module model, string path)
    {
        var (savedFrom, stored) = Describe(path);
        using var scope = torch.NewDisposeScope();
        var state = model.state_dict();
        var problems = new List<string>();
        var storedByName = stored.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var missing = state.Keys.Where(k => !storedByName.ContainsKey(k)).Select(k => $"{k} {Shapes.Format(state[k].shape)}").ToList();
        var unexpected = stored.Where(t => !state.ContainsKey(t.Name)).Select(t => $"{t.Name} {Shapes.Format(t.Shape)}").ToList();
        var shapes = stored.Where(t => state.TryGetValue(t.Name, out var m) && !m.shape.SequenceEqual(t.Shape))
            .Select(t => $"{t.Name}: checkpoint {Shapes.Format(t.Shape)}, model {Shapes.Format(state[t.Name].shape)}").ToList();
        var dtypes = stored.Where(t => state.TryGetValue(t.Name, out var m) && m.shape.SequenceEqual(t.Shape) && m.dtype != t.DType)
            .Select(t => $"{t.Name}: checkpoint {t.DType}, model {state[t.Name].dtype}").ToList();
        if (missing.Count + unexpected.Count + shapes.Count + dtypes.Count > 0)
        {
            var message = new StringBuilder(
                $"The checkpoint '{path}' (saved from {savedFrom}, {stored.Count} tensors) does not fit {model.GetName()} ({state.Count} tensors); nothing was loaded.");
            void Section(string title, List<string> items)
            {
                if (items.Count == 0) return;
                message.Append($"\n  {title} ({items.Count}): ").Append(string.Join("; ", items.Take(12)));
                if (items.Count > 12) message.Append("; …");
            }
            Section("in the model but not in the checkpoint", missing);
            Section("in the checkpoint but not in the model", unexpected);
            Section("shape differs", shapes);
            Section("dtype differs", dtypes);
            throw new CheckpointMismatchException(message.ToString());
        }

        using var stream = OpenChecked(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        ReadHeader(reader, path);
        int count = reader.ReadInt32();
        using var noGrad = torch.no_grad();
        for (int i = 0; i < count; i++)
        {
            var (name, dtype, shape, _) = ReadEntryHeader(reader);
            var buffer = torch.empty(shape, dtype);
            buffer.ReadBytesFromStream(stream);
            state[name].copy_(buffer);
        }
    }

    /// <summary>Copies tensors into the model's parameters and buffers by name (used to restore the best weights).</summary>
    internal static void CopyInto(nn.Module model, IReadOnlyDictionary<string, Tensor> source)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        foreach (var (name, tensor) in model.state_dict())
            if (source.TryGetValue(name, out var value)) tensor.copy_(value);
    }

    /// <summary>Detached copies of every state tensor, kept outside any dispose scope; the caller disposes them.</summary>
    internal static Dictionary<string, Tensor> Snapshot(nn.Module model)
    {
        var copies = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        using var scope = torch.NewDisposeScope(); // frees the detach() views
        using var noGrad = torch.no_grad();
        foreach (var (name, tensor) in model.state_dict())
            copies[name] = tensor.detach().clone().DetachFromDisposeScope();
        return copies;
    }


    static FileStream OpenChecked(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"No checkpoint at '{Path.GetFullPath(path)}'. Save one with Checkpoint.Save(model, path) or learner.Save(path).", path);
        return File.OpenRead(path);
    }

    static string ReadHeader(BinaryReader reader, string path)
    {
        string magic;
        try { magic = reader.ReadString(); }
        catch (Exception ex) when (ex is EndOfStreamException or IOException) { magic = ""; }
        if (magic != Magic)
            throw new InvalidDataException($"'{path}' is not a NotebookLab checkpoint (it does not start with {Magic}). Files from Module.save() load with module.load(path).");
        int version = reader.ReadInt32();
        if (version != FormatVersion) throw new InvalidDataException($"'{path}' has checkpoint format {version}; this NotebookLab reads format {FormatVersion}.");
        return reader.ReadString();
    }

    static (string Name, ScalarType DType, long[] Shape, long Bytes) ReadEntryHeader(BinaryReader reader)
    {
        var name = reader.ReadString();
        var dtype = (ScalarType)reader.ReadInt32();
        var shape = new long[reader.ReadInt64()];
        for (int d = 0; d < shape.Length; d++) shape[d] = reader.ReadInt64();
        long bytes = reader.ReadInt64();
        return (name, dtype, shape, bytes);
    }
}
