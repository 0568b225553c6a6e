using Loom.Random;
using Loom.Train;

namespace Loom.Compress;

/// <summary>
/// Batch-level mixup (Zhang et al. 2018) for distillation by function matching (Beyer et al. 2022): each training batch
/// becomes λ·x + (1 − λ)·x[π] for one λ uniform in [0, 1] (mixup's Beta(1, 1)) and a random pairing π, and the teacher
/// scores that same mixed batch, so its outputs describe points between the training images that it never fitted,
/// where its soft targets say far more than on the images it memorised. The labels mix with the same λ and π
/// (<see cref="Loss"/>). One λ per batch costs one pass over the batch, where per-sample transforms cost an epoch ×4.
/// Given to the trainer as a callback, its generator's state goes into checkpoints, so a resumed run draws the λ and
/// pairings the uninterrupted run would have drawn instead of those of its first batches again.
/// </summary>
public sealed class Mixup(Generator generator) : IStatefulCallback
{
    /// <summary>The weight of the batch's own samples in the last <see cref="Mix"/> (1 when nothing was mixed).</summary>
    public double Lambda { get; private set; } = 1;

    /// <summary>The partner of each sample in the last <see cref="Mix"/> (Int64 [N]); null when nothing was mixed.</summary>
    public Tensor? Partners { get; private set; }

    /// <summary>λ·batch + (1 − λ)·batch[π] along the first axis, remembering λ and π for <see cref="Loss"/>.</summary>
    public Tensor Mix(Tensor batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Rank == 0) throw new ArgumentException($"mixup: needs a batch [N, ...], got shape {batch.Shape}");
        Lambda = generator.NextDouble();
        Partners = Tensor.FromArray(generator.Permutation(batch.Shape[0]).Select(i => (long)i).ToArray());
        return batch.Mul(Lambda).Add(batch.IndexSelect(0, Partners).Mul(1 - Lambda));
    }

    /// <summary>Forgets the last mix: evaluation batches go through unmixed and are scored against their own targets.</summary>
    public void Clear() => (Lambda, Partners) = (1, null);

    /// <summary>
    /// λ·loss(target) + (1 − λ)·loss(target[π]) for the last mixed batch (cross-entropy against the mixed label
    /// distribution, as mixup trains), or loss(target) when nothing was mixed.
    /// </summary>
    public Tensor Loss(Func<Tensor, Tensor> loss, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(target);
        if (Partners is null) return loss(target);
        if (target.Rank == 0 || target.Shape[0] != Partners.Shape[0])
            throw new ArgumentException($"mixup: target {target.Shape} does not match the mixed batch of {Partners.Shape[0]}");
        return loss(target).Mul(Lambda).Add(loss(target.IndexSelect(0, Partners)).Mul(1 - Lambda));
    }

    public string StateKey => "mixup";

    // Checkpoint states are doubles: each 64-bit word of the generator is kept as two exact 32-bit halves.
    public Dictionary<string, double> GetState()
    {
        var s = generator.GetState();
        var state = new Dictionary<string, double> { ["has_spare"] = s.HasSpareNormal ? 1 : 0, ["spare"] = s.SpareNormal };
        foreach (var (name, word) in new[] { ("s0", s.S0), ("s1", s.S1), ("s2", s.S2), ("s3", s.S3) })
            (state[name + "_high"], state[name + "_low"]) = (word >> 32, word & 0xFFFF_FFFF);
        return state;
    }

    public void SetState(IReadOnlyDictionary<string, double> state)
    {
        ulong Word(string name) => ((ulong)state[name + "_high"] << 32) | (ulong)state[name + "_low"];
        generator.SetState(new GeneratorState(Word("s0"), Word("s1"), Word("s2"), Word("s3"), state["has_spare"] != 0, state["spare"]));
    }
}
