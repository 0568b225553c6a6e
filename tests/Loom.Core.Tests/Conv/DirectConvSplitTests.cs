namespace Loom.Tests.Conv;

/// <summary>
/// The direct kernels with fewer images than threads share one image's grid tiles among the threads (inference at
/// batch 1): forward (with the fused residual and activation) and input gradient against the reference.
/// </summary>
[Collection(GlobalSettings.Name)]
public class DirectConvSplitTests
{
    [Theory]
    [InlineData(3, 64)]    // more tiles than threads, 64 channels: eight full row tiles
    [InlineData(1, 4)]     // a one-tile grid: the other threads get nothing
    public void One_image_on_several_threads_matches_the_reference(int threads, int channels)
    {
        GlobalSettings.WithThreads(threads, () =>
        {
            var saved = ConvKernels.ForcedAlgorithm;
            ConvKernels.ForcedAlgorithm = ConvAlgorithm.Direct;
            try
            {
                int size = channels == 64 ? 20 : 3;
                var x = TestTensors.Randn(1, DType.Float64, 1, 3, size, size);
                var w = TestTensors.Randn(2, DType.Float64, channels, 3, 3, 3);
                var b = TestTensors.Randn(3, DType.Float64, channels);
                var expected = ConvOracle.Conv2d(x, w, b, (1, 1), (1, 1), (1, 1), 1);
                var residual = TestTensors.Randn(4, DType.Float64, expected.Shape.ToArray());
                TensorAssert.Close(expected, Functional.Conv2d(x, w, b, padding: 1), 1e-11, 1e-11);
                TensorAssert.Close(expected.Add(residual).Relu(), Functional.Conv2d(x, w, b, (1, 1), (1, 1), (1, 1), 1, Activation.Relu, residual), 1e-11, 1e-11);
                var xs = x.Detach().RequiresGrad_();
                var dy = TestTensors.Randn(5, DType.Float64, expected.Shape.ToArray());
                Functional.Conv2d(xs, w, null, padding: 1).Backward(dy);
                TensorAssert.Close(ConvOracle.ConvTranspose2d(dy, w, null, (1, 1), (1, 1), (0, 0), (1, 1), 1), xs.Grad!, 1e-11, 1e-11);
            }
            finally
            {
                ConvKernels.ForcedAlgorithm = saved;
            }
        });
    }
}
