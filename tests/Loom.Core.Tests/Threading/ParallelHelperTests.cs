using System.Collections.Concurrent;
using Loom.Threading;

namespace Loom.Tests.Threading;

[Collection(GlobalSettings.Name)]
public class ParallelHelperTests
{
    [Theory]
    [InlineData(1, 1, 2)]
    [InlineData(2, 1, 2)]
    [InlineData(3, 1, 2)]
    [InlineData(1000, 1, 2)]
    [InlineData(1000, 7, 3)]
    [InlineData(1001, 100, 4)]
    public void For_runs_every_index_exactly_once(int count, int grain, int threads)
    {
        var hits = new int[count];
        GlobalSettings.WithThreads(threads, () =>
            ParallelHelper.For(count, grain, (start, end) =>
            {
                for (int i = start; i < end; i++) Interlocked.Increment(ref hits[i]);
            }));
        Assert.All(hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void Ranges_are_contiguous_equal_and_one_per_thread()
    {
        var ranges = new ConcurrentBag<(int Start, int End)>();
        RunOnPool(3, 100, (start, end) => ranges.Add((start, end)));
        var sorted = ranges.OrderBy(r => r.Start).ToArray();
        Assert.Equal([(0, 34), (34, 68), (68, 100)], sorted);
    }

    [Fact]
    public void Work_below_the_grain_stays_on_the_calling_thread()
    {
        var calls = new ConcurrentBag<(int Start, int End, int Thread)>();
        GlobalSettings.WithThreads(2, () =>
            ParallelHelper.For(10, 100, (start, end) => calls.Add((start, end, Environment.CurrentManagedThreadId))));
        Assert.Equal([(0, 10, Environment.CurrentManagedThreadId)], calls.ToArray());
    }

    [Fact]
    public void One_thread_runs_the_whole_range_in_one_call()
    {
        var calls = new ConcurrentBag<(int Start, int End)>();
        GlobalSettings.WithThreads(1, () => ParallelHelper.For(1000, 1, (start, end) => calls.Add((start, end))));
        Assert.Equal([(0, 1000)], calls.ToArray());
    }

    [Fact]
    public void Two_threads_really_run_their_ranges_at_the_same_time()
    {
        // Each range waits for the other at a barrier: run one after the other, the first wait would time out.
        using var barrier = new Barrier(2);
        var met = new ConcurrentBag<bool>();
        RunOnPool(2, 2, (_, _) => met.Add(barrier.SignalAndWait(TimeSpan.FromSeconds(10))));
        Assert.Equal([true, true], met.ToArray());
    }

    /// <summary>
    /// Runs through the pool itself. ParallelHelper.For would run the loop inline if another test happened to hold
    /// the pool at that moment (by design), which would defeat tests about how the pool splits and runs the work.
    /// </summary>
    private static void RunOnPool(int threads, int count, Action<int, int> body)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!WorkerPool.TryRun(threads, count, body, static (b, start, end) => b(start, end)))
        {
            Assert.True(DateTime.UtcNow < deadline, "the worker pool stayed busy for 30 s");
            Thread.Sleep(1);
        }
    }

    [Fact]
    public void An_exception_in_any_range_reaches_the_caller_after_the_others_finish()
    {
        int finished = 0;
        TensorAssert.Throws<InvalidOperationException>(() =>
            RunOnPool(2, 2, (start, _) =>
            {
                if (start == 1) throw new InvalidOperationException("range 1 failed");
                Interlocked.Increment(ref finished);
            }), "range 1 failed");
        Assert.Equal(1, finished);
        // The pool is usable afterwards.
        var hits = new int[4];
        GlobalSettings.WithThreads(2, () => ParallelHelper.For(4, 1, (s, e) => { for (int i = s; i < e; i++) hits[i]++; }));
        Assert.All(hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void Nested_calls_run_inline_instead_of_deadlocking()
    {
        var hits = new int[40];
        GlobalSettings.WithThreads(2, () =>
            ParallelHelper.For(4, 1, (outerStart, outerEnd) =>
            {
                for (int o = outerStart; o < outerEnd; o++)
                {
                    int row = o;
                    ParallelHelper.For(10, 1, (s, e) => { for (int i = s; i < e; i++) Interlocked.Increment(ref hits[row * 10 + i]); });
                }
            }));
        Assert.All(hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void Concurrent_callers_each_get_their_whole_loop_run()
    {
        const int callers = 4, count = 5000;
        var hits = new int[callers, count];
        GlobalSettings.WithThreads(2, () =>
        {
            var tasks = Enumerable.Range(0, callers).Select(c => Task.Run(() =>
            {
                for (int repeat = 0; repeat < 20; repeat++)
                    ParallelHelper.For(count, 10, (s, e) => { for (int i = s; i < e; i++) Interlocked.Increment(ref hits[c, i]); });
            })).ToArray();
            Assert.True(Task.WaitAll(tasks, TimeSpan.FromSeconds(60)), "concurrent callers did not finish");
        });
        foreach (int h in hits) Assert.Equal(20, h);
    }

    [Fact]
    public void Back_to_back_dispatches_with_state_do_not_allocate()
    {
        var sums = new long[2];
        GlobalSettings.WithThreads(2, () =>
        {
            for (int i = 0; i < 100; i++) ParallelHelper.For(2, 1, sums, static (s, start, _) => s[start]++);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; i++) ParallelHelper.For(2, 1, sums, static (s, start, _) => s[start]++);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < 1000, $"1000 dispatches allocated {allocated} bytes");
        });
        Assert.Equal([1100L, 1100L], sums);
    }
}
