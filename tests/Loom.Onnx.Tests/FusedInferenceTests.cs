using Loom.Memory;
using static Loom.Onnx.Tests.OnnxGraphBuilder;

namespace Loom.Onnx.Tests;

/// <summary>
/// The inference plan (Conv chains fused, BatchNormalization folded into the weights) computes what the node-by-node
/// graph computes, follows the weights when they change, and stays out of training and of recorded runs.
/// </summary>
public class FusedInferenceTests
{
    // Runs `check` at one thread and at three.
    private static void AtOneAndThreeThreads(Action check)
    {
        foreach (int threads in new[] { 1, 3 }) ThreadCounts.With(threads, check);
    }

    // A residual block as ResNet18 has it: x → conv–BN–ReLU → conv–BN, plus a conv–BN shortcut, Add, ReLU; then a
    // conv with bias and ReLU (no BN), a conv alone, and a conv–BN whose output the graph also returns.
    private static byte[] ResidualBlock(DType dtype)
    {
        var g = new Loom.Random.Generator(21);
        Tensor R(params int[] s) => Tensor.Randn(new Shape(s), g).Mul(0.5).To(dtype);
        Tensor V(int c) => Tensor.Rand(new Shape(c), g).Add(0.5).To(dtype);
        var b = new OnnxGraphBuilder(8).Input("x", "N", 3, 8, 8);
        foreach (var (name, cin, k) in new[] { ("a", 3, 3), ("b", 4, 3), ("s", 3, 1) })
            b.Initializer($"{name}w", R(4, cin, k, k)).Initializer($"{name}g", R(4)).Initializer($"{name}b", R(4)).Initializer($"{name}m", R(4)).Initializer($"{name}v", V(4));
        return b.Initializer("cw", R(5, 4, 3, 3)).Initializer("cb", R(5)).Initializer("dw", R(2, 5, 1, 1))
            .Node("Conv", ["x", "aw"], ["a1"], Ints("pads", 1, 1, 1, 1), Ints("strides", 2, 2))
            .Node("BatchNormalization", ["a1", "ag", "ab", "am", "av"], ["a2"], Int("spatial", 1), Float("epsilon", 1e-3f))
            .Node("Relu", ["a2"], ["a3"])
            .Node("Conv", ["a3", "bw"], ["b1"], Ints("pads", 1, 1, 1, 1))
            .Node("BatchNormalization", ["b1", "bg", "bb", "bm", "bv"], ["b2"])
            .Node("Conv", ["x", "sw"], ["s1"], Ints("strides", 2, 2))
            .Node("BatchNormalization", ["s1", "sg", "sb", "sm", "sv"], ["s2"])
            .Node("Add", ["b2", "s2"], ["r1"]).Node("Relu", ["r1"], ["r2"])
            .Node("Conv", ["r2", "cw", "cb"], ["c1"], Ints("pads", 1, 1, 1, 1)).Node("Relu", ["c1"], ["c2"])
            .Node("Conv", ["c2", "dw"], ["y"])
            .Output("y").Output("s2").Bytes();
    }

    // The node-by-node graph, forced by an input that requires grad (autograd records, so the plan is not taken).
    private static Tensor[] Unfused(OnnxModule model, Tensor x) => model.Run(x.Detach().RequiresGrad_()).Select(t => t.Detach()).ToArray();

    [Fact]
    public void Fused_plan_matches_the_graph_node_by_node()
    {
        var model = OnnxModule.Load(ResidualBlock(DType.Float64));
        // conv–BN–ReLU, conv–BN–Add–ReLU, the shortcut conv–BN (its output is returned, so the chain stops there) and
        // conv–ReLU; the last conv has nothing to fuse.
        Assert.Equal((4, 3, 0, 0), model.FusedBlocks);
        var x = Tensor.Randn(new Shape(2, 3, 8, 8), new Loom.Random.Generator(5), DType.Float64);
        Tensor[] fused;
        using (new NoGrad()) fused = model.Run(x);
        var expected = Unfused(model, x);
        for (int i = 0; i < fused.Length; i++) TensorAssert.Close(expected[i], fused[i], 1e-12, 1e-12);
        Assert.Null(fused[0].GradFn);
    }

    [Fact]
    public void The_fold_follows_the_weights_when_they_change()
    {
        var model = OnnxModule.Load(ResidualBlock(DType.Float32));
        var x = Tensor.Randn(new Shape(1, 3, 8, 8), new Loom.Random.Generator(6));
        Tensor before;
        using (new NoGrad()) before = model.Forward(x);
        // Fine-tune: a step of SGD in training mode moves the weights and the running statistics.
        model.Train();
        var optimizer = new Sgd(model.Parameters(), 0.1);
        model.Forward(x).Square().Sum().Backward();
        optimizer.Step();
        model.Eval();
        Tensor after;
        using (new NoGrad()) after = model.Forward(x);
        Assert.False(before.AllClose(after, 1e-3, 1e-3));
        TensorAssert.Close(Unfused(model, x)[0], after, 1e-4, 1e-4);
        // And a state dict loaded in place.
        var state = model.StateDict().ToDictionary(p => p.Key, p => p.Value.Mul(1.5));
        model.LoadStateDict(state);
        using (new NoGrad()) after = model.Forward(x);
        TensorAssert.Close(Unfused(model, x)[0], after, 1e-4, 1e-4);
    }

    // Channels in whole blocks of 16: a stride-2 conv–BN–ReLU and a 1×1/2 shortcut conv–BN read the input, a
    // conv–BN adds the shortcut (its output is also returned), then conv–ReLU, conv–ReLU and a global average pool.
    private static byte[] BlockedChain(DType dtype)
    {
        var g = new Loom.Random.Generator(23);
        Tensor R(params int[] s) => Tensor.Randn(new Shape(s), g).Mul(0.2).To(dtype);
        Tensor V(int c) => Tensor.Rand(new Shape(c), g).Add(0.5).To(dtype);
        var type = dtype == DType.Float64 ? OnnxDataType.Double : OnnxDataType.Float;
        var b = new OnnxGraphBuilder(13).TypedInput("x", type, "N", 16, 9, 10);
        foreach (var (name, cin, k) in new[] { ("a", 16, 3), ("b", 32, 3), ("s", 16, 1) })
            b.Initializer($"{name}w", R(32, cin, k, k)).Initializer($"{name}g", R(32)).Initializer($"{name}b", R(32)).Initializer($"{name}m", R(32)).Initializer($"{name}v", V(32));
        return b.Initializer("cw", R(32, 32, 3, 3)).Initializer("cb", R(32)).Initializer("dw", R(16, 32, 1, 1))
            .Node("Conv", ["x", "aw"], ["a1"], Ints("pads", 1, 1, 1, 1), Ints("strides", 2, 2))
            .Node("BatchNormalization", ["a1", "ag", "ab", "am", "av"], ["a2"]).Node("Relu", ["a2"], ["a3"])
            .Node("Conv", ["a3", "bw"], ["b1"], Ints("pads", 1, 1, 1, 1))
            .Node("BatchNormalization", ["b1", "bg", "bb", "bm", "bv"], ["b2"])
            .Node("Conv", ["x", "sw"], ["s1"], Ints("strides", 2, 2))
            .Node("BatchNormalization", ["s1", "sg", "sb", "sm", "sv"], ["s2"])
            .Node("Add", ["b2", "s2"], ["r1"]).Node("Relu", ["r1"], ["r2"])
            .Node("Conv", ["r2", "cw", "cb"], ["c1"], Ints("pads", 1, 1, 1, 1)).Node("Relu", ["c1"], ["c2"])
            .Node("Conv", ["c2", "dw"], ["d1"]).Node("Relu", ["d1"], ["d2"])
            .Node("GlobalAveragePool", ["d2"], ["y"])
            .Output("y", type).Output("r2", type).Bytes();
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Activations_stay_blocked_between_convolutions_with_the_bits_of_nchw(DType dtype)
    {
        var model = OnnxModule.Load(BlockedChain(dtype));
        Assert.Equal((5, 3, 0, 0), model.FusedBlocks);
        // The stride-2 conv and the shortcut write blocked for the residual block; its output is returned (NCHW), the
        // next conv writes blocked for the last, whose output the pool reads. None where no kernel reads blocks.
        Assert.Equal(Functional.Conv2dChannelBlock(dtype) > 0 ? 3 : 0, model.BlockedOutputs);
        var x = Tensor.Randn(new Shape(2, 16, 9, 10), new Loom.Random.Generator(7), dtype);
        AtOneAndThreeThreads(() =>
        {
            Tensor[] blocked, nchw;
            using (new NoGrad())
            {
                blocked = model.Run(x);
                model.BlockedPlan = false;
                nchw = model.Run(x);
                model.BlockedPlan = true;
            }
            for (int i = 0; i < blocked.Length; i++)
            {
                Assert.Equal(nchw[i].Shape, blocked[i].Shape);
                Assert.Equal(nchw[i].To(DType.Float64).ToArray<double>(), blocked[i].To(DType.Float64).ToArray<double>());
            }
            var expected = Unfused(model, x);
            for (int i = 0; i < blocked.Length; i++) TensorAssert.Close(expected[i], blocked[i], 1e-4, 1e-4);
        });
    }

    // ResNet's opening on a small image: a 3-channel 7×7/2 conv–BN–ReLU with CNTK's uneven pads [3, 3, 2, 2], a 3×3/2
    // max pool with pads [1, 1, 0, 0], then a conv–BN that adds the pool's output, ReLU, and a global average pool.
    private static byte[] StemChain(DType dtype, int width)
    {
        var g = new Loom.Random.Generator(29);
        Tensor R(params int[] s) => Tensor.Randn(new Shape(s), g).Mul(0.2).To(dtype);
        Tensor V(int c) => Tensor.Rand(new Shape(c), g).Add(0.5).To(dtype);
        var type = dtype == DType.Float64 ? OnnxDataType.Double : OnnxDataType.Float;
        var b = new OnnxGraphBuilder(8).TypedInput("x", type, "N", 3, 16, width);
        foreach (var (name, cin, k) in new[] { ("a", 3, 7), ("b", 32, 3) })
            b.Initializer($"{name}w", R(32, cin, k, k)).Initializer($"{name}g", R(32)).Initializer($"{name}b", R(32)).Initializer($"{name}m", R(32)).Initializer($"{name}v", V(32));
        return b.Node("Conv", ["x", "aw"], ["a1"], Ints("pads", 3, 3, 2, 2), Ints("strides", 2, 2))
            .Node("BatchNormalization", ["a1", "ag", "ab", "am", "av"], ["a2"], Int("spatial", 1)).Node("Relu", ["a2"], ["a3"])
            .Node("MaxPool", ["a3"], ["p"], Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 0, 0))
            .Node("Conv", ["p", "bw"], ["b1"], Ints("pads", 1, 1, 1, 1))
            .Node("BatchNormalization", ["b1", "bg", "bb", "bm", "bv"], ["b2"])
            .Node("Add", ["b2", "p"], ["r1"]).Node("Relu", ["r1"], ["r2"])
            .Node("GlobalAveragePool", ["r2"], ["y"])
            .Output("y", type).Bytes();
    }

    [Theory]
    [InlineData(DType.Float32, 20)]
    [InlineData(DType.Float64, 20)]
    [InlineData(DType.Float32, 18)] // 9 columns into the pool: its uneven pads would give 5 windows by symmetric padding, not 4, so it runs on NCHW
    public void The_stem_writes_blocks_and_the_max_pool_keeps_them_with_the_bits_of_nchw(DType dtype, int width)
    {
        var model = OnnxModule.Load(StemChain(dtype, width));
        Assert.Equal((2, 2, 0, 0), model.FusedBlocks);
        // The 3-channel stem writes blocks for the pool, whose readers (the next conv, as input and residual) take blocks.
        bool blocks = Functional.Conv2dChannelBlock(dtype) > 0;
        Assert.Equal(blocks ? 1 : 0, model.BlockedOutputs);
        Assert.Equal(blocks ? 1 : 0, model.BlockedPools);
        var x = Tensor.Randn(new Shape(2, 3, 16, width), new Loom.Random.Generator(9), dtype);
        AtOneAndThreeThreads(() =>
        {
            Tensor blocked, nchw;
            using (new NoGrad())
            {
                int before = model.BlockedPoolRuns;
                blocked = model.Run(x)[0];
                Assert.Equal(blocks && width == 20 ? before + 1 : before, model.BlockedPoolRuns);
                model.BlockedPlan = false;
                nchw = model.Run(x)[0];
                model.BlockedPlan = true;
            }
            Assert.Equal(nchw.Shape, blocked.Shape);
            Assert.Equal(nchw.To(DType.Float64).ToArray<double>(), blocked.To(DType.Float64).ToArray<double>());
            TensorAssert.Close(Unfused(model, x)[0], blocked, 1e-4, 1e-4);
        });
    }

    // A blocked chain ending in two average pools (3×3/2 counting the padding; the whole plane, as ResNet18's last).
    private static byte[] PoolChain(DType dtype)
    {
        var g = new Loom.Random.Generator(31);
        Tensor R(params int[] s) => Tensor.Randn(new Shape(s), g).Mul(0.2).To(dtype);
        Tensor V(int c) => Tensor.Rand(new Shape(c), g).Add(0.5).To(dtype);
        var type = dtype == DType.Float64 ? OnnxDataType.Double : OnnxDataType.Float;
        return new OnnxGraphBuilder(8).TypedInput("x", type, "N", 16, 9, 10)
            .Initializer("aw", R(32, 16, 3, 3)).Initializer("ag", R(32)).Initializer("ab", R(32)).Initializer("am", R(32)).Initializer("av", V(32))
            .Initializer("bw", R(32, 32, 3, 3)).Initializer("bb", R(32))
            .Node("Conv", ["x", "aw"], ["a1"], Ints("pads", 1, 1, 1, 1))
            .Node("BatchNormalization", ["a1", "ag", "ab", "am", "av"], ["a2"], Int("spatial", 1)).Node("Relu", ["a2"], ["a3"])
            .Node("Conv", ["a3", "bw", "bb"], ["b1"], Ints("pads", 1, 1, 1, 1)).Node("Relu", ["b1"], ["b2"])
            .Node("AveragePool", ["b2"], ["y1"], Ints("kernel_shape", 3, 3), Ints("strides", 2, 2), Ints("pads", 1, 1, 1, 1), Int("count_include_pad", 1))
            .Node("AveragePool", ["b2"], ["y2"], Ints("kernel_shape", 9, 10))
            .Output("y1", type).Output("y2", type).Bytes();
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void Average_pools_read_the_blocks_of_the_last_convolution_with_the_bits_of_nchw(DType dtype)
    {
        var model = OnnxModule.Load(PoolChain(dtype));
        bool blocks = Functional.Conv2dChannelBlock(dtype) > 0;
        var x = Tensor.Randn(new Shape(2, 16, 9, 10), new Loom.Random.Generator(11), dtype);
        AtOneAndThreeThreads(() =>
        {
            Tensor[] blocked, nchw;
            using (new NoGrad())
            {
                int before = model.BlockedPoolRuns;
                blocked = model.Run(x);
                Assert.Equal(blocks ? before + 2 : before, model.BlockedPoolRuns);
                model.BlockedPlan = false;
                nchw = model.Run(x);
                model.BlockedPlan = true;
            }
            var expected = Unfused(model, x);
            for (int i = 0; i < 2; i++)
            {
                Assert.Equal(nchw[i].Shape, blocked[i].Shape);
                Assert.Equal(nchw[i].To(DType.Float64).ToArray<double>(), blocked[i].To(DType.Float64).ToArray<double>());
                TensorAssert.Close(expected[i], blocked[i], 1e-4, 1e-4);
            }
        });
    }

    // A transformer's feed-forward block as exported from PyTorch: MatMul by a weight and Add of the bias (bias first),
    // ReLU, MatMul without a bias and a residual Add (not a constant: it stays a node), then a MatMul whose output the
    // graph also returns (so its bias Add stays a node), and a MatMul by a computed value (not a weight).
    private static byte[] FeedForward(DType dtype)
    {
        var g = new Loom.Random.Generator(22);
        Tensor R(params int[] s) => Tensor.Randn(new Shape(s), g).Mul(0.5).To(dtype);
        return new OnnxGraphBuilder(13).TypedInput("x", dtype == DType.Float64 ? OnnxDataType.Double : OnnxDataType.Float, "N", "T", 8)
            .Initializer("w1", R(8, 40)).Initializer("b1", R(40)).Initializer("w2", R(40, 8)).Initializer("w3", R(8, 6)).Initializer("b3", R(6))
            .Node("MatMul", ["x", "w1"], ["h1"]).Node("Add", ["b1", "h1"], ["h2"]).Node("Relu", ["h2"], ["h3"])
            .Node("MatMul", ["h3", "w2"], ["h4"]).Node("Add", ["h4", "x"], ["h5"])
            .Node("MatMul", ["h5", "w3"], ["p"]).Node("Add", ["p", "b3"], ["y"])
            .Node("Transpose", ["h5"], ["h5t"], Ints("perm", 0, 2, 1)).Node("MatMul", ["h5", "h5t"], ["gram"])
            .Output("y", dtype == DType.Float64 ? OnnxDataType.Double : OnnxDataType.Float)
            .Output("p", dtype == DType.Float64 ? OnnxDataType.Double : OnnxDataType.Float)
            .Output("gram", dtype == DType.Float64 ? OnnxDataType.Double : OnnxDataType.Float).Bytes();
    }

    [Fact]
    public void Products_by_weights_run_packed_with_the_bias_and_follow_the_weights()
    {
        var model = OnnxModule.Load(FeedForward(DType.Float64));
        Assert.Equal((0, 0, 3, 0), model.FusedBlocks);
        // 1 × 1 (one row: the unpacked path), 2 × 13 (a partial register panel) and 3 × 20 rows.
        foreach (var (n, t) in new[] { (1, 1), (2, 13), (3, 20) })
        {
            var x = Tensor.Randn(new Shape(n, t, 8), new Loom.Random.Generator((ulong)(n + t)), DType.Float64);
            Tensor[] fused;
            using (new NoGrad()) fused = model.Run(x);
            var expected = Unfused(model, x);
            for (int i = 0; i < fused.Length; i++) TensorAssert.Close(expected[i], fused[i], 1e-12, 1e-12);
        }
        // A step of SGD moves the weights in place; the packed copies follow.
        var input = Tensor.Randn(new Shape(2, 5, 8), new Loom.Random.Generator(30), DType.Float64);
        Tensor before, after;
        using (new NoGrad()) before = model.Run(input)[0];
        var optimizer = new Sgd(model.Parameters(), 0.1);
        model.Run(input)[0].Square().Sum().Backward();
        optimizer.Step();
        using (new NoGrad()) after = model.Run(input)[0];
        Assert.False(before.AllClose(after, 1e-3, 1e-3));
        TensorAssert.Close(Unfused(model, input)[0], after, 1e-12, 1e-12);
    }

    // BERT's feed-forward GELU as PyTorch exports it: (h · (erf(h / √2) + 1)) · 0.5 after MatMul and the bias Add.
    private static byte[] GeluFeedForward()
    {
        var g = new Loom.Random.Generator(23);
        Tensor R(params int[] s) => Tensor.Randn(new Shape(s), g).To(DType.Float64);
        Tensor S(double v) => Tensor.Scalar(v, DType.Float64);
        return new OnnxGraphBuilder(13).TypedInput("x", OnnxDataType.Double, "N", 6)
            .Initializer("w", R(6, 40)).Initializer("b", R(40)).Initializer("root2", S(Math.Sqrt(2))).Initializer("one", S(1)).Initializer("half", S(0.5))
            .Node("MatMul", ["x", "w"], ["m"]).Node("Add", ["m", "b"], ["h"])
            .Node("Div", ["h", "root2"], ["a"]).Node("Erf", ["a"], ["e"]).Node("Add", ["e", "one"], ["f"])
            .Node("Mul", ["h", "f"], ["p"]).Node("Mul", ["p", "half"], ["y"])
            .Output("y", OnnxDataType.Double).Bytes();
    }

    [Fact]
    public void Gelu_written_out_runs_in_the_products_epilogue_while_its_constants_hold()
    {
        var model = OnnxModule.Load(GeluFeedForward());
        var x = Tensor.Randn(new Shape(9, 6), new Loom.Random.Generator(31), DType.Float64);
        Tensor fused;
        using (new NoGrad()) fused = model.Forward(x);
        Assert.Equal((0, 0, 1, 0), model.FusedBlocks);
        var h = x.Matmul(model.StateDict()["w"]).Add(model.StateDict()["b"]);
        TensorAssert.Close(h.Gelu(), fused, 1e-12, 1e-12);
        TensorAssert.Close(Unfused(model, x)[0], fused, 1e-12, 1e-12);
        // A fine-tuned constant is no longer GELU's: the nodes run as written.
        using (new NoGrad()) model.StateDict()["half"].MulInPlace(3.0);
        using (new NoGrad()) fused = model.Forward(x);
        TensorAssert.Close(h.Gelu().Mul(3), fused, 1e-12, 1e-12);
        TensorAssert.Close(Unfused(model, x)[0], fused, 1e-12, 1e-12);
    }

    // LayerNormalization over the last axis as PyTorch writes it out before opset 17, after a residual Add (x has two
    // readers), at opset 13 (axes as attributes) and 18 (axes as constant inputs); a second ReduceMean over axis 1
    // is not a layer norm.
    private static byte[] WrittenOutLayerNorm(int opset)
    {
        var g = new Loom.Random.Generator(24);
        Tensor R(params int[] s) => Tensor.Randn(new Shape(s), g).To(DType.Float64);
        Tensor S(double v) => Tensor.Scalar(v, DType.Float64);
        var b = new OnnxGraphBuilder(opset).TypedInput("x", OnnxDataType.Double, "N", 5, 12).TypedInput("r", OnnxDataType.Double, "N", 5, 12)
            .Initializer("two", S(2)).Initializer("eps", S(1e-5)).Initializer("gamma", R(12)).Initializer("beta", R(12))
            .Initializer("last", Tensor.FromArray(new long[] { -1 }, 1)).Initializer("second", Tensor.FromArray(new long[] { 1 }, 1))
            .Node("Add", ["x", "r"], ["s"]);
        AttributeProto[] Axes(long axis) => opset < 18 ? [Ints("axes", axis)] : [];
        string[] In(string value, string axes) => opset < 18 ? [value] : [value, axes];
        return b.Node("ReduceMean", In("s", "last"), ["m"], Axes(-1)).Node("Sub", ["s", "m"], ["d"]).Node("Pow", ["d", "two"], ["p"])
            .Node("ReduceMean", In("p", "last"), ["v"], Axes(-1)).Node("Add", ["v", "eps"], ["ve"]).Node("Sqrt", ["ve"], ["sd"])
            .Node("Div", ["d", "sd"], ["n"]).Node("Mul", ["n", "gamma"], ["ng"]).Node("Add", ["ng", "beta"], ["y"])
            .Node("ReduceMean", In("y", "second"), ["z"], Axes(1))
            .Output("y", OnnxDataType.Double).Output("z", OnnxDataType.Double).Bytes();
    }

    [Theory]
    [InlineData(13)]
    [InlineData(18)]
    public void Layer_norm_written_out_runs_as_one_while_it_is_one(int opset)
    {
        var model = OnnxModule.Load(WrittenOutLayerNorm(opset));
        Assert.Equal((0, 0, 0, 1), model.FusedBlocks);
        var x = Tensor.Randn(new Shape(3, 5, 12), new Loom.Random.Generator(32), DType.Float64);
        var r = Tensor.Randn(new Shape(3, 5, 12), new Loom.Random.Generator(33), DType.Float64);
        Tensor[] fused;
        using (new NoGrad()) fused = model.Run(x, r);
        var state = model.StateDict();
        var expected = Functional.LayerNorm(x.Add(r), [12], state["gamma"], state["beta"], 1e-5);
        TensorAssert.Close(expected, fused[0], 1e-12, 1e-12);
        var unfused = model.Run(x.Detach().RequiresGrad_(), r).Select(t => t.Detach()).ToArray();
        for (int i = 0; i < 2; i++) TensorAssert.Close(unfused[i], fused[i], 1e-12, 1e-12);
        // A fine-tuned exponent is no longer a variance: the nodes run as written.
        using (new NoGrad()) state["two"].AddInPlace(1.0);
        using (new NoGrad()) fused = model.Run(x, r);
        Assert.False(expected.AllClose(fused[0], 1e-3, 1e-3));
        TensorAssert.Close(model.Run(x.Detach().RequiresGrad_(), r)[0].Detach(), fused[0], 1e-12, 1e-12);
    }

    [Fact]
    public void Training_mode_normalises_with_batch_statistics_not_the_fold()
    {
        var model = OnnxModule.Load(ResidualBlock(DType.Float64));
        var x = Tensor.Randn(new Shape(4, 3, 8, 8), new Loom.Random.Generator(7), DType.Float64);
        Tensor evaluated, trained;
        using (new NoGrad()) evaluated = model.Forward(x);
        model.Train();
        using (new NoGrad()) trained = model.Forward(x);
        Assert.False(evaluated.AllClose(trained, 1e-3, 1e-3));
    }

    [Fact]
    public void Inference_recycles_activations_without_touching_weights_or_inputs()
    {
        var model = OnnxModule.Load(ResidualBlock(DType.Float32));
        var x = Tensor.Randn(new Shape(1, 3, 8, 8), new Loom.Random.Generator(8));
        var weights = model.StateDict().ToDictionary(p => p.Key, p => p.Value.Clone());
        Tensor first;
        using (new NoGrad()) first = model.Forward(x).Clone();
        using (var outer = new MemoryScope())
        using (new NoGrad())
        {
            var y = model.Forward(x);
            TensorAssert.Close(first, y, 0, 0); // kept past the model's own scope
        }
        foreach (var (name, value) in model.StateDict()) TensorAssert.Close(weights[name], value, 0, 0);
        // An output that only views an input must not hand the input's storage to the caller's scope.
        var identity = OnnxModule.Load(new OnnxGraphBuilder().Input("x", 2, 3).Node("Identity", ["x"], ["y"]).Output("y").Bytes());
        var input = Tensor.Randn(new Shape(2, 3), new Loom.Random.Generator(9));
        var copy = input.Clone();
        using (new MemoryScope())
        using (new NoGrad())
            identity.Forward(input);
        TensorAssert.Close(copy, input, 0, 0);
    }
}
