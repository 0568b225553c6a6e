namespace Loom;

/// <summary>
/// How <see cref="Tensor.Quantile"/> picks a value when the quantile's rank q·(n − 1) falls between two sorted
/// elements i &lt; j (PyTorch's <c>interpolation</c> argument).
/// </summary>
public enum QuantileInterpolation
{
    /// <summary>x_i + (x_j − x_i)·(rank − i).</summary>
    Linear,

    /// <summary>x_i.</summary>
    Lower,

    /// <summary>x_j.</summary>
    Higher,

    /// <summary>The element at the rank rounded half to even.</summary>
    Nearest,

    /// <summary>(x_i + x_j)/2.</summary>
    Midpoint,
}
