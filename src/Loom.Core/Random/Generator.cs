namespace Loom.Random;

/// <summary>
/// The one seedable random generator of Loom: xoshiro256** seeded through SplitMix64, with Box–Muller normals.
/// The algorithm is fixed and platform-independent, so the same seed gives the same tensors on every machine.
/// Its <see cref="GetState"/>/<see cref="SetState"/> let checkpoints resume a run exactly.
/// </summary>
public sealed class Generator
{
    private ulong _s0, _s1, _s2, _s3;
    private double _spareNormal;
    private bool _hasSpare;

    public Generator(ulong seed) => Seed(seed);

    /// <summary>The generator ops use when none is passed. Seed it with <see cref="ManualSeed"/>.</summary>
    public static Generator Default { get; private set; } = new(0x10_0_Ca7);

    /// <summary>Reseeds the default generator, like <c>torch.manual_seed</c>.</summary>
    public static void ManualSeed(ulong seed) => Default.Seed(seed);

    public void Seed(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
        _hasSpare = false;
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextUInt64()
    {
        ulong result = RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [0, 1) with 24 random bits.</summary>
    public float NextFloat() => (NextUInt64() >> 40) * (1.0f / (1 << 24));

    /// <summary>Uniform integer in [low, high), without modulo bias (Lemire's method).</summary>
    public long NextInt64(long low, long high)
    {
        if (high <= low) throw new ArgumentException($"NextInt64: empty range [{low}, {high})");
        ulong range = (ulong)(high - low);
        UInt128 m = (UInt128)NextUInt64() * range;
        ulong lowBits = (ulong)m;
        if (lowBits < range)
        {
            ulong threshold = (0 - range) % range;
            while (lowBits < threshold)
            {
                m = (UInt128)NextUInt64() * range;
                lowBits = (ulong)m;
            }
        }
        return low + (long)(ulong)(m >> 64);
    }

    public int NextInt(int low, int high) => (int)NextInt64(low, high);

    /// <summary>Standard normal, by the Box–Muller transform (the spare value is kept for the next call).</summary>
    public double NextNormal()
    {
        if (_hasSpare)
        {
            _hasSpare = false;
            return _spareNormal;
        }
        double u1 = 1.0 - NextDouble(); // (0, 1]: log(u1) is finite
        double u2 = NextDouble();
        double r = Math.Sqrt(-2.0 * Math.Log(u1));
        _spareNormal = r * Math.Sin(2 * Math.PI * u2);
        _hasSpare = true;
        return r * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Fisher–Yates permutation of 0..n-1.</summary>
    public int[] Permutation(int n)
    {
        var p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--)
        {
            int j = NextInt(0, i + 1);
            (p[i], p[j]) = (p[j], p[i]);
        }
        return p;
    }

    /// <summary>The full state, for checkpoints.</summary>
    public GeneratorState GetState() => new(_s0, _s1, _s2, _s3, _hasSpare, _spareNormal);

    public void SetState(GeneratorState state)
    {
        (_s0, _s1, _s2, _s3, _hasSpare, _spareNormal) = (state.S0, state.S1, state.S2, state.S3, state.HasSpareNormal, state.SpareNormal);
        if ((_s0 | _s1 | _s2 | _s3) == 0) throw new ArgumentException("generator state of all zeros is invalid for xoshiro256**");
    }
}

/// <summary>A snapshot of a <see cref="Generator"/>.</summary>
public readonly record struct GeneratorState(ulong S0, ulong S1, ulong S2, ulong S3, bool HasSpareNormal, double SpareNormal);
