using ILGPU;
using ILGPU.Algorithms;
using ScratchDetect.Engine.Backends;

namespace ScratchDetect.Engine.Cuda.Kernels;

// Element-wise float32 kernels, one thread per output element, with the CPU backend's NaN rules.
// Broadcasting reads each operand through per-axis strides that are 0 on broadcast axes; the
// layout array holds [outShape | aStrides | bStrides], rank entries each.
internal static class ElementwiseKernels
{
    [DeviceKernel]
    public static void Unary(Index1D i, ArrayView<float> x, ArrayView<float> y, int op)
    {
        float v = x[i];
        y[i] = (UnaryOp)op switch
        {
            UnaryOp.Neg => -v,
            UnaryOp.Exp => XMath.Exp(v),
            UnaryOp.Log => XMath.Log(v),
            UnaryOp.Sqrt => XMath.Sqrt(v),
            UnaryOp.Abs => XMath.Abs(v),
            UnaryOp.Relu => v > 0f || XMath.IsNaN(v) ? v : 0f,
            UnaryOp.Sigmoid => 1f / (1f + XMath.Exp(-v)),
            UnaryOp.Tanh => XMath.Tanh(v),
            UnaryOp.Sign => XMath.IsNaN(v) ? v : v > 0f ? 1f : v < 0f ? -1f : 0f,
            UnaryOp.Floor => XMath.Floor(v),
            _ => float.NaN,
        };
    }

    /// <summary>Clamp into [min, max]; NaN passes through, as torch.clamp.</summary>
    [DeviceKernel]
    public static void Clamp(Index1D i, ArrayView<float> x, ArrayView<float> y, float min, float max)
    {
        float v = x[i];
        y[i] = v < min ? min : v > max ? max : v;
    }

    /// <summary>
    /// The offset of output element <paramref name="index"/> in one operand of a broadcast (or a
    /// permutation): layout holds the output shape, then one block of per-axis strides per operand
    /// (0 on broadcast axes); <paramref name="part"/> picks the block (1 for the first operand).
    /// </summary>
    public static long BroadcastOffset(long index, ArrayView<int> layout, int rank, int part)
    {
        long offset = 0;
        for (int axis = rank - 1; axis >= 0; axis--)
        {
            int extent = layout[axis];
            offset += index % extent * layout[part * rank + axis];
            index /= extent;
        }
        return offset;
    }

    [DeviceKernel]
    public static void Binary(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y, ArrayView<int> layout, int rank, int op)
    {
        float u = a[BroadcastOffset(i, layout, rank, 1)], v = b[BroadcastOffset(i, layout, rank, 2)];
        y[i] = (BinaryOp)op switch
        {
            BinaryOp.Add => u + v,
            BinaryOp.Sub => u - v,
            BinaryOp.Mul => u * v,
            BinaryOp.Div => u / v,
            BinaryOp.Pow => XMath.Pow(u, v),
            BinaryOp.Maximum => XMath.IsNaN(u) || XMath.IsNaN(v) ? u + v : (u > v ? u : v),
            BinaryOp.Minimum => XMath.IsNaN(u) || XMath.IsNaN(v) ? u + v : (u < v ? u : v),
            _ => float.NaN,
        };
    }

    /// <summary>Broadcast comparison; the result is a byte per element (1 true, 0 false), the device form of bool.</summary>
    [DeviceKernel]
    public static void Compare(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<byte> y, ArrayView<int> layout, int rank, int op)
    {
        float u = a[BroadcastOffset(i, layout, rank, 1)], v = b[BroadcastOffset(i, layout, rank, 2)];
        bool result = (CompareOp)op switch
        {
            CompareOp.Eq => u == v,
            CompareOp.Ne => u != v,
            CompareOp.Lt => u < v,
            CompareOp.Le => u <= v,
            CompareOp.Gt => u > v,
            _ => u >= v,
        };
        y[i] = result ? (byte)1 : (byte)0;
    }

    /// <summary>y = scale · x, in place allowed (x and y the same view).</summary>
    [DeviceKernel]
    public static void Scale(Index1D i, ArrayView<float> x, ArrayView<float> y, float scale) => y[i] = x[i] * scale;

    /// <summary>y[0] = a[0] / b[0]: a ratio of two device scalars without a round trip to the host.</summary>
    [DeviceKernel]
    public static void DivideScalars(Index1D i, ArrayView<float> a, ArrayView<float> b, ArrayView<float> y) => y[i] = a[i] / b[i];
}
