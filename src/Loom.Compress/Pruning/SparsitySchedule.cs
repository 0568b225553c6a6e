namespace Loom.Compress;

/// <summary>
/// The cubic sparsity ramp of Zhu and Gupta (2017, "To prune, or not to prune"): from <see cref="Initial"/> at
/// <see cref="BeginStep"/> to <see cref="Final"/> at <see cref="EndStep"/>, s(t) = s_f + (s_i − s_f)·(1 − (t − t₀)/(t₁ − t₀))³,
/// updated every <see cref="Frequency"/> steps: pruning fast while many weights are redundant, slowly near the end.
/// </summary>
public sealed record SparsitySchedule
{
    public SparsitySchedule(double initial, double final, long beginStep, long endStep, long frequency = 1)
    {
        if (!(initial >= 0 && initial <= final && final < 1))
            throw new ArgumentOutOfRangeException(nameof(final), $"sparsity schedule: need 0 <= initial ({initial}) <= final ({final}) < 1");
        if (beginStep < 0 || endStep < beginStep) throw new ArgumentOutOfRangeException(nameof(endStep), $"sparsity schedule: need 0 <= begin ({beginStep}) <= end ({endStep})");
        if (frequency < 1) throw new ArgumentOutOfRangeException(nameof(frequency), frequency, "sparsity schedule: frequency must be at least 1");
        (Initial, Final, BeginStep, EndStep, Frequency) = (initial, final, beginStep, endStep, frequency);
    }

    public double Initial { get; }
    public double Final { get; }
    public long BeginStep { get; }
    public long EndStep { get; }
    public long Frequency { get; }

    /// <summary>The target sparsity after <paramref name="step"/> optimiser steps (held between updates).</summary>
    public double At(long step)
    {
        if (step < BeginStep) return 0;
        if (step >= EndStep || EndStep == BeginStep) return Final;
        long updated = BeginStep + (step - BeginStep) / Frequency * Frequency;
        double progress = (double)(updated - BeginStep) / (EndStep - BeginStep);
        return Final + (Initial - Final) * Math.Pow(1 - progress, 3);
    }
}
