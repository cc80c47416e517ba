using System.Buffers.Binary;
using System.Text;

namespace NotebookLab.Native;

/// <summary>
/// A minimal reader (and one narrow writer) for the symbol-versioning sections of a 64-bit little-endian
/// ELF shared library: the versions it needs from each library (<c>.gnu.version_r</c>), the versions a
/// library defines (<c>.gnu.version_d</c>) and which dynamic symbols are bound to which version.
/// </summary>
public sealed class ElfFile
{
    const uint ShtDynsym = 11, ShtGnuVerdef = 0x6ffffffd, ShtGnuVerneed = 0x6ffffffe, ShtGnuVersym = 0x6fffffff;
    /// <summary>VER_FLG_WEAK: a missing version is then a warning for the dynamic loader, not an error.</summary>
    public const ushort VersionFlagWeak = 0x2;

    readonly byte[] bytes;
    readonly List<Section> sections = new();

    record struct Section(uint Type, ulong Offset, ulong Size, uint Link, uint Info, ulong EntrySize);

    /// <summary>One version needed from a library: e.g. <c>GLIBCXX_3.4.32</c> from <c>libstdc++.so.6</c>.</summary>
    public sealed record VersionNeed(string File, string Name, ushort Flags, ushort Index, int FlagsOffset)
    {
        public bool IsWeak => (Flags & VersionFlagWeak) != 0;
    }

    public string Path { get; }
    public IReadOnlyList<VersionNeed> VersionNeeds { get; }
    public IReadOnlyList<string> VersionDefinitions { get; }

    ElfFile(string path, byte[] bytes)
    {
        Path = path;
        this.bytes = bytes;
        if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
            throw new InvalidDataException($"{path} is not an ELF file.");
        if (bytes[4] != 2 || bytes[5] != 1)
            throw new InvalidDataException($"{path} is not a 64-bit little-endian ELF file.");
        ulong shoff = U64(0x28);
        ushort shentsize = U16(0x3A), shnum = U16(0x3C);
        for (int i = 0; i < shnum; i++)
        {
            int o = checked((int)shoff + i * shentsize);
            sections.Add(new Section(U32(o + 4), U64(o + 24), U64(o + 32), U32(o + 40), U32(o + 44), U64(o + 56)));
        }
        VersionNeeds = ReadVersionNeeds();
        VersionDefinitions = ReadVersionDefinitions();
    }

    public static ElfFile Read(string path) => new(path, File.ReadAllBytes(path));

    ushort U16(int o) => BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(o));
    uint U32(int o) => BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(o));
    ulong U64(int o) => BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(o));

    string CString(Section strtab, uint offset)
    {
        int start = checked((int)(strtab.Offset + offset));
        int end = Array.IndexOf(bytes, (byte)0, start);
        return Encoding.ASCII.GetString(bytes, start, end - start);
    }

    List<VersionNeed> ReadVersionNeeds()
    {
        var result = new List<VersionNeed>();
        foreach (var s in sections.Where(s => s.Type == ShtGnuVerneed))
        {
            var strtab = sections[(int)s.Link];
            int vn = (int)s.Offset;
            for (uint n = 0; n < s.Info; n++)
            {
                ushort count = U16(vn + 2);
                string file = CString(strtab, U32(vn + 4));
                int aux = vn + (int)U32(vn + 8);
                for (int a = 0; a < count; a++)
                {
                    result.Add(new VersionNeed(file, CString(strtab, U32(aux + 8)), U16(aux + 4), U16(aux + 6), aux + 4));
                    aux += (int)U32(aux + 12);
                }
                uint next = U32(vn + 12);
                if (next == 0) break;
                vn += (int)next;
            }
        }
        return result;
    }

    List<string> ReadVersionDefinitions()
    {
        var result = new List<string>();
        foreach (var s in sections.Where(s => s.Type == ShtGnuVerdef))
        {
            var strtab = sections[(int)s.Link];
            int vd = (int)s.Offset;
            for (uint n = 0; n < s.Info; n++)
            {
                int aux = vd + (int)U32(vd + 12);
                result.Add(CString(strtab, U32(aux)));
                uint next = U32(vd + 16);
                if (next == 0) break;
                vd += (int)next;
            }
        }
        return result;
    }

    /// <summary>Names of the dynamic symbols bound to a needed version (by its version index).</summary>
    public IReadOnlyList<string> SymbolsUsingVersion(ushort versionIndex)
    {
        var dynsym = sections.FirstOrDefault(s => s.Type == ShtDynsym);
        var versym = sections.FirstOrDefault(s => s.Type == ShtGnuVersym);
        if (dynsym.EntrySize == 0 || versym.Size == 0) return Array.Empty<string>();
        var strtab = sections[(int)dynsym.Link];
        int count = (int)(dynsym.Size / dynsym.EntrySize);
        var names = new List<string>();
        for (int i = 0; i < count; i++)
        {
            if ((U16((int)versym.Offset + 2 * i) & 0x7fff) != versionIndex) continue;
            names.Add(CString(strtab, U32((int)(dynsym.Offset + (ulong)i * dynsym.EntrySize))));
        }
        return names;
    }

    /// <summary>A copy of the file's bytes with the given version needs marked weak.</summary>
    public byte[] WithWeakVersionNeeds(IEnumerable<VersionNeed> needs)
    {
        var copy = (byte[])bytes.Clone();
        foreach (var need in needs)
            BinaryPrimitives.WriteUInt16LittleEndian(copy.AsSpan(need.FlagsOffset), (ushort)(need.Flags | VersionFlagWeak));
        return copy;
    }
}
