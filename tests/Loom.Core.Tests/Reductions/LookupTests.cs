using Loom.Random;

namespace Loom.Tests.Reductions;

public class LookupTests
{
    [Fact]
    public void Embedding_gathers_rows_for_any_index_shape()
    {
        var weight = TestTensors.Randn(1, DType.Float32, 10, 3);
        var indices = Tensor.FromArray(new int[] { 4, 0, 9, 4, 2, 7 }, 2, 3);
        var y = Functional.Embedding(indices, weight);
        Assert.Equal(new Shape(2, 3, 3), y.Shape);
        var w = weight.ToArray<float>();
        var ix = indices.ToArray<int>();
        var expected = ix.SelectMany(i => w.Skip(i * 3).Take(3)).ToArray();
        Assert.Equal(expected, y.ToArray<float>());
        Assert.Equal(new Shape(0, 3), Functional.Embedding(Tensor.Zeros(new Shape(0), DType.Int64), weight).Shape);
    }

    [Fact]
    public void Embedding_backward_scatter_adds_and_skips_the_padding_row()
    {
        var weight = TestTensors.Param(2, 6, 4);
        var indices = Tensor.FromArray(new long[] { 1, 3, 1, 5, 0, 1 }, 3, 2);
        TensorAssert.GradientsMatch(t => Functional.Embedding(indices, t[0]), weight);
        Functional.Embedding(indices, weight, paddingIdx: -5).Sum().Backward(); // −5 is row 1
        var grad = weight.Grad!.ToArray<double>();
        double[] expectedRows = [1, 0, 0, 1, 0, 1];
        for (int r = 0; r < 6; r++)
            for (int j = 0; j < 4; j++) Assert.Equal(expectedRows[r], grad[r * 4 + j]);
    }

    [Fact]
    public void Embedding_backward_into_an_existing_gradient_accumulates_as_a_dense_one_would()
    {
        // With the weight's gradient already there (ZeroGrad without dropping it), backward writes the rows into it:
        // the result must be what the dense gradient added to it gives, padding row skipped, repeats summed, and a
        // second use of the weight (the tied logits of a GPT) accumulated too.
        var indices = Tensor.FromArray(new long[] { 3, 0, 3, 1 }, 2, 2);
        var weight = TestTensors.Randn(1, DType.Float64, 5, 3).RequiresGrad_();
        var upstream = TestTensors.Randn(2, DType.Float64, 2, 2, 3);
        var tied = TestTensors.Randn(3, DType.Float64, 4, 5);
        Tensor Loss(Tensor w) => Functional.Embedding(indices, w, paddingIdx: 1).Mul(upstream).Sum().Add(tied.Matmul(w).Sum());
        Loss(weight).Backward();
        var dense = weight.Grad!.Clone(); // from nothing: the dense path
        weight.Grad = TestTensors.Randn(4, DType.Float64, 5, 3);
        var before = weight.Grad.Clone();
        Loss(weight).Backward();
        TensorAssert.Close(before.Add(dense), weight.Grad, 1e-14, 1e-14);
    }

    [Fact]
    public void Embedding_rejects_out_of_range_indices_naming_the_index_and_the_size()
    {
        var weight = Tensor.Zeros(10, 4);
        TensorAssert.Throws<ArgumentException>(() => Functional.Embedding(Tensor.FromArray(new long[] { 3, 10 }), weight), "embedding", "index 10", "10 embeddings");
        TensorAssert.Throws<ArgumentException>(() => Functional.Embedding(Tensor.FromArray(new long[] { -1 }), weight), "index -1");
        TensorAssert.Throws<ArgumentException>(() => Functional.Embedding(Tensor.FromArray(new float[] { 1 }), weight), "embedding", "float32");
        TensorAssert.Throws<ArgumentException>(() => Functional.Embedding(Tensor.FromArray(new long[] { 1 }), weight, paddingIdx: 10), "padding index 10");
    }

    [Fact]
    public void One_hot_gives_int64_and_infers_the_class_count()
    {
        var y = Functional.OneHot(Tensor.FromArray(new long[] { 0, 2, 1, 2 }, 2, 2));
        Assert.Equal(DType.Int64, y.DType);
        Assert.Equal(new Shape(2, 2, 3), y.Shape);
        Assert.Equal(new long[] { 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1 }, y.ToArray<long>());
        Assert.Equal(new Shape(1, 5), Functional.OneHot(Tensor.FromArray(new int[] { 4 }), 5).Shape);
        TensorAssert.Throws<ArgumentException>(() => Functional.OneHot(Tensor.FromArray(new long[] { 3 }), 3), "one_hot", "index 3", "3 classes");
        TensorAssert.Throws<ArgumentException>(() => Functional.OneHot(Tensor.FromArray(new long[] { -2 }), 3), "one_hot", "index -2");
    }

    [Fact]
    public void Dropout_is_inverted_seeded_and_an_identity_in_evaluation()
    {
        var x = Tensor.Ones(new Shape(100, 100));
        var a = Functional.Dropout(x, 0.3, training: true, new Generator(7));
        var b = Functional.Dropout(x, 0.3, training: true, new Generator(7));
        var c = Functional.Dropout(x, 0.3, training: true, new Generator(8));
        Assert.Equal(a.ToArray<float>(), b.ToArray<float>());
        Assert.NotEqual(a.ToArray<float>(), c.ToArray<float>());
        var values = a.ToArray<float>();
        Assert.All(values, v => Assert.True(v == 0 || Math.Abs(v - 1 / 0.7f) < 1e-6));
        double kept = values.Count(v => v != 0) / 10000.0;
        Assert.InRange(kept, 0.7 - 0.03, 0.7 + 0.03); // 6 standard deviations
        Assert.Same(x, Functional.Dropout(x, 0.3, training: false));
        Assert.Same(x, Functional.Dropout(x, 0, training: true));
        Assert.All(Functional.Dropout(x, 1, training: true).ToArray<float>(), v => Assert.Equal(0, v));
        TensorAssert.Throws<ArgumentException>(() => Functional.Dropout(x, 1.5), "dropout", "1.5");
    }

    [Fact]
    public void Dropout_backward_uses_the_same_mask()
    {
        var x = TestTensors.Param(3, 8, 9);
        var y = Functional.Dropout(x, 0.4, training: true, new Generator(1));
        y.Sum().Backward();
        var mask = y.ToArray<double>().Zip(x.ToArray<double>(), (yy, xx) => yy / xx).ToArray();
        TensorAssert.Close(mask, x.Grad!.ToArray<double>(), 1e-12, 1e-12);
        TensorAssert.GradientsMatch(t => Functional.Dropout(t[0], 0.4, training: true, new Generator(5)), x);
    }
}
