namespace Loom.Nn.Tests.Losses;

/// <summary>The loss modules as modules: buffers in the state dict, hooks, arity, and agreement with the functional forms.</summary>
public class LossModuleTests
{
    [Fact]
    public void Class_weights_are_buffers_under_pytorch_names_and_other_losses_have_no_state()
    {
        Assert.Equal(["weight"], new CrossEntropyLoss(Tensor.Ones(3)).StateDict().Keys);
        Assert.Equal(["weight"], new NLLLoss(Tensor.Ones(3)).StateDict().Keys);
        Assert.Equal(["weight", "pos_weight"], new BCEWithLogitsLoss(Tensor.Ones(3), Tensor.Ones(3)).StateDict().Keys);
        Assert.Equal(["pos_weight"], new BCEWithLogitsLoss(posWeight: Tensor.Ones(3)).StateDict().Keys);
        Assert.Empty(new CrossEntropyLoss().StateDict());
        Assert.Empty(new MSELoss().StateDict());
        Assert.Empty(new TripletMarginLoss().Parameters());
    }

    [Fact]
    public void A_loaded_class_weight_changes_the_loss()
    {
        var logits = TestTensors.Randn(1, DType.Float32, 6, 3);
        var target = Tensor.FromArray([0L, 1, 2, 2, 1, 0]);
        var weight = Tensor.FromArray([1f, 2f, 0.5f]);
        var loss = new CrossEntropyLoss(Tensor.Ones(3));
        loss.LoadStateDict(new Dictionary<string, Tensor> { ["weight"] = weight });
        TensorAssert.Close(Functional.CrossEntropy(logits, target, weight), loss.Forward(logits, target), 0, 0);
        var nll = new NLLLoss(weight, ignoreIndex: 2, reduction: Reduction.Sum);
        TensorAssert.Close(Functional.NllLoss(logits.LogSoftmax(1), target, weight, 2, Reduction.Sum), nll.Forward(logits.LogSoftmax(1), target), 0, 0);
    }

    [Fact]
    public void The_module_keeps_its_own_copy_of_the_weight()
    {
        var weight = Tensor.FromArray([1f, 2f]);
        var loss = new BCELoss(weight);
        weight.FillInPlace(5);
        Assert.Equal([1f, 2f], loss.Weight!.ToArray<float>());
    }

    [Fact]
    public void Forward_hooks_see_the_inputs_and_the_loss()
    {
        var loss = new MSELoss();
        Tensor[]? seen = null;
        Tensor? output = null;
        var handle = loss.RegisterForwardHook((_, input, result) => (seen, output) = ((Tensor[])input, (Tensor)result));
        var (x, y) = (Tensor.Ones(3), Tensor.Zeros(3));
        var value = loss.Forward(x, y);
        Assert.Same(x, seen![0]);
        Assert.Same(y, seen[1]);
        Assert.Same(value, output);
        Assert.Equal(1, value.Item());
        handle.Remove();
    }

    [Fact]
    public void Calling_the_wrong_arity_says_which_forward_to_use()
    {
        var x = Tensor.Zeros(2, 3);
        TensorAssert.Throws<InvalidOperationException>(() => new MSELoss().Forward(x, x, x), "MSELoss", "Forward(input, target)");
        TensorAssert.Throws<InvalidOperationException>(() => new TripletMarginLoss().Forward(x, x), "TripletMarginLoss", "Forward(a, b, c)");
    }

    [Fact]
    public void A_two_tensor_loss_converts_to_a_trainer_loss_function()
    {
        Func<Tensor, Tensor, Tensor> fn = new L1Loss(Reduction.Sum).Forward;
        Assert.Equal(6, fn(Tensor.Full(new Shape(3), 2), Tensor.Zeros(3)).Item());
    }

    [Fact]
    public void Modules_pass_their_options_to_the_functional_forms()
    {
        var x = TestTensors.Randn(1, DType.Float64, 4, 5);
        var y = TestTensors.Randn(2, DType.Float64, 4, 5);
        TensorAssert.Close(Functional.SmoothL1Loss(x, y, Reduction.Sum, 0.3), new SmoothL1Loss(Reduction.Sum, 0.3).Forward(x, y), 0, 0);
        TensorAssert.Close(Functional.HuberLoss(x, y, Reduction.None, 0.4), new HuberLoss(Reduction.None, 0.4).Forward(x, y), 0, 0);
        TensorAssert.Close(Functional.KLDiv(x, y, KLDivReduction.BatchMean, true), new KLDivLoss(KLDivReduction.BatchMean, logTarget: true).Forward(x, y), 0, 0);
        var w = TestTensors.Uniform(3, 0.5, 2, DType.Float64, 4, 5);
        var p = TestTensors.Uniform(4, 0.05, 0.95, DType.Float64, 4, 5);
        TensorAssert.Close(Functional.BinaryCrossEntropy(p, y.Sigmoid(), w, Reduction.Sum), new BCELoss(w, Reduction.Sum).Forward(p, y.Sigmoid()), 0, 0);
        TensorAssert.Close(Functional.BinaryCrossEntropyWithLogits(x, y.Sigmoid(), w, Tensor.Full(new Shape(5), 2.5, DType.Float64), Reduction.None),
            new BCEWithLogitsLoss(w, Tensor.Full(new Shape(5), 2.5, DType.Float64), Reduction.None).Forward(x, y.Sigmoid()), 0, 0);
        var sign = Tensor.FromArray([1.0, -1, -1, 1]);
        TensorAssert.Close(Functional.CosineEmbeddingLoss(x, y, sign, 0.2, Reduction.None), new CosineEmbeddingLoss(0.2, Reduction.None).Forward(x, y, sign), 0, 0);
        var rank = Tensor.Where(y.Gt(0), Tensor.Scalar(1, DType.Float64), Tensor.Scalar(-1, DType.Float64));
        TensorAssert.Close(Functional.MarginRankingLoss(x, y, rank, 0.3, Reduction.Sum), new MarginRankingLoss(0.3, Reduction.Sum).Forward(x, y, rank), 0, 0);
        TensorAssert.Close(Functional.TripletMarginLoss(x, y, w, 0.8, 1, 1e-3, true, Reduction.None),
            new TripletMarginLoss(0.8, 1, 1e-3, true, Reduction.None).Forward(x, y, w), 0, 0);
        var target = Tensor.FromArray([0L, 4, 1, 3]);
        TensorAssert.Close(Functional.CrossEntropy(x, target, labelSmoothing: 0.2, reduction: Reduction.None),
            new CrossEntropyLoss(reduction: Reduction.None, labelSmoothing: 0.2).Forward(x, target), 0, 0);
    }

    [Fact]
    public void Bad_options_are_rejected_when_the_module_is_built()
    {
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => new HuberLoss(delta: 0), "HuberLoss", "delta");
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => new SmoothL1Loss(beta: -1), "SmoothL1Loss", "beta");
    }

    [Fact]
    public void Printing_shows_the_options_in_pytorch_spelling()
    {
        Assert.StartsWith("HuberLoss(reduction=sum, delta=0.5)", new HuberLoss(Reduction.Sum, 0.5).ToString());
        Assert.StartsWith("KLDivLoss(reduction=batchmean, log_target=False)", new KLDivLoss(KLDivReduction.BatchMean).ToString());
    }
}
