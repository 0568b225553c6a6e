namespace Loom.Tests.Linear;

/// <summary>
/// At two threads a linear layer's backward runs dx = dz · W and dW = dzᵀ · x side by side, one whole product per
/// thread, instead of splitting each product over both. Every GEMM sums in the same order at any thread count, so the
/// gradients must be bit-identical to one thread's — also when dW accumulates into a gradient array that already holds
/// a contribution (a weight used twice) or overwrites one after a deferred ZeroGrad.
/// </summary>
[Collection(GlobalSettings.Name)]
public class LinearBackwardThreadsTests
{
    private static readonly Tensor X = TestTensors.Randn(1, DType.Float32, 2, 40, 64);
    private static readonly Tensor Tokens = TestTensors.Randn(2, DType.Float32, 70, 64);

    private static (Tensor W, Tensor B) Leaves() =>
        (TestTensors.Randn(3, DType.Float32, 96, 64).RequiresGrad_(), TestTensors.Randn(4, DType.Float32, 96).RequiresGrad_());

    /// <summary>W feeds a GELU layer on x and a second layer on 70 other rows (its dW written, then added to).</summary>
    private static (float[] Dx, float[] DTokens, float[] Dw, float[] Db) Gradients(int threads, bool keepArrays)
    {
        (float[], float[], float[], float[]) result = default;
        GlobalSettings.WithThreads(threads, () =>
        {
            var (w, b) = Leaves();
            var x = X.Clone().RequiresGrad_();
            var tokens = Tokens.Clone().RequiresGrad_();
            if (keepArrays)
            {
                (w.Grad, b.Grad) = (TestTensors.Randn(5, DType.Float32, 96, 64), TestTensors.Randn(6, DType.Float32, 96));
                w.ZeroGrad(setToNone: false);
                b.ZeroGrad(setToNone: false);
            }
            var hidden = Functional.Linear(x, w, b, Activation.GeluTanh);   // [2, 40, 96]
            var logits = Functional.Linear(tokens, w);                       // [70, 96]: W used again, its dW added in place
            hidden.Square().Sum().Add(logits.Square().Sum()).Backward();
            result = (x.Grad!.ToArray<float>(), tokens.Grad!.ToArray<float>(), w.Grad!.ToArray<float>(), b.Grad!.ToArray<float>());
        });
        return result;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Two_threads_give_the_gradients_of_one_bit_for_bit(bool keepArrays)
    {
        var one = Gradients(1, keepArrays);
        var two = Gradients(2, keepArrays);
        Assert.Equal(one.Dx, two.Dx);
        Assert.Equal(one.DTokens, two.DTokens);
        Assert.Equal(one.Dw, two.Dw);
        Assert.Equal(one.Db, two.Db);
        Assert.Contains(one.Dw, v => v != 0);
    }
}
