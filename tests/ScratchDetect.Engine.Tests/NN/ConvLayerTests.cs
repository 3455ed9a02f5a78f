using ScratchDetect.Engine.NN;

namespace ScratchDetect.Engine.Tests.NN;

/// <summary>State names, initialisation and running statistics of Conv2d, BatchNorm2d, FrozenBatchNorm2d and MaxPool2d; their forward passes on every device.</summary>
public class ConvLayerTests
{
    [Theory, OnCpu, OnCuda]
    public void Conv2dHasPyTorchNamesShapesAndInitBounds(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var conv = new Conv2d(4, 6, (3, 2), new Generator(1), groups: 2);
        Assert.Equal(["weight", "bias"], conv.StateDict().Keys);
        Assert.Equal([6, 2, 3, 2], conv.Weight.Shape);
        // fan_in = in/groups · kh · kw = 2·3·2 = 12: weight and bias are uniform within ±1/√12.
        double bound = 1 / Math.Sqrt(12);
        Assert.All(conv.Weight.ToArray<float>(), v => Assert.InRange(v, -bound, bound));
        Assert.All(conv.Bias!.ToArray<float>(), v => Assert.InRange(v, -bound, bound));
        Assert.Equal([1, 6, 5, 3], conv.To(device).Forward(Tensor.Zeros([1, 4, 7, 4], device: device)).Shape);
        Assert.Null(new Conv2d(2, 2, 1, new Generator(1), bias: false).Bias);
    }

    [Fact]
    public void BatchNorm2dStateMatchesPyTorch()
    {
        var bn = new BatchNorm2d(3);
        Assert.Equal(["weight", "bias", "running_mean", "running_var", "num_batches_tracked"], bn.StateDict().Keys);
        Assert.Equal(["weight", "bias"], bn.NamedParameters().Select(p => p.Key));
        Assert.Equal(DType.Int64, bn.NumBatchesTracked!.DType);
        Assert.Empty(bn.NumBatchesTracked.Shape);
        Assert.Empty(new BatchNorm2d(3, affine: false, trackRunningStats: false).StateDict());
    }

    [Theory, OnCpu, OnCuda]
    public void BatchNorm2dUpdatesRunningStatisticsOnlyInTraining(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        // One channel holding 1, 2, 3, 4: mean 2.5, unbiased variance (2.25 + 0.25 + 0.25 + 2.25) / 3 = 5/3.
        // Momentum 0.1 from mean 0, var 1: running_mean 0.25, running_var 0.9 + 0.1·5/3 = 1.0666667.
        var bn = new BatchNorm2d(1).To(device);
        var x = Tensor.FromArray(new float[] { 1, 2, 3, 4 }, [2, 1, 1, 2], device);
        bn.Forward(x);
        Assert.Equal(0.25, bn.RunningMean!.ToArray<float>()[0], tolerance: 1e-6); // float32 rounding
        Assert.Equal(1.0666667, bn.RunningVar!.ToArray<float>()[0], tolerance: 1e-6);
        Assert.Equal(1L, bn.NumBatchesTracked!.ToArray<long>()[0]);

        // Evaluation normalises with the running statistics and leaves them alone: (4 - 0.25) / sqrt(1.0666667 + 1e-5).
        bn.Eval();
        var y = bn.Forward(x).ToArray<float>();
        Assert.Equal((4 - 0.25) / Math.Sqrt(1.0666667 + 1e-5), y[3], tolerance: 1e-5); // float32 rounding of O(1) values: ~1e-6
        Assert.Equal(1L, bn.NumBatchesTracked.ToArray<long>()[0]);
        Assert.Equal(0.25, bn.RunningMean.ToArray<float>()[0], tolerance: 1e-6);
    }

    [Theory, OnCpu, OnCuda]
    public void BatchNorm2dWithoutMomentumKeepsTheCumulativeAverage(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        // Batch means 2.5 and 10: momentum 1/1 then 1/2 gives (2.5 + 10) / 2 = 6.25, PyTorch's cumulative moving average.
        var bn = new BatchNorm2d(1, momentum: null).To(device);
        bn.Forward(Tensor.FromArray(new float[] { 1, 2, 3, 4 }, [2, 1, 1, 2], device));
        bn.Forward(Tensor.FromArray(new float[] { 9, 10, 11, 10 }, [2, 1, 1, 2], device));
        Assert.Equal(6.25, bn.RunningMean!.ToArray<float>()[0], tolerance: 1e-6); // float32 rounding
        Assert.Equal(2L, bn.NumBatchesTracked!.ToArray<long>()[0]);
    }

    [Theory, OnCpu, OnCuda]
    public void FrozenBatchNorm2dHasOnlyBuffers(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var frozen = new FrozenBatchNorm2d(2);
        Assert.Empty(frozen.Parameters());
        Assert.Equal(["weight", "bias", "running_mean", "running_var"], frozen.StateDict().Keys);
        // weight 2, bias 1, mean 3, var 4 - eps: y = (x - 3)·2/sqrt(4) + 1 = x - 2 for x = 5 → 3 (both channels alike).
        frozen.LoadStateDict(new Dictionary<string, Tensor>
        {
            ["weight"] = Tensor.Full([2], 2), ["bias"] = Tensor.Ones([2]),
            ["running_mean"] = Tensor.Full([2], 3), ["running_var"] = Tensor.Full([2], 4 - 1e-5),
        });
        Assert.All(frozen.To(device).Forward(Tensor.Full([1, 2, 1, 1], 5, device: device)).ToArray<float>(), v => Assert.Equal(3, v, tolerance: 1e-6)); // float32 rounding
    }

    [Theory, OnCpu, OnCuda]
    public void MaxPool2dDefaultsTheStrideToTheKernel(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var pool = new MaxPool2d(3, padding: 1, ceilMode: true);
        Assert.Equal(new Size2d(3, 3), pool.Stride);
        Assert.Empty(pool.StateDict());
        // 8 + 2 - 2 - 1 = 7: ceil(7 / 3) + 1 = 4, but the 4th window would start at 3·3 - 1 = 8 = H, in the right padding only: 3.
        Assert.Equal([1, 1, 3, 3], pool.Forward(Tensor.Zeros([1, 1, 8, 8], device: device)).Shape);
    }
}
