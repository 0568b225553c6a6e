namespace Loom.Tests.Conv;

/// <summary>
/// conv2d with a fused residual and activation (the inference form of conv–BN–ReLU and residual blocks) against the
/// separate ops, on both algorithms; and, when autograd records, its gradients against finite differences.
/// </summary>
[Collection(GlobalSettings.Name)]
public class FusedConvTests
{
    // N, C, H, W, OutC, k, stride, pad, groups
    public static TheoryData<int[]> Cases => new()
    {
        new[] { 2, 3, 9, 11, 5, 3, 1, 1, 1 },   // stride 1: the direct kernels, 5 channels = a partial tile
        new[] { 1, 4, 10, 10, 6, 3, 2, 1, 2 },  // stride 2, 2 groups: im2col
        new[] { 3, 4, 6, 6, 8, 1, 1, 0, 1 },    // 1×1: GEMM on the image itself
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_conv_then_add_then_activation(int[] c)
    {
        foreach (var algorithm in new[] { ConvAlgorithm.Im2col, ConvAlgorithm.Direct })
        {
            var saved = ConvKernels.ForcedAlgorithm;
            ConvKernels.ForcedAlgorithm = algorithm;
            try
            {
                var x = TestTensors.Randn(1, DType.Float64, c[0], c[1], c[2], c[3]);
                var w = TestTensors.Randn(2, DType.Float64, c[4], c[1] / c[8], c[5], c[5]);
                var b = TestTensors.Randn(3, DType.Float64, c[4]);
                var plain = Functional.Conv2d(x, w, b, (c[6], c[6]), (c[7], c[7]), (1, 1), c[8]);
                var residual = TestTensors.Randn(4, DType.Float64, plain.Shape.ToArray());
                foreach (var activation in new[] { Activation.None, Activation.Relu, Activation.Tanh })
                {
                    foreach (var r in new[] { null, residual })
                    {
                        foreach (var bias in new[] { null, b })
                        {
                            var sum = Functional.Conv2d(x, w, bias, (c[6], c[6]), (c[7], c[7]), (1, 1), c[8]);
                            if (r is not null) sum = sum.Add(r);
                            var expected = activation switch { Activation.Relu => sum.Relu(), Activation.Tanh => sum.Tanh(), _ => sum };
                            var actual = Functional.Conv2d(x, w, bias, (c[6], c[6]), (c[7], c[7]), (1, 1), c[8], activation, r);
                            TensorAssert.Close(expected, actual, 1e-12, 1e-12);
                        }
                    }
                }
            }
            finally
            {
                ConvKernels.ForcedAlgorithm = saved;
            }
        }
    }

    [Fact]
    public void Unbatched_input_gives_an_unbatched_output()
    {
        var x = TestTensors.Randn(1, DType.Float32, 2, 5, 5);
        var w = TestTensors.Randn(2, DType.Float32, 3, 2, 3, 3);
        var y = Functional.Conv2d(x, w, null, (1, 1), (1, 1), (1, 1), 1, Activation.Relu);
        TensorAssert.Close(Functional.Conv2d(x, w, null, padding: 1).Relu(), y, 1e-6, 1e-6);
    }

    [Fact]
    public void Gradients_flow_through_the_fused_op_when_autograd_records()
    {
        var x = TestTensors.Param(1, 2, 3, 6, 6);
        var w = TestTensors.Param(2, 4, 3, 3, 3);
        var b = TestTensors.Param(3, 4);
        var r = TestTensors.Param(4, 2, 4, 3, 3);
        TensorAssert.GradientsMatch(t => Functional.Conv2d(t[0], t[1], t[2], (2, 2), (1, 1), (1, 1), 1, Activation.Tanh, t[3]), x, w, b, r);
    }

    [Fact]
    public void A_residual_of_another_shape_is_refused()
    {
        var x = TestTensors.Randn(1, DType.Float32, 1, 2, 5, 5);
        var w = TestTensors.Randn(2, DType.Float32, 3, 2, 3, 3);
        var r = TestTensors.Randn(3, DType.Float32, 1, 3, 5, 4);
        var e = Assert.Throws<ArgumentException>(() => Functional.Conv2d(x, w, null, (1, 1), (1, 1), (1, 1), 1, Activation.None, r));
        Assert.Contains("residual", e.Message);
        using (new NoGrad()) Assert.Throws<ArgumentException>(() => Functional.Conv2d(x, w, null, (1, 1), (1, 1), (1, 1), 1, Activation.None, r));
    }
}
