using Loom.Autograd;

namespace Loom.Bench;

/// <summary>
/// The fixed cost of an op, separate from its arithmetic: tiny tensors ([8]) through element-wise ops, with and without
/// autograd, and a whole forward + backward of a small graph. Reports nanoseconds and managed bytes per call on one
/// thread; the bytes are exact (GC.GetAllocatedBytesForCurrentThread), the time is a median of batches.
/// </summary>
public sealed class OpOverheadBench : IBenchmark
{
    public string Suite => "kernels";

    public string Name => "op-overhead";

    public void Run(BenchReport report, BenchOptions options)
    {
        Threads.Count = 1;
        var g = new Random.Generator(1);
        var a = Tensor.Randn(new Shape(8), g);
        var b = Tensor.Randn(new Shape(8), g);
        var ag = Tensor.Randn(new Shape(8), g).RequiresGrad_();
        var bg = Tensor.Randn(new Shape(8), g).RequiresGrad_();
        var m = Tensor.Randn(new Shape(8, 8), g).RequiresGrad_();
        var cases = new (string Name, Action Op)[]
        {
            ("add [8] no grad", () => a.Add(b)),
            ("add [8] recording", () => ag.Add(bg)),
            ("add [8] under NoGrad", () =>
            {
                using var noGrad = new NoGrad();
                ag.Add(bg);
            }),
            ("mul scalar [8] recording", () => ag.Mul(2.0)),
            ("add+sum+backward [8]", () => ag.Add(bg).Sum().Backward()),
            ("mul,add,relu,sum+backward [8]", () => ag.Mul(bg).Add(ag).Relu().Sum().Backward()),
            ("matmul [8,8]x[8,1]+sum+backward", () => m.Matmul(ag.Reshape(8, 1)).Sum().Backward()),
        };
        int batch = options.Quick ? 2_000 : 20_000;
        foreach (var (name, op) in cases)
        {
            var (median, _, _) = Timing.Measure(() =>
            {
                for (int i = 0; i < batch; i++) op();
            }, warmup: 3, minIterations: 5, budgetSeconds: options.Quick ? 0.2 : 1);
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < batch; i++) op();
            double bytes = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)batch;
            report.Add(Name, name, ("ns_per_call", median / batch * 1e9), ("bytes_per_call", bytes));
        }
        ag.Grad = bg.Grad = m.Grad = null;
    }
}
