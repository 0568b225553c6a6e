namespace Loom.Tests.Optim;

/// <summary>The public optimiser updates (what Loom.Nn's optimisers call); their arithmetic is checked in SimdPathTests.</summary>
[Collection(GlobalSettings.Name)]
public class OptimizerUpdateTests
{
    // Large enough to split over threads, and not a multiple of any vector width: every chunk boundary and the last,
    // short chunk must update each element exactly once, as one thread does.
    private const int Large = 3 * 65536 + 37;

    [Theory]
    [InlineData("sgd")]
    [InlineData("adam")]
    [InlineData("amsgrad")]
    [InlineData("rmsprop")]
    [InlineData("adagrad")]
    public void A_large_update_split_over_threads_gives_the_bits_of_one_thread(string optimizer)
    {
        var one = RunTwoSteps(optimizer, threads: 1);
        var two = RunTwoSteps(optimizer, threads: 2);
        for (int i = 0; i < one.Length; i++)
            Assert.Equal(one[i].ToArray<float>(), two[i].ToArray<float>());
    }

    private static Tensor[] RunTwoSteps(string optimizer, int threads)
    {
        var gen = new Random.Generator(5);
        // A parameter that requires grad, updated under NoGrad as optimisers do: the worker threads that run the
        // chunks are outside that scope, so the permission to write must be checked on the calling thread.
        var p = Tensor.Randn(new Shape(Large), generator: gen).RequiresGrad_();
        var g = Tensor.Randn(new Shape(Large), generator: gen);
        Tensor a = Tensor.Zeros(new Shape(Large)), b = Tensor.Zeros(new Shape(Large)), c = Tensor.Zeros(new Shape(Large));
        GlobalSettings.WithThreads(threads, () =>
        {
            using var noGrad = new Loom.Autograd.NoGrad();
            for (int step = 1; step <= 2; step++)
            {
                switch (optimizer)
                {
                    case "sgd": Functional.SgdUpdate(p, g, a, 0.1, weightDecay: 0.01, momentum: 0.9, nesterov: true, firstStep: step == 1); break;
                    case "adam": Functional.AdamUpdate(p, g, a, b, null, step, 1e-3, weightDecay: 0.01, decoupledWeightDecay: true); break;
                    case "amsgrad": Functional.AdamUpdate(p, g, a, b, c, step, 1e-3, weightDecay: 0.01); break;
                    case "rmsprop": Functional.RmsPropUpdate(p, g, a, b, c, 1e-2, weightDecay: 0.01, momentum: 0.9); break;
                    default: Functional.AdagradUpdate(p, g, a, step, 1e-2, lrDecay: 0.01, weightDecay: 0.01); break;
                }
            }
        });
        return [p.Detach(), a, b, c];
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(false, 2)]
    [InlineData(false, 3)]
    [InlineData(true, 2)]
    public void Adam_over_a_list_of_parameters_gives_the_bits_of_one_update_per_parameter(bool amsgrad, int threads)
    {
        // Sizes that put range boundaries inside tensors, on their ends, and across tiny and empty ones.
        int[] sizes = [Large, 3, 0, 65536, 1, 64, 2 * 65536 + 5, 17];
        var (single, multi) = (Make(), Make());
        GlobalSettings.WithThreads(threads, () =>
        {
            using var noGrad = new Loom.Autograd.NoGrad();
            for (int step = 1; step <= 2; step++)
            {
                for (int i = 0; i < sizes.Length; i++)
                    Functional.AdamUpdate(single.P[i], single.G[i], single.M[i], single.V[i], amsgrad ? single.X[i] : null, step, 1e-2,
                        weightDecay: 0.1, decoupledWeightDecay: !amsgrad);
                Functional.AdamUpdate(multi.P, multi.G, multi.M, multi.V, amsgrad ? multi.X : null, step, 1e-2,
                    weightDecay: 0.1, decoupledWeightDecay: !amsgrad);
            }
        });
        for (int i = 0; i < sizes.Length; i++)
        {
            Assert.Equal(single.P[i].ToArray<float>(), multi.P[i].ToArray<float>());
            Assert.Equal(single.M[i].ToArray<float>(), multi.M[i].ToArray<float>());
            Assert.Equal(single.V[i].ToArray<float>(), multi.V[i].ToArray<float>());
            Assert.Equal(single.X[i].ToArray<float>(), multi.X[i].ToArray<float>());
        }
        Assert.NotEqual(Make().P[0].ToArray<float>(), multi.P[0].ToArray<float>());

        (Tensor[] P, Tensor[] G, Tensor[] M, Tensor[] V, Tensor[] X) Make()
        {
            var gen = new Random.Generator(9);
            return (sizes.Select(n => Tensor.Randn(new Shape(n), generator: gen).RequiresGrad_()).ToArray(),
                sizes.Select(n => Tensor.Randn(new Shape(n), generator: gen)).ToArray(),
                sizes.Select(n => Tensor.Zeros(new Shape(n))).ToArray(), sizes.Select(n => Tensor.Zeros(new Shape(n))).ToArray(),
                sizes.Select(n => Tensor.Zeros(new Shape(n))).ToArray());
        }
    }

    [Fact]
    public void Adam_over_a_list_refuses_mismatched_lists_and_dtypes()
    {
        Tensor[] one = [Tensor.Zeros(new Shape(4))], two = [Tensor.Zeros(new Shape(4)), Tensor.Zeros(new Shape(4))];
        TensorAssert.Throws<ArgumentException>(() => Functional.AdamUpdate(two, one, two, two, null, 1, 0.1), "adam", "2 parameters");
        Tensor[] mixed = [Tensor.Zeros(new Shape(4)), Tensor.Zeros(new Shape(4), DType.Float64)];
        TensorAssert.Throws<ArgumentException>(() => Functional.AdamUpdate(mixed, mixed, mixed, mixed, null, 1, 0.1), "adam", "float32", "float64");
        TensorAssert.Throws<ArgumentException>(() => Functional.AdamUpdate(one, one, [Tensor.Zeros(new Shape(3))], one, null, 1, 0.1), "adam", "[3]");
    }

    [Fact]
    public void Adam_update_moves_the_parameter_against_the_gradient_and_fills_its_moments()
    {
        var p = Tensor.FromArray(new float[] { 1, -2, 3 });
        var g = Tensor.FromArray(new float[] { 0.5f, -0.5f, 0 });
        var m = Tensor.Zeros(new Shape(3));
        var v = Tensor.Zeros(new Shape(3));
        Functional.AdamUpdate(p, g, m, v, null, step: 1, learningRate: 0.1);
        // After one step m̂/√v̂ = sign(g): each element moves by lr against its gradient (eps aside).
        TensorAssert.Close(new double[] { 0.9, -1.9, 3 }, p.ToArray<double>(), 1e-6, 0);
        TensorAssert.Close(new double[] { 0.05, -0.05, 0 }, m.ToArray<double>(), 1e-7, 0);
        TensorAssert.Close(new double[] { 2.5e-4, 2.5e-4, 0 }, v.ToArray<double>(), 0, 1e-4); // 1 − β2 in float32
    }

    [Fact]
    public void Updates_refuse_bad_tensors_with_a_clear_message()
    {
        var p = Tensor.Zeros(new Shape(4));
        var g = Tensor.Zeros(new Shape(4));
        TensorAssert.Throws<NotSupportedException>(() => Functional.SgdUpdate(Tensor.FromArray(new[] { 1, 2 }), Tensor.FromArray(new[] { 1, 2 }), null, 0.1),
            "sgd", "int32");
        TensorAssert.Throws<ArgumentException>(() => Functional.AdamUpdate(p, g, Tensor.Zeros(new Shape(3)), Tensor.Zeros(new Shape(4)), null, 1, 0.1),
            "adam", "[3]", "[4]");
        TensorAssert.Throws<ArgumentException>(() => Functional.AdagradUpdate(p, Tensor.Zeros(new Shape(4), DType.Float64), Tensor.Zeros(new Shape(4)), 1, 0.1),
            "adagrad", "float64", "float32");
        TensorAssert.Throws<ArgumentException>(() => Functional.SgdUpdate(p, g, null, 0.1, momentum: 0.9), "sgd", "momentum buffer");
        TensorAssert.Throws<ArgumentException>(() => Functional.RmsPropUpdate(p, g, Tensor.Zeros(new Shape(4)), null, null, 0.1, momentum: 0.9), "rmsprop", "momentum buffer");
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => Functional.AdamUpdate(p, g, Tensor.Zeros(new Shape(4)), Tensor.Zeros(new Shape(4)), null, 0, 0.1), "step");
    }
}
