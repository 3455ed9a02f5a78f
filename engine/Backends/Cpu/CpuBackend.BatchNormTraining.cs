using System.Numerics;
using System.Runtime.InteropServices;

namespace ScratchDetect.Engine.Backends.Cpu;

// Batch norm in training: the forward is one statistics pass per channel and one normalising pass
// (ChannelAffine's), the backward one pass of per-channel sums and one input-gradient pass. The
// per-channel sums accumulate in float64, as PyTorch's CPU kernels do, because the input gradient
// subtracts nearly equal terms; the full-size passes run in the tensor's dtype. Channels are
// independent, so the sums run in parallel over channels; a channel's values are `outer` contiguous
// rows of `inner` elements, and the inner loops are vectorised along those rows.
public sealed partial class CpuBackend
{
    /// <inheritdoc />
    public (Storage Output, Storage Mean, Storage InvStd) BatchNormTraining(Storage x, Storage? weight, Storage? bias, Storage? runningMean, Storage? runningVar,
        int outer, int channels, int inner, double momentum, double eps) => x.DType switch
    {
        DType.Float32 => BatchNormTrainingOf(Data<float>(x), DataOrNull<float>(weight), DataOrNull<float>(bias), DataOrNull<float>(runningMean), DataOrNull<float>(runningVar), outer, channels, inner, momentum, eps),
        DType.Float64 => BatchNormTrainingOf(Data<double>(x), DataOrNull<double>(weight), DataOrNull<double>(bias), DataOrNull<double>(runningMean), DataOrNull<double>(runningVar), outer, channels, inner, momentum, eps),
        _ => throw new ArgumentException($"batch_norm: not defined for {x.DType.Name()} tensors"),
    };

    /// <inheritdoc />
    public (Storage? GradInput, Storage GradWeight, Storage GradBias) BatchNormTrainingBackward(Storage gradOutput, Storage x, Storage mean, Storage invStd, Storage? weight,
        int outer, int channels, int inner, bool inputGradient) => x.DType switch
    {
        DType.Float32 => BatchNormTrainingBackwardOf(Data<float>(gradOutput), Data<float>(x), Data<float>(mean), Data<float>(invStd), DataOrNull<float>(weight), outer, channels, inner, inputGradient),
        DType.Float64 => BatchNormTrainingBackwardOf(Data<double>(gradOutput), Data<double>(x), Data<double>(mean), Data<double>(invStd), DataOrNull<double>(weight), outer, channels, inner, inputGradient),
        _ => throw new ArgumentException($"batch_norm backward: not defined for {x.DType.Name()} tensors"),
    };

    private static T[]? DataOrNull<T>(Storage? storage) => storage is null ? null : Data<T>(storage);

    private static (Storage, Storage, Storage) BatchNormTrainingOf<T>(T[] x, T[]? weight, T[]? bias, T[]? runningMean, T[]? runningVar,
        int outer, int channels, int inner, double momentum, double eps) where T : struct, IFloatingPointIeee754<T>
    {
        long count = (long)outer * inner;
        if (count < 2) throw new ArgumentException($"batch_norm: expected more than 1 value per channel when training, got {count}");
        var mean = NewArray<T>(channels);
        var invStd = NewArray<T>(channels);
        var scale = new T[channels];
        var shift = new T[channels];
        ParallelRange(channels, count, (first, end) =>
        {
            for (int c = (int)first; c < end; c++)
            {
                var (channelMean, variance) = ChannelMoments(x, c, outer, channels, inner);
                double inverse = 1 / Math.Sqrt(variance + eps);
                double w = weight is null ? 1 : double.CreateChecked(weight[c]), b = bias is null ? 0 : double.CreateChecked(bias[c]);
                mean[c] = T.CreateChecked(channelMean);
                invStd[c] = T.CreateChecked(inverse);
                // y = x·scale + shift, the form PyTorch's CPU kernel and the inference path use.
                scale[c] = T.CreateChecked(w * inverse);
                shift[c] = T.CreateChecked(b - channelMean * w * inverse);
                if (runningMean is not null)
                    runningMean[c] = T.CreateChecked((1 - momentum) * double.CreateChecked(runningMean[c]) + momentum * channelMean);
                if (runningVar is not null)
                    runningVar[c] = T.CreateChecked((1 - momentum) * double.CreateChecked(runningVar[c]) + momentum * variance * count / (count - 1));
            }
        });
        return (Wrap(ChannelAffineOf(x, scale, shift, outer, channels, inner)), Wrap(mean), Wrap(invStd));
    }

    /// <summary>
    /// The mean and biased variance of channel <paramref name="c"/> in one pass, from sums of d = x - K
    /// and d² in float64 with K the channel's first value. Shifting by a sample keeps E[d²] - E[d]²
    /// from cancelling: (mean - K)² ≤ M·variance, so at worst M·(float64 epsilon) of the variance is
    /// lost, where E[x²] - E[x]² loses everything once |mean| ≫ std.
    /// </summary>
    private static (double Mean, double Variance) ChannelMoments<T>(T[] x, int c, int outer, int channels, int inner) where T : struct, IFloatingPointIeee754<T>
    {
        double shift = double.CreateChecked(x[(long)c * inner]);
        double sum = 0, sumSquares = 0;
        for (int o = 0; o < outer; o++)
        {
            AddShiftedMoments<T>(x.AsSpan((int)(((long)o * channels + c) * inner), inner), shift, ref sum, ref sumSquares);
        }
        long count = (long)outer * inner;
        double meanOffset = sum / count;
        return (shift + meanOffset, Math.Max(sumSquares / count - meanOffset * meanOffset, 0));
    }

    /// <summary>sum += Σ (v - shift), sumSquares += Σ (v - shift)², in float64, vectorised.</summary>
    private static void AddShiftedMoments<T>(ReadOnlySpan<T> row, double shift, ref double sum, ref double sumSquares) where T : struct, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (IsVectorizable<T>())
        {
            Vector<double> k = new(shift), sums = Vector<double>.Zero, squares = Vector<double>.Zero;
            for (; i <= row.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                LoadAsDoubles(row, i, out var low, out var high);
                low -= k;
                high -= k;
                sums += low + high;
                squares += low * low + high * high;
            }
            sum += Vector.Sum(sums);
            sumSquares += Vector.Sum(squares);
        }
        for (; i < row.Length; i++)
        {
            double d = double.CreateChecked(row[i]) - shift;
            sum += d;
            sumSquares += d * d;
        }
    }

    /// <summary>
    /// Elements [i, i + Vector&lt;float&gt;.Count) of a float32 or float64 span as two float64 vectors
    /// (float32 widened; float64 as two consecutive vectors), so one loop body serves both dtypes.
    /// </summary>
    private static void LoadAsDoubles<T>(ReadOnlySpan<T> values, int i, out Vector<double> low, out Vector<double> high) where T : struct
    {
        if (typeof(T) == typeof(float))
        {
            Vector.Widen(new Vector<float>(MemoryMarshal.Cast<T, float>(values).Slice(i, Vector<float>.Count)), out low, out high);
            return;
        }
        var doubles = MemoryMarshal.Cast<T, double>(values);
        low = new Vector<double>(doubles.Slice(i, Vector<double>.Count));
        high = new Vector<double>(doubles.Slice(i + Vector<double>.Count, Vector<double>.Count));
    }

    private static (Storage?, Storage, Storage) BatchNormTrainingBackwardOf<T>(T[] g, T[] x, T[] mean, T[] invStd, T[]? weight,
        int outer, int channels, int inner, bool inputGradient) where T : struct, IFloatingPointIeee754<T>
    {
        long count = (long)outer * inner;
        var gradWeight = NewArray<T>(channels);
        var gradBias = NewArray<T>(channels);
        // dx = w·invStd·(g - Σg/M - x̂·Σg·x̂/M) = g·gradScale - (x - mean)·centredScale + offset, per channel.
        var gradScale = new T[channels];
        var centredScale = new T[channels];
        var offset = new T[channels];
        ParallelRange(channels, count, (first, end) =>
        {
            for (int c = (int)first; c < end; c++)
            {
                double m = double.CreateChecked(mean[c]), inverse = double.CreateChecked(invStd[c]);
                double sumG = 0, sumGCentred = 0;
                for (int o = 0; o < outer; o++)
                {
                    int start = (int)(((long)o * channels + c) * inner);
                    AddGradientMoments<T>(g.AsSpan(start, inner), x.AsSpan(start, inner), m, ref sumG, ref sumGCentred);
                }
                double sumGNormalized = sumGCentred * inverse;
                gradBias[c] = T.CreateChecked(sumG);
                gradWeight[c] = T.CreateChecked(sumGNormalized);
                double k = (weight is null ? 1 : double.CreateChecked(weight[c])) * inverse;
                gradScale[c] = T.CreateChecked(k);
                centredScale[c] = T.CreateChecked(k * inverse * sumGNormalized / count);
                offset[c] = T.CreateChecked(-k * sumG / count);
            }
        });
        if (!inputGradient) return (null, Wrap(gradWeight), Wrap(gradBias));

        var gradInput = NewArray<T>(g.LongLength);
        ParallelRange((long)outer * channels, inner, (first, end) =>
        {
            for (long row = first; row < end; row++)
            {
                int c = (int)(row % channels);
                var gRow = g.AsSpan((int)(row * inner), inner);
                var xRow = x.AsSpan((int)(row * inner), inner);
                var dst = gradInput.AsSpan((int)(row * inner), inner);
                T a = gradScale[c], m = mean[c], p = centredScale[c], q = offset[c];
                int i = 0;
                if (IsVectorizable<T>())
                {
                    int width = Vector<T>.Count;
                    Vector<T> va = new(a), vm = new(m), vp = new(p), vq = new(q);
                    for (; i <= inner - width; i += width)
                        (new Vector<T>(gRow.Slice(i, width)) * va - (new Vector<T>(xRow.Slice(i, width)) - vm) * vp + vq).CopyTo(dst.Slice(i, width));
                }
                for (; i < inner; i++) dst[i] = gRow[i] * a - (xRow[i] - m) * p + q;
            }
        });
        return (Wrap(gradInput), Wrap(gradWeight), Wrap(gradBias));
    }

    /// <summary>sumG += Σ g, sumGCentred += Σ g·(x - mean), in float64, vectorised.</summary>
    private static void AddGradientMoments<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> x, double mean, ref double sumG, ref double sumGCentred) where T : struct, IFloatingPointIeee754<T>
    {
        int i = 0;
        if (IsVectorizable<T>())
        {
            Vector<double> m = new(mean), sums = Vector<double>.Zero, products = Vector<double>.Zero;
            for (; i <= g.Length - Vector<float>.Count; i += Vector<float>.Count)
            {
                LoadAsDoubles(g, i, out var gLow, out var gHigh);
                LoadAsDoubles(x, i, out var xLow, out var xHigh);
                sums += gLow + gHigh;
                products += gLow * (xLow - m) + gHigh * (xHigh - m);
            }
            sumG += Vector.Sum(sums);
            sumGCentred += Vector.Sum(products);
        }
        for (; i < g.Length; i++)
        {
            double gi = double.CreateChecked(g[i]);
            sumG += gi;
            sumGCentred += gi * (double.CreateChecked(x[i]) - mean);
        }
    }
}
