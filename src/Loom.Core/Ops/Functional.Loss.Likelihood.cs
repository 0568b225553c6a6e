namespace Loom;

// Negative log-likelihood losses of a predicted distribution, composed from tensor ops (gradients by composition):
//   poisson_nll:   ℓ = eˣ − y·x (log input), or x − y·log(x + eps); with full, plus Stirling's
//                  y·log y − y + ½·log(2πy) where y > 1
//   gaussian_nll:  ℓ = ½·(log v + (x − y)²/v) (+ ½·log 2π with full), v = max(var, eps) in value only: the clamp is
//                  outside autograd, so the gradient w.r.t. var is that of the unclamped formula at the clamped value,
//                  as PyTorch's in-place clamp under no_grad gives
public static partial class Functional
{
    /// <summary>
    /// Poisson negative log-likelihood of a target count under a rate given as its log (<paramref name="logInput"/>,
    /// the default) or itself (like <c>torch.nn.functional.poisson_nll_loss</c>).
    /// </summary>
    /// <param name="full">Add Stirling's approximation of log(y!) for targets above 1.</param>
    /// <remarks>Shapes: input and target [*], the same; output [] or, with <see cref="Reduction.None"/>, [*].</remarks>
    public static Tensor PoissonNllLoss(Tensor input, Tensor target, bool logInput = true, bool full = false, double eps = 1e-8,
        Reduction reduction = Reduction.Mean)
    {
        const string op = "poisson_nll_loss";
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        CheckFloat(op, input, target);
        if (input.Shape != target.Shape) throw new ArgumentException($"{op}: input shape {input.Shape} and target shape {target.Shape} must be equal");
        var loss = logInput ? input.Exp().Sub(target.Mul(input)) : input.Sub(target.Mul(input.Add(eps).Log()));
        if (full)
        {
            var stirling = target.Mul(target.Log()).Sub(target).Add(target.Mul(2 * Math.PI).Log().Mul(0.5));
            loss = loss.Add(stirling.MaskedFill(target.Le(1), 0));
        }
        return Reduce(loss, reduction, op);
    }

    /// <summary>
    /// Gaussian negative log-likelihood of a target under a predicted mean <paramref name="input"/> and variance
    /// <paramref name="variance"/> (like <c>torch.nn.functional.gaussian_nll_loss</c>).
    /// </summary>
    /// <param name="variance">Non-negative; the input's shape, or the input's shape with the last dimension 1 or
    /// missing (one variance per sample, shared across features). Values below <paramref name="eps"/> count as eps.</param>
    /// <remarks>Shapes: input and target [*], the same; output [] or, with <see cref="Reduction.None"/>, [*].</remarks>
    public static Tensor GaussianNllLoss(Tensor input, Tensor target, Tensor variance, bool full = false, double eps = 1e-6, Reduction reduction = Reduction.Mean)
    {
        const string op = "gaussian_nll_loss";
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(variance);
        CheckFloat(op, input, target, variance);
        if (input.Shape != target.Shape) throw new ArgumentException($"{op}: input shape {input.Shape} and target shape {target.Shape} must be equal");
        var v = variance;
        if (v.Shape != input.Shape)
        {
            // One variance per sample: [*, 1] or [*] (the last dimension missing), as PyTorch accepts.
            if (input.Rank > 0 && v.Rank == input.Rank - 1 && v.Shape.Dims.SequenceEqual(input.Shape.Dims[..^1])) v = v.Unsqueeze(-1);
            if (!(v.Rank == input.Rank && input.Rank > 0 && v.Shape[^1] == 1 && v.Shape.Dims[..^1].SequenceEqual(input.Shape.Dims[..^1])))
                throw new ArgumentException($"{op}: variance shape {variance.Shape} fits neither input shape {input.Shape} nor it with the last dimension 1 or missing");
        }
        using (new NoGrad())
            if (v.Numel > 0 && v.Min().Item() < 0) throw new ArgumentException($"{op}: variance has a negative entry (shape {variance.Shape})");
        Tensor clampedShift;
        using (new NoGrad()) clampedShift = v.Clamp(min: eps).Sub(v);
        var vc = v.Add(clampedShift); // v's value clamped at eps; its gradient passes as if unclamped
        var loss = vc.Log().Add(input.Sub(target).Square().Div(vc)).Mul(0.5);
        if (full) loss = loss.Add(0.5 * Math.Log(2 * Math.PI));
        return Reduce(loss, reduction, op);
    }
}
