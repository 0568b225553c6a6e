namespace Loom.Models.Tests.Tasks;

public sealed class FashionMnistFactAttribute() : InstalledDataFactAttribute(FaceVerificationTaskTests.FashionMnist);

public sealed class DejaVuFontsFactAttribute() : InstalledDataFactAttribute(FaceVerificationTaskTests.DejaVu);

/// <summary>The face-verification task: asked for, it trains on some classes and verifies on classes it never saw.</summary>
public sealed class FaceVerificationTaskTests
{
    internal static readonly InstalledData FashionMnist = new("Fashion-MNIST", "apt-get install dataset-fashion-mnist",
        Loom.Data.FashionMnist.Files.Select(f => Path.Combine(Loom.Data.FashionMnist.DefaultFolder, f)));

    internal static readonly InstalledData DejaVu = new("the DejaVu fonts", "apt-get install fonts-dejavu-core fonts-dejavu-extra",
        Path.Combine(Glyphs.DefaultFontFolder, "DejaVuSans.ttf"), Path.Combine(Glyphs.DefaultFontFolder, "DejaVuSerif.ttf"));

    private static TrainingConfig Quick() => new()
    {
        Task = FaceVerificationTask.TaskName, Data = "digits", Epochs = 1, Threads = 2,
        TaskOptions = new JsonObject { ["pairs"] = 2000, ["embedding"] = 32 },
    };

    [Fact]
    public void Images_go_to_classification_unless_face_verification_is_asked_for()
    {
        Assert.Equal("classification", Models.Tasks.Resolve(new TrainingConfig { Data = "digits" }).Task.Name);
        var (task, _, config) = Models.Tasks.Resolve(Quick());
        Assert.Equal((FaceVerificationTask.TaskName, FaceVerificationTask.ModelName), (task.Name, config.Model));
        var bad = Quick() with { TaskOptions = new JsonObject { ["held_out"] = 1 } };
        Assert.Contains("--held-out must be at least 2", Assert.Throws<ArgumentException>(() => Models.Tasks.Resolve(bad)).Message);
    }

    [Fact]
    public void Training_is_on_seven_classes_and_the_test_split_holds_only_the_other_three()
    {
        var (task, _, config) = Models.Tasks.Resolve(Quick());
        var data = (FaceVerificationData)task.Load(config);
        Assert.Equal(["7", "8", "9"], data.HeldOutNames);
        Assert.All(data.Train.Targets.ToArray<long>(), t => Assert.InRange(t, 0, 6));
        Assert.Equal([0L, 1L, 2L], data.Test.Targets.ToArray<long>().Distinct().Order());
        Assert.Equal(7, data.Shape.TrainedClasses);
        var digits = Loom.Data.Digits.Load();
        Assert.Equal(digits.Test.Targets.ToArray<long>().Count(t => t >= 7), data.Test.Count);
        // The held-out classes' training images, never trained on: half labelled, where the pair score is chosen, half
        // without labels, the in-domain cohort.
        var validation = data.HeldOutValidation!;
        Assert.Equal(digits.Train.Targets.ToArray<long>().Count(t => t >= 7), validation.Count + data.UnlabelledHeldOut!.Shape[0]);
        Assert.Equal([0L, 1L, 2L], validation.Targets.ToArray<long>().Distinct().Order());
    }

    [FashionMnistFact]
    public void Extra_data_adds_another_dataset_s_classes_as_balanced_identities_and_still_verifies_on_the_held_out_digits()
    {
        FashionMnist.Require();
        var (task, _, config) = Models.Tasks.Resolve(Quick() with { TaskOptions = new JsonObject { ["extra_data"] = "fashion-mnist" } });
        var data = (FaceVerificationData)task.Load(config);
        Assert.Equal(17, data.Shape.TrainedClasses);
        var targets = data.Train.Targets.ToArray<long>();
        int perDigit = targets.Count(t => t < 7) / 7;
        // Ten clothes identities, each with as many images as the average digit (not Fashion-MNIST's 6,000).
        Assert.All(Enumerable.Range(7, 10), c => Assert.Equal(perDigit, targets.Count(t => t == c)));
        Assert.Equal(["7", "8", "9"], data.HeldOutNames);
        var plain = (FaceVerificationData)task.Load(Models.Tasks.Resolve(Quick()).Config);
        Assert.True(plain.Test.Inputs.Equal(data.Test.Inputs));
    }

    [DejaVuFontsFact]
    public void Extra_glyphs_join_training_as_identities_drawn_alike_for_a_seed_and_the_held_out_digits_stay()
    {
        DejaVu.Require();
        TrainingConfig Glyphs(ulong seed) => Quick() with { Seed = seed, TaskOptions = new JsonObject { ["extra_data"] = "glyphs", ["glyphs"] = 5, ["glyph_samples"] = 3 } };
        var (task, _, config) = Models.Tasks.Resolve(Glyphs(1));
        var data = (FaceVerificationData)task.Load(config);
        Assert.Equal(12, data.Shape.TrainedClasses);
        var targets = data.Train.Targets.ToArray<long>();
        Assert.All(Enumerable.Range(7, 5), c => Assert.Equal(3, targets.Count(t => t == c)));
        Assert.Contains("+ 5 classes of glyphs (15 images)", data.Description);
        Assert.Equal(["7", "8", "9"], data.HeldOutNames);
        var plain = (FaceVerificationData)task.Load(Models.Tasks.Resolve(Quick()).Config);
        Assert.True(plain.Test.Inputs.Equal(data.Test.Inputs));
        Assert.True(plain.HeldOutValidation!.Inputs.Equal(data.HeldOutValidation!.Inputs));
        // The glyph images come after the digits', the same for the same seed and drawn anew for another.
        int digits = plain.Train.Count;
        Assert.True(plain.Train.Inputs.Equal(data.Train.Inputs.Narrow(0, 0, digits)));
        Assert.True(data.Train.Inputs.Equal(((FaceVerificationData)task.Load(Models.Tasks.Resolve(Glyphs(1)).Config)).Train.Inputs));
        Assert.False(data.Train.Inputs.Equal(((FaceVerificationData)task.Load(Models.Tasks.Resolve(Glyphs(2)).Config)).Train.Inputs));
        var none = Quick() with { TaskOptions = new JsonObject { ["extra_data"] = "glyphs", ["glyphs"] = 0 } };
        Assert.Contains("--glyphs must be between 1", Assert.Throws<ArgumentException>(() => Models.Tasks.Resolve(none)).Message);
    }

    [Fact]
    public void Extra_data_must_be_another_built_in_dataset()
    {
        var (task, _, config) = Models.Tasks.Resolve(Quick() with { TaskOptions = new JsonObject { ["extra_data"] = "digits" } });
        Assert.Contains("is the --data dataset itself", Assert.Throws<ArgumentException>(() => task.Load(config)).Message);
        var (_, _, unknown) = Models.Tasks.Resolve(Quick() with { TaskOptions = new JsonObject { ["extra_data"] = "cifar" } });
        Assert.Contains("--extra-data cifar: expected a built-in image dataset", Assert.Throws<ArgumentException>(() => task.Load(unknown)).Message);
    }

    [Fact]
    public void One_epoch_of_CosFace_separates_held_out_classes_better_than_the_untrained_network()
    {
        var setup = Pipeline.Prepare(Quick(), folder: null);
        var before = (FaceVerificationEvaluation)setup.Task.Evaluate(setup.Trainer.Evaluator, setup.Data, setup.TestLoader);
        setup.Trainer.Fit(setup.TrainLoader, setup.ValidationLoader);
        var after = (FaceVerificationEvaluation)setup.Task.Evaluate(setup.Trainer.Evaluator, setup.Data, setup.TestLoader);
        // One short epoch (a quick setting, not the quality run of docs/notes/vision.md): better than chance, and than before.
        Assert.True(after.Metrics["eer"] < before.Metrics["eer"] - 0.05, $"EER {after.Metrics["eer"]:F3} after training, {before.Metrics["eer"]:F3} before");
        Assert.True(after.Metrics["top1_identification"] > before.Metrics["top1_identification"],
            $"top-1 {after.Metrics["top1_identification"]:F3} after training, {before.Metrics["top1_identification"]:F3} before");
        Assert.InRange(after.Metrics["tar_at_far_1e-2"], 0, 1);
        Assert.True(double.IsNaN(after.Loss)); // no CosFace loss on classes the head does not know
    }

    [Fact]
    public void Loss_trunk_embedding_norm_and_augmentation_are_options_and_the_shape_file_records_the_network()
    {
        var asked = Quick() with { Model = FaceVerificationTask.ResNetModelName, TaskOptions = new JsonObject { ["loss"] = "arcface", ["margin"] = 0.2, ["augment"] = new JsonArray("crop") } };
        var (task, _, config) = Models.Tasks.Resolve(asked);
        var data = (FaceVerificationData)task.Load(config);
        Assert.Equal((7, 64, FaceVerificationTask.ResNetModelName, true), (data.Shape.TrainedClasses, data.Shape.Embedding, data.Shape.Model, data.Shape.BatchNormEmbedding));
        Assert.NotNull(data.Augmentation);
        var model = (FaceEmbedder)task.CreateModel(config, data);
        Assert.IsType<ResNet>(model.Backbone);
        // The loss is ArcFace's: the same cosines give ArcFace.Loss's value, not CosFace's.
        var cosines = Tensor.FromArray([0.5f, 0.2f, 0.1f, 0.7f, 0.3f, 0.0f, 0.2f, 0.1f, 0.4f, 0.6f, 0.1f, 0.3f, 0.2f, 0.9f], 2, 7);
        var targets = Tensor.FromArray([0L, 6L], 2);
        Assert.Equal(ArcFace.Loss(cosines, targets, 16, 0.2).Item(), task.Loss(data)(cosines, targets).Item(), 1e-6);
        Assert.Contains("--loss must be cosface, arcface or supcon", Assert.Throws<ArgumentException>(() => Models.Tasks.Resolve(Quick() with { TaskOptions = new JsonObject { ["loss"] = "triplet" } })).Message);
        Assert.Contains("--embedding-norm must be batch or none", Assert.Throws<ArgumentException>(() => Models.Tasks.Resolve(Quick() with { TaskOptions = new JsonObject { ["embedding_norm"] = "layer" } })).Message);
    }

    [Fact]
    public void Supcon_trains_on_two_different_views_of_each_image_through_a_projection_head_the_shape_file_records()
    {
        var asked = Quick() with { TaskOptions = new JsonObject { ["loss"] = "supcon", ["augment"] = new JsonArray("crop", "jitter"), ["contrast_temperature"] = 0.2, ["instance_weight"] = 0.4, ["projection"] = 24 } };
        var (task, _, config) = Models.Tasks.Resolve(asked);
        var data = (FaceVerificationData)task.Load(config);
        Assert.Equal(24, data.Shape.Projection);
        var sample = data.ForTraining(data.Train)[0];
        Assert.Equal(new Shape(2, 28, 28), sample.Input.Shape);
        // Two independent draws of the augmentation: the views differ from each other (and each from the image).
        Assert.False(sample.Input.Narrow(0, 0, 1).Equal(sample.Input.Narrow(0, 1, 1)));
        var model = (FaceEmbedder)task.CreateModel(config, data);
        Assert.Equal(24, FaceVerificationTask.CreateModel(data.Shape).Projector is Loom.Nn.Sequential p ? ((Loom.Nn.Linear)p[2]).OutFeatures : 0);
        var batch = Tensor.Stack([sample.Input, data.ForTraining(data.Train)[1].Input]);
        var projections = model.Forward(batch);
        Assert.Equal(new Shape(2, 2, 24), projections.Shape);
        var targets = Tensor.FromArray([data.Train.Targets.ToArray<long>()[0], data.Train.Targets.ToArray<long>()[1]], 2);
        Assert.Equal(SupCon.Loss(projections, targets, 0.2, 0.4).Item(), task.Loss(data)(projections, targets).Item(), 1e-6);
        Assert.Empty(task.Metrics(data)); // projections, not class scores: no accuracy
        Assert.Contains("--loss supcon compares two random views", Assert.Throws<ArgumentException>(() => Models.Tasks.Resolve(Quick() with { TaskOptions = new JsonObject { ["loss"] = "supcon" } })).Message);
        // A margin loss with an instance term: both heads, two views, and the blend of the two losses.
        var (_, _, blended) = Models.Tasks.Resolve(Quick() with { TaskOptions = new JsonObject { ["instance_weight"] = 0.2, ["augment"] = new JsonArray("crop") } });
        var blendedData = (FaceVerificationData)task.Load(blended);
        Assert.Equal((128, true), (blendedData.Shape.Projection, blendedData.Shape.MarginHead));
        Assert.Equal(new Shape(2, 28, 28), blendedData.ForTraining(blendedData.Train)[0].Input.Shape);
        var output = ((FaceEmbedder)task.CreateModel(blended, blendedData)).Forward(batch);
        Assert.Equal(new Shape(2, 2, 7 + 128), output.Shape);
        Assert.Equal(SupCon.WithMargin(output, targets, 7, (c, t) => CosFace.Loss(c, t, 16, 0.35), 0.1, 0.2).Item(), task.Loss(blendedData)(output, targets).Item(), 1e-6);
        Assert.Contains("--instance-weight compares two random views", Assert.Throws<ArgumentException>(() => Models.Tasks.Resolve(Quick() with { TaskOptions = new JsonObject { ["instance_weight"] = 0.2 } })).Message);
        // Without an instance weight a margin loss trains as before: one view, no projection head.
        var plain = (FaceVerificationData)task.Load(Models.Tasks.Resolve(Quick()).Config);
        Assert.Equal((0, true), (plain.Shape.Projection, plain.Shape.MarginHead));
        Assert.Null(((FaceEmbedder)task.CreateModel(config, plain)).Projector);
        Assert.Single(task.Metrics(plain));
        Assert.Contains("--instance-weight must be in [0, 1]", Assert.Throws<ArgumentException>(() => Models.Tasks.Resolve(asked with { TaskOptions = new JsonObject { ["loss"] = "supcon", ["augment"] = new JsonArray("crop"), ["instance_weight"] = 2 } })).Message);
    }

    [Fact]
    public void Parts_train_a_margin_head_per_cell_and_the_shape_file_records_the_grids()
    {
        var (task, _, config) = Models.Tasks.Resolve(Quick() with { TaskOptions = new JsonObject { ["parts"] = "1x1+2x2", ["embedding"] = 16 } });
        var data = (FaceVerificationData)task.Load(config);
        Assert.Equal("1x1+2x2", data.Shape.Parts);
        var model = (FaceEmbedder)task.CreateModel(config, data);
        Assert.Equal((5, 80), (model.Parts!.Parts, model.Dimension));
        var images = data.Train.Inputs.Narrow(0, 0, 4);
        if (images.Rank == 3) images = images.Unsqueeze(1);
        var cosines = model.Forward(images);
        Assert.Equal(new Shape(4, 5, 7), cosines.Shape);
        var targets = data.Train.Targets.Narrow(0, 0, 4);
        Assert.Equal(FaceVerificationTask.PartLoss(cosines, targets, (c, t) => CosFace.Loss(c, t, 16, 0.35)).Item(), task.Loss(data)(cosines, targets).Item(), 1e-6);
        // Training accuracy is of the parts' mean cosines.
        var accuracy = Assert.Single(task.Metrics(data))();
        accuracy.Update(cosines, targets);
        var reference = new Accuracy();
        reference.Update(cosines.Mean([1]), targets);
        Assert.Equal(reference.Compute(), accuracy.Compute());
        Assert.Contains("--parts takes grids", Assert.Throws<ArgumentException>(() => Models.Tasks.Resolve(Quick() with { TaskOptions = new JsonObject { ["parts"] = "2by2" } })).Message);
        Assert.Contains("does not combine with --loss supcon", Assert.Throws<ArgumentException>(() =>
            Models.Tasks.Resolve(Quick() with { TaskOptions = new JsonObject { ["parts"] = "2x2", ["loss"] = "supcon", ["augment"] = new JsonArray("crop") } })).Message);
        Assert.Contains("does not take --model face-resnet", Assert.Throws<ArgumentException>(() =>
            Models.Tasks.Resolve(Quick() with { Model = FaceVerificationTask.ResNetModelName, TaskOptions = new JsonObject { ["parts"] = "2x2" } })).Message);
    }

    [Fact]
    public void A_shape_file_written_before_trunks_and_embedding_norms_reads_as_the_small_cnn_without_batch_norm()
    {
        var dir = Directory.CreateTempSubdirectory("loom-faces-shape");
        try
        {
            var folder = new RunFolder(dir.FullName);
            File.WriteAllText(folder.File(FaceVerificationData.ShapeFile), """{"input_shape":[1,28,28],"trained_classes":7,"embedding":64}""");
            var shape = FaceVerificationData.ReadShape(folder);
            Assert.Equal((FaceVerificationTask.ModelName, false, null), (shape.Model, shape.BatchNormEmbedding, shape.Parts));
            var model = FaceVerificationTask.CreateModel(shape);
            Assert.Null(model.EmbeddingNorm);
            Assert.Null(model.Parts);
            // The small CNN's parameter names are those of runs written before parts existed, so their weights load.
            Assert.Equal(["backbone.0.weight", "backbone.13.weight", "backbone.13.bias", "head.weight"],
                model.NamedParameters().Select(p => p.Name).Where(n => n is "backbone.0.weight" or "backbone.13.weight" or "backbone.13.bias" or "head.weight"));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }
}
