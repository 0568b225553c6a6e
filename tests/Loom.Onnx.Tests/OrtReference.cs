using Microsoft.ML.OnnxRuntime.Tensors;

namespace Loom.Onnx.Tests;

/// <summary>Runs a model in ONNX Runtime, the reference every import and export test compares Loom with.</summary>
internal static class OrtReference
{
    public static Dictionary<string, Tensor> Run(byte[] model, IReadOnlyDictionary<string, Tensor> inputs)
    {
        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
        using var session = new InferenceSession(model, options);
        return Run(session, inputs);
    }

    public static Dictionary<string, Tensor> Run(InferenceSession session, IReadOnlyDictionary<string, Tensor> inputs)
    {
        var values = inputs.Select(p => ToOrt(p.Key, p.Value)).ToList();
        using var results = session.Run(values);
        return results.ToDictionary(r => r.Name, r => FromOrt(r));
    }

    private static NamedOnnxValue ToOrt(string name, Tensor t)
    {
        var dims = t.Shape.ToArray();
        return t.DType switch
        {
            DType.Float32 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<float>(t.ToArray<float>(), dims)),
            DType.Int64 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<long>(t.ToArray<long>(), dims)),
            DType.Int32 => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<int>(t.ToArray<int>(), dims)),
            DType.Bool => NamedOnnxValue.CreateFromTensor(name, new DenseTensor<bool>(t.ToArray<bool>(), dims)),
            _ => throw new ArgumentException($"no ORT input for {t.DType.Name()}"),
        };
    }

    private static Tensor FromOrt(DisposableNamedOnnxValue value) => value.Value switch
    {
        DenseTensor<float> f => Tensor.FromArray(f.ToArray(), f.Dimensions.ToArray()),
        DenseTensor<long> l => Tensor.FromArray(l.ToArray(), l.Dimensions.ToArray()),
        DenseTensor<int> i => Tensor.FromArray(i.ToArray(), i.Dimensions.ToArray()),
        DenseTensor<bool> b => Tensor.FromArray(b.ToArray(), b.Dimensions.ToArray()),
        var v => throw new ArgumentException($"no Loom tensor for ORT output {v?.GetType().Name}"),
    };

    /// <summary>The largest |a − b| over matching shapes (float comparison).</summary>
    public static double MaxAbsDiff(Tensor a, Tensor b)
    {
        Assert.Equal(b.Shape, a.Shape);
        var x = a.ToArray<double>();
        var y = b.ToArray<double>();
        double max = 0;
        for (int i = 0; i < x.Length; i++) max = Math.Max(max, Math.Abs(x[i] - y[i]));
        return max;
    }
}
