namespace Loom.Data;

/// <summary>
/// A mini-batch: inputs and targets stacked along a new first dimension of size B, e.g. [B, C, H, W] and [B].
/// </summary>
public sealed record Batch(Tensor Inputs, Tensor Targets)
{
    /// <summary>The dataset indices the rows came from, in row order (set by <see cref="DataLoader{T}"/>).</summary>
    public int[] Indices { get; init; } = [];

    /// <summary>The number of samples, B.</summary>
    public int Size => Inputs.Rank == 0 ? 1 : Inputs.Shape[0];
}
