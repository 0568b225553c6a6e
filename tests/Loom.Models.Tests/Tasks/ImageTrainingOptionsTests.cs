namespace Loom.Models.Tests.Tasks;

/// <summary>
/// Classification's image-training options: `--augment` changes the samples the trainer sees and nothing else (not
/// validation, not test), is refused for tables, and `--label-smoothing` reaches the loss.
/// </summary>
public sealed class ImageTrainingOptionsTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static TrainingConfig Digits(ClassificationOptions options) =>
        Models.Tasks.Resolve(new TrainingConfig { Data = "digits", Model = "resnet-mini", MaxSteps = 1 }.WithTaskOptions(options)).Config;

    [Fact]
    public void Augmentation_shifts_training_images_but_leaves_validation_and_test_alone()
    {
        var config = Digits(new ClassificationOptions { Augment = ["crop"] });
        var setup = Pipeline.Prepare(config, folder: null);

        var train = setup.TrainLoader.Dataset;
        Assert.IsNotType<TensorDataset>(train);
        Assert.IsType<TensorDataset>(setup.ValidationLoader!.Dataset);
        Assert.IsType<TensorDataset>(setup.TestLoader.Dataset);

        // The same seed holds out the same rows, so sample i of the loader's dataset is row i below; a crop moves ink without
        // adding any: each augmented digit's ink is at most its original's, and most digits move.
        var heldOutTrain = setup.Data.HoldOut(config.ValidationFraction, config.Seed).Train;
        int moved = 0;
        for (int i = 0; i < 50; i++)
        {
            var original = heldOutTrain[i].Input;
            var augmented = train[i].Input;
            Assert.Equal(original.Shape, augmented.Shape);
            Assert.True(augmented.Sum().Item() <= original.Sum().Item() + 1e-3);
            if (augmented.Sub(original).Abs().Max().Item() > 0) moved++;
        }
        Assert.InRange(moved, 30, 50); // a zero shift in both directions has probability (1/7)²
    }

    [Fact]
    public void Augmentation_names_are_checked_and_tables_refuse_it()
    {
        TensorAssert.Throws<ArgumentException>(() => Digits(new ClassificationOptions { Augment = ["rotate"] }), "--augment", "crop, flip, erase", "rotate");
        TensorAssert.Throws<ArgumentException>(() => Digits(new ClassificationOptions { LabelSmoothing = 1 }), "--label-smoothing");
        var csv = TestFiles.TableCsv(_temp.Path);
        var config = Models.Tasks.Resolve(new TrainingConfig { Data = csv }.WithTaskOptions(new ClassificationOptions { Target = "label", Augment = ["erase"] })).Config;
        TensorAssert.Throws<ArgumentException>(() => new ClassificationTask().Load(config), "--augment erase", "table");
    }

    [Fact]
    public void Label_smoothing_reaches_the_loss()
    {
        var task = new ClassificationTask();
        var data = task.Load(Digits(new ClassificationOptions { LabelSmoothing = 0.2 }));
        // Two classes for a hand-worked value: p = softmax(ln 3, 0) = (3/4, 1/4), target 0 smoothed to (0.9, 0.1).
        var logits = Tensor.FromArray(new[] { (float)Math.Log(3), 0f }, 1, 2);
        double expected = -(0.9 * Math.Log(0.75) + 0.1 * Math.Log(0.25));
        Assert.Equal(expected, task.Loss(data)(logits, Tensor.FromArray(new long[] { 0 })).Item(), 5);
        var plain = task.Load(Digits(new ClassificationOptions()));
        Assert.Equal(-Math.Log(0.75), task.Loss(plain)(logits, Tensor.FromArray(new long[] { 0 })).Item(), 5);
    }
}
