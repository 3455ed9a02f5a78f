using ScratchDetect.Engine.Backends;

namespace ScratchDetect.Engine.Cuda.Dnn;

/// <summary>The dimensions of a 4-D NCHW cuDNN tensor or filter descriptor.</summary>
public readonly record struct Nchw(int N, int C, int H, int W);

/// <summary>
/// The descriptors of one cuDNN convolution: input, filter [O, C/groups, kh, kw], output, and the
/// convolution descriptor's padding, stride, dilation and group count. The output size is
/// cuDNN's formula, 1 + (in + 2·pad - (dilation·(kernel - 1) + 1)) / stride.
/// </summary>
public readonly record struct ConvolutionPlan(Nchw Input, Nchw Filter, Nchw Output, int PadH, int PadW, int StrideH, int StrideW, int DilationH, int DilationW, int Groups)
{
    /// <summary>The plan for the engine's convolution geometry.</summary>
    public static ConvolutionPlan From(Conv2dGeometry g)
    {
        int Out(int input, int kernel, int pad, int stride, int dilation) => 1 + (input + 2 * pad - (dilation * (kernel - 1) + 1)) / stride;
        var output = new Nchw(g.Batch, g.OutChannels,
            Out(g.Height, g.Kernel.H, g.Padding.H, g.Stride.H, g.Dilation.H),
            Out(g.Width, g.Kernel.W, g.Padding.W, g.Stride.W, g.Dilation.W));
        return new ConvolutionPlan(new Nchw(g.Batch, g.InChannels, g.Height, g.Width),
            new Nchw(g.OutChannels, g.InChannels / g.Groups, g.Kernel.H, g.Kernel.W), output,
            g.Padding.H, g.Padding.W, g.Stride.H, g.Stride.W, g.Dilation.H, g.Dilation.W, g.Groups);
    }
}

/// <summary>
/// How a max pooling runs on cuDNN. cuDNN pools with symmetric padding and floor-mode output
/// sizes only; PyTorch's ceil mode adds windows that start inside the input but run past its
/// bottom or right edge. Those are produced by first padding the input with -inf by
/// <see cref="ExtraBottom"/> rows and <see cref="ExtraRight"/> columns (the padded cells never
/// win a max, because every ceil-mode window starts inside the input or its symmetric padding),
/// then pooling with cuDNN's floor formula, 1 + (in + extra + 2·pad - window) / stride.
/// </summary>
public readonly record struct MaxPoolingPlan(Nchw Input, int ExtraBottom, int ExtraRight, Nchw Output, int WindowH, int WindowW, int PadH, int PadW, int StrideH, int StrideW)
{
    /// <summary>The plan for the engine's pooling geometry; dilated pooling is not something cuDNN offers.</summary>
    public static MaxPoolingPlan From(Pool2dGeometry g)
    {
        if (g.Dilation != new Size2d(1, 1))
            throw new NotSupportedException($"max_pool2d on CUDA: cuDNN has no dilated pooling (dilation {g.Dilation.H}x{g.Dilation.W})");
        int Extra(int input, int window, int pad, int stride, int output) => Math.Max(0, (output - 1) * stride + window - (input + 2 * pad));
        int Out(int input, int extra, int window, int pad, int stride) => 1 + (input + extra + 2 * pad - window) / stride;
        int extraBottom = Extra(g.Height, g.Kernel.H, g.Padding.H, g.Stride.H, g.OutH);
        int extraRight = Extra(g.Width, g.Kernel.W, g.Padding.W, g.Stride.W, g.OutW);
        var output = new Nchw(g.Batch, g.Channels,
            Out(g.Height, extraBottom, g.Kernel.H, g.Padding.H, g.Stride.H),
            Out(g.Width, extraRight, g.Kernel.W, g.Padding.W, g.Stride.W));
        return new MaxPoolingPlan(new Nchw(g.Batch, g.Channels, g.Height, g.Width), extraBottom, extraRight, output,
            g.Kernel.H, g.Kernel.W, g.Padding.H, g.Padding.W, g.Stride.H, g.Stride.W);
    }
}
