namespace Loom.Tests.Normalization;

[Collection(GlobalSettings.Name)]
public class LayerNormThreadsTests
{
    [Fact]
    public void Weight_and_bias_gradients_add_the_row_ranges_in_row_order_whichever_thread_finishes_first()
    {
        // Four row ranges (16 features: 2,048 rows per thread at least). Each range's partial sums are what the same
        // rows give alone on one thread; the result must be ((r0 + r1) + r2) + r3 in float32, every time, not the
        // order in which the threads happened to finish.
        const int features = 16, threads = 4, rows = 9000;
        var x = TestTensors.Randn(21, DType.Float32, rows, features);
        var up = TestTensors.Randn(22, DType.Float32, rows, features);
        int chunk = (rows + threads - 1) / threads;
        var expectedW = new float[features];
        var expectedB = new float[features];
        GlobalSettings.WithThreads(1, () =>
        {
            for (int start = 0; start < rows; start += chunk)
            {
                int count = Math.Min(chunk, rows - start);
                var (w, b) = Parameters();
                Functional.LayerNorm(x.Narrow(0, start, count), [features], w, b).Mul(up.Narrow(0, start, count)).Sum().Backward();
                var pw = w.Grad!.ToArray<float>();
                var pb = b.Grad!.ToArray<float>();
                for (int i = 0; i < features; i++) { expectedW[i] += pw[i]; expectedB[i] += pb[i]; }
            }
        });
        GlobalSettings.WithThreads(threads, () =>
        {
            for (int repeat = 0; repeat < 20; repeat++)
            {
                var (w, b) = Parameters();
                Functional.LayerNorm(x, [features], w, b).Mul(up).Sum().Backward();
                Assert.Equal(expectedW, w.Grad!.ToArray<float>());
                Assert.Equal(expectedB, b.Grad!.ToArray<float>());
            }
        });
    }

    private static (Tensor Weight, Tensor Bias) Parameters() =>
        (TestTensors.Randn(23, DType.Float32, 16).RequiresGrad_(), TestTensors.Randn(24, DType.Float32, 16).RequiresGrad_());
}
