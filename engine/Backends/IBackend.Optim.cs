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
}
