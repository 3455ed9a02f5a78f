using System.Numerics;
using System.Runtime.CompilerServices;

namespace ScratchDetect.Engine.Backends.Cpu;

/// <summary>
/// The forward 3x3 stride-1 convolution by Winograd's F(2x2, 3x3) (Lavin and Gray 2015), the
/// accurate sibling of F(4x4, 3x3) (Winograd.cs, whose kernels run both with their transforms as a
/// type argument): 2x2 output tiles from 4x4 input patches d,
/// <code>Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A,
/// Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1],  G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1],  Aᵀ = [1 1 1 0; 0 1 -1 -1]</code>
/// 16 products per tile instead of 36 (2.25x fewer multiplications than the direct sum, against
/// F(4x4)'s 4x), as 16 GEMMs M[ξ] (tiles x O) = V[ξ]ᵀ · U[ξ] over the input channels. Every entry of
/// the three matrices is 0, ±1 or ±½ (exact in binary), so the transforms only add: the rounding
/// stays of the direct sum's order (measured up to 1.4e-7 of Σ|x·w|, WinogradF2Tests), where
/// F(4x4)'s larger entries amplify it about tenfold (1.6e-6 at the forward pass's points, 3.4e-6 at
/// 0, ±1, ±2; see Winograd.cs).
/// <para>
/// This is the float32 forward pass of 3x3 stride-1 convolutions with more than 128 input channels
/// (see <see cref="Conv2d"/>): there F(4x4) is barely faster, and F(2x2)'s rounding keeps deep
/// networks' detections and gradients at the direct sum's distance from torchvision's.
/// </para>
/// </summary>
public sealed partial class CpuBackend
{
    /// <summary>The forward 3x3 stride-1 convolution by F(2x2, 3x3), output [N, O, OutH, OutW], the bias added and relu(output) with <paramref name="relu"/> in the output transform.</summary>
    internal static float[] WinogradF2ConvForward(float[] input, float[] weight, float[]? bias, Conv2dGeometry g, bool relu = false) =>
        WinogradForward<F2x2Transforms>(input, weight, bias, g, relu, WinogradKernels.Forward);

    /// <summary>F(2x2, 3x3): the interpolation points 0, ±1 and ∞, whose matrices hold only 0, ±1 and ±½.</summary>
    private readonly struct F2x2Transforms : IWinogradTransforms
    {
        /// <inheritdoc />
        public static int Out => 2;

        /// <inheritdoc />
        public static int In => 4;

        /// <inheritdoc />
        public static int Points => 16;

        /// <summary>G·(g0, g1, g2) = (g0, (g0 + g1 + g2)/2, (g0 - g1 + g2)/2, g2), written at target[start + k·stride].</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Kernel(Vector<float> g0, Vector<float> g1, Vector<float> g2, Span<Vector<float>> target, int start, int stride)
        {
            var outer = g0 + g2;
            target[start] = g0;
            target[start + stride] = (outer + g1) * 0.5f;
            target[start + 2 * stride] = (outer - g1) * 0.5f;
            target[start + 3 * stride] = g2;
        }

        /// <summary>Bᵀ·(d0..d3) = (d0 - d2, d1 + d2, d2 - d1, d1 - d3) in place on values[start + k·stride].</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Input(Span<Vector<float>> values, int start, int stride)
        {
            var d0 = values[start];
            var d1 = values[start + stride];
            var d2 = values[start + 2 * stride];
            var d3 = values[start + 3 * stride];
            values[start] = d0 - d2;
            values[start + stride] = d1 + d2;
            values[start + 2 * stride] = d2 - d1;
            values[start + 3 * stride] = d1 - d3;
        }

        /// <summary>Aᵀ·(m0..m3) = (m0 + m1 + m2, m1 - m2 - m3) in place on values[start + k·stride] (k = 0, 1).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Output(Span<Vector<float>> values, int start, int stride)
        {
            var m0 = values[start];
            var m1 = values[start + stride];
            var m2 = values[start + 2 * stride];
            var m3 = values[start + 3 * stride];
            values[start] = m0 + m1 + m2;
            values[start + stride] = m1 - m2 - m3;
        }
    }
}
