namespace Loom.Tests.Kernels;

/// <summary>
/// One GEMM problem with seeded random operands stored with optional row padding (lda/ldb/ldc larger than a row),
/// checked against the naive reference computed in double precision.
/// </summary>
internal sealed class GemmTestCase
{
    private const double Sentinel = 12345.0; // written into padding; the GEMM must leave it alone

    public bool TransA, TransB;
    public int M, N, K;
    public double Alpha = 1, Beta;
    public int PadA, PadB, PadC;
    public int Seed = 1;

    public int Lda => (TransA ? M : K) + PadA;
    public int Ldb => (TransB ? K : N) + PadB;
    public int Ldc => N + PadC;
    public int LengthA => (TransA ? K : M) * Lda;
    public int LengthB => (TransB ? N : K) * Ldb;
    public int LengthC => M * Ldc;

    public override string ToString() =>
        $"{(TransA ? "T" : "N")}{(TransB ? "T" : "N")} m={M} n={N} k={K} alpha={Alpha} beta={Beta} pads={PadA},{PadB},{PadC}";

    /// <summary>Random A, B and C (padding filled with a sentinel), as doubles.</summary>
    public (double[] A, double[] B, double[] C) Operands()
    {
        var random = new System.Random(Seed);
        return (Fill(random, TransA ? K : M, TransA ? M : K, Lda), Fill(random, TransB ? N : K, TransB ? K : N, Ldb), Fill(random, M, N, Ldc));
    }

    private static double[] Fill(System.Random random, int rows, int cols, int ld)
    {
        var data = new double[rows * ld];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < ld; j++)
                data[i * ld + j] = j < cols ? Math.Round(random.NextDouble() * 4 - 2, 3) : Sentinel;
        return data;
    }

    /// <summary>The expected C (padding untouched), from the reference in double.</summary>
    public double[] Expected(double[] a, double[] b, double[] c)
    {
        var expected = (double[])c.Clone();
        ReferenceGemm.Gemm(TransA, TransB, M, N, K, Alpha, a, Lda, b, Ldb, Beta, expected, Ldc);
        return expected;
    }

    /// <summary>Float tolerance: products of values in [-2, 2] summed over k in float lose about k·eps.</summary>
    public double FloatTolerance => 1e-6 * (K + 1) * 4 * Math.Max(1, Math.Abs(Alpha)) + 1e-6 * Math.Abs(Beta) * 2;

    public float[] RunSgemm(double[] a, double[] b, double[] c)
    {
        var cf = ToFloat(c);
        Gemm.Sgemm(TransA, TransB, M, N, K, (float)Alpha, ToFloat(a), Lda, ToFloat(b), Ldb, (float)Beta, cf, Ldc);
        return cf;
    }

    public double[] RunDgemm(double[] a, double[] b, double[] c)
    {
        var cd = (double[])c.Clone();
        Gemm.Dgemm(TransA, TransB, M, N, K, Alpha, a, Lda, b, Ldb, Beta, cd, Ldc);
        return cd;
    }

    /// <summary>Runs Sgemm and asserts it matches the reference, padding included.</summary>
    public void CheckSgemm()
    {
        var (a, b, c) = Operands();
        var expected = Expected(a, b, c);
        var actual = RunSgemm(a, b, c);
        TensorAssert.Close(ToFloat(expected), actual, FloatTolerance, 1e-5, $"sgemm {this} ");
    }

    /// <summary>Runs Dgemm and asserts it matches the reference, padding included.</summary>
    public void CheckDgemm()
    {
        var (a, b, c) = Operands();
        var expected = Expected(a, b, c);
        var actual = RunDgemm(a, b, c);
        TensorAssert.Close(expected, actual, 1e-12 * (K + 1) * 4, 1e-12, $"dgemm {this} ");
    }

    public static float[] ToFloat(double[] x) => Array.ConvertAll(x, v => (float)v);

    /// <summary>Runs <paramref name="action"/> with <see cref="Gemm.ForcedPath"/> set to <paramref name="path"/>, then restores it.</summary>
    public static void WithPath(GemmPath path, Action action) => WithPath(path, () => { action(); return 0; });

    public static TResult WithPath<TResult>(GemmPath path, Func<TResult> action)
    {
        var saved = Gemm.ForcedPath;
        Gemm.ForcedPath = path;
        try
        {
            return action();
        }
        finally
        {
            Gemm.ForcedPath = saved;
        }
    }

    /// <summary>Every transpose combination of each (m, n, k), with the given padding.</summary>
    public static IEnumerable<GemmTestCase> AllTransposes(IEnumerable<(int M, int N, int K)> sizes, int pad = 0)
    {
        int seed = 0;
        foreach (var (m, n, k) in sizes)
            foreach (bool ta in new[] { false, true })
                foreach (bool tb in new[] { false, true })
                    yield return new GemmTestCase
                    {
                        TransA = ta, TransB = tb, M = m, N = n, K = k, PadA = pad, PadB = pad * 2, PadC = pad * 3, Seed = ++seed,
                        Alpha = 1, Beta = 0,
                    };
    }
}

/// <summary>A fact that is skipped, saying why, when this CPU cannot run the GEMM path it tests.</summary>
public sealed class GemmPathFactAttribute : FactAttribute
{
    public GemmPathFactAttribute(GemmPath path)
    {
        if (!Gemm.IsSupported(path))
            Skip = $"this CPU does not support {path} (GemmPath.{path} needs {(path == GemmPath.Avx512 ? "AVX-512F" : "AVX2 and FMA")}); " +
                   "the path is covered on machines that have it";
    }
}
