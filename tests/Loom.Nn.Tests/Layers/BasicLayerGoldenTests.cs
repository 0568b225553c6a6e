namespace Loom.Nn.Tests.Layers;

/// <summary>Linear, convolution, normalisation and embedding layers against PyTorch (tests/golden/make_golden.py).</summary>
public class BasicLayerGoldenTests
{
    private static Tensor[] One(Module<Tensor, Tensor> m, Tensor[] x) => [m.Forward(x[0])];

    [Theory]
    [InlineData("linear", 5, 3, true)]
    [InlineData("linear_3d_nobias", 6, 4, false)]
    public void Linear_layers_match_pytorch(string name, int inF, int outF, bool bias)
    {
        var m = new Linear(inF, outF, bias);
        new LayerGolden(name).Check(m, x => One(m, x));
    }

    [Fact]
    public void Bilinear_matches_pytorch()
    {
        var m = new Bilinear(3, 4, 2);
        new LayerGolden("bilinear").Check(m, x => [m.Forward(x[0], x[1])]);
    }

    [Fact]
    public void Conv2d_variants_match_pytorch()
    {
        var plain = new Conv2d(3, 4, 3);
        new LayerGolden("conv2d").Check(plain, x => One(plain, x));
        var strided = new Conv2d(4, 6, (3, 2), stride: (2, 2), padding: (1, 2), dilation: (1, 2));
        new LayerGolden("conv2d_stride_pad").Check(strided, x => One(strided, x));
        var grouped = new Conv2d(4, 6, 3, padding: 1, groups: 2);
        new LayerGolden("conv2d_groups").Check(grouped, x => One(grouped, x));
    }

    [Fact]
    public void Conv1d_and_transposed_conv_match_pytorch()
    {
        var c1 = new Conv1d(3, 5, 4, stride: 2, padding: 1);
        new LayerGolden("conv1d").Check(c1, x => One(c1, x));
        var ct = new ConvTranspose2d(3, 2, 3, stride: 2, padding: 1, outputPadding: 1);
        new LayerGolden("conv_transpose2d").Check(ct, x => One(ct, x));
    }

    [Fact]
    public void Batch_norm_in_training_matches_pytorch_and_updates_running_statistics()
    {
        var bn = new BatchNorm2d(3);
        var g = new LayerGolden("batchnorm2d_train");
        // PyTorch saved the state dict after its forward, so it holds the running statistics after one update from
        // the initial (0, 1): reset them before the forward and expect the same update.
        g.Check(bn, x =>
        {
            using (new Autograd.NoGrad())
            {
                bn.RunningMean!.ZeroInPlace();
                bn.RunningVar!.FillInPlace(1);
            }
            return One(bn, x);
        });
        Testing.TensorAssert.Close(g.State["running_mean"], bn.RunningMean!, 1e-5, 1e-4);
        Testing.TensorAssert.Close(g.State["running_var"], bn.RunningVar!, 1e-5, 1e-4);
        var bn1 = new BatchNorm1d(4);
        new LayerGolden("batchnorm1d_train").Check(bn1, x => One(bn1, x)); // outputs use batch statistics only
    }

    [Fact]
    public void Batch_norm_in_eval_uses_running_statistics()
    {
        var bn = new BatchNorm2d(3);
        bn.Eval();
        new LayerGolden("batchnorm2d_eval").Check(bn, x => One(bn, x));
    }

    [Fact]
    public void Layer_norm_group_norm_and_embedding_match_pytorch()
    {
        var ln = new LayerNorm([4, 5]);
        new LayerGolden("layernorm").Check(ln, x => One(ln, x));
        var gn = new GroupNorm(2, 6);
        new LayerGolden("groupnorm").Check(gn, x => One(gn, x));
        var emb = new Embedding(10, 4, paddingIdx: 1);
        new LayerGolden("embedding_pad").Check(emb, x => One(emb, x));
    }
}
