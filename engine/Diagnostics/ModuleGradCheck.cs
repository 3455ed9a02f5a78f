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
        // The case's function receives the tensors that its MakeInputs made last; the module made
        // alongside them is kept here.
        TModule? module = null;
        int inputCount = 0;
        Tensor[] MakeAll(Generator g)
        {
            module = makeModule(g).To(DType.Float64);
            var inputs = makeInputs(g);
            inputCount = inputs.Length;
            return [.. inputs, .. module.Parameters().Where(p => p.RequiresGrad)];
        }
        Tensor Run(Tensor[] all)
        {
            if (module is null)
                throw new InvalidOperationException($"gradcheck {op} ({configuration}): the module is made by the case's MakeInputs, which has not run");
            return forward(module, all[..inputCount]);
        }
        return new GradCheckCase(op, configuration, Run, MakeAll, atol, rtol);
    }
}
