namespace Loom.Onnx.Tests;

/// <summary>
/// Models over token ids that export themselves (<see cref="IOnnxExportable"/>): each file, traced on one batch, runs
/// in ONNX Runtime on batches of two other batch sizes and sequence lengths (both axes symbolic), with padding of
/// different lengths, and matches Loom's evaluation-mode output.
/// </summary>
public class SequenceExportTests
{
    private static readonly OnnxExportOptions BatchAndSequence = new() { DynamicAxes = new Dictionary<int, string> { [0] = "batch", [1] = "sequence" } };

    /// <summary>[B, T] ids in 1..vocab − 1, row r padded (id 0) after lengths[r] ids.</summary>
    private static Tensor Ids(int vocab, int t, int[] lengths, ulong seed)
    {
        var g = new Loom.Random.Generator(seed);
        var ids = new long[lengths.Length * t];
        for (int r = 0; r < lengths.Length; r++)
            for (int j = 0; j < lengths[r]; j++) ids[r * t + j] = g.NextInt64(1, vocab);
        return Tensor.FromArray(ids, lengths.Length, t);
    }

    private static T Randomized<T>(T model, ulong seed) where T : Module
    {
        var g = new Loom.Random.Generator(seed);
        using (new NoGrad())
            foreach (var p in model.Parameters()) p.CopyFrom(Tensor.Randn(p.Shape, g).Mul(0.3));
        return model;
    }

    private static byte[] ExportsAndMatches(Module<Tensor, Tensor> model, Tensor trace, params Tensor[] checks)
    {
        var bytes = OnnxExport.ToBytes(model, trace, BatchAndSequence);
        model.Eval();
        foreach (var ids in checks)
        {
            Tensor expected;
            using (new NoGrad()) expected = model.Forward(ids);
            var ort = OrtReference.Run(bytes, new Dictionary<string, Tensor> { ["input"] = ids })["output"];
            double diff = OrtReference.MaxAbsDiff(ort, expected);
            Assert.True(diff < 1e-4, $"ids {ids.Shape}: max |ORT − Loom| = {diff}");
        }
        return bytes;
    }

    [Fact]
    public void BiLstm_classifier_with_lengths_runs_in_onnx_runtime()
    {
        var scores = Tensor.Randn(new Shape(30), new Loom.Random.Generator(1));
        var model = Randomized(new BiLstmClassifier(30, 3, embeddingDim: 8, hidden: 6, wordScores: scores), 2);
        ExportsAndMatches(model, Ids(30, 5, [5, 2], 3), Ids(30, 7, [7, 3, 1], 4), Ids(30, 4, [2, 4, 4, 1, 3], 5));
    }

    [Fact]
    public void Transformer_classifier_with_padding_runs_in_onnx_runtime()
    {
        var model = Randomized(new TransformerClassifier(30, 3, dim: 16, layers: 2, heads: 4), 6);
        ExportsAndMatches(model, Ids(30, 5, [5, 2], 7), Ids(30, 9, [9, 4, 1], 8), Ids(30, 6, [2, 6, 6, 5, 3], 9));
    }

    [Fact]
    public void Gpt_runs_in_onnx_runtime_with_symbolic_batch_and_sequence()
    {
        var model = Randomized(new Gpt(new GptConfig(Vocab: 40, Dim: 16, Layers: 2, Heads: 2, Context: 16)), 10);
        var bytes = ExportsAndMatches(model, Ids(40, 6, [6, 6], 11), Ids(40, 3, [3], 12), Ids(40, 11, [11, 11, 11], 13));
        var graph = ModelProto.Parser.ParseFrom(bytes).Graph;
        Assert.Equal(["batch", "sequence"], graph.Input.Single().Type.TensorType.Shape.Dim.Select(d => d.DimParam));
        Assert.Equal(["batch", "sequence", ""], graph.Output.Single().Type.TensorType.Shape.Dim.Select(d => d.DimParam));
        Assert.Contains(graph.Node, n => n.Name.StartsWith("h.1.attn/Softmax", StringComparison.Ordinal));
        Assert.Contains(graph.Initializer, i => i.Name == "h.0.attn.c_attn.weight");
    }

    /// <summary>Embedding → two-layer bidirectional GRU (batch-first) → mean over time → Linear, exported through the context.</summary>
    private sealed class GruClassifier : Module<Tensor, Tensor>, IOnnxExportable
    {
        private readonly Embedding _embedding;
        private readonly GRU _gru;
        private readonly Linear _head;

        public GruClassifier()
        {
            _embedding = RegisterModule("embedding", new Embedding(20, 5));
            _gru = RegisterModule("gru", new GRU(5, 4, numLayers: 2, batchFirst: true, bidirectional: true));
            _head = RegisterModule("head", new Linear(8, 3));
        }

        protected override Tensor ForwardCore(Tensor ids) => _head.Forward(_gru.Forward(_embedding.Forward(ids)).Mean(1));

        public string ExportOnnx(OnnxExportContext onnx, string ids)
        {
            var y = onnx.Module(_gru, onnx.Module(_embedding, ids));
            return onnx.Module(_head, onnx.Op("ReduceMean", [y], OnnxExportContext.Ints("axes", 1), OnnxExportContext.Int("keepdims", 0)));
        }
    }

    [Fact]
    public void Stacked_bidirectional_gru_runs_in_onnx_runtime() =>
        ExportsAndMatches(Randomized(new GruClassifier(), 14), Ids(20, 5, [5, 5], 15), Ids(20, 3, [3], 16), Ids(20, 8, [8, 8, 8, 8], 17));

    /// <summary>A module that exports itself but calls a child the exporter has no mapping for.</summary>
    private sealed class WithUnsupportedChild : Module<Tensor, Tensor>, IOnnxExportable
    {
        private readonly RMSNorm _norm;

        public WithUnsupportedChild() => _norm = RegisterModule("norm", new RMSNorm([3]));

        protected override Tensor ForwardCore(Tensor input) => _norm.Forward(input);

        public string ExportOnnx(OnnxExportContext onnx, string input) => onnx.Module(_norm, input);
    }

    [Fact]
    public void Unsupported_child_module_names_the_module_and_its_type()
    {
        var e = Assert.Throws<OnnxException>(() => OnnxExport.ToBytes(new WithUnsupportedChild(), Tensor.Randn(2, 3)));
        Assert.Equal("export: module 'norm' (RMSNorm) has no ONNX mapping in Loom's exporter", e.Message);
    }

    [Fact]
    public void Gpt_with_rotary_positions_fails_naming_the_module()
    {
        var model = new Gpt(new GptConfig(Vocab: 10, Dim: 8, Layers: 1, Heads: 2, Context: 8, Positions: GptPositions.Rotary));
        var e = Assert.Throws<OnnxException>(() => OnnxExport.ToBytes(model, Ids(10, 3, [3, 3], 1), BatchAndSequence));
        Assert.Contains("(Gpt with rotary positions)", e.Message);
    }
}
