using ScratchDetect.Engine.Optim;

namespace ScratchDetect.Engine.Tests.Optim;

/// <summary>Schedule factors against hand-computed values (torch's closed forms).</summary>
public class LrScheduleTests
{
    private static double[] Factors(ILrSchedule schedule, int count) =>
        Enumerable.Range(0, count).Select(step => Math.Round(schedule.Factor(step), 12)).ToArray();

    [Fact]
    public void LinearWarmupRisesToOne()
    {
        // 0.1 + 0.9·k/4 for k < 4, then 1.
        Assert.Equal([0.1, 0.325, 0.55, 0.775, 1, 1], Factors(new LinearWarmup(0.1, 4), 6));
        Assert.Equal([1, 1], Factors(new LinearWarmup(0.5, 0), 2));
    }

    [Fact]
    public void MultiStepDecaysAtEachMilestone()
    {
        var decay = new MultiStepLR([8, 6], gamma: 0.1);
        Assert.Equal([6, 8], decay.Milestones);
        Assert.Equal([1, 0.1, 0.1, 0.01, 0.01], new[] { 5, 6, 7, 8, 100 }.Select(s => Math.Round(decay.Factor(s), 12)));
        Assert.Equal(0.25, new MultiStepLR([3, 3], gamma: 0.5).Factor(3)); // a repeated milestone counts twice
    }

    [Fact]
    public void ChainedScheduleMultiplies()
    {
        var schedule = new ChainedSchedule(new LinearWarmup(0.1, 4), new MultiStepLR([2, 6], gamma: 0.1));
        // step 1: 0.325·1; step 2: 0.55·0.1; step 4: 1·0.1; step 6: 1·0.01
        Assert.Equal([0.1, 0.325, 0.055, 0.0775, 0.1, 0.1, 0.01], Factors(schedule, 7));
    }

    [Fact]
    public void DetectionReferenceScheduleWarmsUpInTheFirstEpochOnly()
    {
        var warmup = WarmupThenMultiStep.ReferenceWarmup(iterationsPerEpoch: 500);
        Assert.Equal((0.001, 499), (warmup.StartFactor, warmup.Iterations)); // min(1000, 500 - 1)
        Assert.Equal(1000, WarmupThenMultiStep.ReferenceWarmup(5000).Iterations);

        var schedule = new WarmupThenMultiStep(warmup, new MultiStepLR([16, 22], gamma: 0.1));
        Assert.Equal(0.001, schedule.Factor(0, 0), 12);
        Assert.Equal(0.001 + 0.999 * 250 / 499, schedule.Factor(0, 250), 12);
        Assert.Equal(1, schedule.Factor(0, 499), 12);
        Assert.Equal(1, schedule.Factor(1, 0), 12);      // no warm-up after epoch 0
        Assert.Equal(0.1, schedule.Factor(16, 0), 12);
        Assert.Equal(0.01, schedule.Factor(22, 3), 12);
    }

    [Fact]
    public void RejectsInvalidWarmup()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinearWarmup(0, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinearWarmup(1.5, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LinearWarmup(0.1, -1));
    }
}
