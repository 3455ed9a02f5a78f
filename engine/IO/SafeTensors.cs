using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace ScratchDetect.Engine.IO;

/// <summary>
/// Reads and writes the safetensors format (Hugging Face): an 8-byte little-endian header length,
/// a JSON header mapping each name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets
/// relative to the end of the header) plus an optional "__metadata__" map of strings, then the
/// raw little-endian tensor bytes. F32, F64, I64 and BOOL are supported.
/// </summary>
public static class SafeTensors
{
    private const long MaxHeaderBytes = 100_000_000; // the reference implementation's limit

    /// <summary>Writes named tensors (in the given order) and optional metadata to <paramref name="path"/>.</summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null) =>
        AtomicFile.WriteAllBytes(path, Serialize(tensors, metadata));

    /// <summary>The safetensors bytes for named tensors and optional metadata.</summary>
    public static byte[] Serialize(IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var entries = tensors.ToList();
        var blobs = entries.Select(e => ToBytes(e.Value)).ToList();
        using var headerStream = new MemoryStream();
        using (var json = new Utf8JsonWriter(headerStream))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            for (int i = 0; i < entries.Count; i++)
            {
                var (name, tensor) = (entries[i].Key, entries[i].Value);
                json.WriteStartObject(name);
                json.WriteString("dtype", Code(tensor.DType));
                json.WriteStartArray("shape");
                foreach (var d in tensor.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + blobs[i].Length);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += blobs[i].Length;
            }
            json.WriteEndObject();
        }
        // The format pads the header with spaces to a multiple of 8 so the data is aligned.
        var header = headerStream.ToArray();
        int padded = (header.Length + 7) / 8 * 8;
        var result = new byte[8 + padded + blobs.Sum(b => (long)b.Length)];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)padded);
        header.CopyTo(result, 8);
        result.AsSpan(8 + header.Length, padded - header.Length).Fill((byte)' ');
        long position = 8 + padded;
        foreach (var blob in blobs)
        {
            blob.CopyTo(result, position);
            position += blob.Length;
        }
        return result;
    }

    /// <summary>
    /// Reads every tensor in the file, in file order. A file that breaks the format throws
    /// <see cref="SafeTensorsFormatException"/> naming the file, the tensor and the rule.
    /// </summary>
    /// <exception cref="SafeTensorsFormatException">The file is not a valid safetensors file, or holds a dtype this engine lacks.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static Dictionary<string, Tensor> Load(string path)
    {
        // File.ReadAllBytes would say "file too long" without naming the format's limit here.
        long length = new FileInfo(path).Length;
        if (length > Array.MaxLength)
            throw new SafeTensorsFormatException(path, null, $"{length} bytes is more than the {Array.MaxLength} bytes this reader can hold in memory");
        return Deserialize(File.ReadAllBytes(path), path).Tensors;
    }

    /// <summary>
    /// Parses safetensors bytes; <paramref name="source"/> names them in error messages. The whole
    /// header is checked before any tensor is copied, by the rules of the format's specification:
    /// the header is a JSON object of at most 100 MB without duplicate keys; every entry has a known
    /// dtype, a shape of non-negative axes whose byte size fits in 64 bits and matches its
    /// data_offsets [begin, end] (begin &lt;= end, both unsigned 64-bit), and the entries together
    /// cover the data section exactly, without overlaps or holes.
    /// </summary>
    /// <exception cref="SafeTensorsFormatException">The bytes break one of those rules, or hold a dtype this engine lacks.</exception>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Deserialize(byte[] bytes, string source = "safetensors data")
    {
        var (entries, metadata, dataStart) = ReadHeader(bytes, source);
        CheckCoverage(entries, bytes.LongLength - dataStart, source);
        var tensors = new Dictionary<string, Tensor>(entries.Count);
        foreach (var entry in entries)
        {
            var dtype = Supported(entry, source);
            tensors.Add(entry.Name, FromBytes(bytes.AsSpan((int)(dataStart + entry.Begin), (int)(entry.End - entry.Begin)), dtype, entry.Shape));
        }
        return (tensors, metadata);
    }

    /// <summary>One header entry as written: its dtype code, shape and data offsets (relative to the data section).</summary>
    private sealed record Entry(string Name, string DType, int[] Shape, long Begin, long End);

    /// <summary>The entries in header order, the metadata, and where the data section starts.</summary>
    private static (List<Entry> Entries, Dictionary<string, string> Metadata, long DataStart) ReadHeader(byte[] bytes, string source)
    {
        if (bytes.Length < 8)
            throw new SafeTensorsFormatException(source, null, bytes.Length == 0
                ? "the file is empty"
                : $"{bytes.Length} bytes is too short for the 8-byte header length that starts a safetensors file");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > MaxHeaderBytes)
            throw new SafeTensorsFormatException(source, null, $"header length {headerLength} exceeds the format's limit of {MaxHeaderBytes} bytes");
        if (headerLength > (ulong)(bytes.Length - 8))
            throw new SafeTensorsFormatException(source, null, $"header length {headerLength} runs past the end of the {bytes.Length}-byte file (truncated?)");
        if (headerLength < 2 || bytes[8] != (byte)'{')
            throw new SafeTensorsFormatException(source, null, "the header must be a JSON object (starting with '{')");

        var entries = new List<Entry>();
        var metadata = new Dictionary<string, string>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        string? tensor = null;
        try
        {
            // A streaming reader rather than a JsonDocument: its token table could be many times
            // larger than a header of short tokens, and the reader sees duplicate keys.
            var reader = new Utf8JsonReader(bytes.AsSpan(8, (int)headerLength), new JsonReaderOptions { MaxDepth = 4 });
            reader.Read();
            while (Next(ref reader) == JsonTokenType.PropertyName)
            {
                string key = reader.GetString()!;
                if (!keys.Add(key))
                    throw new SafeTensorsFormatException(source, key == MetadataKey ? null : key, $"the key '{key}' appears twice in the header (keys must be unique)");
                if (key == MetadataKey)
                {
                    ReadMetadata(ref reader, metadata, source);
                    continue;
                }
                tensor = key;
                entries.Add(ReadEntry(ref reader, key, source));
                tensor = null;
            }
            if (reader.Read())
                throw new SafeTensorsFormatException(source, null, "the header holds more than one JSON value");
        }
        catch (JsonException e)
        {
            throw new SafeTensorsFormatException(source, tensor, $"the header is not valid JSON ({e.Message})", e);
        }
        catch (InvalidOperationException e)
        {
            // Utf8JsonReader.GetString on invalid UTF-8 or escapes.
            throw new SafeTensorsFormatException(source, tensor, $"the header is not valid JSON ({e.Message})", e);
        }
        return (entries, metadata, 8 + (long)headerLength);
    }

    private const string MetadataKey = "__metadata__";

    /// <summary>Most axes a shape may have (PyTorch's own kernels stop at 25); bounds what a forged shape allocates.</summary>
    private const int MaxRank = 64;

    /// <summary>Reads the next token; the end of the header where one was due is a JSON error.</summary>
    private static JsonTokenType Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read()) throw new JsonException("the header ends in the middle of a JSON value");
        return reader.TokenType;
    }

    private static void ReadMetadata(ref Utf8JsonReader reader, Dictionary<string, string> metadata, string source)
    {
        if (Next(ref reader) != JsonTokenType.StartObject)
            throw new SafeTensorsFormatException(source, null, $"{MetadataKey} must be an object of strings, not {reader.TokenType}");
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            string key = reader.GetString()!;
            if (Next(ref reader) != JsonTokenType.String)
                throw new SafeTensorsFormatException(source, null, $"{MetadataKey} value '{key}' must be a string, not {reader.TokenType}");
            if (!metadata.TryAdd(key, reader.GetString()!))
                throw new SafeTensorsFormatException(source, null, $"{MetadataKey} key '{key}' appears twice (keys must be unique)");
        }
    }

    /// <summary>One tensor's {"dtype", "shape", "data_offsets"}, with each field's own rules checked.</summary>
    private static Entry ReadEntry(ref Utf8JsonReader reader, string name, string source)
    {
        SafeTensorsFormatException Bad(string rule) => new(source, name, rule);
        if (Next(ref reader) != JsonTokenType.StartObject)
            throw Bad($"the entry must be an object with dtype, shape and data_offsets, not {reader.TokenType}");
        string? dtype = null;
        List<long>? shape = null, offsets = null;
        while (Next(ref reader) == JsonTokenType.PropertyName)
        {
            string field = reader.GetString()!;
            switch (field)
            {
                case "dtype" when dtype is null:
                    if (Next(ref reader) != JsonTokenType.String) throw Bad($"dtype must be a string, not {reader.TokenType}");
                    dtype = reader.GetString()!;
                    break;
                case "shape" when shape is null:
                    shape = ReadUnsignedArray(ref reader, "shape", MaxRank, Bad);
                    break;
                case "data_offsets" when offsets is null:
                    offsets = ReadUnsignedArray(ref reader, "data_offsets", 2, Bad);
                    break;
                case "dtype" or "shape" or "data_offsets":
                    throw Bad($"the field '{field}' appears twice (keys must be unique)");
                default:
                    throw Bad($"unknown field '{field}' (an entry has dtype, shape and data_offsets)");
            }
        }
        if (dtype is null || shape is null || offsets is null)
            throw Bad($"the entry lacks {(dtype is null ? "dtype" : shape is null ? "shape" : "data_offsets")}");
        if (!ElementSizes.TryGetValue(dtype, out int elementSize))
            throw Bad($"unknown dtype '{dtype}' (the format defines {string.Join(", ", ElementSizes.Keys)})");
        if (offsets.Count != 2)
            throw Bad($"data_offsets has {offsets.Count} value(s); it must be [begin, end]");
        var (begin, end) = (offsets[0], offsets[1]);
        if (begin > end)
            throw Bad($"data_offsets [{begin}, {end}] are reversed (begin must not exceed end)");
        long bytes = elementSize;
        foreach (long axis in shape)
        {
            if (axis > int.MaxValue)
                throw Bad($"shape [{string.Join(", ", shape)}] has an axis above {int.MaxValue}, the largest this engine holds");
            if (!TryMultiply(bytes, axis, out bytes))
                throw Bad($"shape [{string.Join(", ", shape)}] of {dtype} overflows: its byte size does not fit in 64 bits");
        }
        if (end - begin != bytes)
            throw Bad($"shape [{string.Join(", ", shape)}] of {dtype} needs {bytes} bytes but data_offsets [{begin}, {end}] hold {end - begin}");
        return new Entry(name, dtype, shape.Select(a => (int)a).ToArray(), begin, end);
    }

    /// <summary>A JSON array of integers that must each be in 0..2^63-1 (shapes, offsets; 2^63 and up cannot address a file).</summary>
    private static List<long> ReadUnsignedArray(ref Utf8JsonReader reader, string field, int maxCount, Func<string, SafeTensorsFormatException> bad)
    {
        if (Next(ref reader) != JsonTokenType.StartArray) throw bad($"{field} must be an array of integers, not {reader.TokenType}");
        var values = new List<long>();
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number) throw bad($"{field} must be an array of integers, but holds a {reader.TokenType}");
            if (values.Count == maxCount)
                throw bad(field == "shape" ? $"shape has more than {MaxRank} axes, the most this reader accepts" : $"{field} has more than {maxCount} values; it must be [begin, end]");
            if (reader.TryGetInt64(out long value) && value >= 0)
            {
                values.Add(value);
                continue;
            }
            string text = Encoding.UTF8.GetString(reader.ValueSpan);
            throw bad(text.StartsWith('-') ? $"{field} holds the negative value {text}"
                : reader.TryGetUInt64(out _) || text.All(char.IsAsciiDigit) ? $"{field} value {text} does not fit in a signed 64-bit integer"
                : $"{field} value {text} is not an integer");
        }
        return values;
    }

    private static bool TryMultiply(long a, long b, out long product)
    {
        try
        {
            product = checked(a * b);
            return true;
        }
        catch (OverflowException)
        {
            product = 0;
            return false;
        }
    }

    /// <summary>
    /// The format requires the entries to index the data section entirely, without holes or
    /// overlaps (so no byte is read twice and nothing hides in the file): in offset order, each
    /// entry begins where the previous one ended and the last ends at the end of the file.
    /// </summary>
    private static void CheckCoverage(List<Entry> entries, long dataLength, string source)
    {
        long position = 0;
        Entry? previous = null;
        foreach (var entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (entry.End > dataLength)
                throw new SafeTensorsFormatException(source, entry.Name, $"data_offsets [{entry.Begin}, {entry.End}] run past the {dataLength} data bytes (truncated file?)");
            if (entry.Begin < position)
                throw new SafeTensorsFormatException(source, entry.Name,
                    $"data_offsets [{entry.Begin}, {entry.End}] overlap tensor '{previous!.Name}' [{previous.Begin}, {previous.End}] (tensors must not share bytes)");
            if (entry.Begin > position)
                throw new SafeTensorsFormatException(source, entry.Name,
                    $"data_offsets [{entry.Begin}, {entry.End}] leave bytes {position}..{entry.Begin} of the data section unused (the data must be covered without holes)");
            position = entry.End;
            previous = entry;
        }
        if (position != dataLength)
            throw new SafeTensorsFormatException(source, null,
                $"{dataLength - position} bytes after the last tensor's data (at {position} of {dataLength}) belong to no tensor (the data must be covered without holes)");
    }

    /// <summary>The engine dtype for the entry's code, or an error for a dtype the format defines but the engine lacks.</summary>
    private static DType Supported(Entry entry, string source) => entry.DType switch
    {
        "F32" => DType.Float32,
        "F64" => DType.Float64,
        "I64" => DType.Int64,
        "BOOL" => DType.Bool,
        _ => throw new SafeTensorsFormatException(source, entry.Name, $"dtype {entry.DType} is not supported (F32, F64, I64 and BOOL are)"),
    };

    /// <summary>Every dtype the safetensors specification defines, with its element size in bytes.</summary>
    private static readonly IReadOnlyDictionary<string, int> ElementSizes = new Dictionary<string, int>
    {
        ["BOOL"] = 1, ["U8"] = 1, ["I8"] = 1, ["F8_E5M2"] = 1, ["F8_E4M3"] = 1,
        ["I16"] = 2, ["U16"] = 2, ["F16"] = 2, ["BF16"] = 2,
        ["I32"] = 4, ["U32"] = 4, ["F32"] = 4,
        ["F64"] = 8, ["I64"] = 8, ["U64"] = 8,
    };

    private static string Code(DType dtype) => dtype switch
    {
        DType.Float32 => "F32",
        DType.Float64 => "F64",
        DType.Int64 => "I64",
        DType.Bool => "BOOL",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    // Little-endian is assumed (as on every platform .NET runs here); the format stores little-endian.
    private static byte[] ToBytes(Tensor tensor) => tensor.DType switch
    {
        DType.Float32 => MemoryMarshal.AsBytes(tensor.ToArray<float>().AsSpan()).ToArray(),
        DType.Float64 => MemoryMarshal.AsBytes(tensor.ToArray<double>().AsSpan()).ToArray(),
        DType.Int64 => MemoryMarshal.AsBytes(tensor.ToArray<long>().AsSpan()).ToArray(),
        DType.Bool => tensor.ToArray<bool>().Select(b => b ? (byte)1 : (byte)0).ToArray(),
        _ => throw new ArgumentOutOfRangeException(nameof(tensor)),
    };

    private static Tensor FromBytes(ReadOnlySpan<byte> data, DType dtype, int[] shape) => dtype switch
    {
        DType.Float32 => Tensor.FromArray(MemoryMarshal.Cast<byte, float>(data).ToArray(), shape),
        DType.Float64 => Tensor.FromArray(MemoryMarshal.Cast<byte, double>(data).ToArray(), shape),
        DType.Int64 => Tensor.FromArray(MemoryMarshal.Cast<byte, long>(data).ToArray(), shape),
        DType.Bool => Tensor.FromArray(data.ToArray().Select(b => b != 0).ToArray(), shape),
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };
}

/// <summary>
/// Thrown for bytes that break the safetensors format (or hold a dtype this engine lacks); an
/// <see cref="IOException"/>, as the file cannot be used, like one that cannot be read. The
/// message names the file, the tensor when one entry is at fault, and the rule it breaks.
/// </summary>
public sealed class SafeTensorsFormatException : IOException
{
    /// <summary>The file (or other source name) being read.</summary>
    public string FilePath { get; }

    /// <summary>The tensor whose entry breaks the rule, or null when the fault is in the file as a whole.</summary>
    public string? TensorName { get; }

    /// <summary>The rule broken, without the location.</summary>
    public string Problem { get; }

    /// <summary>Creates the exception for <paramref name="problem"/> in <paramref name="source"/> (and <paramref name="tensorName"/>).</summary>
    public SafeTensorsFormatException(string source, string? tensorName, string problem, Exception? inner = null)
        : base(tensorName is null ? $"{source}: {problem}" : $"{source}: tensor '{tensorName}': {problem}", inner)
    {
        FilePath = source;
        TensorName = tensorName;
        Problem = problem;
    }
}
