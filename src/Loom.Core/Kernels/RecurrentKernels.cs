namespace Loom.Kernels;

/// <summary>
/// The element-wise part of one recurrent cell step for one batch row of H hidden units: forward from the two
/// pre-activation projections, backward from the gradient reaching the new state. Gate rows follow PyTorch's order
/// (LSTM i, f, g, o; GRU r, z, n), each gate H wide. Forward uses TensorPrimitives for the non-linearities; backward
/// is one vectorised pass, written once through <see cref="ISimd{TV, T}"/> (Note [SIMD]).
/// </summary>
/// <remarks>
/// Notation: gx = x·W_ihᵀ + b_ih and hg = h_prev·W_hhᵀ + b_hh, both G·H wide. Backward kernels write dA, the
/// gradient of hg (the hidden-side pre-activations): dh_prev and the weight gradients follow from it by GEMMs.
/// </remarks>
internal static class RecurrentKernels
{
    // ---------------------------------------------------------------- LSTM

    /// <summary>
    /// gates = (σ, σ, tanh, σ)(gx + hg) as i, f, g, o;  c = f⊙c_prev + i⊙g;  h = o⊙tanh(c).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LstmForward<T>(ReadOnlySpan<T> gx, ReadOnlySpan<T> hg, ReadOnlySpan<T> cPrev, Span<T> gates, Span<T> c, Span<T> h)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = c.Length;
        TensorPrimitives.Add(gx, hg, gates);
        var input = gates[..n];
        var forget = gates.Slice(n, n);
        var cell = gates.Slice(2 * n, n);
        var output = gates.Slice(3 * n, n);
        TensorPrimitives.Sigmoid(gates[..(2 * n)], gates[..(2 * n)]);
        TanhKernels.Tanh(cell, cell);
        TensorPrimitives.Sigmoid(output, output);
        TensorPrimitives.Multiply(forget, cPrev, c);
        TensorPrimitives.FusedMultiplyAdd(input, cell, c, c);
        TanhKernels.Tanh(c, h);
        TensorPrimitives.Multiply(h, output, h);
    }

    /// <summary>
    /// From dh (all of the gradient reaching h, output's included) and dc (reaching c from later steps; replaced by
    /// the gradient for c_prev = dc_total⊙f), writes dA = (di·i(1−i), df·f(1−f), dg·(1−g²), do·o(1−o)) where
    /// dc_total = dc + dh⊙o⊙(1−tanh²c), di = dc_total⊙g, df = dc_total⊙c_prev, dg = dc_total⊙i, do = dh⊙tanh c.
    /// <paramref name="tanhC"/> is H of scratch.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void LstmBackward<T>(ReadOnlySpan<T> gates, ReadOnlySpan<T> c, ReadOnlySpan<T> cPrev, ReadOnlySpan<T> dh, Span<T> dc, Span<T> tanhC, Span<T> dA,
        VectorWidth width = VectorWidth.Auto)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TanhKernels.Tanh(c, tanhC);
        Simd.For<T, LstmBackwardStep<T>>(new(gates, cPrev, dh, dc, tanhC, dA), dc.Length, width);
    }

    private readonly ref struct LstmBackwardStep<T>(ReadOnlySpan<T> gates, ReadOnlySpan<T> cPrev, ReadOnlySpan<T> dh, Span<T> dc, ReadOnlySpan<T> tanhC, Span<T> dA)
        : ISimdStep<T> where T : unmanaged
    {
        private readonly ReadOnlySpan<T> gates = gates, cPrev = cPrev, dh = dh, tanhC = tanhC;
        private readonly Span<T> dc = dc, dA = dA;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Step<TV, TS>(nuint j) where TV : struct where TS : ISimd<TV, T>
        {
            nuint n = (nuint)dc.Length;
            LoadGates<T, TV, TS>(gates, n, j, out var i, out var f, out var g, out var o);
            var tc = TS.Load(in MemoryMarshal.GetReference(tanhC), j);
            var dhj = TS.Load(in MemoryMarshal.GetReference(dh), j);
            ref T dcr = ref MemoryMarshal.GetReference(dc);
            var dct = TS.Add(TS.Load(in dcr, j), SimdMath.TanhGradient<TV, TS, T>(TS.Multiply(dhj, o), tc));
            var cp = TS.Load(in MemoryMarshal.GetReference(cPrev), j);
            StoreGates<T, TV, TS>(dA, n, j,
                SimdMath.SigmoidGradient<TV, TS, T>(TS.Multiply(dct, g), i),
                SimdMath.SigmoidGradient<TV, TS, T>(TS.Multiply(dct, cp), f),
                SimdMath.TanhGradient<TV, TS, T>(TS.Multiply(dct, i), g),
                SimdMath.SigmoidGradient<TV, TS, T>(TS.Multiply(dhj, tc), o));
            TS.Store(TS.Multiply(dct, f), ref dcr, j);
        }
    }

    // ---------------------------------------------------------------- GRU

    /// <summary>
    /// r, z = σ(gx + hg) on the first 2H;  n = tanh(gx_n + r⊙hg_n);  h = n + z⊙(h_prev − n), which is (1−z)⊙n + z⊙h_prev.
    /// gates receives r, z, n.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GruForward<T>(ReadOnlySpan<T> gx, ReadOnlySpan<T> hg, ReadOnlySpan<T> hPrev, Span<T> gates, Span<T> h)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = h.Length;
        var rz = gates[..(2 * n)];
        TensorPrimitives.Add(gx[..(2 * n)], hg[..(2 * n)], rz);
        TensorPrimitives.Sigmoid(rz, rz);
        var candidate = gates.Slice(2 * n, n);
        TensorPrimitives.FusedMultiplyAdd(gates[..n], hg.Slice(2 * n, n), gx.Slice(2 * n, n), candidate);
        TanhKernels.Tanh(candidate, candidate);
        TensorPrimitives.Subtract(hPrev, candidate, h);
        TensorPrimitives.FusedMultiplyAdd(gates.Slice(n, n), h, candidate, h);
    }

    /// <summary>
    /// From dh (the gradient reaching h), writes dgx = (dr·r(1−r), dz·z(1−z), dn·(1−n²)) and dA, equal to dgx except
    /// that its n part is dgx_n⊙r, where dn = dh⊙(1−z), dz = dh⊙(h_prev − n), dr = dgx_n⊙hg_n; and the direct part of
    /// the gradient for h_prev, dh⊙z, into <paramref name="dhPrev"/>. <paramref name="hgN"/> is hg's n part.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void GruBackward<T>(ReadOnlySpan<T> gates, ReadOnlySpan<T> hgN, ReadOnlySpan<T> hPrev, ReadOnlySpan<T> dh, Span<T> dgx, Span<T> dA, Span<T> dhPrev,
        VectorWidth width = VectorWidth.Auto)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Simd.For<T, GruBackwardStep<T>>(new(gates, hgN, hPrev, dh, dgx, dA, dhPrev), dh.Length, width);
    }

    private readonly ref struct GruBackwardStep<T>(ReadOnlySpan<T> gates, ReadOnlySpan<T> hgN, ReadOnlySpan<T> hPrev, ReadOnlySpan<T> dh,
        Span<T> dgx, Span<T> dA, Span<T> dhPrev) : ISimdStep<T> where T : unmanaged
    {
        private readonly ReadOnlySpan<T> gates = gates, hgN = hgN, hPrev = hPrev, dh = dh;
        private readonly Span<T> dgx = dgx, dA = dA, dhPrev = dhPrev;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Step<TV, TS>(nuint j) where TV : struct where TS : ISimd<TV, T>
        {
            nuint n = (nuint)dh.Length;
            LoadGates<T, TV, TS>(gates, n, j, out var r, out var z, out var c);
            var dhj = TS.Load(in MemoryMarshal.GetReference(dh), j);
            var dn = SimdMath.TanhGradient<TV, TS, T>(TS.Multiply(dhj, TS.Subtract(TS.One, z)), c);
            var dr = SimdMath.SigmoidGradient<TV, TS, T>(TS.Multiply(dn, TS.Load(in MemoryMarshal.GetReference(hgN), j)), r);
            var dz = SimdMath.SigmoidGradient<TV, TS, T>(TS.Multiply(dhj, TS.Subtract(TS.Load(in MemoryMarshal.GetReference(hPrev), j), c)), z);
            StoreGates<T, TV, TS>(dgx, n, j, dr, dz, dn);
            StoreGates<T, TV, TS>(dA, n, j, dr, dz, TS.Multiply(dn, r));
            TS.Store(TS.Multiply(dhj, z), ref MemoryMarshal.GetReference(dhPrev), j);
        }
    }

    // Gate rows: G rows of H (n) units in PyTorch's order, gate k of unit j at k·n + j; the LSTM has four, the GRU three.

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LoadGates<T, TV, TS>(ReadOnlySpan<T> rows, nuint n, nuint j, out TV first, out TV second, out TV third)
        where T : unmanaged where TV : struct where TS : ISimd<TV, T>
    {
        ref readonly T r = ref MemoryMarshal.GetReference(rows);
        first = TS.Load(in r, j);
        second = TS.Load(in r, n + j);
        third = TS.Load(in r, 2 * n + j);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LoadGates<T, TV, TS>(ReadOnlySpan<T> rows, nuint n, nuint j, out TV first, out TV second, out TV third, out TV fourth)
        where T : unmanaged where TV : struct where TS : ISimd<TV, T>
    {
        LoadGates<T, TV, TS>(rows, n, j, out first, out second, out third);
        fourth = TS.Load(in MemoryMarshal.GetReference(rows), 3 * n + j);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreGates<T, TV, TS>(Span<T> rows, nuint n, nuint j, TV first, TV second, TV third)
        where T : unmanaged where TV : struct where TS : ISimd<TV, T>
    {
        ref T r = ref MemoryMarshal.GetReference(rows);
        TS.Store(first, ref r, j);
        TS.Store(second, ref r, n + j);
        TS.Store(third, ref r, 2 * n + j);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreGates<T, TV, TS>(Span<T> rows, nuint n, nuint j, TV first, TV second, TV third, TV fourth)
        where T : unmanaged where TV : struct where TS : ISimd<TV, T>
    {
        StoreGates<T, TV, TS>(rows, n, j, first, second, third);
        TS.Store(fourth, ref MemoryMarshal.GetReference(rows), 3 * n + j);
    }

    // ---------------------------------------------------------------- Elman RNN

    /// <summary>h = tanh(gx + hg), or relu(gx + hg).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RnnForward<T>(ReadOnlySpan<T> gx, ReadOnlySpan<T> hg, bool relu, Span<T> h)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.Add(gx, hg, h);
        if (relu) TensorPrimitives.Max(h, T.Zero, h);
        else TanhKernels.Tanh(h, h);
    }

    /// <summary>
    /// dA = dh⊙(1 − h²) for tanh; for relu dA = 0 where h ≤ 0, else dh (so dh passes at NaN, as PyTorch's
    /// threshold_backward); <paramref name="h"/> is the step's output.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void RnnBackward<T>(ReadOnlySpan<T> h, ReadOnlySpan<T> dh, bool relu, Span<T> dA, VectorWidth width = VectorWidth.Auto)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (relu) Simd.For<T, BinaryMapStep<T, ReluGradient<T>>>(new(h, dh, dA), dh.Length, width);
        else Simd.For<T, BinaryMapStep<T, TanhGradient<T>>>(new(h, dh, dA), dh.Length, width);
    }

    /// <summary>dh⊙(1 − h²) from h = tanh(a).</summary>
    private readonly struct TanhGradient<T> : ISimdBinaryMap<T> where T : unmanaged
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Apply<TV, TS>(TV h, TV dh) where TV : struct where TS : ISimd<TV, T> => SimdMath.TanhGradient<TV, TS, T>(dh, h);
    }

    private readonly struct ReluGradient<T> : ISimdBinaryMap<T> where T : unmanaged
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static TV Apply<TV, TS>(TV h, TV dh) where TV : struct where TS : ISimd<TV, T> => SimdMath.ReluGradient<TV, TS, T>(dh, h);
    }
}
