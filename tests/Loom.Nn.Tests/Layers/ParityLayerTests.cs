namespace Loom.Nn.Tests.Layers;

/// <summary>
/// The layers added for PyTorch parity (issue 8): each forwards to its functional form (checked against PyTorch by the
/// OpInfo suite), with PyTorch's state-dict names and the train/eval behaviour PyTorch's modules have.
/// </summary>
public class ParityLayerTests
{
    private static readonly Tensor Image = TestTensors.Randn(7, DType.Float64, 2, 4, 6, 6);

    private static void Same(Tensor expected, Tensor actual) => TensorAssert.Close(expected, actual, 0, 0);

    [Fact]
    public void Activation_modules_equal_the_tensor_ops()
    {
        var x = Image;
        Same(x.Elu(0.5), new ELU(0.5).Forward(x));
        Same(x.Selu(), new SELU().Forward(x));
        Same(x.Celu(2), new CELU(2).Forward(x));
        Same(x.Hardtanh(-2, 0.5), new Hardtanh(-2, 0.5).Forward(x));
        Same(x.Relu6(), new ReLU6().Forward(x));
        Same(x.Hardsigmoid(), new Hardsigmoid().Forward(x));
        Same(x.Hardswish(), new Hardswish().Forward(x));
        Same(x.Mish(), new Mish().Forward(x));
        Same(x.LogSigmoid(), new LogSigmoid().Forward(x));
        Assert.StartsWith("Hardtanh(min_val=-2, max_val=0.5)", new Hardtanh(-2, 0.5).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Resampling_and_padding_modules_equal_the_functional_ops()
    {
        var x = Image;
        Same(Functional.Interpolate(x, [9, 4], mode: InterpolateMode.Bilinear, alignCorners: true),
            new Upsample([9, 4], mode: InterpolateMode.Bilinear, alignCorners: true).Forward(x));
        Same(Functional.PixelShuffle(x, 2), new PixelShuffle(2).Forward(x));
        Same(Functional.PixelUnshuffle(x, 3), new PixelUnshuffle(3).Forward(x));
        Same(Functional.Unfold(x, (3, 2), padding: (1, 0)), new Unfold((3, 2), padding: (1, 0)).Forward(x));
        var cols = Functional.Unfold(x, (2, 2), stride: (2, 2));
        Same(Functional.Fold(cols, (6, 6), (2, 2), stride: (2, 2)), new Fold((6, 6), (2, 2), stride: (2, 2)).Forward(cols));
        Same(Functional.Pad(x, [1, 2, 0, 1], PadMode.Reflect), new ReflectionPad2d((1, 2, 0, 1)).Forward(x));
        Same(Functional.Pad(x, [2, 2, 2, 2], PadMode.Replicate), new ReplicationPad2d(2).Forward(x));
        Same(Functional.Pad(x, [1, 1, 1, 1], value: 3), new ConstantPad2d(1, 3).Forward(x));
        Same(Functional.Pad(x, [0, 1, 2, 0]), new ZeroPad2d((0, 1, 2, 0)).Forward(x));
        Same(Functional.Pad(x, [2, 1], PadMode.Reflect), new ReflectionPad1d((2, 1)).Forward(x));
        Same(Functional.Pad(x, [1, 1, 1, 1], PadMode.Circular), new CircularPad2d(1).Forward(x));
        Same(Functional.CosineSimilarity(x, x.Flip(1)), new CosineSimilarity().Forward(x, x.Flip(1)));
        Assert.StartsWith("Upsample(size=(9, 4), mode='bilinear', align_corners=True)",
            new Upsample([9, 4], mode: InterpolateMode.Bilinear, alignCorners: true).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Max_pool_indices_round_trip_through_max_unpool()
    {
        var pool = new MaxPool2d(2);
        var (pooled, indices) = pool.ForwardWithIndices(Image);
        Same(pool.Forward(Image), pooled);
        var restored = new MaxUnpool2d(2).Forward(pooled, indices);
        // Each window's maximum is back in place, every other element is zero.
        Same(pooled.Reshape(2, 4, 9), restored.Reshape(2, 4, 36).Gather(2, indices.Reshape(2, 4, 9)));
        Assert.Equal(pooled.Numel, restored.Ne(0).Sum().Item());
        Same(Functional.AdaptiveMaxPool2d(Image, (4, 3)), new AdaptiveMaxPool2d((4, 3)).Forward(Image));
        Same(Functional.AvgPool2d(Image, 3, 2, 1, divisorOverride: 4), new AvgPool2d(3, 2, 1, divisorOverride: 4).Forward(Image));
    }

    [Fact]
    public void Same_padding_convolutions_keep_the_size()
    {
        var conv = new Conv2d(4, 3, (4, 3), ConvPadding.Same, dilation: (1, 2), dtype: DType.Float64);
        var y = conv.Forward(Image);
        Assert.Equal(new Shape(2, 3, 6, 6), y.Shape);
        Same(Functional.Conv2d(Image, conv.Weight, conv.Bias, ConvPadding.Same, (1, 2)), y);
        Assert.Contains("padding=same", conv.ToString(), StringComparison.Ordinal);
        var conv1 = new Conv1d(4, 2, 4, ConvPadding.Same, dtype: DType.Float64);
        Assert.Equal(new Shape(2, 2, 36), conv1.Forward(Image.Reshape(2, 4, 36)).Shape);
    }

    [Fact]
    public void Instance_norm_has_pytorch_state_and_uses_running_statistics_only_in_eval()
    {
        var plain = new InstanceNorm2d(4);
        Assert.Empty(plain.StateDict());
        var tracked = new InstanceNorm2d(4, affine: true, trackRunningStats: true, dtype: DType.Float64);
        Assert.Equal(["weight", "bias", "running_mean", "running_var", "num_batches_tracked"], tracked.StateDict().Keys);

        var train = tracked.Forward(Image);
        Same(Functional.GroupNorm(Image, 4, tracked.Weight, tracked.Bias), train);
        Assert.True(tracked.RunningMean!.AllClose(Image.Mean([2, 3]).Mean(0).Mul(0.1), 1e-12, 1e-14));

        tracked.Eval();
        using (new NoGrad())
            Same(Functional.BatchNorm(Image, tracked.RunningMean, tracked.RunningVar, tracked.Weight, tracked.Bias), tracked.Forward(Image));
        Same(plain.Forward(Image.Select(0, 0).To(DType.Float32)), plain.Forward(Image.Narrow(0, 0, 1).To(DType.Float32)).Squeeze(0));
    }

    [Fact]
    public void Embedding_max_norm_renormalises_the_rows_it_looks_up()
    {
        var embedding = new Embedding(5, 3, maxNorm: 1.0, dtype: DType.Float64, generator: new Loom.Random.Generator(3));
        var looked = embedding.Forward(Tensor.FromArray(new long[] { 1, 3 }));
        Assert.True(looked.Norm(2, 1).Le(1 + 1e-9).LogicalNot().Sum().Item() == 0);
        Assert.Contains("max_norm=1", embedding.ToString(), StringComparison.Ordinal);
    }
}
