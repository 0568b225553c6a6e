using Loom.Nn;
using Loom.Random;

namespace Loom.Train.Tests.Training;

/// <summary>
/// A small, well-separated classification problem and the pieces to train on it, fast enough for unit tests:
/// Gaussian blobs (one per class, unit variance, centres 4 apart) and an MLP with optional dropout.
/// </summary>
internal static class TinyProblem
{
    public const int Features = 8;
    public const int Classes = 3;

    /// <summary><paramref name="count"/> samples, classes dealt in turn, Float32 [N, 8] inputs and Int64 [N] targets.</summary>
    public static TensorDataset Blobs(int count, ulong seed = 1)
    {
        var rng = new Generator(seed);
        var x = new float[count * Features];
        var y = new long[count];
        for (int i = 0; i < count; i++)
        {
            int c = i % Classes;
            y[i] = c;
            for (int f = 0; f < Features; f++)
                x[i * Features + f] = (float)rng.NextNormal() + (f % Classes == c ? 4f : 0f);
        }
        return new TensorDataset(Tensor.FromArray(x, count, Features), Tensor.FromArray(y));
    }

    /// <summary>Linear → ReLU → Dropout → Linear, initialised from <paramref name="seed"/>.</summary>
    public static Sequential Mlp(ulong seed = 7, double dropout = 0, int hidden = 16)
    {
        Generator.ManualSeed(seed);
        return new Sequential(new Linear(Features, hidden), new ReLU(), new Dropout(dropout), new Linear(hidden, Classes));
    }

    public static Tensor CrossEntropy(Tensor output, Tensor target) => Functional.CrossEntropy(output, target);

    public static IReadOnlyList<Func<IMetric>> Metrics => [() => new Accuracy()];

    /// <summary>Every parameter's values, by name, as doubles.</summary>
    public static Dictionary<string, double[]> Weights(Module model) =>
        model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray<double>());

    /// <summary>Asserts the two models hold bit-identical weights, naming the first tensor that differs.</summary>
    public static void AssertSameWeights(Module expected, Module actual)
    {
        var a = Weights(expected);
        var b = Weights(actual);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (name, values) in a)
            Loom.Testing.TensorAssert.Close(values, b[name], atol: 0, rtol: 0, what: name + " ");
    }
}
