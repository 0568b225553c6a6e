namespace Loom.Nn;

/// <summary>Normalises each of <c>numGroups</c> channel groups of each sample, with per-channel affine weight and bias.</summary>
public sealed class GroupNorm : Module<Tensor, Tensor>
{
    public GroupNorm(int numGroups, int numChannels, double eps = 1e-5, bool affine = true, DType dtype = DType.Float32)
    {
        if (numGroups <= 0 || numChannels % numGroups != 0)
            throw new ArgumentException($"GroupNorm: {numChannels} channels cannot be split into {numGroups} groups");
        (NumGroups, NumChannels, Eps) = (numGroups, numChannels, eps);
        Weight = RegisterParameter("weight", affine ? new Parameter(Tensor.Ones(new Shape(numChannels), dtype)) : null);
        Bias = RegisterParameter("bias", affine ? new Parameter(Tensor.Zeros(new Shape(numChannels), dtype)) : null);
    }

    public int NumGroups { get; }
    public int NumChannels { get; }
    public double Eps { get; }
    public Parameter? Weight { get; }
    public Parameter? Bias { get; }

    protected override Tensor ForwardCore(Tensor input) => Functional.GroupNorm(input, NumGroups, Weight, Bias, Eps);

    protected override string ExtraRepr() => $"{NumGroups}, {NumChannels}, eps={Eps}";
}
