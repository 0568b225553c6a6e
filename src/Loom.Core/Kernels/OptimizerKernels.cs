namespace Loom.Kernels;

/// <summary>
/// The optimiser update rules as pure functions over spans (parameter, gradient, state buffers), each written once
/// over <see cref="ISimd{TV, T}"/>. Formulas follow PyTorch's single-tensor reference implementations
/// (torch/optim/*.py), operation for operation and without fused multiply-adds, so every width gives the same bits
/// and golden tests compare step by step. <see cref="Functional"/>'s *Update methods are the public entry points.
/// </summary>
internal static class OptimizerKernels
{
    /// <summary>
    /// SGD: g ← g + wd·p; with momentum, buf ← g on the first step else μ·buf + (1 − dampening)·g, and
    /// g ← g + μ·buf (Nesterov) or buf; then p ← p − lr·g.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Sgd<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> buf, T lr, T weightDecay, T momentum, T dampening, bool nesterov, bool firstStep,
        VectorWidth width = VectorWidth.Auto) where T : unmanaged, IFloatingPointIeee754<T>
    {
        // Without momentum the rule is p − lr·g alone; deciding that here keeps the test out of the loop.
        if (momentum == T.Zero) Simd.For<T, UpdateStep<T, PlainSgdRule<T>>>(new(p, g, weightDecay, new(lr)), p.Length, width);
        else Simd.For<T, UpdateStep<T, MomentumSgdRule<T>>>(new(p, g, weightDecay, new(buf, lr, momentum, T.One - dampening, nesterov, firstStep)), p.Length, width);
    }

    /// <summary>
    /// Adam/AdamW: coupled decay g ← g + wd·p (Adam) or decoupled p ← p·(1 − lr·wd) (AdamW);
    /// m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; with AMSGrad vmax ← max(vmax, v) is used in place of v;
    /// p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε). <paramref name="vmax"/> is empty without AMSGrad.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Adam<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> m, Span<T> v, Span<T> vmax, T lr, T beta1, T beta2, T eps,
        T weightDecay, bool decoupled, long step, VectorWidth width = VectorWidth.Auto)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T bc1 = T.One - T.Pow(beta1, T.CreateChecked(step));
        var rule = new AdamRule<T>(m, v, vmax, beta1, beta2, eps,
            decay: decoupled ? T.One - lr * weightDecay : T.One,
            stepSize: lr / bc1,
            bc2Sqrt: T.Sqrt(T.One - T.Pow(beta2, T.CreateChecked(step))));
        Simd.For<T, UpdateStep<T, AdamRule<T>>>(new(p, g, decoupled ? T.Zero : weightDecay, rule), p.Length, width);
    }

    /// <summary>
    /// RMSprop: g ← g + wd·p; sq ← α·sq + (1−α)·g²; centred (<paramref name="gradAvg"/> not empty): ga ← α·ga + (1−α)·g,
    /// avg = √(sq − ga²) + ε, else avg = √sq + ε; with momentum buf ← μ·buf + g/avg, p ← p − lr·buf; else p ← p − lr·g/avg.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void RmsProp<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> sq, Span<T> gradAvg, Span<T> buf, T lr, T alpha, T eps,
        T weightDecay, T momentum, VectorWidth width = VectorWidth.Auto)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Simd.For<T, UpdateStep<T, RmsPropRule<T>>>(new(p, g, weightDecay, new(sq, gradAvg, buf, lr, alpha, eps, momentum)), p.Length, width);
    }

    /// <summary>Adagrad: clr = lr / (1 + (t−1)·lr_decay); g ← g + wd·p; sum ← sum + g²; p ← p − clr·g / (√sum + ε).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Adagrad<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> sum, T lr, T lrDecay, T eps, T weightDecay, long step,
        VectorWidth width = VectorWidth.Auto) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rule = new AdagradRule<T>(sum, lr / (T.One + T.CreateChecked(step - 1) * lrDecay), eps);
        Simd.For<T, UpdateStep<T, AdagradRule<T>>>(new(p, g, weightDecay, rule), p.Length, width);
    }

    /// <summary>
    /// What one optimiser does to TS.Count parameters at i: from p and its gradient g (PyTorch's coupled weight decay
    /// already added), update the rule's own state buffers at i and return the new p.
    /// </summary>
    private interface IUpdateRule<T> where T : unmanaged
    {
        TV Update<TV, TS>(TV p, TV g, nuint i) where TV : struct where TS : ISimd<TV, T>;
    }

    /// <summary>The part every rule shares: load p, g ← g + wd·p, store the rule's new p.</summary>
    private readonly ref struct UpdateStep<T, TRule>(Span<T> p, ReadOnlySpan<T> g, T weightDecay, TRule rule) : ISimdStep<T>
        where T : unmanaged, IFloatingPointIeee754<T> where TRule : IUpdateRule<T>, allows ref struct
    {
        private readonly Span<T> p = p;
        private readonly ReadOnlySpan<T> g = g;
        private readonly TRule rule = rule;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Step<TV, TS>(nuint i) where TV : struct where TS : ISimd<TV, T>
        {
            ref T pr = ref MemoryMarshal.GetReference(p);
            var vp = TS.Load(in pr, i);
            var vg = TS.Add(TS.Load(in MemoryMarshal.GetReference(g), i), TS.Multiply(TS.Create(weightDecay), vp));
            TS.Store(rule.Update<TV, TS>(vp, vg, i), ref pr, i);
        }
    }

    private readonly ref struct PlainSgdRule<T>(T lr) : IUpdateRule<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Update<TV, TS>(TV p, TV g, nuint i) where TV : struct where TS : ISimd<TV, T> => TS.Subtract(p, TS.Multiply(TS.Create(lr), g));
    }

    private readonly ref struct MomentumSgdRule<T>(Span<T> buf, T lr, T momentum, T oneMinusDamp, bool nesterov, bool firstStep) : IUpdateRule<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Span<T> buf = buf;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Update<TV, TS>(TV p, TV g, nuint i) where TV : struct where TS : ISimd<TV, T>
        {
            ref T br = ref MemoryMarshal.GetReference(buf);
            var vmu = TS.Create(momentum);
            var vb = firstStep ? g : TS.Add(TS.Multiply(vmu, TS.Load(in br, i)), TS.Multiply(TS.Create(oneMinusDamp), g));
            TS.Store(vb, ref br, i);
            return TS.Subtract(p, TS.Multiply(TS.Create(lr), nesterov ? TS.Add(g, TS.Multiply(vmu, vb)) : vb));
        }
    }

    private readonly ref struct AdamRule<T>(Span<T> m, Span<T> v, Span<T> vmax, T beta1, T beta2, T eps, T decay, T stepSize, T bc2Sqrt)
        : IUpdateRule<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Span<T> m = m, v = v, vmax = vmax;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Update<TV, TS>(TV p, TV g, nuint i) where TV : struct where TS : ISimd<TV, T>
        {
            ref T mr = ref MemoryMarshal.GetReference(m);
            ref T vr = ref MemoryMarshal.GetReference(v);
            p = TS.Multiply(p, TS.Create(decay));
            var vm = TS.Add(TS.Multiply(TS.Create(beta1), TS.Load(in mr, i)), TS.Multiply(TS.Create(T.One - beta1), g));
            var vv = TS.Add(TS.Multiply(TS.Create(beta2), TS.Load(in vr, i)), TS.Multiply(TS.Multiply(TS.Create(T.One - beta2), g), g));
            TS.Store(vm, ref mr, i);
            TS.Store(vv, ref vr, i);
            if (!vmax.IsEmpty)
            {
                ref T xr = ref MemoryMarshal.GetReference(vmax);
                vv = TS.Max(TS.Load(in xr, i), vv);
                TS.Store(vv, ref xr, i);
            }
            var denominator = TS.Add(TS.Divide(TS.Sqrt(vv), TS.Create(bc2Sqrt)), TS.Create(eps));
            return TS.Subtract(p, TS.Divide(TS.Multiply(TS.Create(stepSize), vm), denominator));
        }
    }

    private readonly ref struct RmsPropRule<T>(Span<T> sq, Span<T> gradAvg, Span<T> buf, T lr, T alpha, T eps, T momentum) : IUpdateRule<T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Span<T> sq = sq, gradAvg = gradAvg, buf = buf;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Update<TV, TS>(TV p, TV g, nuint i) where TV : struct where TS : ISimd<TV, T>
        {
            ref T sr = ref MemoryMarshal.GetReference(sq);
            var valpha = TS.Create(alpha);
            var oneMinusAlpha = TS.Create(T.One - alpha);
            var s = TS.Add(TS.Multiply(valpha, TS.Load(in sr, i)), TS.Multiply(TS.Multiply(oneMinusAlpha, g), g));
            TS.Store(s, ref sr, i);
            if (!gradAvg.IsEmpty)
            {
                ref T ar = ref MemoryMarshal.GetReference(gradAvg);
                var ga = TS.Add(TS.Multiply(valpha, TS.Load(in ar, i)), TS.Multiply(oneMinusAlpha, g));
                TS.Store(ga, ref ar, i);
                s = TS.Subtract(s, TS.Multiply(ga, ga));
            }
            var avg = TS.Add(TS.Sqrt(s), TS.Create(eps));
            var vlr = TS.Create(lr);
            if (momentum > T.Zero)
            {
                ref T br = ref MemoryMarshal.GetReference(buf);
                var b = TS.Add(TS.Multiply(TS.Create(momentum), TS.Load(in br, i)), TS.Divide(g, avg));
                TS.Store(b, ref br, i);
                return TS.Subtract(p, TS.Multiply(vlr, b));
            }
            return TS.Subtract(p, TS.Divide(TS.Multiply(vlr, g), avg));
        }
    }

    private readonly ref struct AdagradRule<T>(Span<T> sum, T clr, T eps) : IUpdateRule<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Span<T> sum = sum;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TV Update<TV, TS>(TV p, TV g, nuint i) where TV : struct where TS : ISimd<TV, T>
        {
            ref T sr = ref MemoryMarshal.GetReference(sum);
            var s = TS.Add(TS.Load(in sr, i), TS.Multiply(g, g));
            TS.Store(s, ref sr, i);
            return TS.Subtract(p, TS.Divide(TS.Multiply(TS.Create(clr), g), TS.Add(TS.Sqrt(s), TS.Create(eps))));
        }
    }
}
