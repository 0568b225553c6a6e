namespace Loom.Kernels;

// The element-wise losses ℓ(x, y; a) of an input x and a target y (d = x − y), with their partial derivatives.
// a is an auxiliary per-element operand, 1 unless stated (BCE with logits reads its positive-class weight from it).
//   mse:        ℓ = d²                                         ∂x = 2d                    ∂y = −∂x
//   l1:         ℓ = |d|                                        ∂x = sign(d)               ∂y = −∂x
//   smooth_l1:  ℓ = ½d²/β if |d| < β, else |d| − ½β            ∂x = d/β if |d| < β, else sign(d)
//   huber:      ℓ = ½d² if |d| < δ, else δ(|d| − ½δ)           ∂x = clamp(d, −δ, δ)
//   bce:        ℓ = −(y·max(log x, −100) + (1 − y)·max(log(1 − x), −100))
//               ∂x = (x − y) / max(x(1 − x), 1e-12)   ∂y = max(log(1 − x), −100) − max(log x, −100)
//   bce_logits: sp = softplus(−x) = log(1 + e^−|x|) + max(−x, 0), lw = 1 + (a − 1)·y
//               ℓ = (1 − y)·x + lw·sp                  ∂x = (1 − y) − lw·σ(−x)   ∂y = −x + (a − 1)·sp
//   kl_div:     ℓ = xlogy(y, y) − y·x (0 where y = 0)  ∂x = −y                   ∂y = log y + 1 − x
//   kl_div, log target:  ℓ = eʸ(y − x)                 ∂x = −eʸ                  ∂y = eʸ(y − x + 1)
// Traps, following PyTorch: BCE clamps each log at −100 so that x = 0 or 1 gives a finite loss, and its ∂x divides
// by x(1 − x) clamped at 1e-12 (PyTorch's formula, not the derivative of the clamped forward, which is 0 there).
// At y = 0 kl_div's ∂y is −∞, the one-sided derivative (PyTorch gives NaN).

/// <summary>
/// An element-wise loss and its partial derivatives, written once against <see cref="ISimd{TV, T}"/> (float at
/// every register width) and once in double.
/// </summary>
internal interface IPointwiseLoss
{
    TV Loss<TV, TOps>(TV x, TV y, TV a) where TV : struct where TOps : ISimd<TV, float>;
    TV GradInput<TV, TOps>(TV x, TV y, TV a) where TV : struct where TOps : ISimd<TV, float>;
    TV GradTarget<TV, TOps>(TV x, TV y, TV a) where TV : struct where TOps : ISimd<TV, float>;
    double Loss(double x, double y, double a);
    double GradInput(double x, double y, double a);
    double GradTarget(double x, double y, double a);
}

/// <summary>sign(d) with sign(0) = 0 and NaN propagating (d·0 is NaN only for NaN).</summary>
file static class Sign
{
    public static TV Of<TV, TOps>(TV d) where TV : struct where TOps : ISimd<TV, float>
    {
        var zero = TOps.Create(0);
        return TOps.Select(TOps.GreaterThan(d, zero), TOps.Create(1), TOps.Select(TOps.LessThan(d, zero), TOps.Create(-1), TOps.Multiply(d, zero)));
    }

    public static double Of(double d) => d > 0 ? 1 : d < 0 ? -1 : d * 0;
}

internal readonly struct MseLossOp : IPointwiseLoss
{
    public TV Loss<TV, TOps>(TV x, TV y, TV a) where TV : struct where TOps : ISimd<TV, float>
    {
        var d = TOps.Subtract(x, y);
        return TOps.Multiply(d, d);
    }

    public TV GradInput<TV, TOps>(TV x, TV y, TV a) where TV : struct where TOps : ISimd<TV, float> =>
        TOps.Multiply(TOps.Create(2), TOps.Subtract(x, y));

    public TV GradTarget<TV, TOps>(TV x, TV y, TV a) where TV : struct where TOps : ISimd<TV, float> =>
        TOps.Multiply(TOps.Create(2), TOps.Subtract(y, x));

    public double Loss(double x, double y, double a) => (x - y) * (x - y);
    public double GradInput(double x, double y, double a) => 2 * (x - y);
    public double GradTarget(double x, double y, double a) => 2 * (y - x);
}

internal readonly struct L1LossOp : IPointwiseLoss
{
    public TV Loss<TV, TOps>(TV x, TV y, TV a) where TV : struct where TOps : ISimd<TV, float> => TOps.Abs(TOps.Subtract(x, y));

    public TV GradInput<TV, TOps>(TV x, TV y, TV a) where TV : struct where TOps : ISimd<TV, float> => Sign.Of<TV, TOps>(TOps.Subtract(x, y));

    public TV GradTarget<TV, TOps>(TV x, TV y, TV a) where TV : struct where TOps : ISimd<TV, float> => Sign.Of<TV, TOps>(TOps.Subtract(y, x));

    public double Loss(double x, double y, double a) => Math.Abs(x - y);
    public double GradInput(double x, double y, double a) => Sign.Of(x - y);
    public double GradTarget(double x, double y, double a) => Sign.Of(y - x);
}

internal readonly struct SmoothL1LossOp(double beta) : IPointwiseLoss
{
    public TV Loss<TV, TOps>(TV x, TV y, TV a) where TV : struct where TOps : ISimd<TV, float>
    {
        var d = TOps.Subtract(x, y);
        var ad = TOps.Abs(d);
        var b = TOps.Create((float)beta);
        var quadratic = TOps.Divide(TOps.Multiply(TOps.Create(0.5f), TOps.Multiply(d, d)), b);
        return TOps.Select(TOps.LessThan(ad, b), quadratic, TOps.Subtract(ad, TOps.Create((float)(0.5 * beta))));
    }

    public TV GradInput<TV, TOps>(TV x, TV y, TV a) where TV : struct where TOps : ISimd<TV, float>
    {
        var d = TOps.Subtract(x, y);
        var b = TOps.Create((float)beta);
        return TOps.Select(TOps.LessThan(TOps.Abs(d), b), TOps.Divide(d, b), Sign.Of<TV, TOps>(d));
    }

    public TV GradTarget<TV, TOps>(TV x, TV y, TV a) where TV : struct where TOps : ISimd<TV, float> =>
        TOps.Subtract(TOps.Create(0), GradInput<TV, TOps>(x, y, a));

    public double Loss(double x, double y, double a)
    {
        double d = x - y, ad = Math.Abs(d);
        return ad < beta ? 0.5 * d * d / beta : ad - 0.5 * beta;
    }

    public double GradInput(double x, double y, double a)
    {
        double d = x - y;
        return Math.Abs(d) < beta ? d / beta : Sign.Of(d);
    }

    public double GradTarget(double x, double y, double a) => -GradInput(x, y, a);
}

internal readonly struct HuberLossOp(double delta) : IPointwiseLoss
{
    public TV Loss<TV, TOps>(TV x, TV y, TV a) where TV : struct where TOps : ISimd<TV, float>
    {
        var d = TOps.Subtract(x, y);
        var ad = TOps.Abs(d);
        var quadratic = TOps.Multiply(TOps.Create(0.5f), TOps.Multiply(d, d));
        var linear = TOps.Multiply(TOps.Create((float)delta), TOps.Subtract(ad, TOps.Create((float)(0.5 * delta))));
        return TOps.Select(TOps.LessThan(ad, TOps.Create((float)delta)), quadratic, linear);
    }

    public TV GradInput<TV, TOps>(TV x, TV y, TV a) where TV : struct where TOps : ISimd<TV, float> =>
        TOps.Min(TOps.Max(TOps.Subtract(x, y), TOps.Create((float)-delta)), TOps.Create((float)delta));

    public TV GradTarget<TV, TOps>(TV x, TV y, TV a) where TV : struct where TOps : ISimd<TV, float> =>
        TOps.Subtract(TOps.Create(0), GradInput<TV, TOps>(x, y, a));

    public double Loss(double x, double y, double a)
    {
        double d = x - y, ad = Math.Abs(d);
        return ad < delta ? 0.5 * d * d : delta * (ad - 0.5 * delta);
    }

    public double GradInput(double x, double y, double a) => Math.Clamp(x - y, -delta, delta);
    public double GradTarget(double x, double y, double a) => -GradInput(x, y, a);
}

internal readonly struct BceLossOp : IPointwiseLoss
{
    private const float LogFloor = -100;

    public TV Loss<TV, TOps>(TV x, TV y, TV a) where TV : struct where TOps : ISimd<TV, float>
    {
        var one = TOps.Create(1);
        var floor = TOps.Create(LogFloor);
        var logX = TOps.Max(TOps.Log(x), floor);
        var log1mX = TOps.Max(TOps.Log(TOps.Subtract(one, x)), floor);
        return TOps.Subtract(TOps.Create(0), TOps.MultiplyAdd(y, logX, TOps.Multiply(TOps.Subtract(one, y), log1mX)));
    }

    public TV GradInput<TV, TOps>(TV x, TV y, TV a) where TV : struct where TOps : ISimd<TV, float>
    {
        var denominator = TOps.Max(TOps.Multiply(x, TOps.Subtract(TOps.Create(1), x)), TOps.Create(1e-12f));
        return TOps.Divide(TOps.Subtract(x, y), denominator);
    }

    public TV GradTarget<TV, TOps>(TV x, TV y, TV a) where TV : struct where TOps : ISimd<TV, float>
    {
        var floor = TOps.Create(LogFloor);
        return TOps.Subtract(TOps.Max(TOps.Log(TOps.Subtract(TOps.Create(1), x)), floor), TOps.Max(TOps.Log(x), floor));
    }

    public double Loss(double x, double y, double a) => -(y * ClampedLog(x) + (1 - y) * ClampedLog(1 - x));
    public double GradInput(double x, double y, double a) => (x - y) / Math.Max(x * (1 - x), 1e-12);
    public double GradTarget(double x, double y, double a) => ClampedLog(1 - x) - ClampedLog(x);

    private static double ClampedLog(double v) => Math.Max(Math.Log(v), LogFloor); // Math.Max keeps NaN
}

internal readonly struct BceWithLogitsLossOp : IPointwiseLoss
{
    /// <summary>softplus(−x) = log(1 + e^−|x|) + max(−x, 0), which never overflows.</summary>
    private static TV SoftplusOfNegative<TV, TOps>(TV x) where TV : struct where TOps : ISimd<TV, float>
    {
        var zero = TOps.Create(0);
        var expNegAbs = ExpKernels.Exp<TV, TOps>(TOps.Subtract(zero, TOps.Abs(x)));
        return TOps.Add(TOps.Log(TOps.Add(TOps.Create(1), expNegAbs)), TOps.Max(TOps.Subtract(zero, x), zero));
    }

    public TV Loss<TV, TOps>(TV x, TV y, TV a) where TV : struct where TOps : ISimd<TV, float>
    {
        var one = TOps.Create(1);
        var logWeight = TOps.MultiplyAdd(TOps.Subtract(a, one), y, one);
        return TOps.MultiplyAdd(logWeight, SoftplusOfNegative<TV, TOps>(x), TOps.Multiply(TOps.Subtract(one, y), x));
    }

    public TV GradInput<TV, TOps>(TV x, TV y, TV a) where TV : struct where TOps : ISimd<TV, float>
    {
        var one = TOps.Create(1);
        var logWeight = TOps.MultiplyAdd(TOps.Subtract(a, one), y, one);
        var sigmoidOfNegative = TOps.Divide(one, TOps.Add(one, ExpKernels.Exp<TV, TOps>(x))); // e^x = ∞ gives 0, as it should
        return TOps.Subtract(TOps.Subtract(one, y), TOps.Multiply(logWeight, sigmoidOfNegative));
    }

    public TV GradTarget<TV, TOps>(TV x, TV y, TV a) where TV : struct where TOps : ISimd<TV, float> =>
        TOps.MultiplyAdd(TOps.Subtract(a, TOps.Create(1)), SoftplusOfNegative<TV, TOps>(x), TOps.Subtract(TOps.Create(0), x));

    public double Loss(double x, double y, double a) => (1 - y) * x + (1 + (a - 1) * y) * SoftplusOfNegative(x);
    public double GradInput(double x, double y, double a) => (1 - y) - (1 + (a - 1) * y) / (1 + Math.Exp(x));
    public double GradTarget(double x, double y, double a) => -x + (a - 1) * SoftplusOfNegative(x);

    private static double SoftplusOfNegative(double x) => Math.Log(1 + Math.Exp(-Math.Abs(x))) + Math.Max(-x, 0);
}

internal readonly struct KLDivLossOp : IPointwiseLoss
{
    public TV Loss<TV, TOps>(TV x, TV y, TV a) where TV : struct where TOps : ISimd<TV, float>
    {
        var zero = TOps.Create(0);
        var yLogY = TOps.Multiply(y, TOps.Log(y));
        // 0·log 0 is NaN in IEEE arithmetic but 0 here (xlogy); y·0 keeps a NaN target NaN.
        var xlogy = TOps.Select(TOps.GreaterThan(y, zero), yLogY, TOps.Select(TOps.LessThan(y, zero), yLogY, TOps.Multiply(y, zero)));
        return TOps.Subtract(xlogy, TOps.Multiply(y, x));
    }

    public TV GradInput<TV, TOps>(TV x, TV y, TV a) where TV : struct where TOps : ISimd<TV, float> => TOps.Subtract(TOps.Create(0), y);

    public TV GradTarget<TV, TOps>(TV x, TV y, TV a) where TV : struct where TOps : ISimd<TV, float> =>
        TOps.Subtract(TOps.Add(TOps.Log(y), TOps.Create(1)), x);

    public double Loss(double x, double y, double a) => (y == 0 ? 0 : y * Math.Log(y)) - y * x;
    public double GradInput(double x, double y, double a) => -y;
    public double GradTarget(double x, double y, double a) => Math.Log(y) + 1 - x;
}

internal readonly struct KLDivLogTargetLossOp : IPointwiseLoss
{
    public TV Loss<TV, TOps>(TV x, TV y, TV a) where TV : struct where TOps : ISimd<TV, float> =>
        TOps.Multiply(ExpKernels.Exp<TV, TOps>(y), TOps.Subtract(y, x));

    public TV GradInput<TV, TOps>(TV x, TV y, TV a) where TV : struct where TOps : ISimd<TV, float> =>
        TOps.Subtract(TOps.Create(0), ExpKernels.Exp<TV, TOps>(y));

    public TV GradTarget<TV, TOps>(TV x, TV y, TV a) where TV : struct where TOps : ISimd<TV, float> =>
        TOps.Multiply(ExpKernels.Exp<TV, TOps>(y), TOps.Add(TOps.Subtract(y, x), TOps.Create(1)));

    public double Loss(double x, double y, double a) => Math.Exp(y) * (y - x);
    public double GradInput(double x, double y, double a) => -Math.Exp(y);
    public double GradTarget(double x, double y, double a) => Math.Exp(y) * (y - x + 1);
}
