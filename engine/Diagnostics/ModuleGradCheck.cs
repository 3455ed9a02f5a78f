using System.Runtime.CompilerServices;
using ScratchDetect.Engine.NN;

namespace ScratchDetect.Engine.Diagnostics;

/// <summary>
/// Gradient checks of whole modules: the module is converted to float64 and its parameters join
/// the inputs as checked tensors, so one case checks the gradients with respect to the input and
/// to every trainable parameter. (The checker perturbs the parameter tensors in place, which the
/// module sees because it holds those very tensors.) Frozen parameters are left out of the check.
/// </summary>
public static class ModuleGradCheck
{
    /// <summary>
    /// A case for a single-input layer. <paramref name="makeLayer"/> builds it (in any mode and
    /// dtype; set <c>Eval()</c> there if needed), <paramref name="makeInput"/> builds a float64 input
    /// that requires grad (or not, to check the parameters only).
    /// </summary>
    public static GradCheckCase ForLayer(string op, string configuration, Func<Generator, Layer> makeLayer, Func<Generator, Tensor> makeInput, double atol = 1e-5, double rtol = 1e-3) =>
        ForModule(op, configuration, makeLayer, g => [makeInput(g)], (layer, inputs) => layer.Forward(inputs[0]), atol, rtol);

    /// <summary>
    /// A case for any module: <paramref name="forward"/> runs <paramref name="makeModule"/>'s module on
    /// the inputs from <paramref name="makeInputs"/>. The checked tensors are those inputs followed by
    /// the module's trainable parameters in <see cref="Module.NamedParameters"/> order.
    /// </summary>
    public static GradCheckCase ForModule<TModule>(string op, string configuration, Func<Generator, TModule> makeModule, Func<Generator, Tensor[]> makeInputs,
        Func<TModule, Tensor[], Tensor> forward, double atol = 1e-5, double rtol = 1e-3) where TModule : Module
    {
        // Each MakeInputs call makes its own module; the function finds it from the tensors it is
        // given (their first, made alongside it), not from shared state: the catalog's cases are
        // static and tests run them concurrently, so "the module made last" could be another run's.
        var modules = new ConditionalWeakTable<Tensor, MadeModule<TModule>>();
        Tensor[] MakeAll(Generator g)
        {
            var module = makeModule(g).To(DType.Float64);
            var inputs = makeInputs(g);
            Tensor[] all = [.. inputs, .. module.Parameters().Where(p => p.RequiresGrad)];
            modules.Add(all[0], new(module, inputs.Length));
            return all;
        }
        Tensor Run(Tensor[] all)
        {
            if (all.Length == 0 || !modules.TryGetValue(all[0], out var made))
                throw new InvalidOperationException($"gradcheck {op} ({configuration}): the tensors were not made by this case's MakeInputs, which makes the module they belong to");
            return forward(made.Module, all[..made.InputCount]);
        }
        return new GradCheckCase(op, configuration, Run, MakeAll, atol, rtol);
    }

    // The module one MakeInputs call made, and how many of its tensors are the module's inputs.
    private sealed record MadeModule<TModule>(TModule Module, int InputCount);
}
