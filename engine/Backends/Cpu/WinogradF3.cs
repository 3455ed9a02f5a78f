using System.Numerics;
using System.Runtime.CompilerServices;

namespace ScratchDetect.Engine.Backends.Cpu;

/// <summary>
/// The forward 3x3 stride-1 convolution by Winograd's F(3x3, 3x3) (Lavin and Gray 2015; Cook and
/// Toom's construction as for F(4x4) in Winograd.cs, whose kernels run it with these transforms as
/// the type argument): 3x3 output tiles from 5x5 input patches d at the points 0, 1, -1, ½ and ∞,
/// <code>Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A,
/// Aᵀ = [1 1 1 1 0; 0 1 -1 ½ 0; 0 1 1 ¼ 1],
/// G = [2 0 0; 1 1 1; -⅓ ⅓ -⅓; -8/3 -4/3 -2/3; 0 0 1],
/// Bᵀ = [½ -1 -½ 1 0; 0 -½ ½ 1 0; 0 ½ -3/2 1 0; 0 -1 0 1 0; 0 ½ -1 -½ 1]</code>
/// (Bᵀ solved so that the algorithm is exact). 25 products per 9 outputs: 3.24x fewer multiplications
/// than the direct sum, between F(2x2)'s 2.25x and F(4x4)'s 4x. Aᵀ's and Bᵀ's entries are dyadic and
/// at most 3/2, so the transforms round little; what remains is the transformed domain's own
/// rounding, about 3.5 times F(2x2)'s in relative L2 in a float32 simulation of 256- and 512-channel
/// layers (F(4x4) at its points 0, ±1, ½, -2, ∞: about 4.2 times).
/// </summary>
public sealed partial class CpuBackend
{
    /// <summary>The forward 3x3 stride-1 convolution by F(3x3, 3x3), output [N, O, OutH, OutW], the bias added and relu(output) with <paramref name="relu"/> in the output transform.</summary>
    internal static float[] WinogradF3ConvForward(float[] input, float[] weight, float[]? bias, Conv2dGeometry g, bool relu = false) =>
        WinogradForward<F3x3Transforms>(input, weight, bias, g, relu);

    /// <summary>F(3x3, 3x3) at the interpolation points 0, 1, -1, ½ and ∞.</summary>
    private readonly struct F3x3Transforms : IWinogradTransforms
    {
        /// <inheritdoc />
        public static int Out => 3;

        /// <inheritdoc />
        public static int In => 5;

        /// <inheritdoc />
        public static int Points => 25;

        /// <summary>G·(g0, g1, g2): the 5 kernel values at the points 0, 1, -1, ½, ∞, written at target[start + k·stride].</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Kernel(Vector<float> g0, Vector<float> g1, Vector<float> g2, Span<Vector<float>> target, int start, int stride)
        {
            var outer = g0 + g2;
            target[start] = g0 * 2f;
            target[start + stride] = outer + g1;
            target[start + 2 * stride] = (outer - g1) * (-1f / 3);
            target[start + 3 * stride] = (g0 * 4f + g1 * 2f + g2) * (-2f / 3);
            target[start + 4 * stride] = g2;
        }

        /// <summary>Bᵀ·(d0..d4) in place on values[start + k·stride]: the patch at the points 0, 1, -1, ½, ∞.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Input(Span<Vector<float>> values, int start, int stride)
        {
            var d0 = values[start];
            var d1 = values[start + stride];
            var d2 = values[start + 2 * stride];
            var d3 = values[start + 3 * stride];
            var d4 = values[start + 4 * stride];
            var diff31 = d3 - d1;
            values[start] = (d0 - d2) * 0.5f + diff31;
            values[start + stride] = (d2 - d1) * 0.5f + d3;
            values[start + 2 * stride] = d1 * 0.5f - d2 * 1.5f + d3;
            values[start + 3 * stride] = diff31;
            values[start + 4 * stride] = (d1 - d3) * 0.5f - d2 + d4;
        }

        /// <summary>Aᵀ·(m0..m4) in place on values[start + k·stride] (k = 0..2): the 3 outputs from the 5 points.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Output(Span<Vector<float>> values, int start, int stride)
        {
            var m0 = values[start];
            var m1 = values[start + stride];
            var m2 = values[start + 2 * stride];
            var m3 = values[start + 3 * stride];
            var m4 = values[start + 4 * stride];
            var sum12 = m1 + m2;
            values[start] = m0 + sum12 + m3;
            values[start + stride] = m1 - m2 + m3 * 0.5f;
            values[start + 2 * stride] = sum12 + m3 * 0.25f + m4;
        }
    }
}
