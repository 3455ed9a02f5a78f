using ScratchDetect.Engine.Diagnostics;

namespace ScratchDetect.Engine.Tests;

/// <summary>Runs every case of the gradcheck catalog on every device, and shows the checker catches a wrong gradient.</summary>
public class GradCheckTests
{
    /// <summary>The cases by their "op (configuration)" names, unique (see <see cref="CatalogNamesAreUniquePerConfiguration"/>).</summary>
    public static TheoryData<string> CaseNames() => new(GradCheckCatalog.All.Select(c => c.ToString()));

    [Theory, OnCpu(nameof(CaseNames)), OnCuda(nameof(CaseNames))]
    public void GradientMatchesCentralDifferences(string name, DeviceKind kind)
    {
        var check = GradCheckCatalog.All.Single(c => c.ToString() == name);
        var result = check.Run(seed: 0, TestDevices.Of(kind));
        Assert.True(result.Passed, $"{check}: max abs {result.MaxAbsError:E2}, max rel {result.MaxRelError:E2}; worst {result.Worst}");
    }

    [Fact]
    public void DetectsAWrongGradient()
    {
        // d(x^2)/dx is 2x; this op claims 3x, which the checker must reject.
        static Tensor WrongSquare(Tensor x) => Tensor.Record("wrong_square", (x * x).Detach(), [x], saves: [x], g => [g * x * 3]);
        var input = Tensor.FromArray(new[] { 0.5, -1.0, 2.0 }, 3).RequireGrad();
        var result = GradCheck.Check(x => WrongSquare(x[0]), [input]);
        Assert.False(result.Passed);
        Assert.True(result.MaxAbsError > 0.1, $"max abs error {result.MaxAbsError}");
    }

    [Fact]
    public void CatalogNamesAreUniquePerConfiguration() =>
        Assert.Equal(GradCheckCatalog.All.Count, GradCheckCatalog.All.Select(c => c.ToString()).Distinct().Count());
}
