using static Loom.Onnx.Tests.OnnxGraphBuilder;

namespace Loom.Onnx.Tests;

/// <summary>An imported graph trains: its initializers are parameters, and gradients through the imported ops are right.</summary>
public class FineTuningTests
{
    private static OnnxGraphBuilder ConvNet(DType dtype)
    {
        var g = new Loom.Random.Generator(11);
        Tensor R(params int[] s) => Tensor.Randn(new Shape(s), g).Mul(0.5).To(dtype);
        return new OnnxGraphBuilder(8).Input("x", "N", 2, 5, 5).Initializer("w", R(3, 2, 3, 3)).Initializer("cb", R(3))
            .Initializer("s", R(3)).Initializer("b", R(3)).Initializer("m", R(3)).Initializer("v", R(3).Abs().Add(1))
            .Initializer("fc", R(4, 12)).Initializer("fb", R(4))
            .Node("Conv", ["x", "w", "cb"], ["c"], Ints("pads", 1, 1, 0, 0), Ints("strides", 2, 2))
            .Node("BatchNormalization", ["c", "s", "b", "m", "v"], ["n"]).Node("Tanh", ["n"], ["t"])
            .Node("AveragePool", ["t"], ["p"], Ints("kernel_shape", 2, 2), Ints("pads", 1, 1, 0, 0), Int("count_include_pad", 1))
            .Node("Flatten", ["p"], ["f"]).Node("Gemm", ["f", "fc", "fb"], ["y"], Int("transB", 1)).Output("y");
    }

    [Fact]
    public void Initializers_are_parameters_and_statistics_are_buffers()
    {
        var model = OnnxModule.Load(ConvNet(DType.Float32).Bytes());
        Assert.Equal(["w", "cb", "s", "b", "fc", "fb"], model.NamedParameters().Select(p => p.Name));
        Assert.Equal(["m", "v"], model.NamedBuffers().Select(b => b.Name));
    }

    [Fact]
    public void Gradients_through_imported_ops_match_finite_differences()
    {
        var model = OnnxModule.Load(ConvNet(DType.Float64).Bytes());
        var x = Tensor.Randn(new Shape(2, 2, 5, 5), new Loom.Random.Generator(4), DType.Float64);
        var parameters = model.Parameters().ToArray();
        var error = GradCheck.Run(inputs => model.Forward(inputs[0]).Square().Sum(), [x.RequiresGrad_(), .. parameters]);
        Assert.Null(error);
    }

    [Fact]
    public void A_few_sgd_steps_lower_the_loss()
    {
        var model = OnnxModule.Load(ConvNet(DType.Float32).Bytes());
        model.Train();
        var x = Tensor.Randn(new Shape(8, 2, 5, 5), new Loom.Random.Generator(9));
        var target = Tensor.Randn(new Shape(8, 4), new Loom.Random.Generator(10));
        var optimizer = new Sgd(model.Parameters(), 0.1);
        var runningMean = model.NamedBuffers().First().Buffer.Clone();
        double first = 0, last = 0;
        for (int step = 0; step < 60; step++)
        {
            optimizer.ZeroGrad();
            var loss = model.Forward(x).Sub(target).Square().Mean();
            loss.Backward();
            optimizer.Step();
            if (step == 0) first = loss.Item();
            last = loss.Item();
        }
        Assert.True(last < 0.7 * first, $"loss went from {first} to {last}");
        // Training mode moves BatchNormalization's running statistics, as PyTorch's would.
        Assert.False(runningMean.Equal(model.NamedBuffers().First().Buffer));
    }
}
