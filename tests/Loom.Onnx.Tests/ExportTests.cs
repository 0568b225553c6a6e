namespace Loom.Onnx.Tests;

/// <summary>
/// Models exported by tracing and run in ONNX Runtime on a batch of another size than the trace's (the batch axis is
/// symbolic), compared with Loom's own evaluation-mode output; the exported file also imports back into Loom.
/// </summary>
public class ExportTests
{
    /// <summary>Random parameters and running statistics, so that no layer is the identity (ResNet's last BN starts at zero).</summary>
    private static T Randomized<T>(T model, ulong seed) where T : Module
    {
        var g = new Loom.Random.Generator(seed);
        using (new NoGrad())
        {
            foreach (var p in model.Parameters()) p.CopyFrom(Tensor.Randn(p.Shape, g).Mul(0.3));
            foreach (var (name, b) in model.NamedBuffers())
                if (b.DType.IsFloatingPoint()) b.CopyFrom(name.EndsWith("running_var") ? Tensor.Rand(b.Shape, g).Add(0.5) : Tensor.Randn(b.Shape, g).Mul(0.2));
        }
        return model;
    }

    private static void ExportsAndMatches(Module<Tensor, Tensor> model, Tensor traceInput, Tensor checkInput, double tolerance = 1e-4)
    {
        var bytes = OnnxExport.ToBytes(model, traceInput);
        model.Eval();
        Tensor expected;
        using (new NoGrad()) expected = model.Forward(checkInput);
        var ort = OrtReference.Run(bytes, new Dictionary<string, Tensor> { ["input"] = checkInput })["output"];
        double diff = OrtReference.MaxAbsDiff(ort, expected);
        Assert.True(diff < tolerance, $"max |ORT − Loom| = {diff}");
        var imported = OnnxModule.Load(bytes, "exported");
        Tensor roundTrip;
        using (new NoGrad()) roundTrip = imported.Forward(checkInput);
        Assert.True(OrtReference.MaxAbsDiff(roundTrip, expected) < tolerance, $"re-imported: max diff {OrtReference.MaxAbsDiff(roundTrip, expected)}");
    }

    private static Tensor Images(int n, int c, int h, int w, ulong seed) => Tensor.Randn(new Shape(n, c, h, w), new Loom.Random.Generator(seed));

    [Fact]
    public void Mlp_runs_in_onnx_runtime() =>
        ExportsAndMatches(Randomized(ModelZoo.Mlp(12, 16, 5), 1), Images(2, 1, 3, 4, 2), Images(3, 1, 3, 4, 3));

    [Fact]
    public void Cnn_runs_in_onnx_runtime() =>
        ExportsAndMatches(Randomized(ModelZoo.SmallCnn((3, 8, 8), 4), 4), Images(2, 3, 8, 8, 5), Images(3, 3, 8, 8, 6));

    [Fact]
    public void ResNet_runs_in_onnx_runtime() =>
        ExportsAndMatches(Randomized(new ResNet(ResNetConfig.ResNet18 with { Widths = [8, 8, 16, 16] }, 3, 5), 7), Images(2, 3, 32, 32, 8), Images(3, 3, 32, 32, 9));

    [Theory]
    [InlineData(1.0)]
    [InlineData(3.0)]
    public void Ensemble_runs_in_onnx_runtime(double temperature) =>
        ExportsAndMatches(new Ensemble([Randomized(ModelZoo.SmallCnn((3, 8, 8), 4), 10), Randomized(ModelZoo.Mlp(192, 16, 4), 11),
            Randomized(ModelZoo.SmallCnn((3, 8, 8), 4), 12)]) { Temperature = temperature }, Images(2, 3, 8, 8, 13), Images(3, 3, 8, 8, 14));

    [Fact]
    public void Graph_has_named_dynamic_input_and_module_names_in_node_names()
    {
        var model = ModelProto.Parser.ParseFrom(OnnxExport.ToBytes(new ResNet(ResNetConfig.Mini, 3, 5), Images(2, 3, 16, 16, 1)));
        Assert.Equal(17, model.OpsetImport.Single().Version);
        Assert.Equal("input", model.Graph.Input.Single().Name);
        Assert.Equal("batch", model.Graph.Input.Single().Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Equal("batch", model.Graph.Output.Single().Type.TensorType.Shape.Dim[0].DimParam);
        Assert.Contains(model.Graph.Node, n => n.Name == "layer1.0.conv1/Conv");
        Assert.Contains(model.Graph.Node, n => n.Name.StartsWith("layer1.0/Add", StringComparison.Ordinal));
        Assert.Contains(model.Graph.Initializer, i => i.Name == "layer1.0.bn1.running_mean");
    }

    private sealed class ScaledByConstant : Module<Tensor, Tensor>
    {
        private readonly Linear _fc;

        public ScaledByConstant() => _fc = RegisterModule("fc", new Linear(3, 2));

        protected override Tensor ForwardCore(Tensor input) => _fc.Forward(input).Mul(0.5).Softmax(-1);
    }

    [Fact]
    public void Unsupported_op_names_the_op_and_the_module()
    {
        var e = Assert.Throws<OnnxException>(() => OnnxExport.ToBytes(new ScaledByConstant(), Tensor.Randn(2, 3)));
        Assert.Contains("op 'softmax'", e.Message);
        Assert.Contains("module '(root)'", e.Message);
    }
}
