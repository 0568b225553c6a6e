namespace Loom.Tests.Kernels;

/// <summary>The even/odd split behind stride-2 convolution phases and pooling, on its vector and scalar paths.</summary>
public class EvenOddTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(77)]
    public void Both_paths_split_floats_and_doubles_into_even_and_odd_elements(int n)
    {
        foreach (bool scalar in new[] { false, true })
        {
            var saved = EvenOdd.ForcedScalar;
            EvenOdd.ForcedScalar = scalar;
            try
            {
                Check(Enumerable.Range(0, n).Select(i => (float)(i * 0.5 - 3)).ToArray());
                Check(Enumerable.Range(0, n).Select(i => i * 0.25 + 1).ToArray());
            }
            finally
            {
                EvenOdd.ForcedScalar = saved;
            }
        }
    }

    [Fact]
    public void An_empty_destination_drops_those_values()
    {
        var src = Enumerable.Range(0, 40).Select(i => (float)i).ToArray();
        var even = new float[20];
        EvenOdd.Split<float>(src, even, default);
        Assert.Equal(src.Where((_, i) => i % 2 == 0), even);
        var odd = new float[21];
        EvenOdd.Split<float>(src, default, odd);
        Assert.Equal(src.Where((_, i) => i % 2 == 1).Append(0f), odd); // the slot past the last odd element is untouched
    }

    private static void Check<T>(T[] src) where T : unmanaged
    {
        var even = new T[(src.Length + 1) / 2];
        var odd = new T[src.Length / 2];
        EvenOdd.Split<T>(src, even, odd);
        Assert.Equal(src.Where((_, i) => i % 2 == 0), even);
        Assert.Equal(src.Where((_, i) => i % 2 == 1), odd);
    }
}
