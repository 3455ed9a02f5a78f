using ScratchDetect.Engine.Autograd;

namespace ScratchDetect.Engine.NN;

/// <summary>
/// A piece of a network that owns tensors, as torch.nn.Module: parameters (trained, requiring
/// grad), buffers (state that is saved but not trained, such as running statistics) and child
/// modules. Everything is registered under a name, and the recursive views
/// (<see cref="NamedParameters"/>, <see cref="StateDict"/>, ...) join the names with dots in
/// registration order, exactly as PyTorch does ("layer1.0.conv1.weight"), so that a torchvision
/// state_dict maps one-to-one onto the equivalent module tree.
/// </summary>
/// <remarks>
/// Layers keep the tensors they register in fields. Whatever changes a module's tensors later
/// (<see cref="LoadStateDict(IReadOnlyDictionary{string, Tensor}, bool)"/>, optimizers,
/// <see cref="ModuleExtensions.To{T}(T, DType)"/>, <see cref="ModuleExtensions.To{T}(T, Device)"/>) changes them in place, so those fields stay valid.
/// </remarks>
public abstract class Module
{
    private readonly OrderedDictionary<string, Tensor> parameters = new();
    private readonly OrderedDictionary<string, Tensor> buffers = new();
    private readonly OrderedDictionary<string, Module> children = new();

    /// <summary>
    /// Whether the module is in training mode (the default) or evaluation mode; layers such as
    /// batch normalisation behave differently. Changed recursively by
    /// <see cref="ModuleExtensions.Train{T}"/> and <see cref="ModuleExtensions.Eval{T}"/>.
    /// </summary>
    public bool Training { get; internal set; } = true;

    // ---- registration -------------------------------------------------------------------------

    /// <summary>Registers <paramref name="child"/> under <paramref name="name"/> and returns it.</summary>
    public T RegisterModule<T>(string name, T child) where T : Module
    {
        CheckNewName(name, "module");
        if (ReferenceEquals(child, this))
            throw new ArgumentException($"register_module '{name}' on {GetType().Name}: a module cannot be its own child");
        children.Add(name, child);
        return child;
    }

    /// <summary>
    /// Registers a trainable tensor under <paramref name="name"/> and marks it as requiring grad.
    /// It must be a floating-point leaf (a freshly created tensor, not the result of an op).
    /// </summary>
    public Tensor RegisterParameter(string name, Tensor value)
    {
        CheckNewName(name, "parameter");
        if (!value.IsLeaf)
            throw new ArgumentException($"register_parameter '{name}' on {GetType().Name}: the tensor {Shapes.Format(value.Shape)} was made by an op; parameters must be leaves (use Detach())");
        if (!value.DType.IsFloatingPoint())
            throw new ArgumentException($"register_parameter '{name}' on {GetType().Name}: parameters must be floating point, not {value.DType.Name()}");
        value.RequiresGrad = true;
        parameters.Add(name, value);
        return value;
    }

    /// <summary>
    /// Registers state that is saved with the module but not trained (running statistics,
    /// counters); any dtype. Update its values with <see cref="UpdateBuffer"/>.
    /// </summary>
    public Tensor RegisterBuffer(string name, Tensor value)
    {
        CheckNewName(name, "buffer");
        if (value.RequiresGrad)
            throw new ArgumentException($"register_buffer '{name}' on {GetType().Name}: buffers are not trained, but this tensor requires grad (use Detach())");
        buffers.Add(name, value);
        return value;
    }

    /// <summary>
    /// Overwrites the values of buffer <paramref name="name"/> with <paramref name="value"/> (same
    /// shape and dtype), in place and outside autograd: how running statistics are updated.
    /// </summary>
    protected void UpdateBuffer(string name, Tensor value)
    {
        if (!buffers.TryGetValue(name, out var buffer))
            throw new ArgumentException($"update_buffer: {GetType().Name} has no buffer '{name}' (it has: {string.Join(", ", buffers.Keys)})");
        using var _ = GradMode.NoGrad();
        buffer.CopyFrom(value.Detach());
    }

    private void CheckNewName(string name, string kind)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"register_{kind} on {GetType().Name}: name '{name}' must be non-empty and contain no '.' (dots join the names of nested modules)");
        if (parameters.ContainsKey(name) || buffers.ContainsKey(name) || children.ContainsKey(name))
            throw new ArgumentException($"register_{kind} on {GetType().Name}: '{name}' is already registered");
    }

    // ---- recursive views ----------------------------------------------------------------------

    /// <summary>The direct children, in registration order.</summary>
    public IEnumerable<KeyValuePair<string, Module>> NamedChildren() => children;

    /// <summary>
    /// This module (named "") and every module below it, depth first in registration order, with
    /// dotted names ("layer1", "layer1.0", ...). A module reachable twice is listed once.
    /// </summary>
    public IEnumerable<KeyValuePair<string, Module>> NamedModules()
    {
        var seen = new HashSet<Module>(ReferenceEqualityComparer.Instance);
        return Walk("").Where(m => seen.Add(m.Value));
    }

    /// <summary>
    /// Every parameter of this module and its descendants with its dotted name; a shared tensor is
    /// listed once. With <paramref name="recurse"/> false, only this module's own parameters.
    /// </summary>
    public IEnumerable<KeyValuePair<string, Tensor>> NamedParameters(bool recurse = true) =>
        recurse ? Distinct(Own(m => m.parameters)) : parameters;

    /// <summary>The tensors of <see cref="NamedParameters"/>: what an optimizer updates.</summary>
    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Value);

    /// <summary>Every buffer of this module and its descendants with its dotted name; a shared tensor is listed once.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> NamedBuffers() => Distinct(Own(m => m.buffers));

    /// <summary>
    /// The module's state as PyTorch's state_dict: for each module in depth-first order its
    /// parameters, then its buffers, under dotted names. The values are the module's own tensors
    /// (not copies): read them, save them, or load them into another module.
    /// </summary>
    public OrderedDictionary<string, Tensor> StateDict()
    {
        var state = new OrderedDictionary<string, Tensor>();
        foreach (var (prefix, module) in Walk(""))
        {
            foreach (var (name, value) in module.parameters) state.Add(Join(prefix, name), value);
            foreach (var (name, value) in module.buffers) state.Add(Join(prefix, name), value);
        }
        return state;
    }

    private IEnumerable<KeyValuePair<string, Module>> Walk(string prefix)
    {
        yield return new(prefix, this);
        foreach (var (name, child) in children)
            foreach (var descendant in child.Walk(Join(prefix, name)))
                yield return descendant;
    }

    private IEnumerable<KeyValuePair<string, Tensor>> Own(Func<Module, OrderedDictionary<string, Tensor>> select) =>
        NamedModules().SelectMany(m => select(m.Value).Select(t => new KeyValuePair<string, Tensor>(Join(m.Key, t.Key), t.Value)));

    private static IEnumerable<KeyValuePair<string, Tensor>> Distinct(IEnumerable<KeyValuePair<string, Tensor>> named)
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        return named.Where(t => seen.Add(t.Value));
    }

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    // ---- loading and saving -------------------------------------------------------------------

    /// <summary>
    /// Copies the values of <paramref name="source"/> into this module's parameters and buffers, in
    /// place. Every key is checked first: keys the module lacks, keys of the module that the source
    /// lacks, shapes that differ, and dtypes that cannot be converted (floating point converts to
    /// floating point, as PyTorch's copy_ does; anything else must match). With
    /// <paramref name="strict"/> any such problem throws a <see cref="StateDictMismatchException"/>
    /// listing all of them and nothing is copied; otherwise the entries that fit are copied and the
    /// rest are reported in the result.
    /// </summary>
    public StateDictLoadResult LoadStateDict(IReadOnlyDictionary<string, Tensor> source, bool strict = true) =>
        LoadStateDict(source, strict, "a state dict");

    /// <summary>Saves <see cref="StateDict"/> to a safetensors file, under PyTorch's key names.</summary>
    public void SaveStateDict(string path) => IO.SafeTensors.Save(path, StateDict());

    /// <summary>
    /// Loads a safetensors file written by <see cref="SaveStateDict"/> or by PyTorch (keys as its
    /// state_dict), as <see cref="LoadStateDict(IReadOnlyDictionary{string, Tensor}, bool)"/>; errors name the file.
    /// </summary>
    public StateDictLoadResult LoadStateDict(string path, bool strict = true) =>
        LoadStateDict(IO.SafeTensors.Load(path), strict, $"'{path}'");

    private StateDictLoadResult LoadStateDict(IReadOnlyDictionary<string, Tensor> source, bool strict, string sourceName)
    {
        var own = StateDict();
        var shapeMismatches = new List<StateDictMismatch>();
        var dtypeMismatches = new List<StateDictMismatch>();
        var loadable = new List<(Tensor Target, Tensor Value)>();
        foreach (var (key, target) in own)
        {
            if (!source.TryGetValue(key, out var value)) continue;
            if (!value.Shape.SequenceEqual(target.Shape))
                shapeMismatches.Add(new(key, Shapes.Format(target.Shape), Shapes.Format(value.Shape)));
            else if (value.DType != target.DType && !(value.DType.IsFloatingPoint() && target.DType.IsFloatingPoint()))
                dtypeMismatches.Add(new(key, target.DType.Name(), value.DType.Name()));
            else
                loadable.Add((target, value));
        }
        var result = new StateDictLoadResult(
            own.Keys.Where(k => !source.ContainsKey(k)).ToList(),
            source.Keys.Where(k => !own.ContainsKey(k)).ToList(),
            shapeMismatches,
            dtypeMismatches);
        if (strict && !result.IsExactMatch)
            throw new StateDictMismatchException($"load_state_dict from {sourceName} into {GetType().Name}", result);

        using var _ = GradMode.NoGrad();
        foreach (var (target, value) in loadable)
            target.CopyFrom(value.To(target.DType));
        return result;
    }
}

/// <summary>A key whose tensor cannot be loaded: what the module has and what the source offered (shapes or dtypes).</summary>
public sealed record StateDictMismatch(string Key, string Expected, string Found);

/// <summary>
/// What <see cref="Module.LoadStateDict(IReadOnlyDictionary{string, Tensor}, bool)"/> found: keys of the module
/// that the source lacks, keys of the source that the module lacks, and keys present in both whose
/// shape or dtype does not fit.
/// </summary>
public sealed record StateDictLoadResult(
    IReadOnlyList<string> MissingKeys,
    IReadOnlyList<string> UnexpectedKeys,
    IReadOnlyList<StateDictMismatch> ShapeMismatches,
    IReadOnlyList<StateDictMismatch> DTypeMismatches)
{
    /// <summary>True when every key matched in name, shape and dtype, so everything was loaded.</summary>
    public bool IsExactMatch => MissingKeys.Count == 0 && UnexpectedKeys.Count == 0 && ShapeMismatches.Count == 0 && DTypeMismatches.Count == 0;

    /// <summary>One line per kind of problem, naming every offending key.</summary>
    public override string ToString() => Describe(int.MaxValue);

    /// <summary>
    /// One line per kind of problem, naming at most <paramref name="maxKeysPerKind"/> keys of each
    /// kind and counting the rest: a file meant for another model misses hundreds of keys, and a
    /// person needs the first few to see what went wrong.
    /// </summary>
    public string Describe(int maxKeysPerKind)
    {
        if (IsExactMatch) return "all keys matched";
        var lines = new List<string>();
        AddLine("missing key(s)", MissingKeys);
        AddLine("unexpected key(s)", UnexpectedKeys);
        AddLine("shape mismatch(es)", ShapeMismatches.Select(m => $"{m.Key} (module {m.Expected}, source {m.Found})").ToList());
        AddLine("dtype mismatch(es)", DTypeMismatches.Select(m => $"{m.Key} (module {m.Expected}, source {m.Found})").ToList());
        return string.Join("\n", lines);

        void AddLine(string kind, IReadOnlyList<string> keys)
        {
            if (keys.Count == 0) return;
            string more = keys.Count > maxKeysPerKind ? $", ... and {keys.Count - maxKeysPerKind} more" : "";
            lines.Add($"{keys.Count} {kind}: {string.Join(", ", keys.Take(maxKeysPerKind))}{more}");
        }
    }
}

/// <summary>Thrown by a strict state-dict load that does not match the module; <see cref="Result"/> has the details.</summary>
public sealed class StateDictMismatchException(string context, StateDictLoadResult result)
    : Exception($"{context}: the state does not fit the module, nothing was loaded\n{result}")
{
    /// <summary>Every offending key, by kind.</summary>
    public StateDictLoadResult Result { get; } = result;
}

/// <summary>
/// The recursive, fluent operations on a module tree. They are extension methods so that they
/// return the caller's own type: <c>var head = new Linear(4, 2, g).To(DType.Float64);</c> is a Linear.
/// </summary>
public static class ModuleExtensions
{
    /// <summary>Sets training mode on the module and all its descendants (as torch's <c>train(mode)</c>).</summary>
    public static T Train<T>(this T module, bool training = true) where T : Module
    {
        foreach (var (_, m) in module.NamedModules()) m.Training = training;
        return module;
    }

    /// <summary>Sets evaluation mode on the module and all its descendants (as torch's <c>eval()</c>).</summary>
    public static T Eval<T>(this T module) where T : Module => module.Train(false);

    /// <summary>
    /// Stops (or with <paramref name="frozen"/> false, resumes) gradient computation for every
    /// parameter of the module and its descendants, as torch's <c>requires_grad_(False)</c>: frozen
    /// parameters get no gradient and optimizers leave them alone.
    /// </summary>
    public static T Freeze<T>(this T module, bool frozen = true) where T : Module
    {
        foreach (var parameter in module.Parameters()) parameter.RequiresGrad = !frozen;
        return module;
    }

    /// <summary>
    /// Converts every floating-point parameter and buffer to <paramref name="dtype"/> in place (the
    /// tensor objects stay the same, as torch's <c>module.to(dtype)</c>); integer buffers such as
    /// counters are left alone. Gradients are dropped.
    /// </summary>
    public static T To<T>(this T module, DType dtype) where T : Module
    {
        if (!dtype.IsFloatingPoint())
            throw new ArgumentException($"module.to: {module.GetType().Name} can only be converted to a floating-point dtype, not {dtype.Name()}");
        using var _ = GradMode.NoGrad();
        foreach (var (_, tensor) in module.NamedParameters().Concat(module.NamedBuffers()))
            if (tensor.DType.IsFloatingPoint() && tensor.DType != dtype)
                tensor.ReplaceData(tensor.To(dtype));
        return module;
    }

    /// <summary>
    /// Moves every parameter and buffer to <paramref name="device"/> in place (the tensor objects stay
    /// the same, as torch's <c>module.to(device)</c>), so layers' fields and optimizers keep working.
    /// Gradients are dropped. Throws a <see cref="Backends.DeviceUnavailableException"/> naming what is
    /// missing when the device cannot compute here; nothing is moved then.
    /// </summary>
    public static T To<T>(this T module, Device device) where T : Module
    {
        Backends.BackendRegistry.For(device); // fails before anything moves
        using var _ = GradMode.NoGrad();
        foreach (var (_, tensor) in module.NamedParameters().Concat(module.NamedBuffers()))
            if (tensor.Device != device)
                tensor.ReplaceData(tensor.To(device));
        return module;
    }
}
