namespace Loom.Kernels.Reference;

/// <summary>
/// Naive reductions, kept forever as the oracle for <see cref="ReductionKernels"/> and the tensor reductions built
/// on them. Each takes a row-major buffer of <c>shape</c> and the axes to reduce, walks every element once with a
/// full index, gathers the values of each output element and folds them in double precision. Outputs are in the
/// row-major order of the kept axes.
/// </summary>
public static class ReferenceReductions
{
    public static double[] Sum(ReadOnlySpan<double> x, int[] shape, int[] axes) => Fold(x, shape, axes, v => v.Sum());

    public static double[] Mean(ReadOnlySpan<double> x, int[] shape, int[] axes) => Fold(x, shape, axes, v => v.Sum() / v.Count);

    public static double[] Var(ReadOnlySpan<double> x, int[] shape, int[] axes, int correction) => Fold(x, shape, axes, v =>
    {
        double mean = v.Sum() / v.Count;
        double ss = 0;
        foreach (var e in v) ss += (e - mean) * (e - mean);
        return ss / Math.Max(0, v.Count - correction);
    });

    public static double[] Std(ReadOnlySpan<double> x, int[] shape, int[] axes, int correction) =>
        Var(x, shape, axes, correction).Select(Math.Sqrt).ToArray();

    public static double[] LogSumExp(ReadOnlySpan<double> x, int[] shape, int[] axes) => Fold(x, shape, axes, v =>
    {
        double m = v.Count == 0 ? double.NegativeInfinity : v.Max();
        if (double.IsInfinity(m)) m = 0;
        double s = 0;
        foreach (var e in v) s += Math.Exp(e - m);
        return m + Math.Log(s);
    });

    public static double[] Max(ReadOnlySpan<double> x, int[] shape, int[] axes) =>
        Fold(x, shape, axes, v => v.Any(double.IsNaN) ? double.NaN : v.Max());

    public static double[] Min(ReadOnlySpan<double> x, int[] shape, int[] axes) =>
        Fold(x, shape, axes, v => v.Any(double.IsNaN) ? double.NaN : v.Min());

    /// <summary>First index of the maximum along <paramref name="axis"/> (NaN counts as the maximum).</summary>
    public static long[] ArgMax(ReadOnlySpan<double> x, int[] shape, int axis) =>
        Fold(x, shape, [axis], v => FirstIndex(v, (a, b) => a > b)).Select(d => (long)d).ToArray();

    /// <summary>First index of the minimum along <paramref name="axis"/> (NaN counts as the minimum).</summary>
    public static long[] ArgMin(ReadOnlySpan<double> x, int[] shape, int axis) =>
        Fold(x, shape, [axis], v => FirstIndex(v, (a, b) => a < b)).Select(d => (long)d).ToArray();

    private static double FirstIndex(List<double> v, Func<double, double, bool> better)
    {
        int best = 0;
        for (int i = 1; i < v.Count; i++)
        {
            if (double.IsNaN(v[best])) break;
            if (double.IsNaN(v[i]) || better(v[i], v[best])) best = i;
        }
        return best;
    }

    /// <summary>Groups the elements by output position (the index with reduced axes dropped) and folds each group.</summary>
    public static double[] Fold(ReadOnlySpan<double> x, int[] shape, int[] axes, Func<List<double>, double> fold)
    {
        int rank = shape.Length;
        var reduced = new bool[rank];
        foreach (var a in axes) if (rank > 0) reduced[a < 0 ? a + rank : a] = true;
        int outputs = 1;
        for (int i = 0; i < rank; i++) if (!reduced[i]) outputs *= shape[i];
        var groups = new List<double>[outputs];
        for (int i = 0; i < outputs; i++) groups[i] = [];
        var index = new int[rank];
        for (int e = 0; e < x.Length; e++)
        {
            int rest = e;
            for (int d = rank - 1; d >= 0; d--)
            {
                index[d] = rest % shape[d];
                rest /= shape[d];
            }
            int o = 0;
            for (int d = 0; d < rank; d++) if (!reduced[d]) o = o * shape[d] + index[d];
            groups[o].Add(x[e]);
        }
        return groups.Select(fold).ToArray();
    }
}
