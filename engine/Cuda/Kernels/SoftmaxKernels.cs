using ILGPU;
using ILGPU.Algorithms;

namespace ScratchDetect.Engine.Cuda.Kernels;

// Softmax and log-softmax over the middle axis of (outer, size, inner), one thread group per
// slice: a group maximum, a group sum of e^(x - max), then every element written. (cuDNN's
// cudnnSoftmaxForward covers the NCHW channel case; this kernel serves every other axis layout
// and the losses, and is what the CI checks.)
internal static class SoftmaxKernels
{
    [DeviceKernel(grouped: true)]
    public static void Softmax(ArrayView<float> x, ArrayView<float> y, int outer, int size, int inner, int log)
    {
        var shared = SharedMemory.Allocate<float>(ReductionKernels.MaxGroupSize);
        int t = Group.IdxX;
        long slices = (long)outer * inner;
        for (long s = Grid.IdxX; s < slices; s += Grid.DimX)
        {
            long baseOffset = s / inner * size * (long)inner + s % inner;
            float localMax = float.NegativeInfinity;
            for (long j = t; j < size; j += Group.DimX)
            {
                float v = x[baseOffset + j * inner];
                if (XMath.IsNaN(v) || v > localMax) localMax = v;
            }
            float max = ReductionKernels.GroupMax(localMax, shared);
            float localSum = 0f;
            for (long j = t; j < size; j += Group.DimX)
                localSum += XMath.Exp(x[baseOffset + j * inner] - max);
            float sum = ReductionKernels.GroupSum(localSum, shared);
            float logSum = XMath.Log(sum);
            for (long j = t; j < size; j += Group.DimX)
            {
                long at = baseOffset + j * inner;
                float shifted = x[at] - max;
                y[at] = log != 0 ? shifted - logSum : XMath.Exp(shifted) / sum;
            }
        }
    }
}
