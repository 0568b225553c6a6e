using BindingFlags = System.Reflection.BindingFlags;
using Loom.Models;

namespace Loom.Explain.Tests;

public sealed class ActivationTests
{
    private static int HookCount(Module m) =>
        ((System.Collections.ICollection)typeof(Module).GetField("_hooks", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(m)!).Count;

    [Fact]
    public void Capture_removes_its_hooks_and_leaves_outputs_unchanged()
    {
        Generator.ManualSeed(1);
        var model = ModelZoo.SmallCnn((1, 8, 8), 10);
        model.Eval();
        var user = model.NamedModules().Single(m => m.Name == "2").Module.RegisterForwardHook((_, _, _) => { });
        var x = TestTensors.Randn(2, DType.Float32, 4, 1, 8, 8);
        Tensor before;
        using (new NoGrad()) before = model.Forward(x);
        var counts = model.Modules().Select(HookCount).ToArray();
        var outputs = ActivationCapture.Outputs(model, x);
        Assert.Equal(model.NamedModules().Count(m => m.Name.Length > 0 && !m.Module.Children().Any()), outputs.Count);
        Assert.Equal([4, 32, 8, 8], outputs["0"].Shape.ToArray());
        Assert.Equal(counts, model.Modules().Select(HookCount).ToArray()); // the user's hook stays, ours are gone
        Tensor after;
        using (new NoGrad()) after = model.Forward(x);
        TensorAssert.Close(before, after, atol: 0, rtol: 0);
        // The last layer's captured output is the model's output.
        TensorAssert.Close(before, outputs["12"], atol: 0, rtol: 0);
        user.Remove();
        TensorAssert.Throws<ArgumentException>(() => new ActivationCapture(model, ["nope"], (_, _) => { }), "no layer 'nope'", "0, 1, 2");
        Assert.All(model.Modules(), m => Assert.Equal(0, HookCount(m)));
    }

    [Fact]
    public void Statistics_of_fixed_outputs_are_their_means_variances_zeros_and_saturation()
    {
        // Two batches of a [N, 2 units, 2 positions] output: unit 0 takes 0, 1, 2, 3, …; unit 1 is always zero.
        var first = Tensor.FromArray(new float[] { 0, 1, 0, 0, /**/ 2, 3, 0, 0 }, 2, 2, 2);
        var second = Tensor.FromArray(new float[] { 4, 5, 0, 0 }, 1, 2, 2);
        var outputs = new Queue<Tensor>([first, second]);
        var model = new Sequential(new Lambda(_ => outputs.Dequeue()), new Tanh());
        model.Eval();
        var batches = new (Tensor, Tensor?)[]
        {
            (Tensor.Zeros(2, 1), Tensor.FromArray(new long[] { 0, 1 })),
            (Tensor.Zeros(1, 1), Tensor.FromArray(new long[] { 1 })),
        };
        var stats = ActivationStatistics.Collect(model, batches, ["0", "1"], classes: 2, top: 2);
        var raw = stats[0];
        Assert.Equal([2.5, 0], raw.Mean);
        Assert.Equal(35.0 / 12, raw.Variance[0], 12); // population variance of 0…5
        Assert.Equal([1.0 / 6, 1], raw.ZeroFraction);
        Assert.Equal([1], raw.DeadUnits);
        Assert.Null(raw.SaturationFraction);
        Assert.Equal([0.5, 0], raw.ClassMeans[0]);
        Assert.Equal([(2.5 + 4.5) / 2, 0], raw.ClassMeans[1]);
        Assert.Equal([2, 1], raw.TopExamples[0]);
        Assert.Equal(1.25, raw.LayerMean, 12);
        Assert.Equal(Enumerable.Range(0, 6).Select(v => (double)v).Concat(new double[6]).Select(v => v * v).Average() - 1.25 * 1.25, raw.LayerVariance, 12);
        var tanh = stats[1];
        Assert.Equal("Tanh", tanh.Kind);
        // tanh(3), tanh(4) and tanh(5) exceed 0.99; tanh(2) = 0.964 does not.
        Assert.Equal([3.0 / 6, 0], tanh.SaturationFraction!);
    }

    private sealed class Lambda(Func<Tensor, Tensor> f) : Module<Tensor, Tensor>
    {
        protected override Tensor ForwardCore(Tensor input) => f(input);
    }

    [Fact]
    public void Statistics_find_exactly_the_units_killed_in_the_default_digits_cnn()
    {
        Generator.ManualSeed(3);
        var test = Digits.Load().Test;
        var model = ModelZoo.SmallCnn((1, 28, 28), 10);
        model.Eval();
        var batches = Enumerable.Range(0, 4).Select(b => (test.Inputs.Narrow(0, b * 128, 128), (Tensor?)test.Targets.Narrow(0, b * 128, 128))).ToList();
        var before = ActivationStatistics.Collect(model, batches, classes: 10).ToDictionary(s => s.Name);
        // An untrained network has dead hidden units of its own (its positive inputs are much alike, so a unit's sign
        // hardly varies): the killed units are chosen among the live ones, and must be found on top of the others.
        // Killing channels changes what the later layers see, so the head's units are counted again before its kill.
        int[] channels = Live(before["6"]).Take(2).ToArray();
        var norm = (BatchNorm2d)model.NamedModules().Single(m => m.Name == "5").Module;
        using (new NoGrad())
            foreach (int k in channels)
            {
                // Channel k of the second block: γ = 0, β = −1 makes its batch-norm output −1, which ReLU turns to 0.
                norm.Weight!.Narrow(0, k, 1).FillInPlace(0);
                norm.Bias!.Narrow(0, k, 1).FillInPlace(-1);
            }
        var middle = ActivationStatistics.Collect(model, batches, classes: 10).ToDictionary(s => s.Name);
        Assert.Equal(before["6"].DeadUnits.Concat(channels).Order(), middle["6"].DeadUnits);
        Assert.Equal(before["2"].DeadUnits, middle["2"].DeadUnits); // the first block is untouched
        int[] hidden = Live(middle["10"]).Skip(3).Take(2).ToArray();
        var linear = (Linear)model.NamedModules().Single(m => m.Name == "9").Module;
        using (new NoGrad())
            foreach (int j in hidden)
            {
                // Hidden unit j of the head: zero weights and a negative bias.
                linear.Weight.Narrow(0, j, 1).FillInPlace(0);
                linear.Bias!.Narrow(0, j, 1).FillInPlace(-0.5);
            }
        var after = ActivationStatistics.Collect(model, batches, classes: 10).ToDictionary(s => s.Name);
        Assert.Equal(middle["10"].DeadUnits.Concat(hidden).Order(), after["10"].DeadUnits);
        Assert.Equal(middle["6"].DeadUnits, after["6"].DeadUnits);
        Assert.Equal(64, after["6"].Units);
        Assert.Equal(10, after["6"].ClassMeans.Length);
    }

    private static IEnumerable<int> Live(LayerStatistics stats) => Enumerable.Range(0, stats.Units).Except(stats.DeadUnits);

    [Fact]
    public void Pca_finds_the_axes_of_data_built_from_two_known_directions()
    {
        // x = 3a·u + b·w with a, b standard normal, u ⊥ w: the axes are ±u, ±w, with variance ratios var(3a) : var(b).
        int n = 400, d = 50;
        var g = new Generator(5);
        var u = new double[d];
        var w = new double[d];
        for (int i = 0; i < d; i++) (u[i], w[i]) = (i < 25 ? 0.2 : 0, i >= 25 ? 0.2 : 0);
        var a = Enumerable.Range(0, n).Select(_ => 3 * g.NextNormal()).ToArray();
        var b = Enumerable.Range(0, n).Select(_ => g.NextNormal()).ToArray();
        // Made exactly uncorrelated with a in this sample (centred, then b's component along a removed), so that the
        // sample's axes are exactly u and w rather than a slight rotation of them.
        double meanA = a.Average(), meanB = b.Average();
        a = a.Select(v => v - meanA).ToArray();
        b = b.Select(v => v - meanB).ToArray();
        double along = a.Zip(b, (p, q) => p * q).Sum() / a.Sum(v => v * v);
        b = b.Select((v, i) => v - along * a[i]).ToArray();
        var rows = new double[n * d];
        for (int r = 0; r < n; r++)
            for (int i = 0; i < d; i++) rows[r * d + i] = a[r] * u[i] + b[r] * w[i] + 1.5;
        var (projection, axes, ratio) = Pca.Fit(Tensor.FromArray(rows, n, d));
        var first = axes.Select(0, 0).ToArray<double>();
        var second = axes.Select(0, 1).ToArray<double>();
        Assert.Equal(1, Math.Abs(first.Zip(u, (p, q) => p * q).Sum()), 9);
        Assert.Equal(1, Math.Abs(second.Zip(w, (p, q) => p * q).Sum()), 9);
        double va = Variance(a), vb = Variance(b);
        // u and w have norm 1 (25 × 0.2² = 1), so all the variance is in the two directions.
        Assert.Equal(va / (va + vb), ratio[0], 9);
        Assert.Equal(vb / (va + vb), ratio[1], 9);
        Assert.Equal(va, Variance(projection.Select(1, 0).ToArray<double>()), 9);
    }

    private static double Variance(double[] v) => v.Select(x => (x - v.Average()) * (x - v.Average())).Sum() / (v.Length - 1);
}
