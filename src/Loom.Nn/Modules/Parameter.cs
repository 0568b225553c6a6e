using Loom.Memory;

namespace Loom.Nn;

/// <summary>
/// A tensor that a <see cref="Module"/> owns and an optimiser updates. It requires grad by default.
/// The constructor takes a contiguous copy of <c>data</c> in storage that no <see cref="MemoryScope"/> reclaims,
/// so parameters made inside a training step survive it.
/// </summary>
public sealed class Parameter : Tensor
{
    public Parameter(Tensor data, bool requiresGrad = true) : base(PersistentCopy(data))
    {
        if (requiresGrad && !data.DType.IsFloatingPoint())
            throw new ArgumentException($"Parameter: only floating-point tensors can require grad, got {data.DType.Name()}");
        RequiresGrad = requiresGrad;
    }

    private static Tensor PersistentCopy(Tensor data)
    {
        using (MemoryScope.Persistent())
        using (new Autograd.NoGrad())
            return data.Detach().Clone();
    }

    public override string ToString() => "Parameter containing:\n" + base.ToString();
}
