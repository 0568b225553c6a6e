using System.Text.Json;

namespace Loom.Models;

/// <summary>
/// Open-set verification data from a labelled image dataset: the training split of every class but the last
/// <see cref="FaceVerificationOptions.HeldOut"/> (class indices 0..k−1) to train on, and the test split of those held-out
/// classes only to verify and identify on: identities the network has never seen, as faces at a door would be.
/// </summary>
public sealed class FaceVerificationData(TensorDataset train, TensorDataset test, FaceModelShape shape, IReadOnlyList<string> heldOutNames, FaceVerificationOptions options, string description) : TaskData
{
    /// <summary>
    /// The held-out classes' training-split images (targets index <see cref="HeldOutNames"/>), never trained on: open-set
    /// choices such as the score normalisation are made on them, so the test images decide nothing. Null when the
    /// source has none.
    /// </summary>
    public TensorDataset? HeldOutValidation { get; init; }

    /// <summary>
    /// The other half of the held-out classes' spread training-split images, as images only (no label is kept): the
    /// in-domain AS-norm cohort and the images `--adapt-from` clusters into pseudo-identities. Never in a test pair,
    /// never in <see cref="HeldOutValidation"/>. Null when the source has none.
    /// </summary>
    public Tensor? UnlabelledHeldOut { get; init; }

    /// <summary>
    /// The images of labelled training identities the training-class AS-norm cohort is embedded from (no
    /// pseudo-identity of `--adapt-from` among them); null: <see cref="Train"/>.
    /// </summary>
    public TensorDataset? LabelledTrain { get; init; }

    public FaceVerificationOptions Options { get; } = options;

    public const string ShapeFile = "faces.json";

    public override TensorDataset Train { get; } = train;

    /// <summary>Held-out classes' test images; targets index <see cref="HeldOutNames"/>.</summary>
    public override TensorDataset Test { get; } = test;

    public FaceModelShape Shape { get; } = shape;

    public IReadOnlyList<string> HeldOutNames { get; } = heldOutNames;

    public override string Description { get; } = description;

    public override Tensor Strata => Train.Targets;

    /// <summary>The `--augment` transform of training images (never validation or test ones); null for none.</summary>
    public ITransform? Augmentation { get; init; }

    public override IDataset<Sample> ForTraining(IDataset<Sample> train)
    {
        if (Augmentation is null) return train;
        if (Shape.Projection == 0) return train.WithTransform(Augmentation);
        // SupCon's two views: the image augmented twice, independently, stacked on the channel axis ([2C, H, W]), which
        // is how FaceEmbedder takes views; the trainer and its batching stay as they are.
        var augment = Augmentation;
        return train.Map(s => s with { Input = Tensor.Cat([augment.Apply(s.Input), augment.Apply(s.Input)]) });
    }

    public override void Save(RunFolder folder) => File.WriteAllText(folder.File(ShapeFile), JsonSerializer.Serialize(Shape));

    public override TaskData Fold(int[] train, int[] validation) =>
        throw new InvalidDataException("loom cv does not apply to face verification: its test split is classes held out of training, not rows");

    /// <summary>Reads a built-in image dataset (`--task face-verification --data fashion-mnist`).</summary>
    public static FaceVerificationData Load(TrainingConfig config)
    {
        var options = config.GetTaskOptions<FaceVerificationOptions>();
        if (!BuiltinDatasets.Names.Contains(config.Data, StringComparer.OrdinalIgnoreCase))
            throw new ArgumentException($"--data {config.Data}: face verification trains on a built-in image dataset ({string.Join(", ", BuiltinDatasets.Names)})");
        var split = BuiltinDatasets.Load(config.Data);
        int classes = split.Info.ClassNames.Count, trained = classes - options.HeldOut;
        if (trained < 2) throw new ArgumentException($"--held-out {options.HeldOut} leaves {trained} of {split.Info.ClassNames.Count} classes to train on; at least 2 are needed");
        var trainRows = Rows(split.Train, c => c < trained);
        var test = split.Test.Gather(Rows(split.Test, c => c >= trained));
        var heldOutTrain = split.Train.Gather(Rows(split.Train, c => c >= trained));
        var names = split.Info.ClassNames;
        int[] input = split.Info.InputShape;
        var train = split.Train.Gather(trainRows);
        var trainedNames = names.Take(trained).ToList();
        var (unlabelled, validation) = heldOutTrain.Count >= 4 ? SplitHeldOut(Renumbered(heldOutTrain, trained)) : (null, null);
        string extraText = "";
        if (options.ExtraData is { } extraName)
        {
            var (extra, extraNames) = string.Equals(extraName, Glyphs.Name, StringComparison.OrdinalIgnoreCase)
                ? GlyphIdentities(options, input, config.Seed, firstTarget: trained)
                : ExtraIdentities(extraName, split.Info.Name, input, perClass: trainRows.Length / trained, firstTarget: trained);
            train = new TensorDataset(Tensor.Cat([train.Inputs, extra.Inputs]), Tensor.Cat([train.Targets.To(DType.Int64), extra.Targets]));
            trainedNames.AddRange(extraNames);
            extraText = $" + {extraNames.Count} classes of {extraName} ({extra.Count} images)";
        }
        var labelledTrain = train;
        if (options.AdaptFrom is { } adaptFrom)
        {
            if (unlabelled is null) throw new ArgumentException($"--adapt-from: {split.Info.Name} has no training-split images of the held-out classes to cluster");
            var (pseudo, count, silhouette) = AdaptationIdentities(adaptFrom, config, options, unlabelled, firstTarget: trainedNames.Count);
            train = new TensorDataset(Tensor.Cat([train.Inputs, pseudo.Inputs]), Tensor.Cat([train.Targets.To(DType.Int64), pseudo.Targets]));
            trainedNames.AddRange(Enumerable.Range(0, count).Select(c => $"pseudo:{c}"));
            extraText += string.Create(CultureInfo.InvariantCulture,
                $" + {count} pseudo-identities clustered from {unlabelled.Shape[0]} unlabelled held-out images by {adaptFrom} (silhouette {silhouette:F3}{(pseudo.Count < unlabelled.Shape[0] ? $"; the surest {pseudo.Count} trained on" : "")})");
        }
        var shape = new FaceModelShape(input, trainedNames.Count, options.Embedding, config.Model ?? FaceVerificationTask.ModelName, options.EmbeddingNorm == "batch",
            options.Contrastive ? options.Projection : 0, MarginHead: options.Loss != "supcon", Parts: options.Parts);
        return new FaceVerificationData(train, Renumbered(test, trained), shape, names.Skip(trained).ToArray(), options,
            $"{split.Info.Name}: trained on {trained} classes ({string.Join(", ", names.Take(trained))}){extraText}, verified on {options.HeldOut} held out ({string.Join(", ", names.Skip(trained))})")
        {
            Augmentation = options.Augment is { Length: > 0 } augment ? ImageAugmentation.Create(augment, input[^2], input[^1], config.Seed) : null,
            HeldOutValidation = validation,
            UnlabelledHeldOut = unlabelled,
            LabelledTrain = labelledTrain,
        };
    }

    /// <summary>
    /// The held-out classes' training-split images, spread evenly to at most
    /// <see cref="FaceVerificationEvaluation.ValidationSize"/>, cut in two by alternate rows: the even rows as images
    /// without labels (the in-domain cohort and the adaptation images) and the odd rows, labelled, whose pairs are
    /// scored for every open-set choice. No image is in both, and neither holds a test image.
    /// </summary>
    public static (Tensor Unlabelled, TensorDataset Validation) SplitHeldOut(TensorDataset heldOut)
    {
        var spread = Spread(heldOut, FaceVerificationEvaluation.ValidationSize);
        return (spread.Gather([.. Enumerable.Range(0, (spread.Count + 1) / 2).Select(k => 2 * k)]).Inputs,
            spread.Gather([.. Enumerable.Range(0, spread.Count / 2).Select(k => 2 * k + 1)]));
    }

    /// <summary>At most <paramref name="count"/> rows spread evenly over the dataset's order, so every class keeps its share.</summary>
    internal static TensorDataset Spread(TensorDataset data, int count) =>
        data.Count <= count ? data : data.Gather([.. Enumerable.Range(0, count).Select(k => (int)((long)k * data.Count / count))]);

    /// <summary>
    /// `--adapt-from RUN`: the unlabelled held-out images embedded by an earlier run on the same data and held-out
    /// classes, clustered (<see cref="PseudoIdentities"/>, k by silhouette up to `--adapt-clusters`), each cluster an
    /// identity numbered from <paramref name="firstTarget"/>.
    /// </summary>
    private static (TensorDataset Data, int Clusters, double Silhouette) AdaptationIdentities(string run, TrainingConfig config, FaceVerificationOptions options, Tensor unlabelled, int firstTarget)
    {
        if (!Directory.Exists(run)) throw new ArgumentException($"--adapt-from {run}: no such run folder");
        var folder = new RunFolder(run);
        var earlier = TrainedWeights.ReadConfig(folder, FaceVerificationTask.TaskName, "train --adapt-from");
        if (!string.Equals(earlier.Data, config.Data, StringComparison.OrdinalIgnoreCase) || earlier.GetTaskOptions<FaceVerificationOptions>().HeldOut != options.HeldOut)
            throw new ArgumentException($"--adapt-from {run}: that run verified on other held-out classes (--data {earlier.Data}, --held-out {earlier.GetTaskOptions<FaceVerificationOptions>().HeldOut}); it must match --data {config.Data} --held-out {options.HeldOut}");
        var shape = ReadShape(folder);
        var model = FaceVerificationTask.CreateModel(shape);
        TrainedWeights.Load(model, folder);
        var embeddings = FaceVerificationEvaluation.Embed(model, unlabelled);
        int n = unlabelled.Shape[0];
        var (assignment, clusters, silhouettes) = PseudoIdentities.Cluster(embeddings, model.Dimension, Math.Min(options.AdaptClusters, n - 1), config.Seed, options.AdaptMinClusters);
        var kept = PseudoIdentities.Confident(embeddings, model.Dimension, assignment, clusters, options.AdaptKeep);
        var targets = Tensor.FromArray(kept.Select(i => (long)(assignment[i] + firstTarget)).ToArray(), kept.Length);
        return (new TensorDataset(new TensorDataset(unlabelled, Tensor.FromArray(new long[n], n)).Gather(kept).Inputs, targets), clusters, silhouettes[clusters - options.AdaptMinClusters]);
    }

    /// <summary>
    /// Every class of the built-in dataset <paramref name="name"/> as further training identities numbered from
    /// <paramref name="firstTarget"/>: at most <paramref name="perClass"/> training images each (the first ones), so the
    /// extra identities weigh as much as the main ones rather than drowning them (Fashion-MNIST has 6,000 a class).
    /// </summary>
    private static (TensorDataset Data, IReadOnlyList<string> Names) ExtraIdentities(string name, string main, int[] input, int perClass, int firstTarget)
    {
        if (!BuiltinDatasets.Names.Contains(name, StringComparer.OrdinalIgnoreCase))
            throw new ArgumentException($"--extra-data {name}: expected a built-in image dataset ({string.Join(", ", BuiltinDatasets.Names)})");
        var split = BuiltinDatasets.Load(name);
        if (split.Info.Name == main) throw new ArgumentException($"--extra-data {name} is the --data dataset itself; it would add the held-out classes to training");
        if (!split.Info.InputShape.SequenceEqual(input))
            throw new ArgumentException($"--extra-data {name}: its images are [{string.Join(", ", split.Info.InputShape)}], the --data images [{string.Join(", ", input)}]; they must match");
        var targets = split.Train.Targets.ToArray<long>();
        var taken = new int[split.Info.ClassNames.Count];
        var rows = Enumerable.Range(0, targets.Length).Where(i => taken[targets[i]]++ < perClass).ToArray();
        var picked = split.Train.Gather(rows);
        var shifted = Tensor.FromArray(picked.Targets.ToArray<long>().Select(t => t + firstTarget).ToArray(), picked.Count);
        return (new TensorDataset(picked.Inputs, shifted), [.. split.Info.ClassNames.Select(c => $"{split.Info.Name}:{c}")]);
    }

    /// <summary>
    /// <see cref="FaceVerificationOptions.Glyphs"/> characters rendered from the installed fonts as further training
    /// identities, <see cref="FaceVerificationOptions.GlyphSamples"/> renders each (<see cref="Loom.Data.Glyphs"/>).
    /// </summary>
    private static (TensorDataset Data, IReadOnlyList<string> Names) GlyphIdentities(FaceVerificationOptions options, int[] input, ulong seed, int firstTarget)
    {
        if (!input.SequenceEqual([1, Glyphs.Size, Glyphs.Size]))
            throw new ArgumentException($"--extra-data glyphs renders [1, {Glyphs.Size}, {Glyphs.Size}] images; the --data images are [{string.Join(", ", input)}]");
        var fonts = Glyphs.FindFonts();
        var identities = Glyphs.ChooseIdentities(fonts, options.Glyphs);
        var (data, names) = Glyphs.Render(fonts, identities, options.GlyphSamples, seed, firstTarget);
        return (data, [.. names.Select(n => $"{Glyphs.Name}:{n}")]);
    }

    // Held-out classes renumbered from 0, so their targets index the held-out names.
    private static TensorDataset Renumbered(TensorDataset heldOut, int trained) =>
        new(heldOut.Inputs, Tensor.FromArray(heldOut.Targets.ToArray<long>().Select(t => t - trained).ToArray(), heldOut.Count));

    private static int[] Rows(TensorDataset data, Func<long, bool> keep)
    {
        var targets = data.Targets.ToArray<long>();
        return [.. Enumerable.Range(0, targets.Length).Where(i => keep(targets[i]))];
    }

    /// <summary>The shape a face run's model was built with, as <see cref="Save"/> wrote it.</summary>
    public static FaceModelShape ReadShape(RunFolder folder)
    {
        var path = folder.File(ShapeFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{folder.Path} has no {ShapeFile}; was it trained by loom train --task face-verification?", path);
        try
        {
            return JsonSerializer.Deserialize<FaceModelShape>(File.ReadAllText(path)) is { InputShape.Length: 3, TrainedClasses: >= 2, Embedding: >= 2 } shape
                ? shape
                : throw new InvalidDataException($"{path}: expected input_shape [C, H, W], trained_classes ≥ 2 and embedding ≥ 2, as loom train writes it");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not valid JSON ({e.Message})");
        }
    }
}

/// <summary>
/// What a face run's network takes and gives: images [C, H, W], the trained classes of its margin head, the embedding
/// length (of each part, with parts), the trunk (a model name), whether the embedding is batch-normalised, the size of
/// the contrastive projection head (0: none), whether there is a margin head (not with SupCon alone) and the part grids
/// (`--parts`; null: one global embedding). Runs written before the last five existed read as the small CNN without
/// the batch norm, with a margin head, no projection and no parts, which is what they were.
/// </summary>
public sealed record FaceModelShape(
    [property: System.Text.Json.Serialization.JsonPropertyName("input_shape")] int[] InputShape,
    [property: System.Text.Json.Serialization.JsonPropertyName("trained_classes")] int TrainedClasses,
    [property: System.Text.Json.Serialization.JsonPropertyName("embedding")] int Embedding,
    [property: System.Text.Json.Serialization.JsonPropertyName("model")] string Model = FaceVerificationTask.ModelName,
    [property: System.Text.Json.Serialization.JsonPropertyName("batch_norm_embedding")] bool BatchNormEmbedding = false,
    [property: System.Text.Json.Serialization.JsonPropertyName("projection")] int Projection = 0,
    [property: System.Text.Json.Serialization.JsonPropertyName("margin_head")] bool MarginHead = true,
    [property: System.Text.Json.Serialization.JsonPropertyName("parts")] string? Parts = null);
