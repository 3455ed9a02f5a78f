using ScratchDetect.Engine;

namespace ScratchDetect.Testing;

/// <summary>One family of PyTorch parity cases: the fixture's name and, per case, our function and its tolerance.</summary>
public interface IParityFamily
{
    /// <summary>The fixture file's name, tests/fixtures/parity/&lt;family&gt;.safetensors.</summary>
    static abstract string Family { get; }

    /// <summary>Per case: our implementation and the tolerance (absolute and relative) with which it must match.</summary>
    static abstract IReadOnlyDictionary<string, (Func<Tensor[], Tensor> Run, double Tolerance)> Cases { get; }
}

/// <summary>
/// The parity tests of a family: every fixture case is replayed on our engine (output and input
/// gradients compared) on every device, and every C# case must have a fixture, so neither side can drift silently.
/// A family's test class derives from this with itself as <typeparamref name="TFamily"/>.
/// </summary>
public abstract class ParityTests<TFamily> where TFamily : IParityFamily
{
    private static readonly Lazy<ParityFixture> Fixture = new(() => ParityFixture.Load(TFamily.Family));

    public static TheoryData<string> CaseNames() => new(Fixture.Value.CaseNames);

    [Theory, OnCpu(nameof(CaseNames)), OnCuda(nameof(CaseNames))]
    public void MatchesPyTorch(string name, DeviceKind kind)
    {
        Assert.True(TFamily.Cases.ContainsKey(name), $"fixture case '{name}' has no C# counterpart");
        var (run, tolerance) = TFamily.Cases[name];
        Fixture.Value.Check(name, run, tolerance, tolerance, TestDevices.Of(kind));
    }

    [Fact]
    public void EveryCaseHasAFixture() => Assert.Empty(TFamily.Cases.Keys.Except(Fixture.Value.CaseNames));
}
