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

    /// <summary>x·s is rounded before + b, exactly as a multiply followed by an add.</summary>
    private static T[] ChannelAffineOf<T>(T[] x, T[] scale, T[]? shift, int outer, int channels, int inner) where T : struct, INumber<T> =>
        MapChannelPlanes(x, outer, channels, inner, (src, dst, c) =>
        {
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
        });

    /// <inheritdoc/>
    public Storage ChannelNormalize(Storage x, Storage? mean, Storage std, int outer, int channels, int inner) => x.DType switch
    {
        DType.Float32 => Wrap(ChannelNormalizeOf(Data<float>(x), mean is null ? null : Data<float>(mean), Data<float>(std), outer, channels, inner)),
        DType.Float64 => Wrap(ChannelNormalizeOf(Data<double>(x), mean is null ? null : Data<double>(mean), Data<double>(std), outer, channels, inner)),
        _ => throw new ArgumentException($"normalize: not defined for {x.DType.Name()} tensors"),
    };

    /// <summary>x - m is rounded before / s, exactly as a subtraction followed by a division.</summary>
    private static T[] ChannelNormalizeOf<T>(T[] x, T[]? mean, T[] std, int outer, int channels, int inner) where T : struct, INumber<T> =>
        MapChannelPlanes(x, outer, channels, inner, (src, dst, c) =>
        {
            T m = mean is null ? T.Zero : mean[c], s = std[c];
            int i = 0;
            if (IsVectorizable<T>())
            {
                int width = Vector<T>.Count;
                Vector<T> vm = new(m), vs = new(s);
                for (; i <= inner - width; i += width)
                    ((new Vector<T>(src.Slice(i, width)) - vm) / vs).CopyTo(dst.Slice(i, width));
            }
            for (; i < inner; i++) dst[i] = (src[i] - m) / s;
        });

    /// <summary>Maps one channel's plane of a row of an (outer, channels, inner) tensor to the same plane of the output.</summary>
    private delegate void ChannelPlaneMap<T>(ReadOnlySpan<T> source, Span<T> destination, int channel);

    /// <summary>
    /// A new (outer, channels, inner) array made plane by plane, in parallel over the outer·channels
    /// planes: the one loop behind the per-channel scale and shift kernels.
    /// </summary>
    private static T[] MapChannelPlanes<T>(T[] x, int outer, int channels, int inner, ChannelPlaneMap<T> map) where T : struct
    {
        var y = NewArray<T>(x.LongLength);
        ParallelRange((long)outer * channels, inner, (first, end) =>
        {
            for (long row = first; row < end; row++)
                map(x.AsSpan((int)(row * inner), inner), y.AsSpan((int)(row * inner), inner), (int)(row % channels));
        });
        return y;
    }
}
