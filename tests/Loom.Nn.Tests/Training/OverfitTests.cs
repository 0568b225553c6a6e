using Xunit.Abstractions;

namespace Loom.Nn.Tests.Training;

/// <summary>
/// Smoke tests of the whole training step: a small MLP and a small CNN must memorise one fixed batch (16 seeded
/// random inputs with random labels from 4 classes) to a cross-entropy below 0.05 with every optimiser. A broken
/// gradient anywhere in layer, loss, autograd or optimiser makes the loss stall well above that.
/// </summary>
public class OverfitTests(ITestOutputHelper output)
{
    private const int Samples = 16, Classes = 4, MaxSteps = 300;
    private const double Target = 0.05;

    public static TheoryData<string> OptimizerNames => new() { "sgd_momentum", "adam", "adamw", "rmsprop", "adagrad" };

    private static Optimizer Create(string name, IEnumerable<Parameter> parameters) => name switch
    {
        "sgd_momentum" => new Sgd(parameters, learningRate: 0.1, momentum: 0.9),
        "adam" => new Adam(parameters, learningRate: 0.01),
        "adamw" => new AdamW(parameters, learningRate: 0.01),
        "rmsprop" => new RmsProp(parameters, learningRate: 0.01),
        "adagrad" => new Adagrad(parameters, learningRate: 0.1),
        _ => throw new ArgumentException(name),
    };

    private static Tensor Labels() => Tensor.FromArray([0L, 1, 2, 3, 3, 1, 0, 2, 1, 2, 3, 0, 2, 0, 1, 3]);

    /// <summary>Trains until the loss is below the target; returns the first and the last loss and the steps taken.</summary>
    private static (double First, double Last, int Steps) Fit(Module<Tensor, Tensor> model, Tensor input, Tensor target, Optimizer optimizer)
    {
        var criterion = new CrossEntropyLoss();
        double first = double.NaN, last = double.NaN;
        for (int step = 0; step < MaxSteps; step++)
        {
            using var scope = new MemoryScope();
            optimizer.ZeroGrad();
            var loss = criterion.Forward(model.Forward(input), target);
            last = loss.Item();
            if (step == 0) first = last;
            if (last < Target) return (first, last, step);
            loss.Backward();
            optimizer.Step();
        }
        return (first, last, MaxSteps);
    }

    [Theory]
    [MemberData(nameof(OptimizerNames))]
    public void An_mlp_overfits_one_batch(string optimizer)
    {
        var g = new Generator(7);
        var model = new Sequential(new Linear(8, 32, generator: g), new ReLU(), new Linear(32, Classes, generator: g));
        var input = Tensor.Randn(new Shape(Samples, 8), new Generator(1));
        var (first, last, steps) = Fit(model, input, Labels(), Create(optimizer, model.Parameters()));
        output.WriteLine($"{optimizer}: {first:G4} → {last:G4} in {steps} steps");
        Assert.InRange(first, 1.0, 2.5); // starts near log 4: the labels are not given away
        Assert.True(last < Target, $"{optimizer}: cross-entropy still {last:G4} after {steps} steps (from {first:G4})");
    }

    [Theory]
    [MemberData(nameof(OptimizerNames))]
    public void A_cnn_overfits_one_batch(string optimizer)
    {
        var g = new Generator(11);
        // No pooling op in Loom.Core yet: a stride-2 convolution downsamples instead.
        var model = new Sequential(
            new Conv2d(1, 8, 3, padding: 1, generator: g), new ReLU(),
            new Conv2d(8, 8, 3, stride: 2, padding: 1, generator: g), new ReLU(),
            new Flatten(), new Linear(8 * 4 * 4, Classes, generator: g));
        var input = Tensor.Randn(new Shape(Samples, 1, 8, 8), new Generator(2));
        var (first, last, steps) = Fit(model, input, Labels(), Create(optimizer, model.Parameters()));
        output.WriteLine($"{optimizer}: {first:G4} → {last:G4} in {steps} steps");
        Assert.InRange(first, 1.0, 2.5);
        Assert.True(last < Target, $"{optimizer}: cross-entropy still {last:G4} after {steps} steps (from {first:G4})");
    }
}
