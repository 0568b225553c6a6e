using Loom.Nn;

namespace Loom.Models.Tests.Tasks;

/// <summary>
/// `Pipeline.Prepare(lossModule:)`: a loss with parameters of its own (a distillation hint's regressor) has them trained
/// by the model's optimiser, while the model's weights stay the model's alone.
/// </summary>
public sealed class LossModuleTests
{
    [Fact]
    public void A_loss_module_is_trained_with_the_model_and_kept_out_of_its_weights()
    {
        var (trained, setup) = Train(withLossModule: true);
        Assert.Contains(trained.Weight, setup.Trainer.Optimizer.Parameters);
        Assert.Contains(trained.Bias!, setup.Trainer.Optimizer.Parameters);
        Assert.DoesNotContain(setup.Model.StateDict().Values, v => ReferenceEquals(v, trained.Weight));
        Assert.Equal(new Shape(4, 10), trained.Weight.Shape);
        Assert.True(MaxChange(trained) > 1e-3, $"the regressor moved {MaxChange(trained)}");

        // Without it the same loss back-propagates into the regressor, but no optimiser steps it: the check above could fail.
        var (ignored, _) = Train(withLossModule: false);
        Assert.Equal(0, MaxChange(ignored));
    }

    private static (Linear Regressor, Pipeline.Setup Setup) Train(bool withLossModule)
    {
        var config = Models.Tasks.Resolve(new TrainingConfig { Data = "digits", Model = "mlp", MaxSteps = 5, Threads = 1 }).Config;
        var regressor = Untrained();
        // The task loss plus a term only the regressor's parameters can lower (its outputs pulled to zero).
        Tensor Loss(Tensor output, Tensor target) => Functional.CrossEntropy(output, target).Add(regressor.Forward(output).Square().Mean());
        var setup = Pipeline.Prepare(config, folder: null, loss: Loss, lossModule: withLossModule ? regressor : null);
        setup.Trainer.Fit(setup.TrainLoader, null);
        Assert.Equal(5, setup.Trainer.GlobalStep);
        return (regressor, setup);
    }

    private static Linear Untrained() => new(10, 4, generator: new Generator(1));

    private static double MaxChange(Linear trained) =>
        trained.Weight.ToArray<float>().Zip(Untrained().Weight.ToArray<float>()).Max(p => Math.Abs(p.First - p.Second));
}
