using Loom.Compress;
using Loom.Models;
using Loom.Nn;

namespace Loom.Models.Tests.Vision;

/// <summary>
/// <see cref="Ensemble"/>: the members' softmax outputs averaged, at temperature 1 and at the distillation's T, against
/// values computed by hand; one member is that member; the teacher cache serves the ensemble's outputs as computed.
/// </summary>
public sealed class EnsembleTests
{
    // A member whose logits are its bias whatever the input: Linear(2 → 3) with zero weights.
    private static Linear Member(params float[] logits)
    {
        var layer = new Linear(2, 3);
        layer.LoadStateDict(new Dictionary<string, Tensor> { ["weight"] = Tensor.Zeros([3, 2]), ["bias"] = Tensor.FromArray(logits, [3]) });
        return layer;
    }

    private static double[] Softmax(Tensor logits, double temperature = 1) => logits.Div(temperature).Softmax(-1).ToArray<double>();

    [Fact]
    public void Its_probabilities_are_the_mean_of_the_members_softmax()
    {
        var ensemble = new Ensemble([Member(0, 0, 0), Member(MathF.Log(2), 0, 0)]);
        // Member 1: (1/3, 1/3, 1/3); member 2: e^ln2 = 2 against 1 and 1, so (1/2, 1/4, 1/4); their mean: (5/12, 7/24, 7/24).
        var output = ensemble.Forward(Tensor.Ones([4, 2]));
        Assert.Equal(new Shape(4, 3), output.Shape);
        var expected = new[] { 5.0 / 12, 7.0 / 24, 7.0 / 24 };
        var probabilities = Softmax(output);
        for (int i = 0; i < probabilities.Length; i++) Assert.Equal(expected[i % 3], probabilities[i], 1e-6);
        // The output is the log of that mean itself (already normalised), not some other logits with the same softmax.
        Assert.Equal(Math.Log(5.0 / 12), output.ToArray<double>()[0], 1e-6);
        Assert.Equal(2 * 3 * 3, ensemble.ParameterCount());
    }

    [Fact]
    public void At_temperature_T_the_softened_output_is_the_mean_of_the_members_softened_distributions()
    {
        var ensemble = new Ensemble([Member(4, 0, 0), Member(0, 2, -2)]) { Temperature = 2 };
        var output = ensemble.Forward(Tensor.Ones([1, 2]));
        // softmax(z / 2): member 1 ∝ (e², 1, 1), member 2 ∝ (1, e, e⁻¹).
        double e2 = Math.Exp(2), e = Math.E;
        var expected = new[] { (e2 / (e2 + 2) + 1 / (1 + e + 1 / e)) / 2, (1 / (e2 + 2) + e / (1 + e + 1 / e)) / 2, (1 / (e2 + 2) + (1 / e) / (1 + e + 1 / e)) / 2 };
        var softened = Softmax(output, 2);
        for (int i = 0; i < 3; i++) Assert.Equal(expected[i], softened[i], 1e-6);
        // Averaging at T = 1 and softening the average afterwards gives other targets: the temperature is not cosmetic.
        ensemble.Temperature = 1;
        Assert.NotEqual(expected[0], Softmax(ensemble.Forward(Tensor.Ones([1, 2])), 2)[0], 3);
        Assert.Throws<ArgumentOutOfRangeException>(() => ensemble.Temperature = 0);
    }

    [Fact]
    public void Out_of_fold_each_sample_averages_exactly_the_members_that_did_not_train_on_it()
    {
        // Probabilities: member 0 (1/3, 1/3, 1/3); member 1 (1/2, 1/4, 1/4); member 2 ∝ (1, 1, 2) = (1/4, 1/4, 1/2).
        var ensemble = new Ensemble([Member(0, 0, 0), Member(MathF.Log(2), 0, 0), Member(0, 0, MathF.Log(2))]);
        // Bit i: member i trained on the sample. Sample 0: member 0 did → mean of 1 and 2; sample 1: 1 and 2 did →
        // member 0 alone; sample 2: every member did → all three; sample 3: none did → all three; sample 4: member 2 did.
        ulong[] trainedOn = [0b001, 0b110, 0b111, 0b000, 0b100];
        ensemble.TrainedOn = x => x.Shape[0] == trainedOn.Length ? trainedOn : throw new InvalidOperationException("another batch");
        var probabilities = Softmax(ensemble.Forward(Tensor.Ones([5, 2])));
        double[][] p = [[1 / 3.0, 1 / 3.0, 1 / 3.0], [0.5, 0.25, 0.25], [0.25, 0.25, 0.5]];
        double[] Mean(params int[] members) => [.. Enumerable.Range(0, 3).Select(c => members.Average(m => p[m][c]))];
        double[][] expected = [Mean(1, 2), Mean(0), Mean(0, 1, 2), Mean(0, 1, 2), Mean(0, 1)];
        for (int b = 0; b < 5; b++)
            for (int c = 0; c < 3; c++) Assert.Equal(expected[b][c], probabilities[b * 3 + c], 1e-6);
        // The output is still the log of the averaged probabilities (normalised): member 0 alone for sample 1.
        Assert.Equal(Math.Log(1 / 3.0), ensemble.Forward(Tensor.Ones([5, 2])).ToArray<double>()[3], 1e-6);

        // At T = 2 the chosen members' softened distributions are averaged.
        ensemble.Temperature = 2;
        var softened = Softmax(ensemble.Forward(Tensor.Ones([5, 2])), 2);
        var member0 = Softmax(Tensor.FromArray(new float[] { 0, 0, 0 }, [1, 3]), 2);
        var member2 = Softmax(Tensor.FromArray(new float[] { 0, 0, MathF.Log(2) }, [1, 3]), 2);
        var member1 = Softmax(Tensor.FromArray(new float[] { MathF.Log(2), 0, 0 }, [1, 3]), 2);
        for (int c = 0; c < 3; c++)
        {
            Assert.Equal((member1[c] + member2[c]) / 2, softened[c], 1e-6);
            Assert.Equal(member0[c], softened[3 + c], 1e-6);
            Assert.Equal((member0[c] + member1[c]) / 2, softened[12 + c], 1e-6);
        }

        // Without the masks every sample gets all three.
        ensemble.Temperature = 1;
        ensemble.TrainedOn = null;
        var plain = Softmax(ensemble.Forward(Tensor.Ones([5, 2])));
        for (int b = 0; b < 5; b++) Assert.Equal(Mean(0, 1, 2)[0], plain[b * 3], 1e-6);
    }

    [Fact]
    public void One_member_gives_that_members_probabilities_and_predictions()
    {
        var member = new Linear(5, 4, generator: new Generator(3));
        var x = Tensor.Randn(new Shape(6, 5), generator: new Generator(4));
        var alone = Softmax(member.Forward(x));
        var ensembled = Softmax(new Ensemble([member]).Forward(x));
        for (int i = 0; i < alone.Length; i++) Assert.Equal(alone[i], ensembled[i], 1e-6);
    }

    [Fact]
    public void Members_scoring_other_classes_are_refused()
    {
        var ensemble = new Ensemble([Member(1, 2, 3), new Linear(2, 4)]);
        var error = Assert.Throws<InvalidOperationException>(() => ensemble.Forward(Tensor.Ones([1, 2])));
        Assert.Contains("same classes", error.Message);
        Assert.Throws<ArgumentException>(() => new Ensemble([]));
    }

    [Fact]
    public void The_teacher_cache_serves_the_ensembles_outputs_as_computed()
    {
        var ensemble = new Ensemble([new Linear(3, 5, generator: new Generator(1)), new Linear(3, 5, generator: new Generator(2))]) { Temperature = 4 };
        ensemble.Eval();
        var cache = new TeacherCache(ensemble.Forward);
        var x = Tensor.Randn(new Shape(8, 3), generator: new Generator(5));
        var first = cache.Forward(x).ToArray<float>();
        // The same samples in another order: served from memory, row for row what the ensemble gives.
        var reversed = x.Flip(0);
        var served = cache.Forward(reversed).ToArray<float>();
        Assert.Equal((8L, 8L), (cache.Misses, cache.Hits));
        Assert.Equal(ensemble.Forward(reversed).ToArray<float>(), served);
        Assert.Equal(first.AsSpan(7 * 5, 5).ToArray(), served.AsSpan(0, 5).ToArray());
    }
}
