namespace ScratchDetect.Engine.Tests;

public class GeneratorTests
{
    /// <summary>
    /// Seeding from 0 fills the state with the first four outputs of SplitMix64 (Vigna's splitmix64.c)
    /// from x = 0, computed with this Python transcription of it:
    /// <code>
    /// x = (x + 0x9E3779B97F4A7C15) % 2**64; z = x
    /// z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) % 2**64
    /// z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) % 2**64; return z ^ (z >> 31)
    /// </code>
    /// </summary>
    [Fact]
    public void SeedingFollowsSplitMix64()
    {
        var generator = new Generator(0);
        Assert.Equal([0xE220A8397B1DCDAFUL, 0x6E789E6AA1B965F4UL, 0x06C45D188009454FUL, 0xF88BB8A8724C81ECUL], generator.SaveState());
    }

    [Fact]
    public void RestoredStateContinuesTheSequence()
    {
        var original = new Generator(1234);
        for (int i = 0; i < 17; i++) original.NextUInt64();
        var restored = Generator.FromState(original.SaveState());
        var expected = Enumerable.Range(0, 100).Select(_ => original.NextUInt64()).ToArray();
        Assert.Equal(expected, Enumerable.Range(0, 100).Select(_ => restored.NextUInt64()).ToArray());
    }

    [Fact]
    public void SavedStateIsACopy()
    {
        var generator = new Generator(5);
        var state = generator.SaveState();
        generator.NextUInt64();
        Assert.NotEqual(state, generator.SaveState());
    }

    [Fact]
    public void RejectsImpossibleStates()
    {
        Assert.Contains("4 words", Assert.Throws<ArgumentException>(() => Generator.FromState([1, 2, 3])).Message);
        Assert.Contains("zero", Assert.Throws<ArgumentException>(() => Generator.FromState([0, 0, 0, 0])).Message);
    }
}
