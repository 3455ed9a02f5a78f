using ScratchDetect.Engine;

namespace ScratchDetect.Models.Tests;

/// <summary>BoxCoder against hand calculations (torchvision 0.14's _utils.BoxCoder formulas).</summary>
public class BoxCoderTests
{
    // Reference (proposal) [0, 0, 10, 20]: centre (5, 10), size 10 x 20.
    // Target [2, 4, 22, 14]: centre (12, 9), size 20 x 10.
    private static readonly Tensor Reference = Boxes([0, 0, 10, 20]);
    private static readonly Tensor Target = Boxes([2, 4, 22, 14]);

    private static Tensor Boxes(params float[] coordinates) => Tensor.FromArray(coordinates, coordinates.Length / 4, 4);

    // Codes: (wx·(12-5)/10, wy·(9-10)/20, ww·ln(20/10), wh·ln(10/20)).
    // Weights (1, 1, 1, 1): (0.7, -0.05, ln 2, -ln 2); (10, 10, 5, 5): (7, -0.5, 5 ln 2, -5 ln 2).
    [Theory]
    [InlineData(1, 1, 1, 1, 0.7, -0.05, 0.69314718, -0.69314718)]
    [InlineData(10, 10, 5, 5, 7.0, -0.5, 3.4657359, -3.4657359)]
    public void EncodeMatchesHandCalculation(double wx, double wy, double ww, double wh, double dx, double dy, double dw, double dh)
    {
        var codes = new BoxCoder(wx, wy, ww, wh).Encode(Target, Reference);
        // float32 arithmetic on values of a few units: 1e-6 absolute is a few ulps.
        TensorAssert.Close(Tensor.FromArray(new[] { dx, dy, dw, dh }, 1, 4), codes, 1e-6, 1e-6, "encode");
    }

    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(10, 10, 5, 5)]
    public void DecodeInvertsEncode(double wx, double wy, double ww, double wh)
    {
        var generator = new Generator(7);
        // Random boxes with sizes in [5, 100): size ratios stay below 20, well inside the exp(4.135) = 62.5 clamp.
        Tensor RandomBoxes()
        {
            var corner = Tensor.Uniform([50, 2], -100, 100, generator);
            var size = Tensor.Uniform([50, 2], 5, 100, generator);
            return Tensor.Cat([corner, corner + size], 1);
        }
        var references = RandomBoxes();
        var targets = RandomBoxes();
        var coder = new BoxCoder(wx, wy, ww, wh);
        var decoded = coder.Decode(coder.Encode(targets, references), references);
        // float32 round trip through log/exp of coordinates up to 200: ~1e-5 relative error.
        TensorAssert.Close(targets.Unsqueeze(1), decoded, 1e-4, 1e-5, "decode(encode(targets))");
    }

    [Fact]
    public void DecodeGivesOneBoxPerClassColumn()
    {
        var coder = new BoxCoder(10, 10, 5, 5);
        // Class 0: zero codes (the reference itself); class 1: the codes of Target (7, -0.5, 5 ln 2, -5 ln 2).
        var codes = Tensor.FromArray(new[] { 0f, 0f, 0f, 0f, 7f, -0.5f, 3.4657359f, -3.4657359f }, 1, 8);
        var decoded = coder.Decode(codes, Reference);
        var expected = Tensor.FromArray(new[] { 0f, 0f, 10f, 20f, 2f, 4f, 22f, 14f }, 1, 2, 4);
        TensorAssert.Close(expected, decoded, 1e-5, 1e-6, "decode [1, 8] codes"); // float32 on values ~20
    }

    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(10, 10, 5, 5)]
    public void DecodeClampsSizeCodesAtLog1000Over16(double wx, double wy, double ww, double wh)
    {
        // Size codes of 100 (before the weights) would give exp(100) ≈ 2.7e43; the clamp at
        // log(1000/16) limits the growth to 62.5x: width 10 → 625, height 20 → 1250 around the
        // unchanged centre (5, 10): [5 - 312.5, 10 - 625, 5 + 312.5, 10 + 625].
        var codes = Tensor.FromArray(new[] { 0f, 0f, (float)(100 * ww), (float)(100 * wh) }, 1, 4);
        var decoded = new BoxCoder(wx, wy, ww, wh).Decode(codes, Reference);
        // exp(4.1351666) in float32 is 62.5 to ~1e-6 relative; on 1250 that is ~1e-3.
        TensorAssert.Close(Tensor.FromArray(new[] { -307.5f, -615f, 317.5f, 635f }, 1, 1, 4), decoded, 2e-3, 1e-6, "clamped decode");
    }

    [Fact]
    public void ClampIsLog1000Over16() => Assert.Equal(BoxCoder.DefaultXformClip, Math.Log(1000.0 / 16), 15);

    [Fact]
    public void EmptyInputsGiveEmptyOutputs()
    {
        var coder = new BoxCoder(10, 10, 5, 5);
        var none = Tensor.Zeros([0, 4]);
        Assert.Equal([0, 4], coder.Encode(none, none).Shape);
        Assert.Equal([0, 1, 4], coder.Decode(none, none).Shape);
        Assert.Equal([0, 3, 4], coder.Decode(Tensor.Zeros([0, 12]), none).Shape);
    }
}
