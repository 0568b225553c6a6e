using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Loom.Kernels;

/// <summary>
/// Copies blocks of op(A) and op(B) into the panel layouts the micro-kernels stream through. Packing is where
/// transposes are absorbed: each of the four transpose combinations is just a different read order here, so the
/// micro-kernel sees one layout and no transposed copy of a whole matrix is ever made. Panels past the matrix edge
/// are zero-filled so that edge tiles run the same kernel.
/// </summary>
internal static unsafe class GemmPacking
{
    /// <summary>
    /// Packs op(A)[0..mc, 0..kc] into ⌈mc/mr⌉ panels of mr rows: panel r holds, for p = 0..kc-1, the mr values
    /// op(A)[r·mr + i, p]. <paramref name="a"/> points at op(A)[0, 0]; op(A)[i, p] is a[i·lda + p], or a[p·lda + i]
    /// when <paramref name="trans"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA<T>(bool trans, T* a, nint lda, int mc, int kc, int mr, T* dst, int firstPanel, int endPanel)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int panel = firstPanel; panel < endPanel; panel++)
        {
            int i0 = panel * mr;
            int rows = Math.Min(mr, mc - i0);
            T* d = dst + (nint)i0 * kc;
            if (trans)
                PackContiguous(a + i0, lda, rows, kc, mr, d);
            else
                PackTransposed(a + i0 * lda, lda, rows, kc, mr, d);
        }
    }

    /// <summary>
    /// Packs op(B)[0..kc, 0..nc] into ⌈nc/nr⌉ panels of nr columns: panel q holds, for p = 0..kc-1, the nr values
    /// op(B)[p, q·nr + j]. op(B)[p, j] is b[p·ldb + j], or b[j·ldb + p] when <paramref name="trans"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB<T>(bool trans, T* b, nint ldb, int kc, int nc, int nr, T* dst)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int j0 = 0; j0 < nc; j0 += nr)
        {
            int cols = Math.Min(nr, nc - j0);
            T* d = dst + (nint)j0 * kc;
            if (trans)
                PackTransposed(b + j0 * ldb, ldb, cols, kc, nr, d);
            else
                PackContiguous(b + j0, ldb, cols, kc, nr, d);
        }
    }

    /// <summary>
    /// Panel whose `width` values per step are contiguous in the source (op(A) transposed, op(B) as stored):
    /// row p of the panel is src[p·ld .. p·ld + width), so this is kc short row copies.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackContiguous<T>(T* src, nint ld, int width, int kc, int stride, T* dst)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (width == stride && stride * sizeof(T) % 64 == 0 && Vector512.IsHardwareAccelerated)
        {
            int vectors = stride * sizeof(T) / 64;
            for (int p = 0; p < kc; p++, src += ld, dst += stride)
                for (int v = 0; v < vectors; v++)
                    Vector512.Store(Vector512.Load((byte*)src + 64 * v), (byte*)dst + 64 * v);
            return;
        }
        if (width == stride && stride * sizeof(T) % 32 == 0 && Vector256.IsHardwareAccelerated)
        {
            int vectors = stride * sizeof(T) / 32;
            for (int p = 0; p < kc; p++, src += ld, dst += stride)
                for (int v = 0; v < vectors; v++)
                    Vector256.Store(Vector256.Load((byte*)src + 32 * v), (byte*)dst + 32 * v);
            return;
        }
        for (int p = 0; p < kc; p++, src += ld, dst += stride)
        {
            int j = 0;
            for (; j < width; j++) dst[j] = src[j];
            for (; j < stride; j++) dst[j] = T.Zero;
        }
    }

    /// <summary>
    /// Panel whose `width` source rows are each contiguous along k (op(A) as stored, op(B) transposed): a transpose of
    /// a width×kc strip into kc×stride.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackTransposed<T>(T* src, nint ld, int width, int kc, int stride, T* dst)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < width; i++)
        {
            T* s = src + i * ld;
            T* d = dst + i;
            for (int p = 0; p < kc; p++) d[(nint)p * stride] = s[p];
        }
        for (int i = width; i < stride; i++)
        {
            T* d = dst + i;
            for (int p = 0; p < kc; p++) d[(nint)p * stride] = T.Zero;
        }
    }
}
