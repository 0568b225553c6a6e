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
        Simd.For<T, SgdStep<T>>(new(p, g, buf, lr, weightDecay, momentum, T.One - dampening, nesterov, firstStep), p.Length, width);
    }

    private readonly ref struct SgdStep<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> buf, T lr, T weightDecay, T momentum, T oneMinusDamp,
        bool nesterov, bool firstStep) : ISimdStep<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Span<T> p = p, buf = buf;
        private readonly ReadOnlySpan<T> g = g;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Step<TV, TS>(nuint i) where TV : struct where TS : ISimd<TV, T>
        {
            ref T pr = ref MemoryMarshal.GetReference(p);
            var vp = TS.Load(in pr, i);
            var vg = TS.Add(TS.Load(in MemoryMarshal.GetReference(g), i), TS.Multiply(TS.Create(weightDecay), vp));
            if (momentum != T.Zero)
            {
                ref T br = ref MemoryMarshal.GetReference(buf);
                var vmu = TS.Create(momentum);
                var vb = firstStep ? vg : TS.Add(TS.Multiply(vmu, TS.Load(in br, i)), TS.Multiply(TS.Create(oneMinusDamp), vg));
                TS.Store(vb, ref br, i);
                vg = nesterov ? TS.Add(vg, TS.Multiply(vmu, vb)) : vb;
            }
            TS.Store(TS.Subtract(vp, TS.Multiply(TS.Create(lr), vg)), ref pr, i);
        }
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
        var update = new AdamStep<T>(p, g, m, v, vmax, beta1, beta2, eps,
            decay: decoupled ? T.One - lr * weightDecay : T.One,
            coupledWeightDecay: decoupled ? T.Zero : weightDecay,
            stepSize: lr / bc1,
            bc2Sqrt: T.Sqrt(T.One - T.Pow(beta2, T.CreateChecked(step))));
        Simd.For<T, AdamStep<T>>(update, p.Length, width);
    }

    private readonly ref struct AdamStep<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> m, Span<T> v, Span<T> vmax, T beta1, T beta2, T eps,
        T decay, T coupledWeightDecay, T stepSize, T bc2Sqrt) : ISimdStep<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Span<T> p = p, m = m, v = v, vmax = vmax;
        private readonly ReadOnlySpan<T> g = g;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Step<TV, TS>(nuint i) where TV : struct where TS : ISimd<TV, T>
        {
            ref T pr = ref MemoryMarshal.GetReference(p);
            ref T mr = ref MemoryMarshal.GetReference(m);
            ref T vr = ref MemoryMarshal.GetReference(v);
            var vp = TS.Load(in pr, i);
            var vg = TS.Add(TS.Load(in MemoryMarshal.GetReference(g), i), TS.Multiply(TS.Create(coupledWeightDecay), vp));
            vp = TS.Multiply(vp, TS.Create(decay));
            var vm = TS.Add(TS.Multiply(TS.Create(beta1), TS.Load(in mr, i)), TS.Multiply(TS.Create(T.One - beta1), vg));
            var vv = TS.Add(TS.Multiply(TS.Create(beta2), TS.Load(in vr, i)), TS.Multiply(TS.Multiply(TS.Create(T.One - beta2), vg), vg));
            TS.Store(vm, ref mr, i);
            TS.Store(vv, ref vr, i);
            if (!vmax.IsEmpty)
            {
                ref T xr = ref MemoryMarshal.GetReference(vmax);
                vv = TS.Max(TS.Load(in xr, i), vv);
                TS.Store(vv, ref xr, i);
            }
            var denominator = TS.Add(TS.Divide(TS.Sqrt(vv), TS.Create(bc2Sqrt)), TS.Create(eps));
            TS.Store(TS.Subtract(vp, TS.Divide(TS.Multiply(TS.Create(stepSize), vm), denominator)), ref pr, i);
        }
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
        Simd.For<T, RmsPropStep<T>>(new(p, g, sq, gradAvg, buf, lr, alpha, eps, weightDecay, momentum), p.Length, width);
    }

    private readonly ref struct RmsPropStep<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> sq, Span<T> gradAvg, Span<T> buf, T lr, T alpha, T eps,
        T weightDecay, T momentum) : ISimdStep<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Span<T> p = p, sq = sq, gradAvg = gradAvg, buf = buf;
        private readonly ReadOnlySpan<T> g = g;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Step<TV, TS>(nuint i) where TV : struct where TS : ISimd<TV, T>
        {
            ref T pr = ref MemoryMarshal.GetReference(p);
            ref T sr = ref MemoryMarshal.GetReference(sq);
            var vp = TS.Load(in pr, i);
            var vg = TS.Add(TS.Load(in MemoryMarshal.GetReference(g), i), TS.Multiply(TS.Create(weightDecay), vp));
            var valpha = TS.Create(alpha);
            var oneMinusAlpha = TS.Create(T.One - alpha);
            var s = TS.Add(TS.Multiply(valpha, TS.Load(in sr, i)), TS.Multiply(TS.Multiply(oneMinusAlpha, vg), vg));
            TS.Store(s, ref sr, i);
            if (!gradAvg.IsEmpty)
            {
                ref T ar = ref MemoryMarshal.GetReference(gradAvg);
                var ga = TS.Add(TS.Multiply(valpha, TS.Load(in ar, i)), TS.Multiply(oneMinusAlpha, vg));
                TS.Store(ga, ref ar, i);
                s = TS.Subtract(s, TS.Multiply(ga, ga));
            }
            var avg = TS.Add(TS.Sqrt(s), TS.Create(eps));
            var vlr = TS.Create(lr);
            if (momentum > T.Zero)
            {
                ref T br = ref MemoryMarshal.GetReference(buf);
                var b = TS.Add(TS.Multiply(TS.Create(momentum), TS.Load(in br, i)), TS.Divide(vg, avg));
                TS.Store(b, ref br, i);
                TS.Store(TS.Subtract(vp, TS.Multiply(vlr, b)), ref pr, i);
            }
            else
            {
                TS.Store(TS.Subtract(vp, TS.Divide(TS.Multiply(vlr, vg), avg)), ref pr, i);
            }
        }
    }

    /// <summary>Adagrad: clr = lr / (1 + (t−1)·lr_decay); g ← g + wd·p; sum ← sum + g²; p ← p − clr·g / (√sum + ε).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Adagrad<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> sum, T lr, T lrDecay, T eps, T weightDecay, long step,
        VectorWidth width = VectorWidth.Auto) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Simd.For<T, AdagradStep<T>>(new(p, g, sum, lr / (T.One + T.CreateChecked(step - 1) * lrDecay), eps, weightDecay), p.Length, width);
    }

    private readonly ref struct AdagradStep<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> sum, T clr, T eps, T weightDecay)
        : ISimdStep<T> where T : unmanaged, IFloatingPointIeee754<T>
    {
        private readonly Span<T> p = p, sum = sum;
        private readonly ReadOnlySpan<T> g = g;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Step<TV, TS>(nuint i) where TV : struct where TS : ISimd<TV, T>
        {
            ref T pr = ref MemoryMarshal.GetReference(p);
            ref T sr = ref MemoryMarshal.GetReference(sum);
            var vp = TS.Load(in pr, i);
            var vg = TS.Add(TS.Load(in MemoryMarshal.GetReference(g), i), TS.Multiply(TS.Create(weightDecay), vp));
            var s = TS.Add(TS.Load(in sr, i), TS.Multiply(vg, vg));
            TS.Store(s, ref sr, i);
            TS.Store(TS.Subtract(vp, TS.Divide(TS.Multiply(TS.Create(clr), vg), TS.Add(TS.Sqrt(s), TS.Create(eps)))), ref pr, i);
        }
    }
}
