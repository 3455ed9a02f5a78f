namespace ScratchDetect.Engine.Tests;

/// <summary>The frozen batch norm kernel and the error messages of batch norm (PyTorch parity is in BatchNormParityTests).</summary>
public class BatchNormTests
{
    [Theory, OnCpu, OnCuda]
    public void FrozenBatchNormMatchesAScalarLoopAtEveryLength(DeviceKind kind)
    {
        // Frozen batch norm over [2, 2, 1, n] for n = 0..256 (every vector tail of the per-channel
        // affine kernel): x·scale + shift with scale = w / sqrt(v + eps) and shift = b - m·scale,
        // each step rounded in float64 as the loop below rounds it, so bitwise equal.
        var device = TestDevices.Of(kind);
        double[] w = [1.5, -0.5], b = [0.25, 2], m = [0.1, -0.3], v = [0.9, 2.5];
        Tensor Channel(double[] values) => Tensor.FromArray(values, [2], device);
        for (int n = 0; n <= 256; n++)
        {
            var g = new Generator((ulong)n + 17);
            var x = Enumerable.Range(0, 4 * n).Select(_ => Math.Round(g.NextDouble() * 8 - 4, 3)).ToArray();
            var y = Tensor.FrozenBatchNorm2d(Tensor.FromArray(x, [2, 2, 1, n], device), Channel(w), Channel(b), Channel(m), Channel(v)).ToArray<double>();
            var expected = x.Select((value, i) =>
            {
                int c = i / n % 2;
                double scale = w[c] * (1 / Math.Sqrt(v[c] + 1e-5));
                return value * scale + (b[c] + -m[c] * scale);
            });
            Assert.Equal(expected, y);
        }
    }

    [Theory, OnCpu, OnCuda]
    public void BatchNormTrainingNeedsMoreThanOneValuePerChannel(DeviceKind kind)
    {
        var e = Assert.Throws<ArgumentException>(() => Tensor.BatchNorm(Tensor.Zeros([1, 3], device: TestDevices.Of(kind)), null, null, training: true));
        Assert.Contains("more than 1 value per channel", e.Message);
        Assert.Contains("[1, 3]", e.Message);
    }

    [Theory, OnCpu, OnCuda]
    public void BatchNormRejectsStatisticsOfTheWrongLength(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var e = Assert.Throws<ArgumentException>(() => Tensor.BatchNorm(Tensor.Zeros([2, 3, 2, 2], device: device), Tensor.Zeros([4], device: device), Tensor.Ones([4], device: device)));
        Assert.Contains("running_mean [4] must be [3]", e.Message);
    }
}
