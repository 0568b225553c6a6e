namespace Loom.Train;

/// <summary>Which regression error <see cref="RegressionMetric"/> reports.</summary>
public enum RegressionKind
{
    MeanSquaredError,
    MeanAbsoluteError,
    /// <summary>Coefficient of determination, 1 − SS_res / SS_tot.</summary>
    R2,
}

/// <summary>
/// MSE, MAE or R² over all elements of predictions and targets of the same shape. Reducible: R² too is a function of
/// sums (of squared errors, of y and of y²) that add up over ranks.
/// </summary>
public sealed class RegressionMetric(RegressionKind kind) : IReducibleMetric
{
    private double _sumSqErr, _sumAbsErr, _sumY, _sumY2;
    private long _n;

    public string Name => kind switch
    {
        RegressionKind.MeanSquaredError => "mse",
        RegressionKind.MeanAbsoluteError => "mae",
        _ => "r2",
    };

    public bool HigherIsBetter => kind == RegressionKind.R2;

    public void Update(Tensor predictions, Tensor targets)
    {
        if (predictions.Numel != targets.Numel)
            throw new ArgumentException($"{Name}: predictions {predictions.Shape} and targets {targets.Shape} differ in size");
        var p = predictions.ToArray<double>();
        var y = targets.ToArray<double>();
        for (int i = 0; i < p.Length; i++)
        {
            double e = p[i] - y[i];
            _sumSqErr += e * e;
            _sumAbsErr += Math.Abs(e);
            _sumY += y[i];
            _sumY2 += y[i] * y[i];
        }
        _n += p.Length;
    }

    public double Compute()
    {
        if (_n == 0) return double.NaN;
        return kind switch
        {
            RegressionKind.MeanSquaredError => _sumSqErr / _n,
            RegressionKind.MeanAbsoluteError => _sumAbsErr / _n,
            _ => 1 - _sumSqErr / (_sumY2 - _sumY * _sumY / _n),
        };
    }

    public void Reset() => (_sumSqErr, _sumAbsErr, _sumY, _sumY2, _n) = (0, 0, 0, 0, 0);

    public void Reduce(SumAcrossRanks sumAcrossRanks)
    {
        Span<double> sums = [_sumSqErr, _sumAbsErr, _sumY, _sumY2, _n];
        sumAcrossRanks(sums);
        (_sumSqErr, _sumAbsErr, _sumY, _sumY2, _n) = (sums[0], sums[1], sums[2], sums[3], (long)sums[4]);
    }
}
