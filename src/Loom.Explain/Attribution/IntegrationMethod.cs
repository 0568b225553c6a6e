namespace Loom.Explain;

/// <summary>How <see cref="IntegratedGradients"/> approximates the path integral ∫₀¹ ∂f(x' + α(x − x'))/∂x dα: Captum's <c>method</c>.</summary>
public enum IntegrationMethod
{
    /// <summary>Gauss–Legendre nodes and weights: exact for polynomials of degree 2·steps − 1, Captum's default.</summary>
    GaussLegendre,

    /// <summary>α = k/steps, k = 0 … steps − 1.</summary>
    RiemannLeft,

    /// <summary>α = k/steps, k = 1 … steps.</summary>
    RiemannRight,

    /// <summary>α = (k + ½)/steps.</summary>
    RiemannMiddle,

    /// <summary>α = k/(steps − 1), k = 0 … steps − 1, the two end points at half weight.</summary>
    RiemannTrapezoid,
}
