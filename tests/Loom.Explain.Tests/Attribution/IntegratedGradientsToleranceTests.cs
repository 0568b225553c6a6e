namespace Loom.Explain.Tests;

public sealed class IntegratedGradientsToleranceTests
{
    [Fact]
    public void Samples_above_the_tolerance_are_integrated_again_with_doubled_steps_until_they_meet_it()
    {
        // A ReLU network's gradient jumps where units switch along the path: 4 Gauss–Legendre nodes miss by percents.
        var (model, _, _) = TestModels.ReluNet(6, 16, 3, seed: 5);
        var x = TestTensors.Randn(6, DType.Float64, 20, 6).Mul(2);
        var targets = Tensor.FromArray(Enumerable.Range(0, 20).Select(i => (long)(i % 3)).ToArray());
        var plain = new IntegratedGradients(model) { Steps = 4 }.Explain(x, targets);
        var refined = new IntegratedGradients(model) { Steps = 4, Tolerance = 0.01, MaxSteps = 4096 }.Explain(x, targets);

        var before = plain.RelativeError;
        Assert.True(before.Count(e => e > 0.01) >= 3, $"the test needs samples above 1 % with 4 steps; errors {string.Join(", ", before)}");
        Assert.Equal(before, refined.FirstPassRelativeError);
        Assert.True(refined.MaxRelativeError <= 0.01, $"worst after refining {refined.MaxRelativeError}");
        for (int i = 0; i < 20; i++)
        {
            if (before[i] <= 0.01)
            {
                // Met the tolerance at once: untouched.
                Assert.Equal(4, refined.Steps[i]);
                Assert.Equal(plain.Attributions.Select(0, i).ToArray<double>(), refined.Attributions.Select(0, i).ToArray<double>());
                continue;
            }
            // Refined: exactly what that many steps give on this sample alone, and the first doubling that met the tolerance.
            int k = refined.Steps[i];
            Assert.True(k > 4 && (k & (k - 1)) == 0, $"sample {i}: {k} steps");
            var alone = new IntegratedGradients(model) { Steps = k }.Explain(x.Narrow(0, i, 1), targets.Narrow(0, i, 1));
            TensorAssert.Close(alone.Attributions.Select(0, 0), refined.Attributions.Select(0, i), atol: 1e-13, rtol: 1e-12);
            Assert.Equal(alone.Delta[0], refined.Delta[i], 12);
            Assert.True(new IntegratedGradients(model) { Steps = k / 2 }.Explain(x.Narrow(0, i, 1), targets.Narrow(0, i, 1)).MaxRelativeError > 0.01,
                $"sample {i} took {k} steps although {k / 2} met the tolerance");
        }
    }

    [Fact]
    public void Refinement_stops_at_the_step_cap_and_a_bad_tolerance_is_refused()
    {
        var (model, _, _) = TestModels.ReluNet(6, 16, 3, seed: 5);
        var x = TestTensors.Randn(6, DType.Float64, 20, 6).Mul(2);
        var targets = Tensor.FromArray(Enumerable.Range(0, 20).Select(i => (long)(i % 3)).ToArray());
        var capped = new IntegratedGradients(model) { Steps = 4, Tolerance = 1e-12, MaxSteps = 16 }.Explain(x, targets);
        Assert.All(capped.Steps, k => Assert.True(k is 4 or 16, $"{k} steps"));
        Assert.Contains(16, capped.Steps);
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => new IntegratedGradients(model) { Tolerance = 0 }.Explain(x, targets), "tolerance must be positive");
    }
}
