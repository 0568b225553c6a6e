namespace Loom.Data;

/// <summary>
/// Base of image transforms that draw their parameters at random (<see cref="RandomAffine"/>, <see cref="RandomErasing"/>):
/// one seeded generator per transform, whose state a checkpoint can save to resume augmentation exactly, and the
/// uniform and log-uniform draws of a parameter from a range.
/// </summary>
public abstract class RandomImageTransform : ImageTransform
{
    protected RandomImageTransform(ulong seed) => Generator = new Generator(seed);

    /// <summary>The transform's own generator; save its state to resume augmentation exactly.</summary>
    public Generator Generator { get; }

    /// <summary>Uniform in [low, high). A range of one value returns it without drawing, so fixing one parameter leaves the draws of the others as they were.</summary>
    protected double Uniform(double low, double high) => low == high ? low : low + (high - low) * Generator.NextDouble();

    /// <summary>Log-uniform in [low, high) for 0 &lt; low ≤ high: equal odds for ×2 and ÷2 (an aspect ratio, a scale).</summary>
    protected double LogUniform(double low, double high) => Math.Exp(Uniform(Math.Log(low), Math.Log(high)));
}
