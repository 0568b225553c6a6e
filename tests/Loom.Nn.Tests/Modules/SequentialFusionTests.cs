namespace Loom.Nn.Tests.Modules;

/// <summary>
/// A Sequential runs Linear followed by ReLU, GELU, SiLU, sigmoid or tanh as one fused op; the result, the gradients and
/// a few training steps must be those of the layers run one by one, and hooks must still see what they would unfused.
/// </summary>
public class SequentialFusionTests
{
    private static Sequential Model(int seed)
    {
        var g = new Generator((ulong)seed);
        return new Sequential(
            new Linear(20, 33, generator: g), new ReLU(),
            new Linear(33, 17, generator: g), new GELU(),
            new Linear(17, 9, generator: g), new SiLU(),
            new Linear(9, 8, generator: g), new Sigmoid(),
            new Linear(8, 7, generator: g), new Tanh(),
            new Linear(7, 6, generator: g), new GELU(approximateTanh: true),
            new Dropout(0.0), new Linear(6, 3, generator: g));
    }

    /// <summary>The unfused path: each child's own Forward, in order.</summary>
    private static Tensor OneByOne(Sequential model, Tensor x)
    {
        for (int i = 0; i < model.Count; i++) x = model[i].Forward(x);
        return x;
    }

    [Fact]
    public void Linear_then_activation_runs_as_one_fused_op()
    {
        var model = new Sequential(new Linear(4, 3), new ReLU());
        var x = Tensor.Randn(2, 4);
        Assert.Equal("linear_relu", model.Forward(x).GradFn!.OpName);
        Assert.Equal("relu", OneByOne(model, x).GradFn!.OpName);

        // A hook on the activation keeps it a module of its own, until the hook is removed.
        var handle = model[1].RegisterForwardHook((_, _, _) => { });
        Assert.Equal("relu", model.Forward(x).GradFn!.OpName);
        handle.Remove();
        Assert.Equal("linear_relu", model.Forward(x).GradFn!.OpName);
    }

    [Fact]
    public void Outputs_and_gradients_are_those_of_the_layers_run_one_by_one()
    {
        foreach (int batch in new[] { 1, 16 })
        {
            var fused = Model(1);
            var unfused = Model(1);
            var x = Tensor.Randn(new Shape(batch, 20), new Generator(2));
            var target = Tensor.Randn(new Shape(batch, 3), new Generator(3));
            using (new NoGrad()) TensorAssert.Close(OneByOne(unfused, x), fused.Forward(x), 1e-6, 1e-6);

            Functional.MseLoss(fused.Forward(x), target).Backward();
            Functional.MseLoss(OneByOne(unfused, x), target).Backward();
            var expected = unfused.NamedParameters().ToList();
            var actual = fused.NamedParameters().ToList();
            Assert.Equal(expected.Count, actual.Count);
            for (int i = 0; i < expected.Count; i++)
                TensorAssert.Close(expected[i].Parameter.Grad!, actual[i].Parameter.Grad!, 1e-6, 1e-5);
        }
    }

    [Fact]
    public void Training_steps_end_at_the_parameters_of_the_unfused_path()
    {
        var fused = Model(4);
        var unfused = Model(4);
        var optFused = new Adam(fused.Parameters(), 1e-2);
        var optUnfused = new Adam(unfused.Parameters(), 1e-2);
        for (int step = 0; step < 10; step++)
        {
            var x = Tensor.Randn(new Shape(8, 20), new Generator((ulong)(10 + step)));
            var target = Tensor.Randn(new Shape(8, 3), new Generator((ulong)(50 + step)));
            optFused.ZeroGrad();
            Functional.MseLoss(fused.Forward(x), target).Backward();
            optFused.Step();
            optUnfused.ZeroGrad();
            Functional.MseLoss(OneByOne(unfused, x), target).Backward();
            optUnfused.Step();
        }
        var expected = unfused.NamedParameters().ToList();
        var actual = fused.NamedParameters().ToList();
        for (int i = 0; i < expected.Count; i++)
            TensorAssert.Close(expected[i].Parameter, actual[i].Parameter, 1e-5, 1e-4);
    }

    [Fact]
    public void Hooks_on_either_layer_see_what_they_would_unfused()
    {
        var x = Tensor.Randn(new Shape(6, 20), new Generator(7));
        var model = Model(5);
        var expected = OneByOne(model, x);

        // A hook on the activation: it must see its own input (the linear output, negatives included) and output.
        Tensor? reluInput = null, reluOutput = null;
        var handle = model[1].RegisterForwardHook((_, i, o) => (reluInput, reluOutput) = (i, o));
        TensorAssert.Close(expected, model.Forward(x), 1e-6, 1e-6);
        handle.Remove();
        Assert.Contains(reluInput!.ToArray<float>(), v => v < 0);
        TensorAssert.Close(reluInput!.Relu(), reluOutput!, 0, 0);

        // A hook on the linear layer: it sees the pre-activation output.
        Tensor? linearOutput = null;
        handle = ((Linear)model[2]).RegisterForwardHook((_, _, o) => linearOutput = o);
        TensorAssert.Close(expected, model.Forward(x), 1e-6, 1e-6);
        handle.Remove();
        Assert.Contains(linearOutput!.ToArray<float>(), v => v < 0);
        Assert.Equal("linear", linearOutput!.GradFn!.OpName);
    }

    [Fact]
    public void Linear_forward_with_an_activation_keeps_its_hooks_on_the_layer_output()
    {
        var layer = new Linear(5, 4, generator: new Generator(8));
        var x = Tensor.Randn(new Shape(3, 5), new Generator(9));
        var expected = layer.Forward(x).Gelu();
        TensorAssert.Close(expected, layer.Forward(x, Activation.Gelu), 1e-6, 1e-6);
        Tensor? seen = null;
        layer.RegisterForwardHook((_, _, o) => seen = o);
        TensorAssert.Close(expected, layer.Forward(x, Activation.Gelu), 1e-6, 1e-6);
        TensorAssert.Close(layer.Forward(x), seen!, 0, 0);
    }
}
