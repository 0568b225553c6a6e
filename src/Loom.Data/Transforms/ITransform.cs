namespace Loom.Data;

/// <summary>
/// A function from one tensor to another, applied to samples as they are loaded (normalisation, augmentation).
/// Random transforms own a seeded <see cref="Loom.Random.Generator"/>, so a run with the same seeds sees the same
/// augmentations; they are not thread-safe, which the one-worker <see cref="DataLoader{T}"/> never needs.
/// </summary>
public interface ITransform
{
    Tensor Apply(Tensor input);

    /// <summary>Applies the transform to a float array holding a tensor of <paramref name="shape"/>; returns a new array.</summary>
    float[] Apply(float[] data, params int[] shape) => Apply(Tensor.Wrap(data, shape)).ToArray<float>();
}
