namespace Loom.Tests.Conv;

public class Conv1dTests
{
    [Theory]
    [InlineData(1, 3, 17, 4, 3, 1, 1, 1, 1)]
    [InlineData(3, 4, 33, 6, 5, 2, 2, 3, 2)]
    [InlineData(2, 4, 7, 4, 1, 1, 0, 1, 4)]
    public void Conv1d_matches_the_2d_reference_on_a_single_row(int n, int c, int length, int outC, int k, int stride, int padding, int dilation, int groups)
    {
        var x = TestTensors.Randn(1, DType.Float32, n, c, length);
        var w = TestTensors.Randn(2, DType.Float32, outC, c / groups, k);
        var b = TestTensors.Randn(3, DType.Float32, outC);
        var expected = ConvOracle.Conv2d(x.Unsqueeze(2), w.Unsqueeze(2), b, (1, stride), (0, padding), (1, dilation), groups).Squeeze(2);
        TensorAssert.Close(expected, Functional.Conv1d(x, w, b, stride, padding, dilation, groups), 1e-4, 1e-4);
        TensorAssert.Close(expected.Select(0, 0), Functional.Conv1d(x.Select(0, 0), w, b, stride, padding, dilation, groups), 1e-4, 1e-4);
    }

    [Fact]
    public void Gradients_match_finite_differences()
    {
        var x = TestTensors.Param(1, 2, 3, 9);
        var w = TestTensors.Param(2, 4, 3, 3);
        var b = TestTensors.Param(3, 4);
        TensorAssert.GradientsMatch(t => Functional.Conv1d(t[0], t[1], t[2], stride: 2, padding: 1, dilation: 2), x, w, b);
    }

    [Fact]
    public void Errors_name_the_1d_shapes()
    {
        TensorAssert.Throws<ArgumentException>(() => Functional.Conv1d(Tensor.Zeros(1, 3, 2), Tensor.Zeros(4, 3, 5)),
            "conv1d: output would be empty", "[1, 3, 2]", "[4, 3, 5]", "stride 1, padding 0");
        TensorAssert.Throws<ArgumentException>(() => Functional.Conv1d(Tensor.Zeros(1, 3, 8), Tensor.Zeros(4, 3, 3, 3)), "conv1d", "[4, 3, 3, 3]");
    }
}
