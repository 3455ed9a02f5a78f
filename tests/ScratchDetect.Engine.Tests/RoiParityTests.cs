namespace ScratchDetect.Engine.Tests;

/// <summary>RoI pooling and box ops against torchvision 0.14 (fixtures from tools/parity/roi.py).</summary>
public class RoiParityTests
{
    private static readonly ParityFixture Fixture = ParityFixture.Load("roi");

    // Tolerances. RoIAlign and RoIPool repeat torchvision's CPU kernels operation by operation in
    // float32, sample positions and bilinear weights included, and the backward passes add into
    // each cell in the same order: they agreed bit for bit when measured (tolerance 0); 1e-6
    // leaves room for a compiler that fuses a multiply-add. IoU and areas are a handful of float32 operations in
    // torchvision's order: 1e-6. NMS and small-box removal return indices: exact (0).
    private const double KernelTol = 1e-6, Exact = 0;

    private static readonly Dictionary<string, (Func<Tensor[], Tensor> Run, double Tol)> Cases = new()
    {
        ["roi_align_7x7_s2_unaligned"] = (x => Tensor.RoiAlign(x[0], x[1], 7, 7, 0.25, 2, aligned: false), KernelTol),
        ["roi_align_3x4_adaptive_aligned"] = (x => Tensor.RoiAlign(x[0], x[1], 3, 4, 0.25, -1, aligned: true), KernelTol),
        ["roi_align_2x2_adaptive_unaligned"] = (x => Tensor.RoiAlign(x[0], x[1], 2, 2, 0.5, 0, aligned: false), KernelTol),
        ["roi_align_5x5_s3_aligned_scale_eighth"] = (x => Tensor.RoiAlign(x[0], x[1], 5, 5, 0.125, 3, aligned: true), KernelTol),
        ["roi_align_float64"] = (x => Tensor.RoiAlign(x[0], x[1], 3, 4, 0.25, -1, aligned: true), 1e-12),
        ["roi_align_box_list"] = (x => Tensor.RoiAlign(x[0], [x[1], x[2]], 2, 3, 0.25, 2, aligned: false), KernelTol),
        ["roi_pool_2x2"] = (x => Tensor.RoiPool(x[0], x[1], 2, 2, 0.25), KernelTol),
        ["roi_pool_7x7_scale_half"] = (x => Tensor.RoiPool(x[0], x[1], 7, 7, 0.5), KernelTol),
        ["box_iou"] = (x => Tensor.BoxIou(x[0], x[1]), KernelTol),
        ["box_area"] = (x => Tensor.BoxArea(x[0]), KernelTol),
        ["nms_0.5"] = (x => Tensor.Nms(x[0], x[1], 0.5), Exact),
        ["nms_0.7"] = (x => Tensor.Nms(x[0], x[1], 0.7), Exact),
        ["nms_ties"] = (x => Tensor.Nms(x[0], x[1], 0.5), Exact),
        ["batched_nms"] = (x => Tensor.BatchedNms(x[0], x[1], x[2], 0.5), Exact),
        ["batched_nms_class_loop_path"] = (x => Tensor.BatchedNms(x[0], x[1], x[2], 0.6), Exact),
        ["clip_boxes_to_image"] = (x => Tensor.ClipBoxesToImage(x[0], 40, 60), KernelTol),
        ["remove_small_boxes"] = (x => Tensor.RemoveSmallBoxes(x[0], 8.0), Exact),
    };

    public static TheoryData<string> CaseNames() => new(Fixture.CaseNames);

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void MatchesTorchvision(string name)
    {
        Assert.True(Cases.ContainsKey(name), $"fixture case '{name}' has no C# counterpart");
        var (run, tol) = Cases[name];
        Fixture.Check(name, run, tol, tol);
    }

    [Fact]
    public void EveryCaseHasAFixture() => Assert.Empty(Cases.Keys.Except(Fixture.CaseNames));
}
