using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ScratchDetect.Engine.IO;
using Xunit.Abstractions;

namespace ScratchDetect.Engine.Tests;

/// <summary>
/// Seeded random damage to safetensors files, the counterpart of the image codecs' test: bytes
/// flipped, cut, inserted and deleted anywhere, the header length rewritten, and the header's JSON
/// edited field by field (so the damage gets past the JSON parser to every rule behind it). The
/// only outcomes allowed are a load of a file that is still valid or a SafeTensorsFormatException
/// naming the file; no other exception, no hang, and no allocation beyond a small multiple of the file.
/// </summary>
public sealed class SafeTensorsMutationTests(ITestOutputHelper output)
{
    private const int CasesPerSource = 600;

    /// <summary>Upper bound on one load's allocations: the tensors' copies, the names and per-entry records are each at most a few times the file.</summary>
    private const int AllocationPerFileByte = 6;

    private static IEnumerable<(string Name, byte[] Data)> Sources()
    {
        yield return ("every-dtype", SafeTensors.Serialize(new Dictionary<string, Tensor>
        {
            ["w"] = Tensor.FromArray(new[] { 1.5f, -2f, 3f, 4f, 5f, 6f }, 2, 3),
            ["b"] = Tensor.FromArray(new[] { 1e-300, 2.0 }, 2),
            ["i"] = Tensor.FromArray(new long[] { long.MinValue, 7, 9 }, 3),
            ["m"] = Tensor.FromArray(new[] { true, false, true }, 3),
            ["s"] = Tensor.Scalar(9),
            ["empty"] = Tensor.Zeros([0, 4]),
        }, new Dictionary<string, string> { ["format"] = "pt" }));
        yield return ("one-tensor", SafeTensors.Serialize(new Dictionary<string, Tensor> { ["x"] = Tensor.FromArray(Enumerable.Range(0, 16).Select(v => (float)v).ToArray(), 4, 4) }));
        // Written by PyTorch's side (tools/parity/common.py): its key order, padding and offsets.
        yield return ("nn.safetensors", File.ReadAllBytes(Path.Combine(RepoPaths.Fixtures, "parity", "nn.safetensors")));
        yield return ("nn_sequential_state_dict.safetensors", File.ReadAllBytes(Path.Combine(RepoPaths.Fixtures, "parity", "nn_sequential_state_dict.safetensors")));
    }

    [Fact]
    public void RandomDamageOnlyEverLoadsAValidFileOrThrowsTheFormatException()
    {
        var random = new Random(20261201);
        int loaded = 0, refused = 0;
        var watch = Stopwatch.StartNew();
        var rules = new Dictionary<string, int>();
        foreach (var (name, original) in Sources())
        {
            for (int i = 0; i < CasesPerSource; i++)
            {
                var (damaged, damage) = Damage(original, random);
                string label = $"{name} #{i} ({damage})";
                long before = GC.GetAllocatedBytesForCurrentThread();
                try
                {
                    var (tensors, _) = SafeTensors.Deserialize(damaged, label);
                    AssertValid(damaged, tensors, label);
                    loaded++;
                }
                catch (SafeTensorsFormatException e)
                {
                    Assert.Equal(label, e.FilePath);
                    Assert.StartsWith(label + ": ", e.Message);
                    string rule = e.Problem.Split(' ')[0];
                    rules[rule] = rules.GetValueOrDefault(rule) + 1;
                    refused++;
                }
                catch (Exception e)
                {
                    Assert.Fail($"{label}: {e.GetType().Name} escaped: {e}");
                }
                // Work is bounded by allocation, not wall time (which a loaded machine makes flaky): a
                // load that read past the file or looped over a damaged count would allocate beyond
                // this; a hang without allocation shows as a run that never ends.
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.True(allocated <= AllocationPerFileByte * (long)damaged.Length + 64 * 1024,
                    $"{label}: allocated {allocated} bytes for a {damaged.Length}-byte file");
            }
        }
        output.WriteLine($"{4 * CasesPerSource} damaged files: {loaded} loaded, {refused} refused, {watch.Elapsed.TotalSeconds:F1} s");
        output.WriteLine("refusals by the first word of the rule: " + string.Join(", ", rules.OrderByDescending(r => r.Value).Select(r => $"{r.Key} {r.Value}")));
        // The header edits must reach the rules behind the JSON parser, not only break the JSON.
        Assert.True(loaded > 0 && rules.Count >= 8, $"the damage reached too few rules: {string.Join(", ", rules.Keys)}");
    }

    /// <summary>
    /// An independent statement of the format's rules, applied to a file the reader accepted: the
    /// header is an object of unique keys; each entry's offsets are ordered and its byte size is its
    /// shape's; in offset order the entries tile the data section; and each loaded tensor holds
    /// exactly its entry's shape and bytes.
    /// </summary>
    private static void AssertValid(byte[] file, Dictionary<string, Tensor> tensors, string label)
    {
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(file);
        long dataStart = 8 + headerLength;
        var headerText = Encoding.UTF8.GetString(file, 8, (int)headerLength);
        using var document = JsonDocument.Parse(headerText);
        var names = document.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        Assert.True(names.Distinct().Count() == names.Count, $"{label}: duplicate keys were accepted");
        var entries = document.RootElement.EnumerateObject().Where(p => p.Name != "__metadata__").Select(p =>
        {
            var offsets = p.Value.GetProperty("data_offsets").EnumerateArray().Select(o => o.GetInt64()).ToArray();
            var shape = p.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
            return (p.Name, DType: p.Value.GetProperty("dtype").GetString(), Shape: shape, Begin: offsets[0], End: offsets[1]);
        }).ToList();
        Assert.Equal(entries.Select(e => e.Name), tensors.Keys);
        long position = 0;
        foreach (var entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            Assert.True(entry.Begin == position, $"{label}: '{entry.Name}' begins at {entry.Begin}, not at {position}");
            position = entry.End;
        }
        Assert.True(position == file.Length - dataStart, $"{label}: tensors end at {position} of {file.Length - dataStart} data bytes");
        foreach (var entry in entries)
        {
            var tensor = tensors[entry.Name];
            Assert.Equal(entry.Shape, tensor.Shape);
            var expected = file.AsSpan((int)(dataStart + entry.Begin), (int)(entry.End - entry.Begin)).ToArray();
            byte[] actual = entry.DType switch
            {
                "F32" => System.Runtime.InteropServices.MemoryMarshal.AsBytes(tensor.ToArray<float>().AsSpan()).ToArray(),
                "F64" => System.Runtime.InteropServices.MemoryMarshal.AsBytes(tensor.ToArray<double>().AsSpan()).ToArray(),
                "I64" => System.Runtime.InteropServices.MemoryMarshal.AsBytes(tensor.ToArray<long>().AsSpan()).ToArray(),
                // BOOL: any non-zero byte reads as true, so compare truth values.
                "BOOL" => tensor.ToArray<bool>().Select(b => b ? (byte)1 : (byte)0).ToArray(),
                var other => throw new Xunit.Sdk.XunitException($"{label}: dtype {other} was accepted"),
            };
            if (entry.DType == "BOOL") expected = expected.Select(b => b != 0 ? (byte)1 : (byte)0).ToArray();
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"{label}: '{entry.Name}' does not hold its bytes");
        }
    }

    private static (byte[] Data, string Damage) Damage(byte[] original, Random random)
    {
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(original);
        int Position(int length) => random.Next(2) == 0 ? random.Next(Math.Min(length, 8 + (int)headerLength)) : random.Next(length);
        var data = (byte[])original.Clone();
        int kind = random.Next(8);
        if (kind < ByteDamage.Kinds) return ByteDamage.Apply(kind, data, random, Position, maxFlips: 3);
        switch (kind)
        {
            case 4:
                ulong[] lengths = [0, 1, 2, (ulong)headerLength - 1, (ulong)headerLength + 1, (ulong)data.Length, 1UL << 40, 100_000_001, ulong.MaxValue, (ulong)random.NextInt64()];
                ulong length = lengths[random.Next(lengths.Length)];
                BinaryPrimitives.WriteUInt64LittleEndian(data, length);
                return (data, $"header length {length}");
            default:
                return EditHeader(original, headerLength, random);
        }
    }

    /// <summary>Values a header edit puts in a field: the boundaries of every integer rule, and wrong kinds.</summary>
    private static readonly string[] Values =
    [
        "0", "1", "2", "3", "4", "7", "8", "16", "24", "-1", "-8", "2147483647", "2147483648", "4294967296", "9223372036854775807",
        "9223372036854775808", "18446744073709551615", "18446744073709551616", "1e3", "1.5", "\"8\"", "null", "true", "[]", "{}",
        "\"F32\"", "\"F64\"", "\"I64\"", "\"BOOL\"", "\"F16\"", "\"U8\"", "\"F33\"", "\"\"",
    ];

    /// <summary>One structural edit of the header's JSON, written back with a correct header length.</summary>
    private static (byte[] Data, string Damage) EditHeader(byte[] original, long headerLength, Random random)
    {
        var root = JsonNode.Parse(Encoding.UTF8.GetString(original, 8, (int)headerLength))!.AsObject();
        var names = root.Select(p => p.Key).Where(k => k != "__metadata__").ToList();
        string damage;
        string? rawText = null;
        string name = names[random.Next(names.Count)];
        var entry = root[name]!.AsObject();
        string field = new[] { "dtype", "shape", "data_offsets" }[random.Next(3)];
        string value = Values[random.Next(Values.Length)];
        switch (random.Next(7))
        {
            case 0:
                entry[field] = JsonNode.Parse(value);
                damage = $"'{name}'.{field} = {value}";
                break;
            case 1 when field != "dtype":
                var array = entry[field]!.AsArray();
                if (array.Count == 0 || random.Next(3) == 0)
                {
                    array.Add(JsonNode.Parse(value));
                    damage = $"'{name}'.{field} += {value}";
                }
                else
                {
                    int index = random.Next(array.Count);
                    array[index] = JsonNode.Parse(value);
                    damage = $"'{name}'.{field}[{index}] = {value}";
                }
                break;
            case 2:
                entry.Remove(field);
                damage = $"'{name}'.{field} removed";
                break;
            case 3:
                var other = root[names[random.Next(names.Count)]]!.AsObject();
                entry["data_offsets"] = other["data_offsets"]!.DeepClone();
                damage = $"'{name}' takes the offsets of another entry";
                break;
            case 4:
                // Duplicates are invisible to JsonNode: splice the text of an entry in a second time.
                string text = root.ToJsonString();
                string copy = $"\"{name}\":{entry.ToJsonString()}";
                rawText = text.Insert(text.Length - 1, "," + copy);
                damage = $"'{name}' duplicated";
                break;
            case 5:
                var offsets = entry["data_offsets"]!.AsArray();
                (offsets[0], offsets[1]) = (JsonValue.Create(offsets[1]!.GetValue<long>()), JsonValue.Create(offsets[0]!.GetValue<long>()));
                damage = $"'{name}' offsets reversed";
                break;
            default:
                rawText = random.Next(3) switch
                {
                    0 => "[" + root.ToJsonString() + "]",
                    1 => root.ToJsonString() + " " + root.ToJsonString(),
                    _ => root.ToJsonString().Replace("{", "{\"extra\":" + value + ",", StringComparison.Ordinal),
                };
                damage = "header wrapped, repeated or extended";
                break;
        }
        var header = Encoding.UTF8.GetBytes(rawText ?? root.ToJsonString());
        var dataBytes = original.AsSpan(8 + (int)headerLength);
        var result = new byte[8 + header.Length + dataBytes.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)header.Length);
        header.CopyTo(result, 8);
        dataBytes.CopyTo(result.AsSpan(8 + header.Length));
        return (result, damage);
    }
}
