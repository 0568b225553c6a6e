namespace Loom.Explain;

/// <summary>
/// Occlusion (Zeiler and Fergus 2014), as Captum's <c>Occlusion</c>: slide a window over each sample, replace what it
/// covers with a baseline value, and credit each covered element with f_t(x) − f_t(x with the window occluded),
/// averaged over the windows that cover it. Needs no gradients, so it works on any model, at the price of one
/// forward pass per window position.
/// </summary>
/// <param name="window">The window's size in each sample dimension (e.g. [1, 4, 4] for [C, H, W] images).</param>
/// <param name="strides">Its step in each dimension; the window size (no overlap) when null.</param>
public sealed class Occlusion(Module<Tensor, Tensor> model, int[] window, int[]? strides = null) : IAttribution
{
    /// <summary>The value an occluded element takes.</summary>
    public double Baseline { get; init; }

    /// <summary>Occluded copies per forward pass.</summary>
    public int BatchSize { get; init; } = 256;

    public Tensor Attribute(Tensor inputs, Tensor? targets = null)
    {
        ModelOutputs.Check(model, inputs, targets);
        var sampleShape = inputs.Shape.ToArray()[1..];
        var masks = Windows(sampleShape, window, strides ?? window);
        int positions = masks.Shape[0], n = inputs.Shape[0], sampleSize = masks.Shape[1];
        var x = inputs.Detach().Reshape(n, sampleSize).To(DType.Float64);
        var coverage = masks.Sum(0); // how many windows cover each element
        var keep = masks.RSub(1);
        var original = ModelOutputs.Values(model, inputs, targets, BatchSize);
        var attributions = new double[n * sampleSize];
        int positionsPerPass = Math.Max(1, BatchSize);
        using var noGrad = new NoGrad();
        for (int i = 0; i < n; i++)
        {
            using var scope = new MemoryScope();
            var row = x.Narrow(0, i, 1);
            // [positions, sample]: the sample once per window position, the window set to the baseline.
            var occluded = row.Mul(keep).Add(masks.Mul(Baseline)).To(inputs.DType).Reshape([positions, .. sampleShape]);
            var target = targets is null ? null : targets.To(DType.Int64).Narrow(0, i, 1).Expand(positions).Contiguous();
            var values = ModelOutputs.Values(model, occluded, target, positionsPerPass);
            var drop = Tensor.FromArray(values.Select(v => original[i] - v).ToArray()).Reshape(positions, 1);
            var credit = drop.Mul(masks).Sum(0).Div(coverage.Clamp(1, null)).ToArray<double>();
            credit.CopyTo(attributions.AsSpan(i * sampleSize, sampleSize));
        }
        using (MemoryScope.Persistent())
            return Tensor.FromArray(attributions, [n, .. sampleShape]).To(inputs.DType);
    }

    /// <summary>
    /// Float64 [positions, sample size]: 1 where the window at each position covers an element. Positions start at 0
    /// and step by the stride while the window fits, as Captum places them.
    /// </summary>
    internal static Tensor Windows(int[] sampleShape, int[] window, int[] strides)
    {
        int rank = sampleShape.Length;
        if (window.Length != rank || strides.Length != rank)
            throw new ArgumentException($"occlusion window [{string.Join(", ", window)}] and strides [{string.Join(", ", strides)}] need one size per sample dimension of [{string.Join(", ", sampleShape)}]");
        var counts = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            if (window[d] < 1 || window[d] > sampleShape[d] || strides[d] < 1)
                throw new ArgumentException($"occlusion window {window[d]} with stride {strides[d]} does not fit sample dimension {d} of size {sampleShape[d]}");
            counts[d] = (sampleShape[d] - window[d]) / strides[d] + 1;
        }
        int positions = counts.Aggregate(1, (a, b) => a * b), size = sampleShape.Aggregate(1, (a, b) => a * b);
        var masks = new double[positions * size];
        var sampleStrides = new int[rank];
        for (int d = rank - 1, s = 1; d >= 0; s *= sampleShape[d], d--) sampleStrides[d] = s;
        var corner = new int[rank];
        for (int p = 0; p < positions; p++)
        {
            for (int d = rank - 1, rest = p; d >= 0; rest /= counts[d], d--) corner[d] = rest % counts[d] * strides[d];
            Fill(masks.AsSpan(p * size, size), 0, 0);

            void Fill(Span<double> mask, int d, int offset)
            {
                if (d == rank)
                {
                    mask[offset] = 1;
                    return;
                }
                for (int k = 0; k < window[d]; k++) Fill(mask, d + 1, offset + (corner[d] + k) * sampleStrides[d]);
            }
        }
        return Tensor.FromArray(masks, positions, size);
    }
}
