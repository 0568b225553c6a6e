using Loom.Tests.Kernels;

namespace Loom.Tests.Linear;

/// <summary>
/// A right operand packed once (<see cref="PackedMatmulWeight"/>, GEMM's B panels) gives the bits of the fused linear
/// op on the unpacked weight on every micro-kernel path and thread count, matches the float64 oracle, is really what
/// the kernel reads, and repacks when the weight changes in place or GEMM's path moves.
/// </summary>
[Collection(GlobalSettings.Name)]
public class PackedMatmulTests
{
    // rows (as [2, rows / 2] when even, to pass a 3-D input), in, out: a four-row panel (4), two panels of which one
    // is an edge (20, a transformer's batch-1 sentence), three panels and an edge row with several depth blocks (37 ×
    // 900), a partial column panel (70, 33), and 2 rows.
    private static readonly (int Rows, int In, int Out)[] Sizes = [(4, 50, 64), (20, 384, 70), (37, 900, 33), (2, 17, 5), (16, 40, 97)];

    private static readonly GemmPath[] Paths = [GemmPath.Avx512, GemmPath.Avx2, GemmPath.Scalar];

    [Fact]
    public void Packed_weights_give_the_bits_of_the_unpacked_linear_op_on_every_path_and_thread_count()
    {
        foreach (var path in Paths.Where(Gemm.IsSupported))
            GemmTestCase.WithPath(path, () =>
            {
                foreach (int threads in new[] { 1, 3 })
                    GlobalSettings.WithThreads(threads, () =>
                    {
                        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
                            foreach (var (rows, inF, outF) in Sizes)
                                foreach (bool transposed in new[] { false, true })
                                    CheckBits(path, threads, dtype, rows, inF, outF, transposed);
                    });
            });
    }

    private static void CheckBits(GemmPath path, int threads, DType dtype, int rows, int inF, int outF, bool transposed)
    {
        int seed = rows * 7 + inF + outF + (transposed ? 1 : 0);
        var x = rows % 2 == 0 ? TestTensors.Randn(seed, dtype, 2, rows / 2, inF) : TestTensors.Randn(seed, dtype, rows, inF);
        var w = transposed ? TestTensors.Randn(seed + 1, dtype, outF, inF) : TestTensors.Randn(seed + 1, dtype, inF, outF);
        var b = TestTensors.Randn(seed + 2, dtype, outF);
        var packed = new PackedMatmulWeight(w, transposed);
        Assert.Equal((inF, outF), (packed.InFeatures, packed.OutFeatures));
        using var _ = new NoGrad();
        foreach (var (bias, activation) in new[] { (b, Activation.None), (null, Activation.None), (b, Activation.Relu), (b, Activation.Gelu) })
        {
            var expected = Functional.Linear(x, transposed ? w : w.Transpose(0, 1), bias, activation);
            var actual = Functional.Matmul(x, packed, bias, activation);
            Assert.True(expected.Shape == actual.Shape, $"{path}, {threads} threads: shape {actual.Shape}, expected {expected.Shape}");
            Assert.True(expected.ToArray<double>().AsSpan().SequenceEqual(actual.ToArray<double>()),
                $"{path}, {threads} threads, {dtype.Name()} [{rows}, {inF}]·[{inF}, {outF}]{(transposed ? " (W stored transposed)" : "")}, {activation}: not the bits of the unpacked op");
        }
    }

    [Fact]
    public void Packed_products_match_the_float64_oracle()
    {
        var x = TestTensors.Randn(1, DType.Float64, 3, 13, 700);
        var w = TestTensors.Randn(2, DType.Float64, 700, 45);
        var b = TestTensors.Randn(3, DType.Float64, 45);
        var expected = MatmulOracle.Matmul(x, w).Add(b).Relu();
        using var _ = new NoGrad();
        GlobalSettings.WithThreads(3, () => TensorAssert.Close(expected, Functional.Matmul(x, new PackedMatmulWeight(w), b, Activation.Relu), 1e-12, 1e-12));
        var f = x.To(DType.Float32);
        TensorAssert.Close(expected.To(DType.Float32), Functional.Matmul(f, new PackedMatmulWeight(w.To(DType.Float32)), b.To(DType.Float32), Activation.Relu), 1e-4, 1e-4);
    }

    [Fact]
    public void The_packed_copy_is_what_gemm_reads_and_an_in_place_change_or_another_path_repacks()
    {
        var x = TestTensors.Randn(1, DType.Float32, 20, 30);
        var w = TestTensors.Randn(2, DType.Float32, 30, 40);
        var packed = new PackedMatmulWeight(w);
        using var _ = new NoGrad();
        var original = x.Matmul(w);
        TensorAssert.Close(original, Functional.Matmul(x, packed), 0, 0);
        // A write behind the storage's back (no version bump) is not seen: the kernel reads the packed copy.
        ((float[])w.Storage.RawArray)[0] += 1f;
        TensorAssert.Close(original, Functional.Matmul(x, packed), 0, 0);
        // An in-place op bumps the version, and the next call repacks from the current values.
        w.MulInPlace(2.0);
        var changed = x.Matmul(w);
        Assert.False(changed.AllClose(original, 1e-3, 1e-3));
        TensorAssert.Close(changed, Functional.Matmul(x, packed), 0, 0);
        // Another micro-kernel path has other panels: the weight repacks for it rather than being read wrongly.
        foreach (var path in Paths.Where(Gemm.IsSupported))
            GemmTestCase.WithPath(path, () => TensorAssert.Close(x.Matmul(w), Functional.Matmul(x, packed), 0, 0));
    }

    [Fact]
    public void A_single_row_and_recorded_runs_take_the_unpacked_op()
    {
        var w = TestTensors.Randn(2, DType.Float64, 6, 5);
        var packed = new PackedMatmulWeight(w);
        var row = TestTensors.Randn(1, DType.Float64, 6);
        using (new NoGrad()) TensorAssert.Close(row.Matmul(w), Functional.Matmul(row, packed), 0, 0);

        var x = TestTensors.Param(3, 2, 3, 6);
        var wp = TestTensors.Param(4, 6, 5);
        var b = TestTensors.Param(5, 5);
        Assert.NotNull(Functional.Matmul(x, new PackedMatmulWeight(wp), b, Activation.Tanh).GradFn);
        TensorAssert.GradientsMatch(t => Functional.Matmul(t[0], new PackedMatmulWeight(t[1]), t[2], Activation.Tanh), x, wp, b);
        var wt = TestTensors.Param(6, 5, 6);
        TensorAssert.GradientsMatch(t => Functional.Matmul(t[0], new PackedMatmulWeight(t[1], transposed: true), t[2], Activation.Gelu), x, wt, b);
    }

    [Fact]
    public void Bad_weights_and_inputs_are_refused_with_a_clear_message()
    {
        TensorAssert.Throws<ArgumentException>(() => new PackedMatmulWeight(Tensor.Zeros(new Shape(3, 3, 3))), "matmul", "2-D");
        TensorAssert.Throws<ArgumentException>(() => new PackedMatmulWeight(Tensor.Zeros(new Shape(3, 2), DType.Int32)), "float32 or float64");
        TensorAssert.Throws<ArgumentException>(() => new PackedMatmulWeight(Tensor.Zeros(new Shape(0, 2))), "empty");
        var packed = new PackedMatmulWeight(Tensor.Zeros(new Shape(4, 3)));
        using var _ = new NoGrad();
        TensorAssert.Throws<ArgumentException>(() => Functional.Matmul(Tensor.Zeros(new Shape(5, 3)), packed), "last dimension must be 4");
        TensorAssert.Throws<ArgumentException>(() => Functional.Matmul(Tensor.Zeros(new Shape(5, 4)), packed, Tensor.Zeros(new Shape(4))), "bias", "[3]");
        TensorAssert.Throws<ArgumentException>(() => Functional.Matmul(Tensor.Zeros(new Shape(5, 4), DType.Float64), packed), "dtypes differ");
    }
}
