using Loom.Autograd;
using Xunit.Sdk;

namespace Loom.Testing;

/// <summary>Assertions on tensors that print where and by how much they differ.</summary>
public static class TensorAssert
{
    /// <summary>Asserts equal shapes and |actual − expected| ≤ atol + rtol·|expected| element-wise (NaN equals NaN).</summary>
    public static void Close(Tensor expected, Tensor actual, double atol = 1e-5, double rtol = 1e-5)
    {
        if (expected.Shape != actual.Shape)
            throw new XunitException($"shapes differ: expected {expected.Shape}, actual {actual.Shape}");
        Close(expected.ToArray<double>(), actual.ToArray<double>(), atol, rtol, expected.Shape.ToString());
    }

    public static void Close(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, double atol = 1e-5, double rtol = 1e-5, string what = "")
    {
        if (expected.Length != actual.Length)
            throw new XunitException($"lengths differ: expected {expected.Length}, actual {actual.Length}");
        int bad = 0, first = -1;
        double worst = 0;
        int worstAt = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (double.IsNaN(e) && double.IsNaN(a)) continue;
            if (e == a) continue;
            double diff = Math.Abs(e - a);
            if (!(diff <= atol + rtol * Math.Abs(e)))
            {
                bad++;
                if (first < 0) first = i;
                if (!(diff <= worst)) { worst = diff; worstAt = i; }
            }
        }
        if (bad > 0)
            throw new XunitException(
                $"{bad} of {expected.Length} elements differ {what}(atol {atol}, rtol {rtol}); first at {first}: expected {expected[first]:G9}, actual {actual[first]:G9}; " +
                $"largest at {worstAt}: expected {expected[worstAt]:G9}, actual {actual[worstAt]:G9} (|diff| {worst:G3})");
    }

    public static void Close(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double atol = 1e-5, double rtol = 1e-5, string what = "")
    {
        var e = new double[expected.Length];
        var a = new double[actual.Length];
        for (int i = 0; i < e.Length; i++) e[i] = expected[i];
        for (int i = 0; i < a.Length; i++) a[i] = actual[i];
        Close(e, a, atol, rtol, what);
    }

    /// <summary>Runs <see cref="GradCheck"/> and fails with its report.</summary>
    public static void GradientsMatch(Func<Tensor[], Tensor> function, params Tensor[] inputs) =>
        GradientsMatch(function, inputs, eps: 1e-6, atol: 1e-5, rtol: 1e-3);

    public static void GradientsMatch(Func<Tensor[], Tensor> function, Tensor[] inputs, double eps, double atol, double rtol)
    {
        var report = GradCheck.Run(function, inputs, eps, atol, rtol);
        if (report is not null) throw new XunitException(report);
    }

    /// <summary>Asserts that <paramref name="action"/> throws <typeparamref name="TException"/> whose message contains every fragment.</summary>
    public static TException Throws<TException>(Action action, params string[] messageFragments) where TException : Exception
    {
        var ex = Xunit.Assert.Throws<TException>(action);
        foreach (var f in messageFragments)
            if (!ex.Message.Contains(f, StringComparison.Ordinal))
                throw new XunitException($"exception message does not contain \"{f}\": {ex.Message}");
        return ex;
    }
}
