namespace Loom.Nn.Tests.Layers;

/// <summary>
/// Every layer with parameters, built in Float64, checked against central differences with respect to its input and
/// every parameter (the parameters are the module's own leaves, so GradCheck perturbs them in place).
/// </summary>
public class LayerGradCheckTests
{
    private static void Check(Module<Tensor, Tensor> layer, params int[] inputShape)
    {
        var x = TestTensors.Param(11, inputShape);
        var parameters = layer.Parameters().Cast<Tensor>().ToArray();
        TensorAssert.GradientsMatch(t => layer.Forward(t[0]), [x, .. parameters], eps: 1e-6, atol: 1e-6, rtol: 1e-4);
    }

    private static Generator G => new(7);

    [Fact]
    public void Linear() => Check(new Linear(5, 3, dtype: DType.Float64, generator: G), 4, 5);

    [Fact]
    public void Conv1d() => Check(new Conv1d(2, 3, 3, stride: 2, padding: 1, dtype: DType.Float64, generator: G), 2, 2, 7);

    [Fact]
    public void Conv2d_with_groups_and_dilation() => Check(new Conv2d(4, 4, (3, 2), padding: (1, 1), dilation: (1, 2), groups: 2, dtype: DType.Float64, generator: G), 1, 4, 5, 6);

    [Fact]
    public void ConvTranspose2d() => Check(new ConvTranspose2d(2, 3, 3, stride: 2, padding: 1, outputPadding: 1, dtype: DType.Float64, generator: G), 1, 2, 3, 3);

    [Fact]
    public void BatchNorm2d_in_training() => Check(new BatchNorm2d(3, dtype: DType.Float64), 4, 3, 2, 2);

    [Fact]
    public void LayerNorm_GroupNorm_and_RMSNorm()
    {
        Check(new LayerNorm([3, 4], dtype: DType.Float64), 2, 3, 4);
        Check(new GroupNorm(2, 4, dtype: DType.Float64), 3, 4, 3);
        Check(new RMSNorm(5, dtype: DType.Float64), 3, 5);
    }

    [Fact]
    public void Embedding_weight_gradient()
    {
        var emb = new Embedding(6, 3, paddingIdx: 0, dtype: DType.Float64, generator: G);
        var ids = Tensor.FromArray(new long[] { 1, 0, 5, 1 }, 2, 2);
        TensorAssert.GradientsMatch(t => emb.Forward(ids).Mul(emb.Forward(ids)), [emb.Weight], eps: 1e-6, atol: 1e-6, rtol: 1e-4);
    }

    [Fact]
    public void Bilinear()
    {
        var b = new Bilinear(3, 2, 4, dtype: DType.Float64, generator: G);
        var x1 = TestTensors.Param(1, 5, 3);
        var x2 = TestTensors.Param(2, 5, 2);
        TensorAssert.GradientsMatch(t => b.Forward(t[0], t[1]), [x1, x2, b.Weight, b.Bias!], eps: 1e-6, atol: 1e-6, rtol: 1e-4);
    }
}
