namespace Loom.Onnx.Tests;

/// <summary>
/// all-MiniLM-L6-v2 (a 6-layer BERT exported from PyTorch: Gather, LayerNorm pieces, MatMul, Softmax, Erf, Shape
/// arithmetic…) imported and run against ONNX Runtime on padded token batches; the sentence embeddings (mean over
/// the unmasked tokens, as sentence-transformers pools) must agree to cosine ≥ 0.9999.
/// </summary>
public class MiniLmImportTests
{
    [Fact]
    public void Embeddings_match_onnx_runtime()
    {
        var model = OnnxModule.Load(PretrainedModels.MiniLm);
        var random = new System.Random(5);
        int batch = 3, length = 12;
        var ids = new long[batch * length];
        var mask = new long[batch * length];
        int[] lengths = [12, 7, 3];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < length; t++)
            {
                bool real = t < lengths[b];
                ids[b * length + t] = !real ? 0 : t == 0 ? 101 : t == lengths[b] - 1 ? 102 : random.Next(1000, 30000);
                mask[b * length + t] = real ? 1 : 0;
            }
        var inputs = new Dictionary<string, Tensor>();
        foreach (var input in model.Inputs)
            inputs[input.Name] = input.Name switch
            {
                "input_ids" => Tensor.FromArray(ids, batch, length),
                "attention_mask" => Tensor.FromArray(mask, batch, length),
                _ => Tensor.Zeros(new Shape(batch, length), DType.Int64),
            };
        IReadOnlyDictionary<string, Tensor> actual;
        using (new NoGrad()) actual = model.Run(inputs);
        using var session = new InferenceSession(PretrainedModels.MiniLm);
        var expected = OrtReference.Run(session, inputs);
        string output = model.Outputs[0].Name;
        var m = Tensor.FromArray(mask, batch, length).To(DType.Float32).Unsqueeze(2);
        Tensor Pool(Tensor hidden) => hidden.Mul(m).Sum(1).Div(m.Sum(1));
        var a = Pool(actual[output]).ToArray<double>();
        var e = Pool(expected[output]).ToArray<double>();
        int dim = a.Length / batch;
        for (int b = 0; b < batch; b++)
        {
            var x = a.AsSpan(b * dim, dim);
            var y = e.AsSpan(b * dim, dim);
            double dot = 0, nx = 0, ny = 0;
            for (int i = 0; i < dim; i++) { dot += x[i] * y[i]; nx += x[i] * x[i]; ny += y[i] * y[i]; }
            double cosine = dot / Math.Sqrt(nx * ny);
            Assert.True(cosine >= 0.9999, $"sentence {b}: cosine {cosine}");
        }
        Assert.True(OrtReference.MaxAbsDiff(actual[output], expected[output]) < 1e-3, $"max |Loom − ORT| = {OrtReference.MaxAbsDiff(actual[output], expected[output])}");
    }
}
