namespace Loom;

/// <summary>How a loss combines its per-element values, as PyTorch's <c>reduction</c> argument.</summary>
public enum Reduction
{
    /// <summary>No reduction: one loss per sample (and per spatial position).</summary>
    None,

    /// <summary>The (weighted) mean: for class-index targets, divided by the sum of the weights of the non-ignored targets.</summary>
    Mean,

    /// <summary>The sum of the per-sample losses.</summary>
    Sum,
}
