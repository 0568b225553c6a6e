namespace Loom;

/// <summary>How <see cref="Functional.Interpolate"/> computes each output element (PyTorch's <c>mode</c>).</summary>
public enum InterpolateMode
{
    /// <summary>The input element at ⌊j·scale⌋ (PyTorch's 'nearest', including its float32 index arithmetic).</summary>
    Nearest,

    /// <summary>The input element at ⌊(j + ½)·scale⌋, centred (PyTorch's 'nearest-exact').</summary>
    NearestExact,

    /// <summary>Linear interpolation along the one spatial dimension of [N, C, L].</summary>
    Linear,

    /// <summary>Linear interpolation along both spatial dimensions of [N, C, H, W].</summary>
    Bilinear,
}
