namespace Loom.Train;

/// <summary>How a <see cref="Trainer"/> runs. Every field has a sensible default.</summary>
public sealed record TrainerOptions
{
    /// <summary>Passes over the training data.</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Stop after this many optimiser steps (across epochs), if set.</summary>
    public long? MaxSteps { get; init; }

    /// <summary>Batches whose gradients are summed (each scaled by 1/N) before one optimiser step.</summary>
    public int GradientAccumulationSteps { get; init; } = 1;

    /// <summary>Clip the global gradient norm to this value before each optimiser step.</summary>
    public double? ClipGradNorm { get; init; }

    /// <summary>Clamp each gradient element into ±this value before each optimiser step.</summary>
    public double? ClipGradValue { get; init; }

    /// <summary>Step the LR scheduler after every optimiser step (true) or after every epoch (false).</summary>
    public bool SchedulerStepPerBatch { get; init; }

    /// <summary>Seeds <see cref="Random.Generator.Default"/> (dropout, initialisation done later) at the start of a fit.</summary>
    public ulong Seed { get; init; } = 42;

    /// <summary>Stop with a <see cref="TrainingDivergedException"/> when the loss becomes NaN or infinite.</summary>
    public bool StopOnNonFiniteLoss { get; init; } = true;

    public void Validate()
    {
        if (Epochs < 0) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "epochs must be ≥ 0");
        if (MaxSteps is < 0) throw new ArgumentOutOfRangeException(nameof(MaxSteps), MaxSteps, "max steps must be ≥ 0");
        if (GradientAccumulationSteps < 1) throw new ArgumentOutOfRangeException(nameof(GradientAccumulationSteps), GradientAccumulationSteps, "gradient accumulation steps must be ≥ 1");
        if (ClipGradNorm is <= 0) throw new ArgumentOutOfRangeException(nameof(ClipGradNorm), ClipGradNorm, "gradient norm clip must be > 0");
        if (ClipGradValue is <= 0) throw new ArgumentOutOfRangeException(nameof(ClipGradValue), ClipGradValue, "gradient value clip must be > 0");
    }
}
