namespace Loom.Explain;

/// <summary>How <see cref="NoiseTunnel"/> combines the attributions of the noisy copies: Captum's <c>nt_type</c>.</summary>
public enum NoiseTunnelType
{
    /// <summary>Their mean (Smilkov et al. 2017).</summary>
    SmoothGrad,

    /// <summary>The mean of their squares.</summary>
    SmoothGradSquared,

    /// <summary>Their variance (Adebayo et al. 2018).</summary>
    VarGrad,
}
