using System.Text.Json;
using ScratchDetect.Engine.IO;

namespace ScratchDetect.Engine.Tests;

/// <summary>
/// The .pth reader against files that Debian's torch 1.13 writes at test time with torch.save, in
/// the zip format and the legacy one, and against hostile pickles that must be refused unexecuted.
/// </summary>
public sealed class PyTorchCheckpointTests : IDisposable
{
    private readonly TempDir temp = new();

    public void Dispose() => temp.Dispose();

    /// <summary>
    /// A state dict with every storage type the reader accepts, strided views (a transpose, an offset
    /// slice sharing its storage with another entry), a 0-d counter, an nn.Parameter and a module's
    /// state dict (with its _metadata). torch writes each tensor's values, made contiguous and widened
    /// to float64, to JSON beside the checkpoint; the reader must give exactly those values (half,
    /// bfloat16 and the integers are widened exactly, so equality is exact), shapes and dtypes.
    /// </summary>
    private const string WriteStateDict = """
        import json, sys, torch
        torch.manual_seed(0)
        conv = torch.nn.Conv2d(3, 4, 3)
        bn = torch.nn.BatchNorm2d(4)
        state = conv.state_dict()  # an OrderedDict with _metadata, as torch.save(model.state_dict()) writes
        state.update({"bn." + k: v for k, v in bn.state_dict().items()})
        base = torch.randn(5, 6)
        state.update({
            "transposed": base.t(),
            "slice": base[2:, 1:4],
            "same_storage": base,
            "double": torch.randn(2, 3, dtype=torch.float64),
            "half": torch.randn(7).half(),
            "bfloat16": torch.randn(3).bfloat16(),
            "long": torch.arange(-3, 3),
            "int": torch.tensor([1, -2, 3], dtype=torch.int32),
            "short": torch.tensor([-300, 300], dtype=torch.int16),
            "char": torch.tensor([-5, 5], dtype=torch.int8),
            "byte": torch.tensor([0, 200, 255], dtype=torch.uint8),
            "bool": torch.tensor([True, False, True]),
            "scalar": torch.tensor(2.5),
            "param": torch.nn.Parameter(torch.randn(2, 2)),
        })
        torch.save(state, sys.argv[1], _use_new_zipfile_serialization=sys.argv[3] == "zip")
        expected = {k: {"shape": list(v.shape), "float": v.is_floating_point(), "bool": v.dtype == torch.bool,
                        "values": v.detach().contiguous().double().flatten().tolist()} for k, v in state.items()}
        json.dump(expected, open(sys.argv[2], "w"))
        """;

    [TorchTheory]
    [InlineData("zip")]
    [InlineData("legacy")]
    public void ReadsWhatTorchSaves(string format)
    {
        string pth = temp.File("state.pth"), json = temp.File("expected.json");
        Reference.Run(Reference.Python, "-c", WriteStateDict, pth, json, format);

        var tensors = PyTorchCheckpoint.Load(pth);

        using var expected = JsonDocument.Parse(File.ReadAllText(json));
        // In the state dict's own order (the JSON keeps it too).
        Assert.Equal(expected.RootElement.EnumerateObject().Select(p => p.Name), tensors.Keys);
        foreach (var entry in expected.RootElement.EnumerateObject())
        {
            var tensor = tensors[entry.Name];
            Assert.Equal(entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()), tensor.Shape);
            var dtype = entry.Value.GetProperty("bool").GetBoolean() ? DType.Bool
                : entry.Value.GetProperty("float").GetBoolean() ? (entry.Name == "double" ? DType.Float64 : DType.Float32) : DType.Int64;
            Assert.Equal(dtype, tensor.DType);
            var values = entry.Value.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray();
            var actual = dtype == DType.Bool ? tensor.ToArray<bool>().Select(b => b ? 1.0 : 0.0).ToArray() : tensor.To(DType.Float64).ToArray<double>();
            Assert.True(values.SequenceEqual(actual), $"{format}: '{entry.Name}' differs: expected [{string.Join(", ", values)}], got [{string.Join(", ", actual)}]");
        }
    }

    /// <summary>Python pickles a dict's items in batches of 1000; 2,501 entries (three batches, the last of one) keep their order.</summary>
    [TorchFact]
    public void KeepsTheOrderOfLargeStateDicts()
    {
        string pth = temp.File("many.pth");
        Reference.Run(Reference.Python, "-c",
            "import collections, sys, torch; torch.save(collections.OrderedDict((f'k{(i * 7919) % 2501}', torch.tensor([float(i)])) for i in range(2501)), sys.argv[1])", pth);
        var tensors = PyTorchCheckpoint.Load(pth);
        Assert.Equal(Enumerable.Range(0, 2501).Select(i => $"k{i * 7919 % 2501}"), tensors.Keys);
        Assert.Equal([2500f], tensors[$"k{2500 * 7919 % 2501}"].ToArray<float>());
    }

    /// <summary>
    /// A pickle whose object's __reduce__ calls os.system (pickled as posix.system) is refused with an
    /// error that names the global, and the command never runs (its marker file does not appear): as a
    /// torch.save checkpoint in both formats, and as a bare protocol-4 pickle (STACK_GLOBAL).
    /// </summary>
    [TorchTheory]
    [InlineData("zip")]
    [InlineData("legacy")]
    [InlineData("pickle4")]
    public void RefusesAHostilePickleWithoutRunningIt(string format)
    {
        string path = temp.File("evil.pth"), marker = temp.File("pwned");
        const string script = """
            import os, pickle, sys, torch
            class Evil:
                def __reduce__(self):
                    return (os.system, ("touch " + sys.argv[2],))
            state = {"weight": torch.ones(2), "payload": Evil()}
            if sys.argv[3] == "pickle4":
                open(sys.argv[1], "wb").write(pickle.dumps(state["payload"], protocol=4))
            else:
                torch.save(state, sys.argv[1], _use_new_zipfile_serialization=sys.argv[3] == "zip")
            """;
        Reference.Run(Reference.Python, "-c", script, path, marker, format);
        Assert.False(File.Exists(marker), "writing the file must not have run the payload either");

        var error = Assert.Throws<InvalidDataException>(() => PyTorchCheckpoint.Load(path));

        Assert.Contains("'posix.system'", error.Message);
        Assert.Contains("refused", error.Message);
        Assert.False(File.Exists(marker));
    }

    /// <summary>
    /// A hand-written legacy checkpoint whose tensor claims a size its 4-element storage cannot hold is
    /// refused before anything is allocated; the same file with a size that fits loads.
    /// </summary>
    [TorchTheory]
    [InlineData(4, true)]
    [InlineData(1000000, false)]
    public void ChecksTensorSizesAgainstTheirStorage(int elements, bool fits)
    {
        string path = temp.File("crafted.pth");
        const string script = """
            import collections, pickle, struct, sys, torch
            from torch._utils import _rebuild_tensor_v2
            class StorageRef: pass
            class Fake:
                def __reduce__(self):
                    return (_rebuild_tensor_v2, (StorageRef(), 0, (int(sys.argv[2]),), (1,), False, collections.OrderedDict()))
            class P(pickle.Pickler):
                def persistent_id(self, obj):
                    return ("storage", torch.FloatStorage, "0", "cpu", 4, None) if isinstance(obj, StorageRef) else None
            with open(sys.argv[1], "wb") as f:
                for header in (0x1950a86a20f9469cfc6c, 1001, {"protocol_version": 1001, "little_endian": True}):
                    pickle.dump(header, f, protocol=2)
                P(f, protocol=2).dump(collections.OrderedDict(w=Fake()))
                pickle.dump(["0"], f, protocol=2)
                f.write(struct.pack("<q", 4) + struct.pack("<4f", 1, 2, 3, 4))
            """;
        Reference.Run(Reference.Python, "-c", script, path, elements.ToString(System.Globalization.CultureInfo.InvariantCulture));

        if (fits)
        {
            Assert.Equal([1f, 2f, 3f, 4f], PyTorchCheckpoint.Load(path)["w"].ToArray<float>());
            return;
        }
        var error = Assert.Throws<InvalidDataException>(() => PyTorchCheckpoint.Load(path));
        Assert.Contains("reaches outside its storage of 4 elements", error.Message);
    }

    [Fact]
    public void RefusesWhatIsNotACheckpoint()
    {
        string path = temp.File("notes.pth");
        File.WriteAllText(path, "just text");
        var error = Assert.Throws<InvalidDataException>(() => PyTorchCheckpoint.Load(path));
        Assert.Contains(path, error.Message);
    }

    /// <summary>STACK_GLOBAL whose operands were not pushed just before it (here: built by an opcode the scanner cannot follow) is refused.</summary>
    [Fact]
    public void RefusesAStackGlobalItCannotSee()
    {
        // PROTO 4, SHORT_BINUNICODE "os", EMPTY_LIST (not a string), STACK_GLOBAL, STOP.
        byte[] pickle = [0x80, 4, 0x8c, 2, (byte)'o', (byte)'s', (byte)']', 0x93, (byte)'.'];
        var error = Assert.Throws<InvalidDataException>(() => PyTorchCheckpoint.Read(pickle, "crafted"));
        Assert.Contains("STACK_GLOBAL", error.Message);
    }
}
