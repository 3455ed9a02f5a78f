using ILGPU;
using ILGPU.Algorithms;

namespace ScratchDetect.Engine.Cuda.Kernels;

// The detectors' losses with PyTorch 1.13 semantics, fused into one pass each: per-element (or
// per-row) losses that a Sum reduction then combines. Cross entropy is one thread per row of
// [N, C] logits: the class counts of the heads (21, 81, 91) are far below a group's width.
internal static class LossKernels
{
    /// <summary>
    /// Per-row cross entropy: loss[n] = -w[t]·log_softmax(logits[n])[t] and rowWeight[n] = w[t],
    /// both 0 where t is the ignore index. <paramref name="classWeight"/> is empty for weight 1.
    /// </summary>
    [DeviceKernel]
    public static void CrossEntropyRows(Index1D n, ArrayView<float> logits, ArrayView<long> target, ArrayView<float> classWeight,
        ArrayView<float> loss, ArrayView<float> rowWeight, int classes, long ignoreIndex)
    {
        long t = target[n];
        if (t == ignoreIndex)
        {
            loss[n] = 0f;
            rowWeight[n] = 0f;
            return;
        }
        long row = (long)n.X * classes;
        float max = float.NegativeInfinity;
        for (int c = 0; c < classes; c++)
        {
            float v = logits[row + c];
            if (XMath.IsNaN(v) || v > max) max = v;
        }
        float sum = 0f;
        for (int c = 0; c < classes; c++) sum += XMath.Exp(logits[row + c] - max);
        float logProbability = logits[row + t] - max - XMath.Log(sum);
        float w = classWeight.Length > 0 ? classWeight[t] : 1f;
        loss[n] = -logProbability * w;
        rowWeight[n] = w;
    }

    /// <summary>Smooth L1: 0.5·d²/beta where |d| &lt; beta, |d| - 0.5·beta elsewhere (beta = 0: |d|).</summary>
    [DeviceKernel]
    public static void SmoothL1(Index1D i, ArrayView<float> input, ArrayView<float> target, ArrayView<float> loss, float beta)
    {
        float d = input[i] - target[i];
        float a = XMath.Abs(d);
        loss[i] = beta == 0f ? a : a < beta ? d * d * (0.5f / beta) : a - 0.5f * beta;
    }

    /// <summary>
    /// Binary cross entropy on logits: weight·((1 - t)·x + (1 + (posWeight - 1)·t)·softplus(-x)),
    /// softplus(-x) = max(-x, 0) + log(1 + e^-|x|). <paramref name="weight"/> and
    /// <paramref name="posWeight"/> are full-size or empty (1).
    /// </summary>
    [DeviceKernel]
    public static void BceWithLogits(Index1D i, ArrayView<float> logits, ArrayView<float> targets, ArrayView<float> weight, ArrayView<float> posWeight, ArrayView<float> loss)
    {
        float x = logits[i], t = targets[i];
        float softplusOfMinusX = XMath.Max(-x, 0f) + XMath.Log(XMath.Exp(-XMath.Abs(x)) + 1f);
        float positiveFactor = posWeight.Length > 0 ? (posWeight[i] - 1f) * t + 1f : 1f;
        float value = (1f - t) * x + positiveFactor * softplusOfMinusX;
        loss[i] = weight.Length > 0 ? value * weight[i] : value;
    }
}
