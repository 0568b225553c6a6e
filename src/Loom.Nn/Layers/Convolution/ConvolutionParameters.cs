using Loom.Random;

namespace Loom.Nn;

/// <summary>What <see cref="Conv1d"/>, <see cref="Conv2d"/> and <see cref="ConvTranspose2d"/> share, as PyTorch's <c>_ConvNd</c>.</summary>
internal static class ConvolutionParameters
{
    public static void CheckChannels(string layer, int inChannels, int outChannels, int groups)
    {
        if (inChannels <= 0 || outChannels <= 0 || groups <= 0 || inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"{layer}: in ({inChannels}) and out ({outChannels}) channels must be positive multiples of groups ({groups})");
    }

    /// <summary>
    /// PyTorch's default initialisation: a weight of <paramref name="weightShape"/>, then a bias [outChannels] when
    /// <paramref name="bias"/>, both uniform in ±1/√fan_in, where fan_in is the product of the weight's dimensions after
    /// the first (in/groups × kernel for a convolution; out/groups × kernel for a transposed one, whose weight is
    /// [in, out/groups, …], because PyTorch reads the same dimension).
    /// </summary>
    public static (Parameter Weight, Parameter? Bias) Uniform(Shape weightShape, int outChannels, bool bias, DType dtype, Generator? generator)
    {
        int fanIn = 1;
        for (int i = 1; i < weightShape.Rank; i++) fanIn *= weightShape[i];
        double bound = 1 / Math.Sqrt(fanIn);
        var weight = new Parameter(Tensor.Uniform(weightShape, -bound, bound, generator, dtype));
        return (weight, bias ? new Parameter(Tensor.Uniform(new Shape(outChannels), -bound, bound, generator, dtype)) : null);
    }
}
