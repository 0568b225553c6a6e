namespace Loom.Tests.Conv;

/// <summary>
/// Values printed by PyTorch 1.13 for small ramps, so that weight layouts, groups and the transposed convolution's
/// padding rules are checked against the real thing, not only against Loom's own reference.
/// </summary>
public class TorchGoldenTests
{
    private static readonly Tensor X = Ramp(36, 0.1, 0, 1, 4, 3, 3);

    private static Tensor Ramp(int count, double scale, double shift, params int[] shape) =>
        Tensor.FromArray(Enumerable.Range(0, count).Select(i => i * scale + shift).ToArray(), shape);

    [Fact]
    public void Grouped_dilated_conv2d_matches_torch()
    {
        // F.conv2d(x, w, None, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2), w = arange(48)/10 - 1 as [4, 2, 2, 3]
        var w = Ramp(48, 0.1, -1, 4, 2, 2, 3);
        var y = Functional.Conv2d(X, w, null, (2, 1), (1, 2), (1, 2), groups: 2);
        Assert.Equal(new Shape(1, 4, 2, 3), y.Shape);
        TensorAssert.Close(
            [0.01, -0.06, -0.21, -1.9, -1.17, -2.7, 2.65, 1.26, 2.43, 7.7, 3.63, 6.9, 20.77, 10.14, 19.83, 46.1, 22.47, 43.86, 32.05, 15.78, 31.11, 72.98, 35.91, 70.74],
            y.ToArray<double>(), 1e-9, 1e-9);
    }

    [Fact]
    public void Grouped_conv_transpose2d_with_output_padding_matches_torch()
    {
        // F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1, groups=2, dilation=2), w = arange(16)/10 - 0.5 as [4, 1, 2, 2]
        var w = Ramp(16, 0.1, -0.5, 4, 1, 2, 2);
        var b = Tensor.FromArray(new[] { 0.5, -1.0 });
        var y = Functional.ConvTranspose2d(X, w, b, stride: 2, padding: 1, outputPadding: 1, dilation: 2, groups: 2);
        Assert.Equal(new Shape(1, 2, 6, 6), y.Shape);
        TensorAssert.Close(
            [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.3, 0.5, 0.18, 0.5, 0.48, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, -0.06, 0.5, -0.18, 0.5, 0.36,
             0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.63, 0.5, 0.61, 0.5, 0.68, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0, 12.32, -1.0, 12.84, -1.0, 6.58,
             -1.0, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0, 13.88, -1.0, 14.4, -1.0, 7.42, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0, -1.0, 8.05, -1.0, 8.35, -1.0, 4.06],
            y.ToArray<double>(), 1e-9, 1e-9);
    }
}
