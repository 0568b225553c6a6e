using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Loom.Kernels;

/// <summary>
/// The element-wise part of one recurrent cell step for one batch row of H hidden units: forward from the two
/// pre-activation projections, backward from the gradient reaching the new state. Gate rows follow PyTorch's order
/// (LSTM i, f, g, o; GRU r, z, n), each gate H wide. Forward uses TensorPrimitives for the non-linearities; backward
/// is one vectorised pass (Vector512, then Vector256, then scalar, written once through <see cref="ILanes{TV, T}"/>).
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LstmBackward<T>(ReadOnlySpan<T> gates, ReadOnlySpan<T> c, ReadOnlySpan<T> cPrev, ReadOnlySpan<T> dh, Span<T> dc, Span<T> tanhC, Span<T> dA)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TanhKernels.Tanh(c, tanhC);
        int j = 0;
        if (Vector512.IsHardwareAccelerated) j = LstmBackward<Vector512<T>, Lanes512<T>, T>(j, gates, cPrev, dh, dc, tanhC, dA);
        if (Vector256.IsHardwareAccelerated) j = LstmBackward<Vector256<T>, Lanes256<T>, T>(j, gates, cPrev, dh, dc, tanhC, dA);
        LstmBackward<T, Lanes1<T>, T>(j, gates, cPrev, dh, dc, tanhC, dA);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int LstmBackward<TV, TL, T>(int j, ReadOnlySpan<T> gates, ReadOnlySpan<T> cPrev, ReadOnlySpan<T> dh, Span<T> dc, ReadOnlySpan<T> tanhC, Span<T> dA)
        where TV : struct where TL : struct, ILanes<TV, T> where T : unmanaged
    {
        int n = dc.Length;
        var one = TL.One;
        for (; j <= n - TL.Count; j += TL.Count)
        {
            var i = TL.Load(gates, j);
            var f = TL.Load(gates, n + j);
            var g = TL.Load(gates, 2 * n + j);
            var o = TL.Load(gates, 3 * n + j);
            var tc = TL.Load(tanhC, j);
            var dhj = TL.Load(dh, j);
            var dct = TL.Add(TL.Load(dc, j), TL.Multiply(TL.Multiply(dhj, o), TL.Subtract(one, TL.Multiply(tc, tc))));
            TL.Store(TL.Multiply(TL.Multiply(TL.Multiply(dct, g), i), TL.Subtract(one, i)), dA, j);
            TL.Store(TL.Multiply(TL.Multiply(TL.Multiply(dct, TL.Load(cPrev, j)), f), TL.Subtract(one, f)), dA, n + j);
            TL.Store(TL.Multiply(TL.Multiply(dct, i), TL.Subtract(one, TL.Multiply(g, g))), dA, 2 * n + j);
            TL.Store(TL.Multiply(TL.Multiply(TL.Multiply(dhj, tc), o), TL.Subtract(one, o)), dA, 3 * n + j);
            TL.Store(TL.Multiply(dct, f), dc, j);
        }
        return j;
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GruBackward<T>(ReadOnlySpan<T> gates, ReadOnlySpan<T> hgN, ReadOnlySpan<T> hPrev, ReadOnlySpan<T> dh, Span<T> dgx, Span<T> dA, Span<T> dhPrev)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated) j = GruBackward<Vector512<T>, Lanes512<T>, T>(j, gates, hgN, hPrev, dh, dgx, dA, dhPrev);
        if (Vector256.IsHardwareAccelerated) j = GruBackward<Vector256<T>, Lanes256<T>, T>(j, gates, hgN, hPrev, dh, dgx, dA, dhPrev);
        GruBackward<T, Lanes1<T>, T>(j, gates, hgN, hPrev, dh, dgx, dA, dhPrev);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int GruBackward<TV, TL, T>(int j, ReadOnlySpan<T> gates, ReadOnlySpan<T> hgN, ReadOnlySpan<T> hPrev, ReadOnlySpan<T> dh,
        Span<T> dgx, Span<T> dA, Span<T> dhPrev)
        where TV : struct where TL : struct, ILanes<TV, T> where T : unmanaged
    {
        int n = dh.Length;
        var one = TL.One;
        for (; j <= n - TL.Count; j += TL.Count)
        {
            var r = TL.Load(gates, j);
            var z = TL.Load(gates, n + j);
            var c = TL.Load(gates, 2 * n + j);
            var dhj = TL.Load(dh, j);
            var dn = TL.Multiply(TL.Multiply(dhj, TL.Subtract(one, z)), TL.Subtract(one, TL.Multiply(c, c)));
            var dr = TL.Multiply(TL.Multiply(TL.Multiply(dn, TL.Load(hgN, j)), r), TL.Subtract(one, r));
            var dz = TL.Multiply(TL.Multiply(TL.Multiply(dhj, TL.Subtract(TL.Load(hPrev, j), c)), z), TL.Subtract(one, z));
            TL.Store(dr, dgx, j);
            TL.Store(dz, dgx, n + j);
            TL.Store(dn, dgx, 2 * n + j);
            TL.Store(dr, dA, j);
            TL.Store(dz, dA, n + j);
            TL.Store(TL.Multiply(dn, r), dA, 2 * n + j);
            TL.Store(TL.Multiply(dhj, z), dhPrev, j);
        }
        return j;
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RnnBackward<T>(ReadOnlySpan<T> h, ReadOnlySpan<T> dh, bool relu, Span<T> dA)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated) j = RnnBackward<Vector512<T>, Lanes512<T>, T>(j, h, dh, relu, dA);
        if (Vector256.IsHardwareAccelerated) j = RnnBackward<Vector256<T>, Lanes256<T>, T>(j, h, dh, relu, dA);
        RnnBackward<T, Lanes1<T>, T>(j, h, dh, relu, dA);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int RnnBackward<TV, TL, T>(int j, ReadOnlySpan<T> h, ReadOnlySpan<T> dh, bool relu, Span<T> dA)
        where TV : struct where TL : struct, ILanes<TV, T> where T : unmanaged
    {
        int n = dh.Length;
        var one = TL.One;
        if (relu)
        {
            for (; j <= n - TL.Count; j += TL.Count)
                TL.Store(TL.UnlessAtMostZero(TL.Load(h, j), TL.Load(dh, j)), dA, j);
        }
        else
        {
            for (; j <= n - TL.Count; j += TL.Count)
            {
                var hj = TL.Load(h, j);
                TL.Store(TL.Multiply(TL.Load(dh, j), TL.Subtract(one, TL.Multiply(hj, hj))), dA, j);
            }
        }
        return j;
    }
}
