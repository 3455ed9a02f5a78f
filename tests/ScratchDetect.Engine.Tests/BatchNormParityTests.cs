namespace ScratchDetect.Engine.Tests;

/// <summary>Batch norm (training, running statistics, evaluation) and frozen batch norm against PyTorch 1.13 / torchvision 0.14 (fixtures from tools/parity/batch_norm.py).</summary>
public class BatchNormParityTests : ParityTests<BatchNormParityTests>, IParityFamily
{
    public static string Family => "batch_norm";

    // PyTorch accumulates the statistics in double, we in float32 over up to 100 elements per
    // channel (float32 epsilon 6e-8, inputs O(1)); the backward divides by the standard deviation: 1e-5.
    private const double NormTol = 1e-5;

    public static IReadOnlyDictionary<string, (Func<Tensor[], Tensor> Run, double Tolerance)> Cases { get; } = new Dictionary<string, (Func<Tensor[], Tensor>, double)>
    {
        ["bn_train_affine"] = (x => Tensor.BatchNorm(x[0], null, null, x[1], x[2], training: true), NormTol),
        ["bn_train_no_affine"] = (x => Tensor.BatchNorm(x[0], null, null, training: true, eps: 1e-3), NormTol),
        ["bn_running_stats"] = (x => RunningStatsAfterTraining(x, 0.1), NormTol),
        ["bn_running_stats_momentum_0_3"] = (x => RunningStatsAfterTraining(x, 0.3), NormTol),
        ["bn_eval"] = (x => Tensor.BatchNorm(x[0], x[3], x[4], x[1], x[2]), NormTol),
        ["frozen_bn"] = (x => Tensor.FrozenBatchNorm2d(x[0], x[1], x[2], x[3], x[4]), NormTol),
    };

    /// <summary>The running mean and variance (stacked) after one training-mode batch norm on copies of the fixture's.</summary>
    private static Tensor RunningStatsAfterTraining(Tensor[] x, double momentum)
    {
        var (runningMean, runningVar) = (x[1].Clone(), x[2].Clone());
        Tensor.BatchNorm(x[0], runningMean, runningVar, training: true, momentum: momentum);
        return Tensor.Stack([runningMean, runningVar]);
    }
}
