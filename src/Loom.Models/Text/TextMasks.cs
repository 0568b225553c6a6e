using Loom.Onnx;

namespace Loom.Models;

/// <summary>
/// What the text models share about padded batches: token ids [B, T] (Int64) hold each text from position 0, padded at
/// the end with <see cref="Pad"/> (id 0, the reserved pad of Loom's vocabularies).
/// </summary>
internal static class TextMasks
{
    public const int Pad = 0;

    /// <summary>[B, T] Bool, true at padding.</summary>
    public static Tensor Padding(Tensor ids) => ids.Eq(Pad);

    /// <summary>Each text's length, its ids before the first pad (at least 1: an empty text is read as one unk).</summary>
    public static int[] Lengths(Tensor ids)
    {
        int b = ids.Shape[0], t = ids.Shape[1];
        var values = ids.ToArray<long>();
        var lengths = new int[b];
        for (int r = 0; r < b; r++)
        {
            int n = 0;
            while (n < t && values[r * t + n] != Pad) n++;
            lengths[r] = Math.Max(1, n);
        }
        return lengths;
    }

    /// <summary>The mean of <paramref name="x"/> [B, T, D], zero at padding, over each text's positions: [B, D].</summary>
    public static Tensor MeanOverText(Tensor x, int[] lengths) =>
        x.Sum(1).Div(Tensor.FromArray(lengths.Select(l => (double)l).ToArray(), lengths.Length, 1).To(x.DType));

    /// <summary>Ids [B, T] padded on the right to at least <paramref name="length"/> positions.</summary>
    public static Tensor AtLeast(Tensor ids, int length)
    {
        if (ids.Shape[1] >= length) return ids;
        return Tensor.Cat([ids, Tensor.Zeros(new Shape(ids.Shape[0], length - ids.Shape[1]), DType.Int64)], 1);
    }

    /// <summary><see cref="Padding(Tensor)"/> in an exported graph: Bool [B, T].</summary>
    public static string Padding(OnnxExportContext onnx, string ids) => onnx.Op("Equal", [ids, onnx.Constant("pad", Tensor.Scalar(Pad, DType.Int64))]);

    /// <summary>
    /// <see cref="Lengths(Tensor)"/> in an exported graph, as floats [B]: the first pad's position (the arg-max of "is pad" with
    /// a pad column appended, so a text without padding gets T), at least 1.
    /// </summary>
    public static string Lengths(OnnxExportContext onnx, string ids, string padding)
    {
        var isPad = onnx.Cast(padding, DType.Float32);
        var column = onnx.Full(onnx.Op("Concat", [onnx.Dim(ids, 0), onnx.Longs("one", 1)], OnnxExportContext.Int("axis", 0)), 1, DType.Float32);
        var firstPad = onnx.Op("ArgMax", [onnx.Op("Concat", [isPad, column], OnnxExportContext.Int("axis", 1))], OnnxExportContext.Int("axis", 1), OnnxExportContext.Int("keepdims", 0));
        return onnx.Op("Max", [onnx.Cast(firstPad, DType.Float32), onnx.Constant("min_length", Tensor.Scalar(1))]);
    }

    /// <summary><see cref="MeanOverText(Tensor, int[])"/> in an exported graph, with the float lengths [B] of <see cref="Lengths(OnnxExportContext, string, string)"/>.</summary>
    public static string MeanOverText(OnnxExportContext onnx, string x, string lengths) =>
        onnx.Op("Div", [onnx.Op("ReduceSum", [x, onnx.Longs("time", 1)], OnnxExportContext.Int("keepdims", 0)), onnx.Unsqueeze(lengths, 1)]);

    public static void CheckIds(Tensor ids, string model)
    {
        if (ids.Rank != 2 || ids.DType != DType.Int64) throw new ArgumentException($"{model}: token ids must be Int64 [B, T], got {ids.DType.Name()} {ids.Shape}");
    }
}
