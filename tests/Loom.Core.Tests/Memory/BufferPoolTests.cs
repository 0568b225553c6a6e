using Loom.Memory;

namespace Loom.Tests.Memory;

// Int8 tensors of ~2,000 elements: a bucket no other test uses, so counts of pooled arrays are not disturbed by tests
// running in parallel.
[Collection(GlobalSettings.Name)]
public class BufferPoolTests
{
    private const int Length = 2000;

    [Fact]
    public void Scope_returns_every_array_of_a_step_however_many_share_a_size()
    {
        BufferPool<sbyte>.Clear();
        using (new MemoryScope())
            for (int i = 0; i < 300; i++) Tensor.Zeros(new Shape(Length), DType.Int8);
        Assert.Equal(300, BufferPool<sbyte>.Pooled(Length));
        BufferPool<sbyte>.Clear();
    }

    [Fact]
    public void A_tensor_made_on_another_thread_and_adopted_goes_back_with_the_scope()
    {
        BufferPool<sbyte>.Clear();
        var made = OnAnotherThread(); // a loader's worker, say
        var kept = OnAnotherThread();
        using (new MemoryScope())
        {
            Assert.Same(made, MemoryScope.Adopt(made));
            MemoryScope.Adopt(made); // twice is once
        }
        Assert.Equal(1, BufferPool<sbyte>.Pooled(Length));
        TensorAssert.Throws<ObjectDisposedException>(() => made.AsSpan<sbyte>(), "returned to the buffer pool");
        MemoryScope.Adopt(kept); // no scope: nothing to return it with
        Assert.Equal(0, kept.AsSpan<sbyte>()[0]);
        Assert.Equal(1, BufferPool<sbyte>.Pooled(Length));
        BufferPool<sbyte>.Clear();
    }

    private static Tensor OnAnotherThread()
    {
        Tensor? made = null;
        var worker = new Thread(() => made = Tensor.Zeros(new Shape(Length), DType.Int8));
        worker.Start();
        worker.Join();
        return made!;
    }

    [Fact]
    public void Arrays_past_the_budget_go_to_the_GC()
    {
        BufferPool<sbyte>.Clear();
        long saved = BufferPoolBudget.MaxBytes;
        try
        {
            // Room for exactly three more 2,048-byte arrays (the bucket of 2,000 elements).
            BufferPoolBudget.MaxBytes = BufferPoolBudget.PooledBytes + 3 * 2048;
            using (new MemoryScope())
                for (int i = 0; i < 5; i++) Tensor.Zeros(new Shape(Length), DType.Int8);
            Assert.Equal(3, BufferPool<sbyte>.Pooled(Length));
        }
        finally
        {
            BufferPoolBudget.MaxBytes = saved;
            BufferPool<sbyte>.Clear();
        }
    }

    [Fact]
    public void Pooled_bytes_count_arrays_in_and_out()
    {
        BufferPool<sbyte>.Clear();
        long before = BufferPoolBudget.PooledBytes;
        using (new MemoryScope()) Tensor.Zeros(new Shape(Length), DType.Int8);
        Assert.Equal(2048, BufferPoolBudget.PooledBytes - before);
        BufferPool<sbyte>.Clear();
        Assert.Equal(before, BufferPoolBudget.PooledBytes);
    }

    [Fact]
    public void Reused_array_is_zeroed_for_Zeros()
    {
        BufferPool<sbyte>.Clear();
        using (new MemoryScope()) Tensor.Full(new Shape(Length), 7, DType.Int8);
        using (new MemoryScope())
        {
            var z = Tensor.Zeros(new Shape(Length), DType.Int8);
            Assert.Equal(0, BufferPool<sbyte>.Pooled(Length)); // it did come from the pool
            Assert.All(z.ToArray<sbyte>(), v => Assert.Equal(0, v));
        }
        BufferPool<sbyte>.Clear();
    }

    [Fact]
    public void Large_arrays_take_quarter_step_sizes_and_are_reused()
    {
        // 2^20 + 1 elements: a power-of-two class would hand out 2^21 (twice what is asked, all of it zeroed and resident).
        BufferPool<sbyte>.Clear();
        int length = BufferPool<sbyte>.FineClassesAbove + 1, size = 5 << 18;
        long before = BufferPoolBudget.PooledBytes;
        using (new MemoryScope()) Tensor.Zeros(new Shape(length), DType.Int8);
        Assert.Equal(size, BufferPoolBudget.PooledBytes - before);
        Assert.Equal(1, BufferPool<sbyte>.Pooled(size - 100)); // the same class serves any length up to 5·2^18
        Assert.Equal(0, BufferPool<sbyte>.Pooled(size + 1));   // the next class, 6·2^18, is another bucket
        using (new MemoryScope())
        {
            Tensor.Zeros(new Shape(size), DType.Int8);
            Assert.Equal(0, BufferPool<sbyte>.Pooled(size)); // it came from the pool
        }
        BufferPool<sbyte>.Clear();
    }

    [Fact]
    public void Budget_refuses_a_negative_size() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => BufferPoolBudget.MaxBytes = -1);

    [Fact]
    public void Tensor_used_after_its_scope_fails_with_an_explanation()
    {
        Tensor t;
        using (new MemoryScope()) t = Tensor.Ones(new Shape(4096));
        TensorAssert.Throws<ObjectDisposedException>(() => t.Sum(), "[4096]", "MemoryScope.Keep");
    }

    [Fact]
    public void Kept_and_persistent_tensors_outlive_the_scope()
    {
        Tensor kept, persistent;
        using (new MemoryScope())
        {
            kept = MemoryScope.Keep(Tensor.Ones(new Shape(4096)));
            using (MemoryScope.Persistent()) persistent = Tensor.Ones(new Shape(4096));
        }
        Assert.Equal(4096, kept.Sum().Item());
        Assert.Equal(4096, persistent.Sum().Item());
    }
}
