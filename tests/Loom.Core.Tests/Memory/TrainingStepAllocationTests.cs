using Loom.Memory;
using Loom.Random;

namespace Loom.Tests.Memory;

/// <summary>
/// A training step inside a <see cref="MemoryScope"/> allocates the same shapes every step, so after warm-up its
/// tensors come from the buffer pool and only small objects (tensors, nodes, shapes) reach the GC. The bounds are a
/// few times the measured figures and far below what one unpooled activation per step would cost; a step that stops
/// reusing its arrays (a storage made outside the pool, a pool that keeps too few arrays of a size) fails them.
/// </summary>
[Collection(GlobalSettings.Name)]
public class TrainingStepAllocationTests
{
    [Fact]
    public void Mlp_step_allocates_under_64_KB_after_warm_up()
    {
        var g = new Generator(1);
        var x = Tensor.Randn(new Shape(64, 128), g);
        var y = Tensor.Randint(0, 10, new Shape(64), g);
        Tensor[] p = [Param(g, 256, 128), Param(g, 256), Param(g, 256, 256), Param(g, 256), Param(g, 10, 256), Param(g, 10)];
        long bytes = BytesPerStep(p, () =>
        {
            var h = Functional.Linear(x, p[0], p[1]).Relu();
            h = Functional.Linear(h, p[2], p[3]).Relu();
            return Functional.CrossEntropy(Functional.Linear(h, p[4], p[5]), y);
        });
        Assert.True(bytes < 64 << 10, $"an MLP step allocated {bytes:N0} bytes after warm-up");
    }

    [Fact]
    public void Cnn_step_with_batch_norm_allocates_under_64_KB_after_warm_up()
    {
        // Loom.Models' SmallCnn on Fashion-MNIST at 32 images (a rank's share of the CLI's batch of 64 on 2 ranks):
        // batch norm's per-row scratch (one value per image and channel) was fresh arrays, ~520 KB a step.
        var g = new Generator(3);
        var x = Tensor.Randn(new Shape(32, 1, 28, 28), g);
        var y = Tensor.Randint(0, 10, new Shape(32), g);
        Tensor[] p = [Param(g, 32, 1, 3, 3), Param(g, 32), Param(g, 32), Param(g, 32), Param(g, 64, 32, 3, 3), Param(g, 64), Param(g, 64), Param(g, 64),
            Param(g, 10, 64 * 7 * 7), Param(g, 10)];
        Tensor[] running = [Tensor.Zeros(32), Tensor.Ones(32), Tensor.Zeros(64), Tensor.Ones(64)];
        long bytes = BytesPerStep(p, () =>
        {
            var h = Functional.Conv2d(x, p[0], p[1], padding: 1);
            h = Functional.BatchNorm(h, running[0], running[1], p[2], p[3], training: true, 0.1, 1e-5, Activation.Relu);
            h = Functional.MaxPool2d(h, 2);
            h = Functional.Conv2d(h, p[4], p[5], padding: 1);
            h = Functional.BatchNorm(h, running[2], running[3], p[6], p[7], training: true).Relu();
            h = Functional.MaxPool2d(h, 2);
            return Functional.CrossEntropy(Functional.Linear(h.Reshape(32, -1), p[8], p[9]), y);
        });
        Assert.True(bytes < 64 << 10, $"a CNN step allocated {bytes:N0} bytes after warm-up");
    }

    [Fact]
    public void Gpt_step_allocates_under_512_KB_after_warm_up()
    {
        // Four pre-norm blocks, as in Loom.Models' GptBlock: over a hundred [B, T, C] arrays are live at the end of the
        // forward pass, more than a pool that keeps a fixed few dozen arrays per size would give back.
        const int b = 2, t = 64, c = 64, heads = 4, vocab = 128, layers = 4;
        var g = new Generator(2);
        var x = Tensor.Randn(new Shape(b, t, c), g);
        var targets = Tensor.Randint(0, vocab, new Shape(b * t), g);
        var future = Tensor.Ones(new Shape(t, t), DType.Bool).Triu(1);
        var p = new List<Tensor>();
        for (int l = 0; l < layers; l++)
            p.AddRange([Param(g, 3 * c, c), Param(g, 3 * c), Param(g, c, c), Param(g, c), Param(g, 4 * c, c), Param(g, 4 * c), Param(g, c, 4 * c), Param(g, c)]);
        p.Add(Param(g, vocab, c));
        long bytes = BytesPerStep(p, () =>
        {
            var h = x;
            for (int l = 0; l < layers; l++)
            {
                int k = 8 * l;
                var qkv = Functional.Linear(Functional.LayerNorm(h, [c]), p[k], p[k + 1]).Split(c, axis: 2);
                Tensor Heads(Tensor z) => z.Reshape(b, t, heads, c / heads).Transpose(1, 2);
                var scores = Heads(qkv[0]).Matmul(Heads(qkv[1]).Transpose(-2, -1)).Mul(1 / Math.Sqrt(c / heads)).MaskedFill(future, double.NegativeInfinity);
                var attended = scores.Softmax(-1).Matmul(Heads(qkv[2])).Transpose(1, 2).Reshape(b, t, c);
                h = h.Add(Functional.Linear(attended, p[k + 2], p[k + 3]));
                var mlp = Functional.Linear(Functional.LayerNorm(h, [c]), p[k + 4], p[k + 5]).Gelu();
                h = h.Add(Functional.Linear(mlp, p[k + 6], p[k + 7]));
            }
            var logits = Functional.LayerNorm(h, [c]).Matmul(p[^1].Transpose(0, 1));
            return Functional.CrossEntropy(logits.Reshape(b * t, vocab), targets);
        });
        Assert.True(bytes < 512 << 10, $"a GPT step allocated {bytes:N0} bytes after warm-up");
    }

    private static Tensor Param(Generator g, params int[] shape) => Tensor.Randn(new Shape(shape), g, std: 0.05).RequiresGrad_();

    /// <summary>
    /// Runs SGD steps of <paramref name="loss"/> on one thread, each in its own scope, and returns the fewest bytes a
    /// step allocated after warm-up. The fewest, because other tests running meanwhile may rent the arrays a step gave
    /// back, which makes the next step allocate them anew; they cannot do so at every step.
    /// </summary>
    private static long BytesPerStep(IReadOnlyList<Tensor> parameters, Func<Tensor> loss)
    {
        long fewest = long.MaxValue;
        GlobalSettings.WithThreads(1, () =>
        {
            for (int step = 0; step < 12; step++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                using (new MemoryScope())
                {
                    foreach (var w in parameters) w.Grad?.ZeroInPlace();
                    loss().Backward();
                    using (new NoGrad())
                        foreach (var w in parameters) w.SubInPlace(w.Grad!, alpha: 1e-3);
                }
                if (step >= 4) fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
            }
        });
        return fewest;
    }
}
