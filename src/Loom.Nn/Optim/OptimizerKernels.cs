using System.Numerics;
using System.Runtime.CompilerServices;

namespace Loom.Nn;

/// <summary>
/// The update rules as pure functions over spans (parameter, gradient, state buffers), vectorised with
/// <see cref="Vector{T}"/> and a scalar tail that computes the same formula. Formulas follow PyTorch's
/// single-tensor reference implementations (torch/optim/*.py), so golden tests compare step by step.
/// </summary>
internal static class OptimizerKernels
{
    /// <summary>
    /// SGD: g ← g + wd·p; with momentum, buf ← g on the first step else μ·buf + (1 − dampening)·g, and
    /// g ← g + μ·buf (Nesterov) or buf; then p ← p − lr·g.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Sgd<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> buf, T lr, T weightDecay, T momentum, T dampening, bool nesterov, bool firstStep)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        bool useMomentum = momentum != T.Zero;
        T oneMinusDamp = T.One - dampening;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vlr = new Vector<T>(lr);
            var vwd = new Vector<T>(weightDecay);
            var vmu = new Vector<T>(momentum);
            var vdamp = new Vector<T>(oneMinusDamp);
            for (; i <= p.Length - Vector<T>.Count; i += Vector<T>.Count)
            {
                var vp = new Vector<T>(p[i..]);
                var vg = new Vector<T>(g[i..]) + vwd * vp;
                if (useMomentum)
                {
                    var vb = firstStep ? vg : vmu * new Vector<T>(buf[i..]) + vdamp * vg;
                    vb.CopyTo(buf[i..]);
                    vg = nesterov ? vg + vmu * vb : vb;
                }
                (vp - vlr * vg).CopyTo(p[i..]);
            }
        }
        for (; i < p.Length; i++)
        {
            T gi = g[i] + weightDecay * p[i];
            if (useMomentum)
            {
                T b = firstStep ? gi : momentum * buf[i] + oneMinusDamp * gi;
                buf[i] = b;
                gi = nesterov ? gi + momentum * b : b;
            }
            p[i] -= lr * gi;
        }
    }

    /// <summary>
    /// Adam/AdamW: coupled decay g ← g + wd·p (Adam) or decoupled p ← p·(1 − lr·wd) (AdamW);
    /// m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²; with AMSGrad vmax ← max(vmax, v) is used in place of v;
    /// p ← p − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Adam<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> m, Span<T> v, Span<T> vmax, T lr, T beta1, T beta2, T eps,
        T weightDecay, bool decoupled, bool amsgrad, long step)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T bc1 = T.One - T.Pow(beta1, T.CreateChecked(step));
        T bc2Sqrt = T.Sqrt(T.One - T.Pow(beta2, T.CreateChecked(step)));
        T stepSize = lr / bc1;
        T decay = decoupled ? T.One - lr * weightDecay : T.One;
        T coupledWd = decoupled ? T.Zero : weightDecay;
        T oneMinusB1 = T.One - beta1, oneMinusB2 = T.One - beta2;
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var vb1 = new Vector<T>(beta1);
            var vb2 = new Vector<T>(beta2);
            var v1b1 = new Vector<T>(oneMinusB1);
            var v1b2 = new Vector<T>(oneMinusB2);
            var vDecay = new Vector<T>(decay);
            var vWd = new Vector<T>(coupledWd);
            var vStep = new Vector<T>(stepSize);
            var vBc2 = new Vector<T>(bc2Sqrt);
            var vEps = new Vector<T>(eps);
            for (; i <= p.Length - Vector<T>.Count; i += Vector<T>.Count)
            {
                var vp = new Vector<T>(p[i..]);
                var vg = new Vector<T>(g[i..]) + vWd * vp;
                vp *= vDecay;
                var vm = vb1 * new Vector<T>(m[i..]) + v1b1 * vg;
                var vv = vb2 * new Vector<T>(v[i..]) + v1b2 * vg * vg;
                vm.CopyTo(m[i..]);
                vv.CopyTo(v[i..]);
                if (amsgrad)
                {
                    vv = Vector.Max(new Vector<T>(vmax[i..]), vv);
                    vv.CopyTo(vmax[i..]);
                }
                var denom = Vector.SquareRoot(vv) / vBc2 + vEps;
                (vp - vStep * vm / denom).CopyTo(p[i..]);
            }
        }
        for (; i < p.Length; i++)
        {
            T gi = g[i] + coupledWd * p[i];
            T pi = p[i] * decay;
            T mi = beta1 * m[i] + oneMinusB1 * gi;
            T vi = beta2 * v[i] + oneMinusB2 * gi * gi;
            m[i] = mi;
            v[i] = vi;
            if (amsgrad)
            {
                vi = T.Max(vmax[i], vi);
                vmax[i] = vi;
            }
            p[i] = pi - stepSize * mi / (T.Sqrt(vi) / bc2Sqrt + eps);
        }
    }

    /// <summary>
    /// RMSprop: g ← g + wd·p; sq ← α·sq + (1−α)·g²; centred: ga ← α·ga + (1−α)·g, avg = √(sq − ga²) + ε, else
    /// avg = √sq + ε; with momentum buf ← μ·buf + g/avg, p ← p − lr·buf; else p ← p − lr·g/avg.
    /// </summary>
    public static void RmsProp<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> sq, Span<T> gradAvg, Span<T> buf, T lr, T alpha, T eps,
        T weightDecay, T momentum, bool centered)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T oneMinusAlpha = T.One - alpha;
        for (int i = 0; i < p.Length; i++)
        {
            T gi = g[i] + weightDecay * p[i];
            T s = alpha * sq[i] + oneMinusAlpha * gi * gi;
            sq[i] = s;
            T avg;
            if (centered)
            {
                T ga = alpha * gradAvg[i] + oneMinusAlpha * gi;
                gradAvg[i] = ga;
                avg = T.Sqrt(s - ga * ga) + eps;
            }
            else
            {
                avg = T.Sqrt(s) + eps;
            }
            if (momentum > T.Zero)
            {
                T b = momentum * buf[i] + gi / avg;
                buf[i] = b;
                p[i] -= lr * b;
            }
            else
            {
                p[i] -= lr * gi / avg;
            }
        }
    }

    /// <summary>Adagrad: clr = lr / (1 + (t−1)·lr_decay); g ← g + wd·p; sum ← sum + g²; p ← p − clr·g / (√sum + ε).</summary>
    public static void Adagrad<T>(Span<T> p, ReadOnlySpan<T> g, Span<T> sum, T lr, T lrDecay, T eps, T weightDecay, long step)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T clr = lr / (T.One + T.CreateChecked(step - 1) * lrDecay);
        for (int i = 0; i < p.Length; i++)
        {
            T gi = g[i] + weightDecay * p[i];
            T s = sum[i] + gi * gi;
            sum[i] = s;
            p[i] -= clr * gi / (T.Sqrt(s) + eps);
        }
    }
}
