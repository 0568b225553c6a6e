namespace Loom.Data;

/// <summary>
/// Chooses which dataset indices an epoch visits, in which order (PyTorch's <c>Sampler</c>). A
/// <see cref="DataLoader{T}"/> batches the order in sequence. The order must depend only on (seed, epoch), where the
/// seed is the loader's, so that a run is reproducible and a checkpoint (which saves the loader's seed and epoch)
/// resumes the same sequence.
/// </summary>
public interface ISampler
{
    /// <summary>Indices per epoch.</summary>
    int Count { get; }

    /// <summary>The indices epoch <paramref name="epoch"/> visits, in order; <see cref="Count"/> of them.</summary>
    int[] Order(ulong seed, int epoch);
}
