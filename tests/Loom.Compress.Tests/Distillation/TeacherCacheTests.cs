namespace Loom.Compress.Tests.Distillation;

public class TeacherCacheTests
{
    [Fact]
    public void Samples_seen_before_in_any_order_are_served_without_the_teacher()
    {
        var g = new Generator(3);
        var data = Tensor.Randn(new Shape(6, 2, 3), g);
        var weights = Tensor.Randn(new Shape(6, 4), g);
        int calls = 0;
        Tensor Teacher(Tensor x) { calls++; return x.Reshape(x.Shape[0], 6).Matmul(weights); }
        var cache = new TeacherCache(Teacher);
        var expected = Teacher(data).ToArray<float>();
        calls = 0;

        Tensor Rows(params long[] rows) => data.IndexSelect(0, Tensor.FromArray(rows));
        float[] Expected(params long[] rows) => rows.SelectMany(r => expected.Skip((int)r * 4).Take(4)).ToArray();
        Assert.Equal(Expected(0, 1, 2), cache.Forward(Rows(0, 1, 2)).ToArray<float>());
        Assert.Equal(Expected(3, 4, 5), cache.Forward(Rows(3, 4, 5)).ToArray<float>());
        Assert.Equal(2, calls);
        // A new epoch's order: every sample known, so the teacher does not run and the rows come back in batch order.
        var again = cache.Forward(Rows(5, 0, 3, 1));
        Assert.Equal(new Shape(4, 4), again.Shape);
        Assert.Equal(Expected(5, 0, 3, 1), again.ToArray<float>());
        Assert.Equal(2, calls);
        Assert.Equal((4L, 6L), (cache.Hits, cache.Misses));
        // One changed value (an augmented sample) is a different sample: the teacher runs on that batch.
        var changed = Rows(2, 4).Clone();
        changed.AsSpan<float>()[0] += 1e-6f;
        cache.Forward(changed);
        Assert.Equal(3, calls);
    }

    [Fact]
    public void A_batch_not_remembered_runs_the_teacher_and_is_not_served_later()
    {
        int calls = 0;
        var cache = new TeacherCache(x => { calls++; return x.Mul(2.0); });
        var batch = Tensor.FromArray(new[] { 1.0, 2.0, 3.0, 4.0 }, 2, 2);
        var once = cache.Forward(batch, remember: false);
        Assert.Equal(DType.Float32, once.DType);
        Assert.Equal(new[] { 2f, 4f, 6f, 8f }, once.ToArray<float>());
        Assert.Equal((1, 0L, 2L, 0), (calls, cache.Hits, cache.Misses, cache.Remembered));
        // Nothing was kept: the same batch again is a miss, and this time it is remembered and served the third time.
        cache.Forward(batch);
        cache.Forward(batch);
        Assert.Equal((2, 2L, 4L, 2), (calls, cache.Hits, cache.Misses, cache.Remembered));
    }

    [Fact]
    public void Rows_keep_their_own_shape_when_batches_differ_in_length()
    {
        // A sequence teacher: one output per position, so a batch padded to 5 gives rows of 5, one padded to 3 rows of 3.
        var cache = new TeacherCache(x => x.Mul(2.0));
        var short_ = Tensor.FromArray(new[] { 1f, 2f, 3f, 4f, 5f, 6f }, 2, 3);
        var long_ = Tensor.FromArray(new[] { 1f, 2f, 3f, 0f, 0f, 7f, 8f, 9f, 10f, 0f }, 2, 5);
        cache.Forward(short_);
        cache.Forward(long_);
        var again = cache.Forward(long_);
        Assert.Equal(new Shape(2, 5), again.Shape);
        Assert.Equal(long_.Mul(2.0).ToArray<float>(), again.ToArray<float>());
        Assert.Equal(new Shape(2, 3), cache.Forward(short_).Shape);
        Assert.Equal((4L, 4L), (cache.Hits, cache.Misses));
    }
}
