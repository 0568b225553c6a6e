namespace Loom.Kernels;

/// <summary>
/// Forward and backward of an element-wise loss (<see cref="IPointwiseLoss"/>) in one pass each. Float runs
/// vectorised (Vector512, Vector256 or scalar, the same formula in each); double runs a scalar loop (Float64 is for
/// gradient checks, not speed).
/// </summary>
/// <remarks>
/// Besides the input x and target y (n elements each), the kernels take optional operands: a weight w that
/// multiplies the loss and its gradients, the op's auxiliary operand a, and in backward the output gradient g. Each
/// holds n values, or one value for every element, or nothing (meaning 1): weights rarely vary per element, and a
/// stride-0 read of one value costs nothing next to materialising it.
/// </remarks>
internal static class PointwiseLossKernels
{
    private const int MaxLanes = 16;

    /// <summary>loss[i] = w[i]·ℓ(x[i], y[i]; a[i]).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> weight, ReadOnlySpan<float> aux, Span<float> loss,
        TOp op, VectorWidth path = VectorWidth.Auto) where TOp : struct, IPointwiseLoss
    {
        CheckOperands(x.Length, y.Length, weight.Length, aux.Length, 0);
        if (loss.Length < x.Length) throw new ArgumentException($"loss destination of {loss.Length} elements is shorter than the input's {x.Length}");
        switch (Simd.Resolve(path))
        {
            case VectorWidth.W512: ForwardLoop<Vector512<float>, Simd512<float>, TOp>(x, y, weight, aux, loss, op); break;
            case VectorWidth.W256: ForwardLoop<Vector256<float>, Simd256<float>, TOp>(x, y, weight, aux, loss, op); break;
            default: ForwardLoop<float, Simd1<float>, TOp>(x, y, weight, aux, loss, op); break;
        }
    }

    public static void Forward<TOp>(ReadOnlySpan<double> x, ReadOnlySpan<double> y, ReadOnlySpan<double> weight, ReadOnlySpan<double> aux, Span<double> loss,
        TOp op) where TOp : struct, IPointwiseLoss
    {
        CheckOperands(x.Length, y.Length, weight.Length, aux.Length, 0);
        if (loss.Length < x.Length) throw new ArgumentException($"loss destination of {loss.Length} elements is shorter than the input's {x.Length}");
        for (int i = 0; i < x.Length; i++)
            loss[i] = At(weight, i) * op.Loss(x[i], y[i], At(aux, i));
    }

    /// <summary>
    /// dx[i] = g[i]·w[i]·∂ℓ/∂x and dy[i] = g[i]·w[i]·∂ℓ/∂y at (x[i], y[i]; a[i]); an empty destination is skipped.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Backward<TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> weight, ReadOnlySpan<float> aux, ReadOnlySpan<float> grad,
        Span<float> dx, Span<float> dy, TOp op, VectorWidth path = VectorWidth.Auto) where TOp : struct, IPointwiseLoss
    {
        CheckOperands(x.Length, y.Length, weight.Length, aux.Length, grad.Length);
        CheckGradients(x.Length, dx.Length, dy.Length);
        switch (Simd.Resolve(path))
        {
            case VectorWidth.W512: BackwardLoop<Vector512<float>, Simd512<float>, TOp>(x, y, weight, aux, grad, dx, dy, op); break;
            case VectorWidth.W256: BackwardLoop<Vector256<float>, Simd256<float>, TOp>(x, y, weight, aux, grad, dx, dy, op); break;
            default: BackwardLoop<float, Simd1<float>, TOp>(x, y, weight, aux, grad, dx, dy, op); break;
        }
    }

    public static void Backward<TOp>(ReadOnlySpan<double> x, ReadOnlySpan<double> y, ReadOnlySpan<double> weight, ReadOnlySpan<double> aux, ReadOnlySpan<double> grad,
        Span<double> dx, Span<double> dy, TOp op) where TOp : struct, IPointwiseLoss
    {
        CheckOperands(x.Length, y.Length, weight.Length, aux.Length, grad.Length);
        CheckGradients(x.Length, dx.Length, dy.Length);
        for (int i = 0; i < x.Length; i++)
        {
            double gw = At(grad, i) * At(weight, i), a = At(aux, i);
            if (!dx.IsEmpty) dx[i] = gw * op.GradInput(x[i], y[i], a);
            if (!dy.IsEmpty) dy[i] = gw * op.GradTarget(x[i], y[i], a);
        }
    }

    // ------------------------------------------------------------------ loops

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ForwardLoop<TV, TOps, TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> weight, ReadOnlySpan<float> aux, Span<float> loss, TOp op)
        where TV : struct where TOps : ISimd<TV, float> where TOp : struct, IPointwiseLoss
    {
        int n = x.Length, lanes = TOps.Count, i = 0;
        Span<float> wFill = stackalloc float[MaxLanes], aFill = stackalloc float[MaxLanes];
        ref float wr = ref Start(weight, wFill, out int ws);
        ref float ar = ref Start(aux, aFill, out int @as);
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref float lr = ref MemoryMarshal.GetReference(loss);
        for (; i <= n - lanes; i += lanes)
            ForwardStep<TV, TOps, TOp>(in Unsafe.Add(ref xr, i), in Unsafe.Add(ref yr, i), in Unsafe.Add(ref wr, i * ws), in Unsafe.Add(ref ar, i * @as),
                ref Unsafe.Add(ref lr, i), op);
        if (i == n) return;
        // The tail goes through full-width buffers so that every element takes the same path: a value's loss does
        // not depend on where in the tensor it sits.
        Span<float> tx = stackalloc float[MaxLanes], ty = stackalloc float[MaxLanes], tw = stackalloc float[MaxLanes],
            ta = stackalloc float[MaxLanes], tl = stackalloc float[MaxLanes];
        ForwardStep<TV, TOps, TOp>(in Tail(x, i, 1, x, tx), in Tail(y, i, 1, y, ty), in Tail(weight, i, ws, wFill, tw), in Tail(aux, i, @as, aFill, ta),
            ref tl[0], op);
        tl[..(n - i)].CopyTo(loss[i..]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ForwardStep<TV, TOps, TOp>(in float x, in float y, in float w, in float a, ref float loss, TOp op)
        where TV : struct where TOps : ISimd<TV, float> where TOp : struct, IPointwiseLoss =>
        TOps.Store(TOps.Multiply(TOps.Load(in w, 0), op.Loss<TV, TOps>(TOps.Load(in x, 0), TOps.Load(in y, 0), TOps.Load(in a, 0))), ref loss, 0);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void BackwardLoop<TV, TOps, TOp>(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> weight, ReadOnlySpan<float> aux,
        ReadOnlySpan<float> grad, Span<float> dx, Span<float> dy, TOp op)
        where TV : struct where TOps : ISimd<TV, float> where TOp : struct, IPointwiseLoss
    {
        int n = x.Length, lanes = TOps.Count, i = 0;
        bool needX = !dx.IsEmpty, needY = !dy.IsEmpty;
        Span<float> wFill = stackalloc float[MaxLanes], aFill = stackalloc float[MaxLanes], gFill = stackalloc float[MaxLanes];
        ref float wr = ref Start(weight, wFill, out int ws);
        ref float ar = ref Start(aux, aFill, out int @as);
        ref float gr = ref Start(grad, gFill, out int gs);
        ref float xr = ref MemoryMarshal.GetReference(x);
        ref float yr = ref MemoryMarshal.GetReference(y);
        ref float dxr = ref MemoryMarshal.GetReference(dx);
        ref float dyr = ref MemoryMarshal.GetReference(dy);
        for (; i <= n - lanes; i += lanes)
            BackwardStep<TV, TOps, TOp>(in Unsafe.Add(ref xr, i), in Unsafe.Add(ref yr, i), in Unsafe.Add(ref wr, i * ws), in Unsafe.Add(ref ar, i * @as),
                in Unsafe.Add(ref gr, i * gs), ref Unsafe.Add(ref dxr, i), ref Unsafe.Add(ref dyr, i), needX, needY, op);
        if (i == n) return;
        Span<float> tx = stackalloc float[MaxLanes], ty = stackalloc float[MaxLanes], tw = stackalloc float[MaxLanes], ta = stackalloc float[MaxLanes],
            tg = stackalloc float[MaxLanes], tdx = stackalloc float[MaxLanes], tdy = stackalloc float[MaxLanes];
        BackwardStep<TV, TOps, TOp>(in Tail(x, i, 1, x, tx), in Tail(y, i, 1, y, ty), in Tail(weight, i, ws, wFill, tw), in Tail(aux, i, @as, aFill, ta),
            in Tail(grad, i, gs, gFill, tg), ref tdx[0], ref tdy[0], needX, needY, op);
        if (needX) tdx[..(n - i)].CopyTo(dx[i..]);
        if (needY) tdy[..(n - i)].CopyTo(dy[i..]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BackwardStep<TV, TOps, TOp>(in float x, in float y, in float w, in float a, in float g, ref float dx, ref float dy,
        bool needX, bool needY, TOp op)
        where TV : struct where TOps : ISimd<TV, float> where TOp : struct, IPointwiseLoss
    {
        var xv = TOps.Load(in x, 0);
        var yv = TOps.Load(in y, 0);
        var av = TOps.Load(in a, 0);
        var gw = TOps.Multiply(TOps.Load(in g, 0), TOps.Load(in w, 0));
        if (needX) TOps.Store(TOps.Multiply(gw, op.GradInput<TV, TOps>(xv, yv, av)), ref dx, 0);
        if (needY) TOps.Store(TOps.Multiply(gw, op.GradTarget<TV, TOps>(xv, yv, av)), ref dy, 0);
    }

    // ------------------------------------------------------------------ operands

    /// <summary>Where an operand's values start and the step between elements: 1 for n values, 0 for one value (or 1) in <paramref name="fill"/>.</summary>
    private static ref float Start(ReadOnlySpan<float> operand, Span<float> fill, out int step)
    {
        if (operand.Length > 1)
        {
            step = 1;
            return ref MemoryMarshal.GetReference(operand);
        }
        fill.Fill(operand.Length == 1 ? operand[0] : 1f);
        step = 0;
        return ref MemoryMarshal.GetReference(fill);
    }

    /// <summary>The operand's elements from <paramref name="start"/> on, zero-padded in <paramref name="buffer"/>, or its broadcast value.</summary>
    private static ref readonly float Tail(ReadOnlySpan<float> operand, int start, int step, ReadOnlySpan<float> fill, Span<float> buffer)
    {
        if (step == 0) return ref MemoryMarshal.GetReference(fill);
        buffer.Clear();
        operand[start..].CopyTo(buffer);
        return ref buffer[0];
    }

    private static double At(ReadOnlySpan<double> operand, int i) => operand.Length > 1 ? operand[i] : operand.Length == 1 ? operand[0] : 1;

    private static void CheckOperands(int n, int target, int weight, int aux, int grad)
    {
        if (target != n) throw new ArgumentException($"input has {n} elements but target {target}");
        if (weight > 1 && weight != n) throw new ArgumentException($"weight has {weight} elements; expected {n}, 1 or none");
        if (aux > 1 && aux != n) throw new ArgumentException($"auxiliary operand has {aux} elements; expected {n}, 1 or none");
        if (grad > 1 && grad != n) throw new ArgumentException($"gradient has {grad} elements; expected {n}, 1 or none");
    }

    private static void CheckGradients(int n, int dx, int dy)
    {
        if (dx != 0 && dx < n) throw new ArgumentException($"input gradient destination of {dx} elements is shorter than the input's {n}");
        if (dy != 0 && dy < n) throw new ArgumentException($"target gradient destination of {dy} elements is shorter than the input's {n}");
    }
}
