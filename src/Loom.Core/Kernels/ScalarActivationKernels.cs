namespace Loom.Kernels;

/// <summary>
/// An activation evaluated one element at a time in double precision (float32 inputs are widened and the result
/// rounded once, so float32 is within half an ulp of exact wherever the double formula is accurate).
/// </summary>
/// <remarks>
/// The activations added for PyTorch parity (issue 8) start here, correct first: each formula avoids the cancellation
/// its textbook form has (expm1 for the exponential units, log1p for log-sigmoid, a rational form of tanh(softplus) for
/// mish), and the OpInfo precision sweeps hold them to it. Moving one onto the vectorised <see cref="IActivation"/>
/// path later must keep the sweep passing.
/// </remarks>
internal interface IScalarActivation
{
    double Forward(double x);

    /// <summary>dy · f′(x), from the input x.</summary>
    double Backward(double x, double dy);
}

/// <summary>Forward over spans of either precision, for the element-wise drivers.</summary>
internal readonly struct ScalarActivationOperator<TAct>(TAct activation) : IUnaryOperator<float>, IUnaryOperator<double>
    where TAct : struct, IScalarActivation
{
    public void Invoke(ReadOnlySpan<float> x, Span<float> d)
    {
        for (int i = 0; i < x.Length; i++) d[i] = (float)activation.Forward(x[i]);
    }

    public void Invoke(ReadOnlySpan<double> x, Span<double> d)
    {
        for (int i = 0; i < x.Length; i++) d[i] = activation.Forward(x[i]);
    }
}

internal static class ScalarActivationKernels
{
    /// <summary>dx[i] = f′(x[i]) · dy[i] over contiguous spans, split across threads when large.</summary>
    public static void Backward<TAct>(float[] x, int xOffset, float[] dy, int dyOffset, float[] dx, int count, TAct act) where TAct : struct, IScalarActivation =>
        ParallelHelper.For(count, BroadcastKernels.ParallelGrain, (X: x, XO: xOffset, G: dy, GO: dyOffset, D: dx, Act: act), static (s, a, b) =>
        {
            for (int i = a; i < b; i++) s.D[i] = (float)s.Act.Backward(s.X[s.XO + i], s.G[s.GO + i]);
        });

    public static void Backward<TAct>(double[] x, int xOffset, double[] dy, int dyOffset, double[] dx, int count, TAct act) where TAct : struct, IScalarActivation =>
        ParallelHelper.For(count, BroadcastKernels.ParallelGrain, (X: x, XO: xOffset, G: dy, GO: dyOffset, D: dx, Act: act), static (s, a, b) =>
        {
            for (int i = a; i < b; i++) s.D[i] = s.Act.Backward(s.X[s.XO + i], s.G[s.GO + i]);
        });

    /// <summary>σ(x) = 1/(1 + e⁻ˣ) without overflow for either sign.</summary>
    public static double Sigmoid(double x)
    {
        if (x >= 0) return 1 / (1 + Math.Exp(-x));
        double e = Math.Exp(x);
        return e / (1 + e);
    }
}

/// <summary>
/// ELU family: x·scale for x &gt; 0, else negScale·expm1(x·inputScale). ELU is (1, α, 1), SELU (λ, λα, 1), CELU
/// (1, α, 1/α), as PyTorch's one elu kernel with its coefficients.
/// </summary>
/// <remarks>At NaN the gradient is NaN, as in PyTorch's vectorised body (its scalar tail passes dy·scale instead).</remarks>
internal readonly struct EluActivation(double scale, double negScale, double inputScale) : IScalarActivation
{
    public double Forward(double x) => x > 0 ? x * scale : negScale * Log1pExpm1Kernels.Expm1(x * inputScale);

    public double Backward(double x, double dy) => x > 0 ? dy * scale : dy * negScale * inputScale * Math.Exp(x * inputScale);
}

/// <summary>clamp(x, min, max); the gradient passes strictly inside (0 at the bounds and at NaN, as PyTorch's). NaN stays NaN.</summary>
internal readonly struct HardtanhActivation(double min, double max) : IScalarActivation
{
    public double Forward(double x) => x < min ? min : x > max ? max : x;

    public double Backward(double x, double dy) => x > min && x < max ? dy : 0;
}

/// <summary>relu6(x + 3)/6: 0 below −3, 1 above 3, x/6 + ½ between; gradient 1/6 strictly inside.</summary>
internal readonly struct HardsigmoidActivation : IScalarActivation
{
    public double Forward(double x) => x <= -3 ? 0 : x >= 3 ? 1 : x / 6 + 0.5;

    public double Backward(double x, double dy) => x > -3 && x < 3 ? dy / 6 : 0;
}

/// <summary>
/// x·min(max(x + 3, 0), 6)/6 as written (so −∞ gives NaN, as PyTorch's); gradient 0 below −3, dy above or at 3,
/// dy·(x/3 + ½) between, NaN at NaN (PyTorch's vectorised kernel).
/// </summary>
internal readonly struct HardswishActivation : IScalarActivation
{
    public double Forward(double x) => x * Math.Min(Math.Max(x + 3, 0), 6) / 6;

    public double Backward(double x, double dy) => x < -3 ? 0 : x >= 3 ? dy : dy * (x / 3 + 0.5);
}

/// <summary>
/// log σ(x) = min(x, 0) − log1p(e^−|x|): no overflow, and log1p keeps the tiny −e⁻ˣ of large x. Gradient σ(−x).
/// </summary>
internal readonly struct LogSigmoidActivation : IScalarActivation
{
    public double Forward(double x) => Math.Min(x, 0) - Log1pExpm1Kernels.Log1p(Math.Exp(-Math.Abs(x)));

    public double Backward(double x, double dy) => dy * ScalarActivationKernels.Sigmoid(-x);
}

/// <summary>
/// mish(x) = x·tanh(softplus(x)), with tanh(log(1 + eˣ)) = n/(n + 2), n = eˣ(eˣ + 2): no cancellation for negative x
/// (where the textbook form computes tanh of a rounded tiny softplus) and exactly x once n/(n + 2) rounds to 1.
/// Gradient t + x·(1 − t²)·σ(x), t = tanh(softplus(x)).
/// </summary>
internal readonly struct MishActivation : IScalarActivation
{
    public double Forward(double x) => x > 40 ? x : x * Tanh(x);

    // PyTorch's formula as written, so ±∞ give NaN (∞·0) as there.
    public double Backward(double x, double dy)
    {
        double t = x > 40 ? 1 : Tanh(x);
        return dy * (t + x * ScalarActivationKernels.Sigmoid(x) * (1 - t * t));
    }

    private static double Tanh(double x)
    {
        double e = Math.Exp(x), n = e * (e + 2);
        return n / (n + 2);
    }
}
