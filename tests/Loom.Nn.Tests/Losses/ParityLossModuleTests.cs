namespace Loom.Nn.Tests.Losses;

/// <summary>
/// The loss modules added for PyTorch parity (issue 8) as modules: each forwards to its functional form (whose values
/// the OpInfo suite checks against PyTorch), class weights are buffers, CTCLoss takes four tensors with hooks.
/// </summary>
public class ParityLossModuleTests
{
    private static readonly Tensor X = TestTensors.Randn(3, DType.Float64, 4, 5), Y = TestTensors.Randn(4, DType.Float64, 4, 5);
    private static readonly Tensor Signs = Y.Sign();

    [Fact]
    public void Modules_equal_their_functional_forms()
    {
        TensorAssert.Close(Functional.PoissonNllLoss(X, Y.Abs(), logInput: true, full: true, reduction: Reduction.Sum),
            new PoissonNLLLoss(full: true, reduction: Reduction.Sum).Forward(X, Y.Abs()), 0, 0);
        TensorAssert.Close(Functional.GaussianNllLoss(X, Y, Y.Abs(), full: true), new GaussianNLLLoss(full: true).Forward(X, Y, Y.Abs()), 0, 0);
        TensorAssert.Close(Functional.HingeEmbeddingLoss(X, Signs, 0.5), new HingeEmbeddingLoss(0.5).Forward(X, Signs), 0, 0);
        TensorAssert.Close(Functional.SoftMarginLoss(X, Signs, Reduction.None), new SoftMarginLoss(Reduction.None).Forward(X, Signs), 0, 0);
        var target = Tensor.FromArray(new long[] { 0, 4, 2, 1 });
        var weight = Tensor.FromArray(new[] { 1.0, 2, 0.5, 1, 3 });
        TensorAssert.Close(Functional.MultiMarginLoss(X, target, 2, 0.8, weight), new MultiMarginLoss(2, 0.8, weight).Forward(X, target), 0, 0);
    }

    [Fact]
    public void Multi_margin_weight_is_a_buffer_named_weight()
    {
        Assert.Equal(["weight"], new MultiMarginLoss(weight: Tensor.Ones(3)).StateDict().Keys);
        Assert.Empty(new CTCLoss().StateDict());
        Assert.Empty(new GaussianNLLLoss().StateDict());
    }

    [Fact]
    public void Ctc_loss_takes_four_tensors_and_hooks_see_them()
    {
        var logProbs = TestTensors.Randn(5, DType.Float64, 6, 2, 4).LogSoftmax(2);
        var targets = Tensor.FromArray(new long[] { 1, 2, 3, 3 }, 2, 2);
        var (inputLengths, targetLengths) = (Tensor.FromArray(new long[] { 6, 5 }), Tensor.FromArray(new long[] { 2, 2 }));
        var loss = new CTCLoss(blank: 0, Reduction.Sum);
        Tensor[]? seen = null;
        loss.RegisterForwardHook((_, input, _) => seen = (Tensor[])input);
        var value = loss.Forward(logProbs, targets, inputLengths, targetLengths);
        Assert.Equal(4, seen!.Length);
        Assert.Same(targetLengths, seen[3]);
        TensorAssert.Close(Functional.CtcLoss(logProbs, targets, [6, 5], [2, 2], 0, Reduction.Sum), value, 0, 0);
        TensorAssert.Throws<InvalidOperationException>(() => loss.Forward(logProbs, targets), "four tensors");
        Assert.StartsWith("CTCLoss(blank=0, reduction=sum, zero_infinity=False)", loss.ToString(), StringComparison.Ordinal);
    }
}
