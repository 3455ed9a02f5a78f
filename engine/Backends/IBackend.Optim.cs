namespace ScratchDetect.Engine.Backends;

/// <summary>
/// The scalars of one AdamW update (<see cref="IBackend.AdamWStep"/>), each rounded to the tensors'
/// dtype before use, as the scalar operand of an element-wise op is.
/// </summary>
/// <param name="Decay">1 - lr·λ, the decoupled weight decay's factor (1 without decay).</param>
/// <param name="Beta1">β1, the first moment's decay.</param>
/// <param name="Beta2">β2, the second moment's decay.</param>
/// <param name="StepSize">lr / (1 - β1^t).</param>
/// <param name="SecondCorrection">√(1 - β2^t).</param>
/// <param name="Eps">ε, added to the denominator.</param>
public readonly record struct AdamWCoefficients(double Decay, double Beta1, double Beta2, double StepSize, double SecondCorrection, double Eps);

/// <summary>
/// The scalars of one SGD update (<see cref="IBackend.SgdStep"/>), each rounded to the tensors' dtype
/// before use, as the scalar operand of an element-wise op is.
/// </summary>
/// <param name="LearningRate">lr, the step's scale.</param>
/// <param name="WeightDecay">λ, the share of the parameter added to its gradient (0: none).</param>
/// <param name="Momentum">μ, how much of the momentum buffer is kept (0: no buffer).</param>
/// <param name="Dampening">τ, the share of each new gradient left out of the momentum buffer.</param>
/// <param name="Nesterov">Whether to step along the look-ahead d + μ·b instead of b.</param>
/// <param name="FirstStep">Whether the momentum buffer is new: it becomes d itself, as torch's clone of the first gradient.</param>
public readonly record struct SgdCoefficients(double LearningRate, double WeightDecay, double Momentum, double Dampening, bool Nesterov, bool FirstStep);

public partial interface IBackend
{
    // ---- optimizer updates --------------------------------------------------------------------

    /// <summary>
    /// One AdamW step in place over four storages of one floating-point dtype and length, element
    /// by element, each operation rounded to the dtype in this order (so the result is that of the
    /// same formula written as element-wise tensor ops): m = m·β1 + g·(1 - β1), v = v·β2 + (g·g)·(1 - β2),
    /// p = p·decay - (m / (√v / correction + ε))·step size.
    /// </summary>
    void AdamWStep(Storage parameter, Storage gradient, Storage expAvg, Storage expAvgSq, AdamWCoefficients coefficients);

    /// <summary>
    /// One SGD step in place over storages of one floating-point dtype and length, element by
    /// element, each operation rounded to the dtype in this order (so the result is that of the same
    /// formula written as element-wise tensor ops): d = g + p·λ (d = g when λ = 0); with a momentum
    /// buffer b, b = d on the first step and b = b·μ + d·(1 - τ) after it, then d = d + b·μ with
    /// Nesterov and d = b without; last p = p - d·lr. <paramref name="momentumBuffer"/> is null
    /// exactly when μ = 0.
    /// </summary>
    void SgdStep(Storage parameter, Storage gradient, Storage? momentumBuffer, SgdCoefficients coefficients);
}
