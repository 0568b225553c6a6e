namespace Loom;

/// <summary>How <see cref="Functional.KLDiv"/> (and the <c>KLDivLoss</c> module) combines its per-element values: <see cref="Reduction"/> plus PyTorch's <c>batchmean</c>.</summary>
public enum KLDivReduction
{
    /// <summary>No reduction: one value per element.</summary>
    None,

    /// <summary>The mean over all elements (PyTorch's default, which is not the KL divergence per sample).</summary>
    Mean,

    /// <summary>The sum over all elements.</summary>
    Sum,

    /// <summary>The sum divided by the batch size (the first dimension): the mathematically correct KL divergence per sample.</summary>
    BatchMean,
}
