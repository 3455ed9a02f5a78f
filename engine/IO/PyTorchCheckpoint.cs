using System.Buffers.Binary;
using System.Collections;
using System.IO.Compression;
using System.Numerics;
using Razorvine.Pickle;

namespace ScratchDetect.Engine.IO;

/// <summary>
/// Reads the tensors of a PyTorch checkpoint (torch.save of a state dict) in both of torch's formats:
/// <list type="bullet">
/// <item>the zip format of torch ≥ 1.6: ARCHIVE/data.pkl holds the object, ARCHIVE/data/KEY each storage's bytes;</item>
/// <item>the legacy format (ssd.pytorch's vgg16_reducedfc.pth): a magic-number pickle, the protocol version,
/// the system info, the object, the list of storage keys, then each storage as an 8-byte element count and its bytes.</item>
/// </list>
/// As torch.load(weights_only=True), only the globals a state dict needs are allowed
/// (<see cref="AllowedGlobals"/>): every pickle is scanned before it is unpickled, and one naming any
/// other global is refused with that global's name. Nothing in the file is ever executed: the
/// allowed globals are turned into plain descriptions here, never imported. Half, bfloat16 and
/// 8/16/32-bit integer tensors are widened to float32 and int64, the engine's types.
/// </summary>
public static class PyTorchCheckpoint
{
    private const string LegacyMagic = "1950a86a20f9469cfc6c";

    /// <summary>The storage classes a checkpoint may name, with their element size and the engine type they load as.</summary>
    private static readonly Dictionary<string, (int Size, StorageKind Kind)> StorageTypes = new()
    {
        ["FloatStorage"] = (4, StorageKind.Float32),
        ["DoubleStorage"] = (8, StorageKind.Float64),
        ["HalfStorage"] = (2, StorageKind.Float16),
        ["BFloat16Storage"] = (2, StorageKind.BFloat16),
        ["LongStorage"] = (8, StorageKind.Int64),
        ["IntStorage"] = (4, StorageKind.Int32),
        ["ShortStorage"] = (2, StorageKind.Int16),
        ["CharStorage"] = (1, StorageKind.Int8),
        ["ByteStorage"] = (1, StorageKind.UInt8),
        ["BoolStorage"] = (1, StorageKind.Bool),
    };

    /// <summary>The globals a checkpoint may name: what torch.load(weights_only=True) needs for a state dict of tensors.</summary>
    public static IReadOnlyCollection<string> AllowedGlobals { get; } =
        new[] { "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter" }
            .Concat(StorageTypes.Keys.Select(t => "torch." + t)).ToArray();

    /// <summary>
    /// The tensors of the checkpoint at <paramref name="path"/> under their state-dict names. A checkpoint
    /// whose top level is not itself a state dict but holds one under "model" or "state_dict" (as training
    /// scripts save them) gives that one.
    /// </summary>
    /// <exception cref="InvalidDataException">Not a PyTorch checkpoint, damaged, or naming a global outside <see cref="AllowedGlobals"/> (named in the message).</exception>
    public static Dictionary<string, Tensor> Load(string path) => Read(File.ReadAllBytes(path), path);

    /// <summary>As <see cref="Load"/>, from the file's bytes; <paramref name="source"/> names them in errors.</summary>
    public static Dictionary<string, Tensor> Read(byte[] bytes, string source = "checkpoint")
    {
        EnsureConstructorsRegistered();
        object root;
        if (bytes.Length >= 4 && bytes[0] == 'P' && bytes[1] == 'K' && bytes[2] == 3 && bytes[3] == 4)
            root = ReadZip(bytes, source);
        else
            root = ReadLegacy(bytes, source);
        return StateDict(root, source);
    }

    private static object ReadZip(byte[] bytes, string source)
    {
        using var archive = new ZipArchive(new MemoryStream(bytes), ZipArchiveMode.Read);
        var pickle = archive.Entries.FirstOrDefault(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1)
            ?? throw new InvalidDataException($"{source}: a zip file without ARCHIVE/data.pkl is not a PyTorch checkpoint");
        string prefix = pickle.FullName[..^"data.pkl".Length];
        var storages = new Dictionary<string, byte[]>();
        byte[] Storage(string key)
        {
            if (storages.TryGetValue(key, out var cached)) return cached;
            var entry = archive.GetEntry(prefix + "data/" + key) ?? throw new InvalidDataException($"{source}: storage '{key}' is missing ({prefix}data/{key})");
            return storages[key] = ReadAll(entry);
        }
        var data = ReadAll(pickle);
        return Unpickle(data, 0, source, Storage).Value;
    }

    private static object ReadLegacy(byte[] bytes, string source)
    {
        var magic = Unpickle(bytes, 0, source, null);
        if (magic.Value is not BigInteger number || number.ToString("x").TrimStart('0') != LegacyMagic)
            throw new InvalidDataException($"{source}: neither a zip file nor a legacy PyTorch checkpoint (no magic number)");
        var protocol = Unpickle(bytes, magic.End, source, null);
        if (protocol.Value is not 1001) throw new InvalidDataException($"{source}: legacy protocol version {protocol.Value} is not 1001");
        var systemInfo = Unpickle(bytes, protocol.End, source, null);
        if (systemInfo.Value is IDictionary info && info["little_endian"] is false)
            throw new InvalidDataException($"{source}: written on a big-endian machine, which this reader does not convert");

        // The object refers to storages that follow it, so it is rebuilt once their bytes are known.
        var descriptions = new List<StorageRef>();
        var obj = Unpickle(bytes, systemInfo.End, source, key => throw new InvalidOperationException("unreachable"), descriptions);
        var keys = Unpickle(bytes, obj.End, source, null);
        if (keys.Value is not IList keyList) throw new InvalidDataException($"{source}: the storage key list is missing");
        int position = keys.End;
        var storageBytes = new Dictionary<string, byte[]>();
        foreach (var keyObject in keyList)
        {
            string key = keyObject?.ToString() ?? "";
            var reference = descriptions.FirstOrDefault(d => d.Key == key) ?? throw new InvalidDataException($"{source}: storage '{key}' is listed but not used");
            if (bytes.Length - position < 8) throw new InvalidDataException($"{source}: storage '{key}' is cut off");
            long count = BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan(position));
            long size = count * StorageTypes[reference.Type].Size;
            if (count < 0 || size > bytes.Length - position - 8) throw new InvalidDataException($"{source}: storage '{key}' claims {count} elements, more than the file holds");
            storageBytes[key] = bytes.AsSpan(position + 8, (int)size).ToArray();
            position += 8 + (int)size;
        }
        foreach (var reference in descriptions)
            reference.Bytes = storageBytes.TryGetValue(reference.Key, out var b) ? b : throw new InvalidDataException($"{source}: storage '{reference.Key}' has no data");
        return obj.Value;
    }

    private static byte[] ReadAll(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>Checks one pickle's globals against the allow-list, then unpickles it.</summary>
    private static (object Value, int End) Unpickle(byte[] bytes, int start, string source, Func<string, byte[]>? storage, List<StorageRef>? collected = null)
    {
        var scan = PickleGlobals.Read(bytes, start, source);
        foreach (var (module, name) in scan.Globals)
            if (!AllowedGlobals.Contains($"{module}.{name}"))
                throw new InvalidDataException($"{source}: the pickle names the global '{module}.{name}', which a state dict does not need; refused (allowed: {string.Join(", ", AllowedGlobals)})");
        try
        {
            using var unpickler = new StateDictUnpickler(storage, collected, source);
            return (unpickler.loads(bytes[start..scan.End]), scan.End);
        }
        catch (PickleException e)
        {
            throw new InvalidDataException($"{source}: malformed pickle: {e.Message}", e);
        }
    }

    /// <summary>The state dict in the unpickled object: its tensors by name.</summary>
    private static Dictionary<string, Tensor> StateDict(object root, string source)
    {
        if (root is not IDictionary dictionary) throw new InvalidDataException($"{source}: holds a {root?.GetType().Name ?? "None"}, not a state dict");
        bool AllTensors(IDictionary d) => d.Count > 0 && d.Values.Cast<object?>().All(v => v is TensorRecipe);
        if (!AllTensors(dictionary))
        {
            foreach (var key in new[] { "model", "state_dict" })
                if (dictionary.Contains(key) && dictionary[key] is IDictionary inner && AllTensors(inner)) return StateDict(inner, source);
            throw new InvalidDataException($"{source}: the top-level dict is not a state dict of tensors (and has no 'model' or 'state_dict' entry that is)");
        }
        var result = new Dictionary<string, Tensor>();
        var keys = dictionary is PickledDict ordered ? ordered.OrderedKeys : dictionary.Keys.Cast<object>().ToArray();
        foreach (var key in keys)
            result[key?.ToString() ?? ""] = ((TensorRecipe)dictionary[key!]!).Build(source, key?.ToString() ?? "");
        return result;
    }

    // ---- what the allowed globals turn into --------------------------------------------------------------

    private enum StorageKind { Float32, Float64, Float16, BFloat16, Int64, Int32, Int16, Int8, UInt8, Bool }

    /// <summary>A storage the pickle refers to by persistent id; its bytes come from the archive or, in the legacy format, after the pickle.</summary>
    private sealed class StorageRef(string type, string key, long elements)
    {
        public string Type { get; } = type;
        public string Key { get; } = key;
        public long Elements { get; } = elements;
        public byte[]? Bytes { get; set; }
    }

    /// <summary>_rebuild_tensor_v2(storage, offset, size, stride, ...): a strided view of a storage, built into a tensor once the bytes are there.</summary>
    private sealed class TensorRecipe(StorageRef storage, long offset, int[] size, long[] stride)
    {
        public Tensor Build(string source, string name)
        {
            string where = $"{source}: tensor '{name}'";
            var bytes = storage.Bytes ?? throw new InvalidDataException($"{where}: its storage '{storage.Key}' has no data");
            var (elementSize, kind) = StorageTypes[storage.Type];
            if (bytes.Length != storage.Elements * elementSize)
                throw new InvalidDataException($"{where}: storage '{storage.Key}' has {bytes.Length} bytes, expected {storage.Elements} x {elementSize}");
            // Checked before anything is allocated, so a crafted size cannot ask for more memory than the file justifies.
            long lowest = offset, highest = offset;
            for (int d = 0; d < size.Length; d++)
                if (size[d] > 0) (lowest, highest) = stride[d] < 0 ? (lowest + (size[d] - 1) * stride[d], highest) : (lowest, highest + (size[d] - 1) * stride[d]);
            long count = size.Aggregate(1L, (a, b) => a * b);
            if (count > 0 && (lowest < 0 || highest >= storage.Elements))
                throw new InvalidDataException($"{where}: size {Shapes.Format(size)} with stride [{string.Join(", ", stride)}] from offset {offset} reaches outside its storage of {storage.Elements} elements");
            if (count > 16 * storage.Elements + 1024)
                throw new InvalidDataException($"{where}: {count} elements from a storage of {storage.Elements} is implausible for a state dict; refused");
            // The element of each index, in row-major order: offset + sum(index * stride).
            var indices = new long[count];
            var index = new int[size.Length];
            for (long i = 0; i < count; i++)
            {
                long at = offset;
                for (int d = 0; d < size.Length; d++) at += index[d] * stride[d];
                indices[i] = at;
                for (int d = size.Length - 1; d >= 0 && ++index[d] == size[d]; d--) index[d] = 0;
            }
            return kind switch
            {
                StorageKind.Float32 => Tensor.FromArray(indices.Select(k => BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan((int)k * 4))).ToArray(), size),
                StorageKind.Float64 => Tensor.FromArray(indices.Select(k => BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan((int)k * 8))).ToArray(), size),
                StorageKind.Float16 => Tensor.FromArray(indices.Select(k => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes.AsSpan((int)k * 2))).ToArray(), size),
                StorageKind.BFloat16 => Tensor.FromArray(indices.Select(k => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan((int)k * 2)) << 16)).ToArray(), size),
                StorageKind.Int64 => Tensor.FromArray(indices.Select(k => BinaryPrimitives.ReadInt64LittleEndian(bytes.AsSpan((int)k * 8))).ToArray(), size),
                StorageKind.Int32 => Tensor.FromArray(indices.Select(k => (long)BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan((int)k * 4))).ToArray(), size),
                StorageKind.Int16 => Tensor.FromArray(indices.Select(k => (long)BinaryPrimitives.ReadInt16LittleEndian(bytes.AsSpan((int)k * 2))).ToArray(), size),
                StorageKind.Int8 => Tensor.FromArray(indices.Select(k => (long)(sbyte)bytes[k]).ToArray(), size),
                StorageKind.UInt8 => Tensor.FromArray(indices.Select(k => (long)bytes[k]).ToArray(), size),
                _ => Tensor.FromArray(indices.Select(k => bytes[k] != 0).ToArray(), size),
            };
        }
    }

    /// <summary>A storage class named in a persistent id: it is only ever compared, never called.</summary>
    private sealed class StorageTypeConstructor(string name) : IObjectConstructor
    {
        public string Name { get; } = name;
        public object construct(object[] args) => throw new PickleException($"torch.{Name} cannot be called in a state dict");
    }

    private sealed class OrderedDictConstructor : IObjectConstructor
    {
        public object construct(object[] args) => args.Length == 0 ? new PickledDict() : throw new PickleException("collections.OrderedDict takes no arguments here");
    }

    /// <summary>
    /// OrderedDict. Razorvine fills dicts as Hashtables (SETITEMS casts to one), so this is one that
    /// also remembers the insertion order; its __dict__ (torch's _metadata) is accepted and dropped.
    /// </summary>
    private sealed class PickledDict : Hashtable
    {
        private readonly List<object> order = [];

        /// <summary>
        /// The keys in the pickled order. Python's pickler writes a dict's items in batches of 1000
        /// (MARK, items, SETITEMS; a batch of one as SETITEM) and Razorvine's SETITEMS inserts a batch's
        /// items last first, so reversing each run of 1000 insertions restores the order.
        /// </summary>
        public IReadOnlyList<object> OrderedKeys => order.Chunk(1000).SelectMany(batch => batch.Reverse()).ToArray();

        public override object? this[object key]
        {
            get => base[key];
            set
            {
                if (!ContainsKey(key)) order.Add(key);
                base[key] = value;
            }
        }

        public override void Add(object key, object? value)
        {
            base.Add(key, value);
            order.Add(key);
        }

        public void __setstate__(Hashtable state) { }
    }

    private sealed class RebuildTensorConstructor : IObjectConstructor
    {
        public object construct(object[] args)
        {
            if (args.Length < 4 || args[0] is not StorageRef storage)
                throw new PickleException("torch._utils._rebuild_tensor_v2 needs (storage, offset, size, stride, ...)");
            int[] size = Integers(args[2]).Select(v => checked((int)v)).ToArray();
            long[] stride = Integers(args[3]);
            if (size.Length != stride.Length || size.Any(s => s < 0)) throw new PickleException("torch._utils._rebuild_tensor_v2: size and stride do not fit");
            return new TensorRecipe(storage, ToLong(args[1]), size, stride);
        }

        private static long[] Integers(object value) => value is IEnumerable items && value is not string
            ? items.Cast<object>().Select(ToLong).ToArray()
            : throw new PickleException($"expected a tuple of integers, got {value?.GetType().Name}");

        private static long ToLong(object value) => value switch
        {
            int i => i,
            long l => l,
            BigInteger b => (long)b,
            _ => throw new PickleException($"expected an integer, got {value?.GetType().Name}"),
        };
    }

    private sealed class RebuildParameterConstructor : IObjectConstructor
    {
        public object construct(object[] args) => args.Length >= 1 && args[0] is TensorRecipe tensor ? tensor
            : throw new PickleException("torch._utils._rebuild_parameter needs a tensor");
    }

    private sealed class StateDictUnpickler(Func<string, byte[]>? storage, List<StorageRef>? collected, string source) : Unpickler
    {
        /// <summary>('storage', storage_type, key, location, numel[, view_metadata]).</summary>
        protected override object persistentLoad(object pid)
        {
            if (pid is not object[] fields || fields.Length < 5 || fields[0] as string != "storage" || fields[1] is not StorageTypeConstructor type)
                throw new PickleException($"{source}: unexpected persistent id (not a storage)");
            if (fields.Length > 5 && fields[5] is not null)
                throw new PickleException($"{source}: storage views (legacy view_metadata) are not supported");
            var reference = new StorageRef(type.Name, fields[2]?.ToString() ?? "", fields[4] switch { int i => i, long l => l, _ => -1 });
            if (reference.Elements < 0) throw new PickleException($"{source}: storage '{reference.Key}' has no element count");
            if (collected is not null)
                collected.Add(reference);
            else if (storage is not null)
                reference.Bytes = storage(reference.Key);
            else
                throw new PickleException($"{source}: a storage appears where none is expected");
            return reference;
        }
    }

    private static int registered;

    /// <summary>Registers what the allowed globals become (Razorvine's registry is process-wide; these are inert descriptions).</summary>
    private static void EnsureConstructorsRegistered()
    {
        if (Interlocked.Exchange(ref registered, 1) == 1) return;
        Unpickler.registerConstructor("collections", "OrderedDict", new OrderedDictConstructor());
        Unpickler.registerConstructor("torch._utils", "_rebuild_tensor_v2", new RebuildTensorConstructor());
        Unpickler.registerConstructor("torch._utils", "_rebuild_parameter", new RebuildParameterConstructor());
        foreach (var type in StorageTypes.Keys) Unpickler.registerConstructor("torch", type, new StorageTypeConstructor(type));
    }
}
