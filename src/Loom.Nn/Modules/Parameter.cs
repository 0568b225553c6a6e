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

    /// <summary>
    /// Clears the gradient for <see cref="Module.ZeroGrad"/> and the optimisers' <c>ZeroGrad</c>: sets it to null,
    /// or with <paramref name="setToNone"/> false zeroes it in place, so the next backward accumulates into the same
    /// array (a gradient that cannot be zeroed in place, strided or not floating-point, is dropped instead).
    /// </summary>
    internal void ClearGrad(bool setToNone)
    {
        if (setToNone || Grad is not { IsContiguous: true } g)
        {
            Grad = null;
            return;
        }
        switch (g.DType)
        {
            case DType.Float32: g.AsSpan<float>().Clear(); break;
            case DType.Float64: g.AsSpan<double>().Clear(); break;
            default: Grad = null; break;
        }
    }

    public override string ToString() => "Parameter containing:\n" + base.ToString();
}
