namespace Loom.Nn;

/// <summary>
/// What <see cref="Conv1d"/>, <see cref="Conv2d"/> and <see cref="ConvTranspose2d"/> share, as PyTorch's <c>_ConvNd</c>:
/// the channel checks, the configuration, and a weight and bias with PyTorch's default initialisation.
/// <typeparamref name="TSize"/> is a size per spatial dimension: <c>int</c> in 1-D, <c>(int H, int W)</c> in 2-D.
/// </summary>
public abstract class ConvNd<TSize> : Module<Tensor, Tensor> where TSize : struct
{
    // private protected: the three layers above are the only convolutions; the base is not an extension point.
    // weightShape is called after the channel check, so groups = 0 fails with its message, not a division by zero.
    private protected ConvNd(string layer, int inChannels, int outChannels, TSize kernelSize, TSize stride, TSize padding, TSize dilation, int groups,
        Func<Shape> weightShape, bool bias, DType dtype, Generator? generator)
    {
        if (inChannels <= 0 || outChannels <= 0 || groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"{layer}: in ({inChannels}) and out ({outChannels}) channels must be positive multiples of groups ({groups})");
        (InChannels, OutChannels, KernelSize, Stride, Padding, Dilation, Groups) = (inChannels, outChannels, kernelSize, stride, padding, dilation, groups);
        var (weightParameter, biasParameter) = Uniform(weightShape(), outChannels, bias, dtype, generator);
        Weight = RegisterParameter("weight", weightParameter)!;
        Bias = RegisterParameter("bias", biasParameter);
    }

    public int InChannels { get; }
    public int OutChannels { get; }
    public TSize KernelSize { get; }
    public TSize Stride { get; }
    public TSize Padding { get; }
    public TSize Dilation { get; }
    public int Groups { get; }
    public Parameter Weight { get; }
    public Parameter? Bias { get; }

    /// <summary>
    /// PyTorch's default initialisation: a weight of <paramref name="weightShape"/>, then a bias [outChannels] when
    /// <paramref name="bias"/>, both uniform in ±1/√fan_in, where fan_in is the product of the weight's dimensions after
    /// the first (in/groups × kernel for a convolution; out/groups × kernel for a transposed one, whose weight is
    /// [in, out/groups, …], because PyTorch reads the same dimension).
    /// </summary>
    private static (Parameter Weight, Parameter? Bias) Uniform(Shape weightShape, int outChannels, bool bias, DType dtype, Generator? generator)
    {
        int fanIn = 1;
        for (int i = 1; i < weightShape.Rank; i++) fanIn *= weightShape[i];
        double bound = 1 / Math.Sqrt(fanIn);
        var weight = new Parameter(Tensor.Uniform(weightShape, -bound, bound, generator, dtype));
        return (weight, bias ? new Parameter(Tensor.Uniform(new Shape(outChannels), -bound, bound, generator, dtype)) : null);
    }
}
