using ScratchDetect.Engine.IO;

namespace ScratchDetect.Engine.Tests;

public class SafeTensorsTests
{
    [Fact]
    public void RoundTripsEveryDtypeAndMetadata()
    {
        var tensors = new Dictionary<string, Tensor>
        {
            ["a.weight"] = Tensor.FromArray(new[] { 1.5f, -2f, 3f, 4f, 5f, 6f }, 2, 3),
            ["b"] = Tensor.FromArray(new[] { 1e-300, 2.0 }, 2),
            ["c"] = Tensor.FromArray(new long[] { long.MinValue, 7 }, 2),
            ["d"] = Tensor.FromArray(new[] { true, false, true }, 3),
            ["scalar"] = Tensor.Scalar(9),
        };
        var bytes = SafeTensors.Serialize(tensors, new Dictionary<string, string> { ["format"] = "pt" });
        var (loaded, metadata) = SafeTensors.Deserialize(bytes);
        Assert.Equal("pt", metadata["format"]);
        Assert.Equal(tensors.Keys, loaded.Keys);
        foreach (var (name, t) in tensors)
        {
            Assert.Equal(t.Shape, loaded[name].Shape);
            Assert.Equal(t.DType, loaded[name].DType);
        }
        Assert.Equal(tensors["c"].ToArray<long>(), loaded["c"].ToArray<long>());
        Assert.Equal(tensors["a.weight"].ToArray<float>(), loaded["a.weight"].ToArray<float>());
    }

    [Fact]
    public void ReadsAFileWrittenByThePythonWriter()
    {
        // tools/parity/common.py wrote this file; it must parse and hold every case's output.
        var tensors = SafeTensors.Load(Path.Combine(RepoPaths.Fixtures, "parity", "core_ops.safetensors"));
        Assert.Contains("matmul_2d/out", tensors.Keys);
        Assert.Equal([33, 41], tensors["matmul_2d/out"].Shape);
    }

    private static byte[] WithHeader(string header, int dataBytes) => SafeTensorsBytes.WithHeader(header, dataBytes);

    private static SafeTensorsFormatException Refuses(byte[] bytes, string? tensor, string rule)
    {
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Deserialize(bytes, "bad.safetensors"));
        Assert.Equal("bad.safetensors", e.FilePath);
        Assert.Equal(tensor, e.TensorName);
        Assert.StartsWith(tensor is null ? "bad.safetensors: " : $"bad.safetensors: tensor '{tensor}': ", e.Message);
        Assert.Contains(rule, e.Message);
        return e;
    }

    private const string A = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";

    [Fact]
    public void RejectsOffsetsOutsideTheData() =>
        Refuses(WithHeader("{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8), "x", "run past the 8 data bytes");

    [Fact]
    public void RejectsOverlapsAndHoles()
    {
        // b reads a's last four bytes: 12 data bytes, 16 bytes of tensors.
        Refuses(WithHeader("{" + A + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12), "b", "overlap tensor 'a' [0, 8]");
        // The same two tensors, in the other order in the header: still b overlaps a in offset order.
        Refuses(WithHeader("{\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}," + A + "}", 12), "b", "must not share bytes");
        // Two tensors on the very same bytes.
        Refuses(WithHeader("{" + A + ",\"b\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8), "b", "overlap tensor 'a'");
        // A four-byte hole between a and b.
        Refuses(WithHeader("{" + A + ",\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", 16), "b", "leave bytes 8..12 of the data section unused");
        // Trailing bytes no tensor claims; and a hole before the first tensor.
        Refuses(WithHeader("{" + A + "}", 9), null, "1 bytes after the last tensor's data");
        Refuses(WithHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "a", "leave bytes 0..4");
    }

    [Fact]
    public void AcceptsEmptyTensorsAndAnEmptyFile()
    {
        // Zero-size tensors take no bytes, may sit at the same offset, and a header without tensors is a valid file.
        var (tensors, _) = SafeTensors.Deserialize(WithHeader("{\"z\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,0]}," + A +
            ",\"y\":{\"dtype\":\"I64\",\"shape\":[3,0],\"data_offsets\":[8,8]}}", 8));
        Assert.Equal(["z", "a", "y"], tensors.Keys);
        Assert.Equal([3, 0], tensors["y"].Shape);
        Assert.Empty(SafeTensors.Deserialize(WithHeader("{}", 0)).Tensors);
        // Trailing spaces pad the header to a multiple of 8, as the format allows.
        Assert.Single(SafeTensors.Deserialize(WithHeader("{" + A + "}      ", 8)).Tensors);
    }

    [Fact]
    public void RejectsDuplicateKeys()
    {
        Refuses(WithHeader("{" + A + "," + A.Replace("[0,8]", "[8,16]") + "}", 16), "a", "appears twice");
        Refuses(WithHeader("{\"__metadata__\":{},\"__metadata__\":{}}", 0), null, "appears twice");
        Refuses(WithHeader("{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}", 0), null, "key 'k' appears twice");
        Refuses(WithHeader("{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8), "a", "the field 'dtype' appears twice");
    }

    [Theory]
    [InlineData("[-1]", "shape holds the negative value -1")]
    [InlineData("[2, -3]", "shape holds the negative value -3")]
    [InlineData("[4294967296]", "has an axis above 2147483647")]
    [InlineData("[2147483647, 2147483647, 2147483647]", "overflows: its byte size does not fit in 64 bits")]
    [InlineData("[18446744073709551616]", "does not fit in a signed 64-bit integer")]
    [InlineData("[1.5]", "value 1.5 is not an integer")]
    [InlineData("[\"2\"]", "shape must be an array of integers, but holds a String")]
    [InlineData("2", "shape must be an array of integers, not Number")]
    [InlineData("[3]", "needs 12 bytes but data_offsets [0, 8] hold 8")]
    public void RejectsBadShapes(string shape, string rule) =>
        Refuses(WithHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":" + shape + ",\"data_offsets\":[0,8]}}", 8), "a", rule);

    [Fact]
    public void RejectsTooManyAxes() =>
        Refuses(WithHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[" + string.Join(",", Enumerable.Repeat(1, 65)) + "],\"data_offsets\":[0,4]}}", 4), "a", "more than 64 axes");

    [Theory]
    [InlineData("[8, 0]", "are reversed")]
    [InlineData("[-8, 0]", "data_offsets holds the negative value -8")]
    [InlineData("[0, 18446744073709551615]", "does not fit in a signed 64-bit integer")]
    [InlineData("[0, 99999999999999999999999]", "does not fit in a signed 64-bit integer")]
    [InlineData("[0]", "data_offsets has 1 value(s); it must be [begin, end]")]
    [InlineData("[0, 4, 8]", "data_offsets has more than 2 values")]
    [InlineData("[0, 1e1]", "value 1e1 is not an integer")]
    public void RejectsBadOffsets(string offsets, string rule) =>
        Refuses(WithHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":" + offsets + "}}", 8), "a", rule);

    [Theory]
    [InlineData("F31", "unknown dtype 'F31'")]
    [InlineData("f32", "unknown dtype 'f32'")]
    [InlineData("F16", "dtype F16 is not supported")]
    [InlineData("BF16", "dtype BF16 is not supported")]
    public void RejectsUnknownAndUnsupportedDtypes(string dtype, string rule)
    {
        // F16 and BF16 are the format's, two bytes each: shape [4] fits the 8 bytes, so only the dtype is at fault.
        Refuses(WithHeader("{\"a\":{\"dtype\":\"" + dtype + "\",\"shape\":[4],\"data_offsets\":[0,8]}}", 8), "a", rule);
    }

    [Theory]
    [InlineData("[1, 2]", null, "must be a JSON object")]
    [InlineData("\"text\"", null, "must be a JSON object")]
    [InlineData(" {}", null, "must be a JSON object")]
    [InlineData("{\"a\": 1}", "a", "the entry must be an object")]
    [InlineData("{\"a\": {}}", "a", "lacks dtype")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [2]}}", "a", "lacks data_offsets")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8], \"extra\": 1}}", "a", "unknown field 'extra'")]
    [InlineData("{\"a\": {\"dtype\": 32, \"shape\": [2], \"data_offsets\": [0, 8]}}", "a", "dtype must be a string")]
    [InlineData("{\"__metadata__\": {\"k\": 1}}", null, "value 'k' must be a string")]
    [InlineData("{\"__metadata__\": []}", null, "must be an object of strings")]
    [InlineData("{\"a\": ", "a", "not valid JSON")]
    [InlineData("{\"a\": {\"dtype\": \"F32\"", "a", "not valid JSON")]
    [InlineData("{\"a\": {\"dtype\": \"F\\u00\"}}", "a", "not valid JSON")]
    [InlineData("{\"a\": [[[[[[1]]]]]]}", "a", "the entry must be an object")]
    [InlineData("{} {}", null, "not valid JSON")]
    [InlineData("{}x", null, "not valid JSON")]
    public void RejectsMalformedHeaders(string header, string? tensor, string rule) => Refuses(WithHeader(header, 0), tensor, rule);

    [Fact]
    public void RejectsInvalidUtf8InTheHeader()
    {
        var bytes = WithHeader("{\"ab\": 1}", 0);
        bytes[8 + 2] = 0xFF; // the key's "a": 0xFF is never a UTF-8 byte
        Refuses(bytes, null, "not valid JSON");
    }

    [Fact]
    public void RejectsShortTruncatedAndOversizedFiles()
    {
        Refuses([], null, "the file is empty");
        Refuses([1, 0, 0], null, "3 bytes is too short for the 8-byte header length");
        var valid = SafeTensors.Serialize(new Dictionary<string, Tensor> { ["a"] = Tensor.FromArray(new[] { 1f, 2f, 3f, 4f }, 4) });
        Refuses(valid[..(valid.Length / 2)], null, "runs past the end");
        Refuses(valid[..(valid.Length - 1)], "a", "run past the 15 data bytes");
        var huge = (byte[])valid.Clone();
        BitConverter.GetBytes(1UL << 40).CopyTo(huge, 0);
        Refuses(huge, null, "exceeds the format's limit of 100000000 bytes");
        BitConverter.GetBytes(ulong.MaxValue).CopyTo(huge, 0);
        Refuses(huge, null, "exceeds the format's limit");
        BitConverter.GetBytes(1UL).CopyTo(huge, 0);
        Refuses(huge, null, "must be a JSON object");
    }

    [Fact]
    public void FileErrorsNameThePath()
    {
        using var dir = new TempDir();
        string path = dir.File("cut.safetensors");
        File.WriteAllBytes(path, SafeTensors.Serialize(new Dictionary<string, Tensor> { ["w"] = Tensor.Zeros([4]) })[..20]);
        var e = Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Load(path));
        Assert.Equal(path, e.FilePath);
        Assert.StartsWith(path + ": ", e.Message);
    }

    /// <summary>
    /// Forged sizes must be refused from the header alone: a 2^40 header length, a shape of 2^62
    /// bytes, offsets near 2^63. Bound: the inputs are under 1 KB, so anything above a few hundred
    /// KB allocated means a buffer was sized from the forged numbers.
    /// </summary>
    [Fact]
    public void ForgedSizesAllocateNothingLarge()
    {
        var cases = new[]
        {
            WithHeader("{\"a\":{\"dtype\":\"F64\",\"shape\":[2147483647,2147483647],\"data_offsets\":[0,36893488130239234048]}}", 8),
            WithHeader("{\"a\":{\"dtype\":\"F64\",\"shape\":[1073741824,536870912],\"data_offsets\":[0,4611686018427387904]}}", 8),
            WithHeader("{\"a\":{\"dtype\":\"U8\",\"shape\":[9223372036854775807],\"data_offsets\":[0,9223372036854775807]}}", 8),
        };
        var header = WithHeader("{" + A + "}", 8);
        BitConverter.GetBytes(1UL << 40).CopyTo(header, 0);
        long before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var bytes in cases.Append(header))
            Assert.Throws<SafeTensorsFormatException>(() => SafeTensors.Deserialize(bytes, "forged.safetensors"));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 300_000, "refusing forged sizes allocated a large buffer");
    }
}
