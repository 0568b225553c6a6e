namespace Loom.Kernels;

/// <summary>Which int8 micro-kernel <see cref="Int8Gemm"/> runs. <see cref="Auto"/> picks the fastest the CPU supports.</summary>
public enum Int8GemmPath
{
    Auto,
    /// <summary>256-bit <c>vpdpbusd</c> (AVX-VNNI): one instruction per 32 products, no int16 intermediate.</summary>
    AvxVnni,
    /// <summary>512-bit <c>vpmaddubsw</c> + <c>vpmaddwd</c> (AVX-512BW): the path where VNNI is not exposed to .NET.</summary>
    Avx512BW,
    /// <summary>256-bit <c>vpmaddubsw</c> + <c>vpmaddwd</c> (AVX2).</summary>
    Avx2,
    /// <summary>Plain scalar code; runs anywhere.</summary>
    Scalar,
}
