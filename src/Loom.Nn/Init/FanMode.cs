namespace Loom.Nn;

/// <summary>Whether Kaiming initialisation preserves the variance of activations (FanIn) or of gradients (FanOut).</summary>
public enum FanMode
{
    FanIn,
    FanOut,
}
