namespace Loom.Explain;

/// <summary>
/// SmoothGrad and its variants, as Captum's <c>NoiseTunnel</c>: the attributions of <see cref="Samples"/> copies of each
/// input with Gaussian noise N(0, <see cref="Stdev"/>²) added, combined by <see cref="Type"/>. The noise averages away
/// the gradient's sharp local fluctuations, which make raw saliency maps speckled.
/// </summary>
/// <param name="method">The attribution to smooth (usually <see cref="Saliency"/>).</param>
public sealed class NoiseTunnel(IAttribution method) : IAttribution
{
    public int Samples { get; init; } = 20;

    /// <summary>The noise's standard deviation in input units; Smilkov et al. suggest 10–20 % of the inputs' range.</summary>
    public double Stdev { get; init; } = 0.15;

    public NoiseTunnelType Type { get; init; } = NoiseTunnelType.SmoothGrad;

    /// <summary>Samples whose noisy copies are attributed together (bounds memory to Samples × this many inputs).</summary>
    public int ChunkSize { get; init; } = 64;

    public Generator? Generator { get; init; }

    public Tensor Attribute(Tensor inputs, Tensor? targets = null)
    {
        if (Samples < 1) throw new ArgumentOutOfRangeException(nameof(Samples), Samples, "NoiseTunnel needs at least one noisy sample");
        if (inputs.Rank < 1) throw new ArgumentException($"inputs must be [N, …], got {inputs.Shape}");
        var x = inputs.Detach();
        int n = x.Shape[0];
        var sampleShape = x.Shape.ToArray()[1..];
        Tensor result;
        using (MemoryScope.Persistent()) result = Tensor.Zeros(x.Shape, x.DType);
        for (int start = 0; start < n; start += ChunkSize)
        {
            int rows = Math.Min(ChunkSize, n - start);
            using var scope = new MemoryScope();
            var xs = x.Narrow(0, start, rows);
            // [Samples, rows, …] flattened sample-major: the noisy copies of the chunk, one block per draw.
            var copies = xs.Unsqueeze(0).Expand([Samples, rows, .. sampleShape]).Contiguous().Reshape([Samples * rows, .. sampleShape]);
            var noisy = copies.Add(Tensor.Randn(copies.Shape, Generator, x.DType, std: Stdev));
            Tensor? repeated = targets is null ? null
                : targets.To(DType.Int64).Narrow(0, start, rows).Unsqueeze(0).Expand(Samples, rows).Contiguous().Reshape(Samples * rows);
            var attributions = method.Attribute(noisy, repeated).Reshape([Samples, rows, .. sampleShape]);
            var combined = Type switch
            {
                NoiseTunnelType.SmoothGrad => attributions.Mean(0),
                NoiseTunnelType.SmoothGradSquared => attributions.Square().Mean(0),
                _ => attributions.Var(0, correction: 0),
            };
            using (new NoGrad()) result.Narrow(0, start, rows).CopyFrom(combined);
        }
        return result;
    }
}
