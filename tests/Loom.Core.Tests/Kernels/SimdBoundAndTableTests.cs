using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Loom.Tests.Kernels;

/// <summary>
/// The ISimd operations the table exp of GELU is built from (AtMost, AtLeast, Lookup16, ScaleB of a non-integral n),
/// at every width and, on AVX-512 machines, also through the AVX2 forms those machines do not otherwise run: each
/// width must give the same bits, or an element's GELU would depend on where in the tensor it sits.
/// </summary>
public class SimdBoundAndTableTests
{
    private static readonly VectorWidth[] Widths = [VectorWidth.W512, VectorWidth.W256, VectorWidth.Scalar];

    private static readonly float[] Table = Enumerable.Range(0, 16).Select(i => 1 + i / 16f + i * 1e-6f).ToArray();

    [Fact]
    public void Bounds_are_one_min_or_max_that_keeps_NaN_and_the_sign_of_zero()
    {
        // 27 = 16 + 8 + 3: every width runs its vector loop and a narrower tail.
        float[] x = [float.NaN, -0f, 0f, -1f, 1f, 14.5f, 15f, -15f, float.PositiveInfinity, float.NegativeInfinity, 1e-45f, -1e-45f,
            3f, -3f, 0.5f, -0.5f, 14.499999f, 14.500001f, float.MaxValue, -float.MaxValue, 7f, -7f, 2f, -2f, 100f, -100f, -0f];
        foreach (var width in Widths)
        {
            // AtMost(x, 14.5): 14.5 where x is larger, x itself everywhere else (NaN included).
            AssertBits(x.Select(v => v > 14.5f ? 14.5f : v), Map<AtMostTailEnd>(x, width), $"AtMost on {width}");
            // AtLeast(x, 0): 0 where x is negative, x itself elsewhere: −0 stays −0 (so gelu(−0) = −0), NaN stays NaN.
            AssertBits(x.Select(v => v < 0 ? 0f : v), Map<AtLeastZero>(x, width), $"AtLeast on {width}");
        }
    }

    [Fact]
    public void Lookup16_reads_the_low_four_bits_of_each_lane()
    {
        // Index lanes as the table exp makes them (1.5·2²³ + k) and arbitrary bit patterns, high bits set included.
        var random = new System.Random(5);
        var bits = Enumerable.Range(0, 16).Select(k => BitConverter.SingleToInt32Bits(12582912f + k))
            .Concat(Enumerable.Range(0, 43).Select(_ => random.Next(int.MinValue, int.MaxValue))).ToArray();
        var x = bits.Select(BitConverter.Int32BitsToSingle).ToArray();
        var expected = bits.Select(b => Table[b & 15]).ToArray();
        foreach (var width in Widths) AssertBits(expected, Map<LookupTable>(x, width), $"Lookup16 on {width}");
    }

    [Avx2Fact]
    public void Lookup16_without_AVX512_gives_the_same_lanes()
    {
        var lower = Vector256.Create(Table.AsSpan(0, 8));
        var upper = Vector256.Create(Table.AsSpan(8, 8));
        for (int start = -40; start < 40; start += 8)
        {
            var index = Vector256.Create(start) + Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * Vector256.Create(0x10001);
            var lanes = Simd256<float>.Lookup16Avx2(lower, index, upper);
            for (int i = 0; i < 8; i++) Assert.Equal(Table[index[i] & 15], lanes[i]);
        }
    }

    [Fact]
    public void ScaleB_floors_a_non_integral_exponent_at_every_width()
    {
        // −k/16 for the table exp (k = 2427 is exp(−14.5²/2), subnormal), and both signs around integers.
        float[] n = [-151.6875f, -149.0625f, -140f, -126.5f, -0.0625f, 0f, 0.9375f, 2.5f, -2.5f, -1f, 1f, 5.75f, -5.75f,
            -127.9375f, -128f, -125.0625f, 3f, -3f, 0.5f, -0.5f, 10.25f, -10.25f, -150.5f, -152f, 1e-3f, -1e-3f, -7.5f];
        var expected = n.Select(v => (float)(1.25 * Math.Pow(2, Math.Floor(v)))).ToArray();
        foreach (var width in Widths) AssertBits(expected, Map<ScaleOneAndAQuarter>(n, width), $"ScaleB on {width}");
    }

    [Avx2Fact]
    public void ScaleB_without_AVX512_floors_as_vscalefps_does()
    {
        float[] n = [-151.6875f, -149.0625f, -126.5f, -0.0625f, 2.5f, -2.5f, 5.75f, -5.75f];
        var lanes = Simd256<float>.ScaleBAvx2(Vector256.Create(1.25f), Vector256.Create(n));
        for (int i = 0; i < 8; i++) Assert.Equal((float)(1.25 * Math.Pow(2, Math.Floor(n[i]))), lanes[i]);
    }

    private static float[] Map<TMap>(float[] x, VectorWidth width) where TMap : ISimdMap<float>
    {
        var y = new float[x.Length];
        Simd.For<float, MapStep<float, TMap>>(new(x, y), x.Length, width);
        return y;
    }

    private static void AssertBits(IEnumerable<float> expected, float[] actual, string what) =>
        Assert.True(expected.Select(BitConverter.SingleToInt32Bits).SequenceEqual(actual.Select(BitConverter.SingleToInt32Bits)),
            $"{what}: [{string.Join(", ", actual)}], expected [{string.Join(", ", expected)}]");

    private readonly struct AtMostTailEnd : ISimdMap<float>
    {
        public static TV Apply<TV, TS>(TV x) where TV : struct where TS : ISimd<TV, float> => TS.AtMost(x, TS.Create(14.5f));
    }

    private readonly struct AtLeastZero : ISimdMap<float>
    {
        public static TV Apply<TV, TS>(TV x) where TV : struct where TS : ISimd<TV, float> => TS.AtLeast(x, TS.Zero);
    }

    private readonly struct LookupTable : ISimdMap<float>
    {
        public static TV Apply<TV, TS>(TV x) where TV : struct where TS : ISimd<TV, float> => TS.Lookup16(in Table[0], x);
    }

    private readonly struct ScaleOneAndAQuarter : ISimdMap<float>
    {
        public static TV Apply<TV, TS>(TV n) where TV : struct where TS : ISimd<TV, float> => TS.ScaleB(TS.Create(1.25f), n);
    }

    /// <summary>A fact that needs AVX2, reported as skipped on a CPU without it.</summary>
    private sealed class Avx2FactAttribute : FactAttribute
    {
        public Avx2FactAttribute()
        {
            if (!Avx2.IsSupported) Skip = "this CPU has no AVX2";
        }
    }
}
