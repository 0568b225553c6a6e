namespace Loom.Nn.Tests.Modules;

/// <summary>
/// <see cref="BatchNormBase.Forward(Tensor, Activation)"/> runs batch norm and ReLU as one op (as a ResNet calls it):
/// the same outputs, gradients and running statistics as the layer followed by ReLU, and hooks still see the layer's
/// own output.
/// </summary>
public class BatchNormFusionTests
{
    [Fact]
    public void Forward_with_relu_is_the_layer_then_relu_in_one_op()
    {
        var x = Tensor.Randn(new Shape(4, 3, 5, 6), new Generator(1));
        var dy = Tensor.Randn(x.Shape, new Generator(2));
        BatchNorm2d Layer()
        {
            var bn = new BatchNorm2d(3);
            using (new Autograd.NoGrad()) bn.Weight!.CopyFrom(Tensor.FromArray([0.5f, -1f, 2f], 3));
            return bn;
        }
        var fused = Layer();
        var unfused = Layer();
        var xf = x.Detach().RequiresGrad_();
        var xu = x.Detach().RequiresGrad_();
        var yf = fused.Forward(xf, Activation.Relu);
        var yu = unfused.Forward(xu).Relu();
        Assert.Equal("batch_norm_relu", yf.GradFn!.OpName);
        TensorAssert.Close(yu, yf, 1e-6, 1e-6);
        yf.Backward(dy);
        yu.Backward(dy);
        TensorAssert.Close(xu.Grad!, xf.Grad!, 1e-5, 1e-5);
        TensorAssert.Close(unfused.Weight!.Grad!, fused.Weight!.Grad!, 1e-5, 1e-5);
        TensorAssert.Close(unfused.Bias!.Grad!, fused.Bias!.Grad!, 1e-5, 1e-5);
        TensorAssert.Close(unfused.RunningMean!, fused.RunningMean!, 1e-6, 1e-6);
        TensorAssert.Close(unfused.RunningVar!, fused.RunningVar!, 1e-6, 1e-6);

        fused.Eval();
        unfused.Eval();
        TensorAssert.Close(unfused.Forward(x).Relu(), fused.Forward(x, Activation.Relu), 1e-6, 1e-6);
    }

    [Fact]
    public void A_hook_sees_the_layers_own_output_before_the_activation()
    {
        var bn = new BatchNorm2d(2);
        Tensor? seen = null;
        bn.RegisterForwardHook((_, _, output) => seen = (Tensor)output);
        var y = bn.Forward(Tensor.Randn(new Shape(3, 2, 4, 4), new Generator(3)), Activation.Relu);
        Assert.NotNull(seen);
        Assert.Contains(seen!.ToArray<float>(), v => v < 0); // normalised values, not yet through ReLU
        Assert.All(y.ToArray<float>(), v => Assert.True(v >= 0));
    }
}
