namespace Loom.Nn.Tests.Optim;

/// <summary>
/// Everything in Loom.Nn that writes parameters or gradients in place does it through Core's public
/// <see cref="Tensor.AsSpan{T}"/>, so autograd's version check sees the write: a graph that saved the tensor before
/// the write refuses to back-propagate instead of using the new values.
/// </summary>
public class InPlaceVersionTests
{
    public static TheoryData<string> Optimizers => new() { "sgd", "sgd_momentum", "adam", "adamw", "adagrad", "rmsprop" };

    private static Optimizer Make(string name, Parameter p) => name switch
    {
        "sgd" => new Sgd([p], 0.1),
        "sgd_momentum" => new Sgd([p], 0.1, momentum: 0.9),
        "adam" => new Adam([p]),
        "adamw" => new AdamW([p]),
        "adagrad" => new Adagrad([p]),
        _ => new RmsProp([p]),
    };

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void An_optimiser_step_invalidates_a_graph_that_saved_the_parameter(string name)
    {
        var p = new Parameter(Tensor.FromArray([1.0, -2, 3]));
        var loss = p.Square().Sum(); // square saves p
        loss.Backward(retainGraph: true);
        var before = p.ToArray<double>();
        Make(name, p).Step();
        Assert.NotEqual(before, p.ToArray<double>());
        TensorAssert.Throws<InvalidOperationException>(() => loss.Backward(), "modified by an in-place operation");
    }

    /// <summary>A graph that saved the gradient tensor itself (y = x·g saves g for x's gradient).</summary>
    private static (Parameter P, Tensor Loss) GraphOverGradient()
    {
        var p = new Parameter(Tensor.FromArray([3.0, -4]));
        p.Square().Sum().Backward(); // p.Grad = [6, −8], norm 10
        var x = Tensor.FromArray([1.0, 1]).RequiresGrad_();
        return (p, (x * p.Grad!).Sum());
    }

    [Fact]
    public void Clipping_or_zeroing_gradients_in_place_is_seen_by_autograd()
    {
        var (p, loss) = GraphOverGradient();
        GradientClipping.ClipGradNorm([p], maxNorm: 1);
        TensorAssert.Throws<InvalidOperationException>(() => loss.Backward(), "mul", "modified by an in-place operation");

        (p, loss) = GraphOverGradient();
        GradientClipping.ClipGradValue([p], clipValue: 1);
        TensorAssert.Throws<InvalidOperationException>(() => loss.Backward(), "mul", "modified by an in-place operation");

        (p, loss) = GraphOverGradient();
        new Sgd([p], 0.1).ZeroGrad(setToNone: false);
        Assert.Equal([0.0, 0], p.Grad!.ToArray<double>());
        TensorAssert.Throws<InvalidOperationException>(() => loss.Backward(), "mul", "modified by an in-place operation");
    }

    [Fact]
    public void Clipping_that_changes_nothing_leaves_the_gradient_alone()
    {
        var (p, loss) = GraphOverGradient();
        Assert.Equal(10, GradientClipping.ClipGradNorm([p], maxNorm: 100), 12);
        loss.Backward();
    }

    [Fact]
    public void Max_norm_counts_as_a_write_only_when_it_rescales_a_slice()
    {
        var w = new Parameter(Tensor.FromArray([3.0, 4, 0.3, 0.4], 2, 2)); // row norms 5 and 0.5
        var loss = w.Square().Sum();
        MaxNormConstraint.Apply([w], maxNorm: 5.5);
        loss.Backward(retainGraph: true); // nothing rescaled: the saved weight is still valid
        MaxNormConstraint.Apply([w], maxNorm: 1);
        TensorAssert.Close(Tensor.FromArray([0.6, 0.8, 0.3, 0.4], 2, 2), w, 1e-6, 1e-6);
        TensorAssert.Throws<InvalidOperationException>(() => loss.Backward(), "modified by an in-place operation");
    }
}
