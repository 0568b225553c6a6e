namespace Loom.Data.Tests.Datasets;

public class DatasetTests
{
    [Fact]
    public void TensorDataset_items_are_rows_of_inputs_and_targets()
    {
        var x = Tensor.Arange(0, 12, 1, DType.Float32).Reshape(3, 2, 2);
        var y = Tensor.FromArray(new long[] { 7, 8, 9 });
        var data = new TensorDataset(x, y);
        Assert.Equal(3, data.Count);
        var s = data[1];
        Assert.Equal(new Shape(2, 2), s.Input.Shape);
        Assert.Equal(new float[] { 4, 5, 6, 7 }, s.Input.ToArray<float>());
        Assert.Equal(8, s.Target.Item());
    }

    [Fact]
    public void TensorDataset_rejects_different_first_dimensions_naming_both_shapes()
    {
        TensorAssert.Throws<ArgumentException>(() => new TensorDataset(Tensor.Zeros(3, 2), Tensor.Zeros(4)), "TensorDataset", "[3, 2]", "[4]");
        TensorAssert.Throws<ArgumentException>(() => new TensorDataset(Tensor.Scalar(1), Tensor.Zeros(1)), "TensorDataset", "[]");
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => _ = new TensorDataset(Tensor.Zeros(3, 2), Tensor.Zeros(3))[3], "index 3", "3 samples");
    }

    [Fact]
    public void TensorDataset_of_a_non_contiguous_tensor_reads_the_same_values()
    {
        var x = TestTensors.Randn(1, DType.Float32, 5, 3);
        var data = new TensorDataset(TestTensors.NonContiguous(x), Tensor.Arange(5));
        TensorAssert.Close(x.Select(0, 4), data[4].Input, 0, 0);
        TensorAssert.Close(x.Select(0, 2), data.Gather([2]).Inputs.Select(0, 0), 0, 0);
    }

    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    [InlineData(DType.Int32)]
    [InlineData(DType.Int64)]
    [InlineData(DType.UInt8)]
    [InlineData(DType.Int8)]
    [InlineData(DType.Bool)]
    public void Gather_copies_rows_in_index_order_for_every_dtype(DType dtype)
    {
        var x = Tensor.Arange(0, 24, 1, DType.Float64).Reshape(6, 2, 2);
        x = dtype == DType.Bool ? x.To(DType.Int32).To(DType.Bool) : x.To(dtype);
        var data = new TensorDataset(x, Tensor.Arange(6));
        var g = data.Gather([5, 0, 5]);
        Assert.Equal(new Shape(3, 2, 2), g.Inputs.Shape);
        Assert.Equal(dtype, g.Inputs.DType);
        var expected = Collate.Stack([x.Select(0, 5), x.Select(0, 0), x.Select(0, 5)]);
        Assert.Equal(expected.ToArray<double>(), g.Inputs.ToArray<double>());
        Assert.Equal(new long[] { 5, 0, 5 }, g.Targets.ToArray<long>());
    }

    [Fact]
    public void Stack_refuses_samples_of_different_shapes_naming_them()
    {
        TensorAssert.Throws<ArgumentException>(() => Collate.Stack([Tensor.Zeros(2, 3), Tensor.Zeros(2, 3), Tensor.Zeros(3, 2)]), "sample 2", "[3, 2]", "[2, 3]");
        TensorAssert.Throws<ArgumentException>(() => Collate.Stack([Tensor.Zeros(2), Tensor.Zeros(new Shape(2), DType.Float64)]), "float64", "float32");
        TensorAssert.Throws<ArgumentException>(() => Collate.Stack([]), "no tensors");
    }

    [Fact]
    public void Subset_maps_indices_and_validates_them()
    {
        var data = new TensorDataset(Tensor.Arange(0, 10, 1, DType.Float32), Tensor.Arange(10));
        var sub = data.Subset([9, 2, 4]);
        Assert.Equal(3, sub.Count);
        Assert.Equal(2, sub[1].Target.Item());
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => data.Subset([1, 10]), "index 10", "10 samples");
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => _ = sub[3], "index 3", "3 samples");
        // A subset of rows batches through the row fast path with the subset's own indices.
        var batch = new DataLoader<Sample>(sub, batchSize: 3).Single();
        Assert.Equal(new float[] { 9, 2, 4 }, batch.Inputs.ToArray<float>());
        Assert.Equal(new[] { 0, 1, 2 }, batch.Indices);
    }

    [Fact]
    public void ConcatDataset_addresses_each_part_in_turn_skipping_empty_parts()
    {
        IDataset<Sample> Part(int start, int n) => new TensorDataset(Tensor.Arange(start, start + n, 1, DType.Float32), Tensor.Arange(start, start + n, 1, DType.Int64));
        var all = new ConcatDataset<Sample>(Part(0, 3), Part(3, 0), Part(3, 1), Part(4, 5));
        Assert.Equal(9, all.Count);
        for (int i = 0; i < 9; i++) Assert.Equal(i, all[i].Target.Item());
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => _ = all[9], "index 9");
        Assert.Equal(Enumerable.Range(0, 9).Select(i => (long)i), new DataLoader<Sample>(all, batchSize: 4, prefetch: 0).SelectMany(b => b.Targets.ToArray<long>()));
    }

    [Fact]
    public void Map_and_WithTransform_apply_on_access()
    {
        var data = new TensorDataset(Tensor.Ones(4, 2), Tensor.Arange(4));
        int calls = 0;
        var mapped = data.Map(s => { calls++; return s; });
        _ = mapped[0];
        _ = mapped[0];
        Assert.Equal(2, calls);
        var noisy = data.WithTransform(new GaussianNoise(1, seed: 3));
        Assert.NotEqual(noisy[0].Input.ToArray<float>(), noisy[0].Input.ToArray<float>()); // fresh noise each access
        Assert.Equal(2, noisy[2].Target.Item());
    }

    [Fact]
    public void Datasets_built_inside_a_memory_scope_outlive_it()
    {
        TensorDataset data;
        using (new Loom.Memory.MemoryScope())
        {
            var x = Tensor.Arange(0, 4096, 1, DType.Float32).Reshape(1024, 4);
            data = new TensorDataset(TestTensors.NonContiguous(x), Tensor.Arange(1024)).Gather(Enumerable.Range(0, 1024).Reverse().ToArray());
        }
        using (new Loom.Memory.MemoryScope())
            _ = Tensor.Full(new Shape(1024, 4), -1.0); // reuses pooled arrays, which would overwrite a returned dataset
        Assert.Equal(new float[] { 4092, 4093, 4094, 4095 }, data[0].Input.ToArray<float>());
        Assert.Equal(1023, data[0].Target.Item());
    }
}
