namespace Loom.Tests.Indexing;

public class SortTests
{
    // Few distinct values so that ties are common and the tie rule is exercised.
    private static Tensor Tied(int seed, DType dtype, params int[] shape) =>
        dtype == DType.Bool ? Samples.Mask(seed, 0.5, shape) : Samples.Index(seed, 5, DType.Int64, shape).To(dtype);

    [Theory]
    [MemberData(nameof(Samples.DTypes), MemberType = typeof(Samples))]
    public void Sort_matches_a_stable_reference_on_every_axis(DType dtype)
    {
        foreach (int n in TestTensors.OddSizes)
        {
            int[] shape = [3, n, 2];
            foreach (var x in new[] { Samples.Of(n, dtype, shape), Tied(n, dtype, shape) })
            {
                var values = Samples.Values(x);
                for (int axis = 0; axis < 3; axis++)
                {
                    foreach (bool descending in new[] { false, true })
                    {
                        var (expectedValues, expectedIndices) = ReferenceIndexing.Sort(values, shape, axis, descending);
                        var (v, i) = Samples.Strided(x).Sort(axis, descending);
                        Samples.Same(expectedValues, shape, dtype, v);
                        Assert.Equal(DType.Int64, i.DType);
                        Assert.Equal(expectedIndices, i.ToArray<long>());
                    }
                }
            }
        }
    }

    [Fact]
    public void Sort_puts_nan_above_infinity_and_ties_negative_zero_with_zero()
    {
        var x = Tensor.FromArray(new double[] { 0.0, double.NaN, -0.0, double.PositiveInfinity, -1, double.NaN, double.NegativeInfinity });
        var (up, upIdx) = x.Sort();
        Assert.Equal(new long[] { 6, 4, 0, 2, 3, 1, 5 }, upIdx.ToArray<long>());
        Assert.True(double.IsNaN(up.ToArray<double>()[^1]));
        var (_, downIdx) = x.To(DType.Float32).Sort(descending: true);
        Assert.Equal(new long[] { 1, 5, 3, 0, 2, 4, 6 }, downIdx.ToArray<long>());
    }

    [Fact]
    public void ArgSort_returns_the_positions_of_sort()
    {
        var x = Samples.Of(1, DType.Int32, 4, 33);
        Assert.Equal(x.Sort(0, true).Indices.ToArray<long>(), x.ArgSort(0, true).ToArray<long>());
        Assert.False(TestTensors.Param(1, 3).ArgSort().RequiresGrad);
    }

    [Fact]
    public void Sort_of_many_rows_on_several_threads_matches_reference()
    {
        int[] shape = [64, 1000];
        var x = Samples.Of(5, DType.Float32, shape);
        var (expectedValues, expectedIndices) = ReferenceIndexing.Sort(Samples.Values(x), shape, 1, false);
        var (v, i) = x.Sort();
        Assert.Equal(expectedValues, Samples.Values(v));
        Assert.Equal(expectedIndices, i.ToArray<long>());
    }

    [Theory]
    [MemberData(nameof(Samples.DTypes), MemberType = typeof(Samples))]
    public void TopK_matches_the_head_of_a_stable_sort(DType dtype)
    {
        foreach (int n in new[] { 1, 7, 33, 257 })
        {
            int[] shape = [2, n];
            foreach (var x in new[] { Samples.Of(n, dtype, shape), Tied(n, dtype, shape) })
            {
                foreach (int k in new[] { 0, 1, 3, n / 2, n }.Where(k => k <= n).Distinct())
                {
                    foreach (bool largest in new[] { true, false })
                    {
                        var (expectedValues, expectedIndices) = ReferenceIndexing.TopK(Samples.Values(x), shape, 1, k, largest);
                        var (v, i) = x.TopK(k, -1, largest);
                        Samples.Same(expectedValues, [2, k], dtype, v);
                        Assert.Equal(expectedIndices, i.ToArray<long>());
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Int64)]
    public void TopK_unsorted_returns_the_same_elements(DType dtype)
    {
        var x = Samples.Of(3, dtype, 3, 257);
        foreach (int k in new[] { 1, 5, 100, 257 })
        {
            var (sv, si) = x.TopK(k, 1, largest: true, sorted: true);
            var (uv, ui) = x.TopK(k, 1, largest: true, sorted: false);
            for (int r = 0; r < 3; r++)
            {
                Assert.Equal(si.Select(0, r).ToArray<long>().Order(), ui.Select(0, r).ToArray<long>().Order());
                // Each value sits next to the position it came from.
                var row = x.Select(0, r);
                var positions = ui.Select(0, r).ToArray<long>();
                var values = Samples.Values(uv.Select(0, r));
                for (int j = 0; j < k; j++) Assert.Equal(row.GetDouble((int)positions[j]), values[j]);
            }
        }
    }

    [Fact]
    public void TopK_with_k_out_of_range_names_k_the_axis_and_its_size()
    {
        TensorAssert.Throws<ArgumentException>(() => Tensor.Zeros(2, 5).TopK(6), "topk", "k = 6", "axis -1", "size 5", "[2, 5]");
        TensorAssert.Throws<ArgumentException>(() => Tensor.Zeros(2, 5).TopK(-1, 0), "topk", "k = -1", "axis 0", "size 2");
    }

    [Fact]
    public void HeapSelect_keeps_the_k_first_pairs_preferring_earlier_positions_on_ties()
    {
        var rng = new System.Random(7);
        foreach (int n in new[] { 1, 2, 17, 100, 1000 })
        {
            // Few distinct keys, so that which of the tied positions survive matters.
            var keys = Enumerable.Range(0, n).Select(_ => (ulong)rng.Next(0, 20)).ToArray();
            var expected = keys.Select((key, position) => (key, position)).OrderBy(p => p.key).ThenBy(p => p.position).ToArray();
            foreach (int k in new[] { 1, n / 8 + 1, n })
            {
                var work = (ulong[])keys.Clone();
                var order = Enumerable.Range(0, n).ToArray();
                IndexingKernels.HeapSelect(work, order, k);
                Assert.Equal(expected.Take(k).Select(p => p.position).Order(), order.Take(k).Order());
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(8)]
    public void RadixSort_agrees_with_the_comparison_sort(int keyBytes)
    {
        var rng = new System.Random(keyBytes);
        ulong mask = keyBytes == 8 ? ulong.MaxValue : (1UL << (8 * keyBytes)) - 1;
        foreach (int n in new[] { 1, 257, 3000 })
        {
            foreach (int distinct in new[] { 3, int.MaxValue })
            {
                var keys = Enumerable.Range(0, n).Select(_ => (ulong)rng.NextInt64(0, Math.Min(distinct, long.MaxValue)) * 0x9E3779B97F4A7C15UL & mask).ToArray();
                var (k1, o1) = ((ulong[])keys.Clone(), Enumerable.Range(0, n).ToArray());
                var (k2, o2) = ((ulong[])keys.Clone(), Enumerable.Range(0, n).ToArray());
                IndexingKernels.ComparisonSort(k1, o1);
                IndexingKernels.RadixSort(k2, o2, new ulong[n], new int[n], keyBytes);
                Assert.Equal(k1, k2);
                Assert.Equal(o1, o2);
            }
        }
    }
}
