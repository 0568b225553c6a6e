namespace Loom.Kernels;

/// <summary>Which micro-kernel <see cref="Gemm"/> runs. <see cref="Auto"/> picks the widest the CPU supports.</summary>
public enum GemmPath
{
    Auto,
    /// <summary>Vector512 FMA, 12×32 float (12×16 double) register tile.</summary>
    Avx512,
    /// <summary>Vector256 FMA, 6×16 float (6×8 double) register tile.</summary>
    Avx2,
    /// <summary>Plain scalar code, 4×4 tile; runs anywhere.</summary>
    Scalar,
}
