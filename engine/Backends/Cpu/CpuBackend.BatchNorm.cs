using System.Numerics;

namespace ScratchDetect.Engine.Backends.Cpu;

public sealed partial class CpuBackend
{
    /// <inheritdoc />
    public Storage ChannelAffine(Storage x, Storage scale, Storage? shift, int outer, int channels, int inner) => x.DType switch
    {
        DType.Float32 => Wrap(ChannelAffineOf(Data<float>(x), Data<float>(scale), shift is null ? null : Data<float>(shift), outer, channels, inner)),
        DType.Float64 => Wrap(ChannelAffineOf(Data<double>(x), Data<double>(scale), shift is null ? null : Data<double>(shift), outer, channels, inner)),
        _ => throw new ArgumentException($"batch_norm: not defined for {x.DType.Name()} tensors"),
    };

    /// <summary>One pass, one row (a channel's plane) at a time; x·s is rounded before + b, exactly as a multiply followed by an add.</summary>
    private static T[] ChannelAffineOf<T>(T[] x, T[] scale, T[]? shift, int outer, int channels, int inner) where T : struct, INumber<T>
    {
        var y = NewArray<T>(x.LongLength);
        ParallelRange((long)outer * channels, inner, (first, end) =>
        {
            for (long row = first; row < end; row++)
            {
                int c = (int)(row % channels);
                var src = x.AsSpan((int)(row * inner), inner);
                var dst = y.AsSpan((int)(row * inner), inner);
                T s = scale[c], b = shift is null ? T.Zero : shift[c];
                int i = 0;
                if (IsVectorizable<T>())
                {
                    int width = Vector<T>.Count;
                    Vector<T> vs = new(s), vb = new(b);
                    for (; i <= inner - width; i += width)
                    {
                        var v = new Vector<T>(src.Slice(i, width)) * vs;
                        (shift is null ? v : v + vb).CopyTo(dst.Slice(i, width));
                    }
                }
                for (; i < inner; i++) dst[i] = shift is null ? src[i] * s : src[i] * s + b;
            }
        });
        return y;
    }
}
