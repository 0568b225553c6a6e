namespace Loom.Kernels;

/// <summary>
/// Bias broadcasts and their adjoints (sums) for linear and convolution layers. Rows are the [rows, features] layout
/// of linear; planes are the [channels, height·width] layout of one image in convolution.
/// </summary>
internal static class BiasKernels
{
    /// <summary>Writes <paramref name="bias"/> into every row of <paramref name="destination"/> ([rows, bias.Length]).</summary>
    public static void FillRows<T>(ReadOnlySpan<T> bias, Span<T> destination)
    {
        if (bias.Length == 0) return;
        if (destination.Length % bias.Length != 0)
            throw new ArgumentException($"bias: destination of {destination.Length} elements is not a whole number of rows of {bias.Length}");
        for (int o = 0; o < destination.Length; o += bias.Length) bias.CopyTo(destination.Slice(o, bias.Length));
    }

    /// <summary>
    /// destination[f] = Σ_r source[r, f] for a [rows, destination.Length] source: the gradient of a row bias
    /// (destination[f] += … when <paramref name="accumulate"/>).
    /// </summary>
    public static void ColumnSums<T>(ReadOnlySpan<T> source, Span<T> destination, bool accumulate = false) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!accumulate) destination.Clear();
        int n = destination.Length;
        if (n == 0) return;
        for (int o = 0; o < source.Length; o += n) TensorPrimitives.Add(destination, source.Slice(o, n), destination);
    }

    /// <summary>Fills plane c of each [channels, planeSize] image in <paramref name="destination"/> with bias[c].</summary>
    public static void FillPlanes<T>(ReadOnlySpan<T> bias, int planeSize, Span<T> destination)
    {
        int channels = bias.Length, image = channels * planeSize;
        if (image == 0) return;
        for (int o = 0; o < destination.Length; o += image)
            for (int c = 0; c < channels; c++) destination.Slice(o + c * planeSize, planeSize).Fill(bias[c]);
    }

    /// <summary>destination[c] += bias[c] over plane c of each [channels, planeSize] image.</summary>
    public static void AddPlanes<T>(ReadOnlySpan<T> bias, int planeSize, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int channels = bias.Length, image = channels * planeSize;
        if (image == 0) return;
        for (int o = 0; o < destination.Length; o += image)
            for (int c = 0; c < channels; c++)
            {
                var plane = destination.Slice(o + c * planeSize, planeSize);
                TensorPrimitives.Add(plane, bias[c], plane);
            }
    }

    /// <summary>destination[c] = Σ over images and plane c of the source: the gradient of a per-channel bias.</summary>
    public static void PlaneSums<T>(ReadOnlySpan<T> source, int planeSize, Span<T> destination) where T : unmanaged, IFloatingPointIeee754<T>
    {
        destination.Clear();
        int channels = destination.Length, image = channels * planeSize;
        if (image == 0) return;
        for (int o = 0; o < source.Length; o += image)
            for (int c = 0; c < channels; c++) destination[c] += TensorPrimitives.Sum(source.Slice(o + c * planeSize, planeSize));
    }
}
