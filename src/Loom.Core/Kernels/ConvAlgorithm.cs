namespace Loom.Kernels;

/// <summary>How <see cref="ConvKernels"/> computes a convolution. <see cref="Auto"/> picks by shape.</summary>
internal enum ConvAlgorithm
{
    Auto,
    /// <summary>Unfold with im2col (fold with col2im) and multiply by GEMM: any stride, and one image can use every thread.</summary>
    Im2col,
    /// <summary><see cref="DirectConv{T}"/> from padded planes where it applies (stride 1, Vector512), else im2col.</summary>
    Direct,
    /// <summary>
    /// <see cref="WinogradConv"/> wherever it applies (3×3, stride 1, on the blocked layout), whatever the shape rule;
    /// elsewhere as <see cref="Direct"/>. <see cref="Direct"/> and <see cref="Im2col"/> never take it.
    /// </summary>
    Winograd,
}
