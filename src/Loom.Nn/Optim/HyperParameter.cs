namespace Loom.Nn;

/// <summary>
/// The checks of the optimisers' and gradient clipping's hyper-parameters, one rule and one wording each: NaN is
/// refused (a NaN learning rate or decay would turn every weight into NaN on the first step).
/// </summary>
internal static class HyperParameter
{
    /// <summary><paramref name="value"/> if it is ≥ 0; else "<paramref name="description"/> must be ≥ 0".</summary>
    public static double NonNegative(double value, string parameter, string description) =>
        value >= 0 ? value : throw new ArgumentOutOfRangeException(parameter, value, $"{description} must be ≥ 0");

    /// <summary><paramref name="value"/> if it lies in [0, 1), as the decay rate of a running average must (Adam's betas).</summary>
    public static double DecayRate(double value, string parameter) =>
        value >= 0 && value < 1 ? value : throw new ArgumentOutOfRangeException(parameter, value, $"{parameter} must be in [0, 1)");
}
