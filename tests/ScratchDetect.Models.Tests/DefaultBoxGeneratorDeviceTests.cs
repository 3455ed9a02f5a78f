using ScratchDetect.Engine;

namespace ScratchDetect.Models.Tests;

/// <summary>Default boxes are built on the requested device and cached per sizes, dtype and device (their values are checked in DefaultBoxGeneratorTests).</summary>
public class DefaultBoxGeneratorDeviceTests
{
    private static readonly (int, int)[] Ssd300Grids = [(38, 38), (19, 19), (10, 10), (5, 5), (3, 3), (1, 1)];

    [Theory, OnCpu, OnCuda]
    public void BoxesAreBuiltOnTheDeviceOncePerSizeAndDType(DeviceKind kind)
    {
        var device = TestDevices.Of(kind);
        var generator = DefaultBoxGenerator.Ssd300();
        var boxes = generator.Generate(Ssd300Grids, (300, 300), DType.Float32, device);
        Assert.Equal(device, boxes.Device);
        Assert.Equal([8732, 4], boxes.Shape);
        Assert.Same(boxes, generator.Generate(Ssd300Grids, (300, 300), DType.Float32, device));
        // Another dtype or image size is another entry. The boxes are computed in float32 (as torchvision)
        // and then converted, so the float64 entry holds exactly the float32 values.
        var asDouble = generator.Generate(Ssd300Grids, (300, 300), DType.Float64, device);
        Assert.NotSame(boxes, asDouble);
        Assert.Equal(boxes.To(Device.Cpu).To(DType.Float64).ToArray<double>(), asDouble.To(Device.Cpu).ToArray<double>());
        Assert.NotSame(boxes, generator.Generate(Ssd300Grids, (600, 600), DType.Float32, device));
    }
}
