using System.Numerics;
using System.Runtime.CompilerServices;

namespace Loom.Kernels;

/// <summary>
/// The portable register tile, 4×8, in plain scalar code: runs on any CPU and serves as the fallback path.
/// Multiply and add are separate (not fused) here; results agree with the vector paths within float rounding.
/// </summary>
internal readonly unsafe struct GemmKernelScalar<T> : IGemmMicroKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static int MR => 4;
    public static int NR => 8;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(nint kc, T* a, T* b, T* c, nint ldc, T alpha, T beta)
    {
        T* acc = stackalloc T[4 * 8]; // zero-initialised
        for (nint p = 0; p < kc; p++)
        {
            for (int i = 0; i < 4; i++)
            {
                T ai = a[i];
                T* row = acc + i * 8;
                for (int j = 0; j < 8; j++) row[j] += ai * b[j];
            }
            a += 4;
            b += 8;
        }
        bool betaZero = T.IsZero(beta);
        for (int i = 0; i < 4; i++)
        {
            T* ci = c + i * ldc;
            for (int j = 0; j < 8; j++)
                ci[j] = betaZero ? alpha * acc[i * 8 + j] : alpha * acc[i * 8 + j] + beta * ci[j];
        }
    }
}
