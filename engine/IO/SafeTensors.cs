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

    /// <summary>Reads every tensor in the file, in file order. Errors name the file and the offending entry.</summary>
    public static Dictionary<string, Tensor> Load(string path) => Deserialize(File.ReadAllBytes(path), path).Tensors;

    /// <summary>Parses safetensors bytes; <paramref name="source"/> names them in error messages.</summary>
    public static (Dictionary<string, Tensor> Tensors, Dictionary<string, string> Metadata) Deserialize(byte[] bytes, string source = "safetensors data")
    {
        if (bytes.Length < 8) throw new InvalidDataException($"{source}: {bytes.Length} bytes is too short for a safetensors file");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > MaxHeaderBytes || headerLength > (ulong)(bytes.Length - 8))
            throw new InvalidDataException($"{source}: header length {headerLength} does not fit in a {bytes.Length}-byte file");
        long dataStart = 8 + (long)headerLength;
        long dataLength = bytes.Length - dataStart;

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes.AsMemory(8, (int)headerLength));
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: the header is not valid JSON: {e.Message}", e);
        }

        var tensors = new Dictionary<string, Tensor>();
        var metadata = new Dictionary<string, string>();
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{source}: the header must be a JSON object");
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    foreach (var item in property.Value.EnumerateObject()) metadata[item.Name] = item.Value.GetString() ?? "";
                    continue;
                }
                tensors[property.Name] = ReadEntry(property, bytes, dataStart, dataLength, source);
            }
        }
        return (tensors, metadata);
    }

    private static Tensor ReadEntry(JsonProperty property, byte[] bytes, long dataStart, long dataLength, string source)
    {
        string where = $"{source}: tensor '{property.Name}'";
        try
        {
            var entry = property.Value;
            var dtype = FromCode(entry.GetProperty("dtype").GetString() ?? "", where);
            var shape = entry.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
            var offsets = entry.GetProperty("data_offsets").EnumerateArray().Select(o => o.GetInt64()).ToArray();
            if (shape.Any(d => d < 0)) throw new InvalidDataException($"{where}: negative axis in shape {Shapes.Format(shape)}");
            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0] || offsets[1] > dataLength)
                throw new InvalidDataException($"{where}: data offsets [{string.Join(", ", offsets)}] fall outside the {dataLength} data bytes");
            long expected = Shapes.Numel(shape) * ElementSize(dtype);
            if (offsets[1] - offsets[0] != expected)
                throw new InvalidDataException($"{where}: shape {Shapes.Format(shape)} of {dtype.Name()} needs {expected} bytes but the entry has {offsets[1] - offsets[0]}");
            return FromBytes(bytes.AsSpan((int)(dataStart + offsets[0]), (int)expected), dtype, shape);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{where}: malformed entry ({e.Message})", e);
        }
    }

    private static string Code(DType dtype) => dtype switch
    {
        DType.Float32 => "F32",
        DType.Float64 => "F64",
        DType.Int64 => "I64",
        DType.Bool => "BOOL",
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    private static DType FromCode(string code, string where) => code switch
    {
        "F32" => DType.Float32,
        "F64" => DType.Float64,
        "I64" => DType.Int64,
        "BOOL" => DType.Bool,
        _ => throw new NotSupportedException($"{where}: dtype {code} is not supported (F32, F64, I64 and BOOL are)"),
    };

    private static int ElementSize(DType dtype) => dtype switch
    {
        DType.Float32 => 4,
        DType.Float64 or DType.Int64 => 8,
        DType.Bool => 1,
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
