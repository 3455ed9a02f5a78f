using System.Text;
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

    [Fact]
    public void RejectsOffsetsOutsideTheData()
    {
        var header = "{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}";
        var bytes = new byte[8 + header.Length + 8];
        BitConverter.GetBytes((ulong)header.Length).CopyTo(bytes, 0);
        Encoding.ASCII.GetBytes(header).CopyTo(bytes, 8);
        var e = Assert.Throws<InvalidDataException>(() => SafeTensors.Deserialize(bytes, "bad.safetensors"));
        Assert.Contains("bad.safetensors", e.Message);
        Assert.Contains("'x'", e.Message);
    }

    [Fact]
    public void RejectsAnAbsurdHeaderLength()
    {
        var bytes = new byte[16];
        BitConverter.GetBytes(ulong.MaxValue).CopyTo(bytes, 0);
        Assert.Throws<InvalidDataException>(() => SafeTensors.Deserialize(bytes));
    }
}
