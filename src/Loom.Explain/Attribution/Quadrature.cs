namespace Loom.Explain;

/// <summary>Nodes α ∈ [0, 1] and weights (summing to 1) of the rules in <see cref="IntegrationMethod"/>.</summary>
internal static class Quadrature
{
    public static (double[] Alphas, double[] Weights) Rule(IntegrationMethod method, int steps)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "integrated gradients needs at least one step");
        if (method == IntegrationMethod.RiemannTrapezoid && steps < 2) throw new ArgumentOutOfRangeException(nameof(steps), steps, "the trapezoid rule needs at least two steps");
        var alphas = new double[steps];
        var weights = new double[steps];
        switch (method)
        {
            case IntegrationMethod.GaussLegendre:
                return GaussLegendre(steps);
            case IntegrationMethod.RiemannLeft:
            case IntegrationMethod.RiemannRight:
            case IntegrationMethod.RiemannMiddle:
                double shift = method switch { IntegrationMethod.RiemannLeft => 0, IntegrationMethod.RiemannRight => 1, _ => 0.5 };
                for (int k = 0; k < steps; k++)
                {
                    alphas[k] = (k + shift) / steps;
                    weights[k] = 1.0 / steps;
                }
                return (alphas, weights);
            case IntegrationMethod.RiemannTrapezoid:
                for (int k = 0; k < steps; k++)
                {
                    alphas[k] = (double)k / (steps - 1);
                    weights[k] = (k == 0 || k == steps - 1 ? 0.5 : 1.0) / (steps - 1);
                }
                return (alphas, weights);
            default:
                throw new ArgumentOutOfRangeException(nameof(method), method, "unknown integration method");
        }
    }

    /// <summary>
    /// The n-point Gauss–Legendre rule moved from [−1, 1] to [0, 1]: the nodes are the roots of the Legendre polynomial
    /// P_n, found by Newton's method from the classical estimate cos(π(i + ¾)/(n + ½)), which converges for every n.
    /// </summary>
    public static (double[] Alphas, double[] Weights) GaussLegendre(int n)
    {
        var alphas = new double[n];
        var weights = new double[n];
        for (int i = 0; i < (n + 1) / 2; i++)
        {
            double x = Math.Cos(Math.PI * (i + 0.75) / (n + 0.5));
            double derivative = 0;
            for (int iteration = 0; iteration < 100; iteration++)
            {
                // P_n(x) and P_n'(x) by the three-term recurrence (k + 1) P_{k+1} = (2k + 1) x P_k − k P_{k−1}.
                double p0 = 1, p1 = x;
                for (int k = 1; k < n; k++) (p0, p1) = (p1, ((2 * k + 1) * x * p1 - k * p0) / (k + 1));
                derivative = n * (x * p1 - p0) / (x * x - 1);
                double step = p1 / derivative;
                x -= step;
                if (Math.Abs(step) < 1e-15) break;
            }
            double w = 2 / ((1 - x * x) * derivative * derivative);
            // Symmetric pairs ±x with equal weights; halved because [0, 1] is half as long as [−1, 1].
            alphas[i] = (1 - x) / 2;
            alphas[n - 1 - i] = (1 + x) / 2;
            weights[i] = weights[n - 1 - i] = w / 2;
        }
        return (alphas, weights);
    }
}
