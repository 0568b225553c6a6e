namespace Loom.Models;

/// <summary>
/// Face recognition as metric learning: an embedding network trained with CosFace on some identities (classes), scored
/// open-set on identities held out of training — verification (ROC, equal error rate, TAR at FAR 1e-2) and
/// identification (top-1 nearest neighbour). No package ships faces labelled by identity, so the built-in image
/// datasets stand in (`--task face-verification --data fashion-mnist`: train on 7 classes, verify on the other 3);
/// `loom faces verify` compares two pictures, or scores a user's LFW-format folder (pairs.txt).
/// </summary>
public sealed class FaceVerificationTask : ITask
{
    public const string TaskName = "face-verification";
    public const string ModelName = "face-embedder";
    public const string ResNetModelName = "face-resnet";

    public static DataKind Identities { get; } = new("identities", "images labelled by identity");

    public string Name => TaskName;

    public string Description => "face recognition: an embedding trained with CosFace, ArcFace or SupCon, verified open-set on held-out identities, with loom faces verify";

    public string AcceptedData => $"a built-in image dataset when asked with --task {TaskName} ({string.Join(", ", BuiltinDatasets.Names)})";

    public IReadOnlyList<DataKind> Kinds { get; } = [Identities];

    public IReadOnlyList<TaskOption> Options => FaceVerificationOptions.Declared;

    // Images labelled by class are classification's unless face verification is asked for.
    public DataKind? Recognize(string data) => null;

    public DataKind? RecognizeWhenAsked(string data) => BuiltinDatasets.Names.Contains(data, StringComparer.OrdinalIgnoreCase) ? Identities : null;

    public TrainingDefaults TrainingDefaults { get; } = new(BatchSize: 128, Optimizer: "adamw", LearningRate: 3e-3, WeightDecay: 5e-4, Schedule: "cosine", ClipGradNorm: 0);

    public IReadOnlyList<string> Models(DataKind kind) => [ModelName, ResNetModelName];

    public TrainingConfig NormalizeOptions(TrainingConfig config)
    {
        var options = config.GetTaskOptions<FaceVerificationOptions>();
        options.Validate();
        FaceEmbedder.RequirePartsTrunk(options.Parts, config.Model ?? ModelName); // before the data loads, not after
        return config.WithTaskOptions(options);
    }

    public TaskData Load(TrainingConfig config, RunFolder? trainedRun = null, bool newData = false) => FaceVerificationData.Load(config);

    public Module<Tensor, Tensor> CreateModel(TrainingConfig config, TaskData data) => CreateModel(((FaceVerificationData)data).Shape);

    public static FaceEmbedder CreateModel(FaceModelShape shape) =>
        new(shape.InputShape[0], shape.InputShape[1], shape.InputShape[2], shape.TrainedClasses, shape.Embedding, shape.Model, shape.BatchNormEmbedding, shape.Projection, shape.MarginHead, shape.Parts);

    public Func<Tensor, Tensor, Tensor> Loss(TaskData data)
    {
        var d = (FaceVerificationData)data;
        var options = d.Options;
        double w = options.EffectiveInstanceWeight;
        if (options.Loss == "supcon") return (projections, targets) => SupCon.Loss(projections, targets, options.ContrastTemperature, w);
        Func<Tensor, Tensor, Tensor> margin = options.Loss == "arcface"
            ? (cosines, targets) => ArcFace.Loss(cosines, targets, options.Scale, options.Margin)
            : (cosines, targets) => CosFace.Loss(cosines, targets, options.Scale, options.Margin);
        if (options.Parts is not null) return (cosines, targets) => PartLoss(cosines, targets, margin);
        return options.Contrastive ? (output, targets) => SupCon.WithMargin(output, targets, d.Shape.TrainedClasses, margin, options.ContrastTemperature, w) : margin;
    }

    /// <summary>
    /// `--parts`: the margin loss of every part's cosines [N, parts, classes] against targets [N], averaged over the
    /// parts (PCB's sum of part losses, divided by their number so the learning rate means what it does without parts).
    /// </summary>
    public static Tensor PartLoss(Tensor cosines, Tensor targets, Func<Tensor, Tensor, Tensor> margin)
    {
        if (cosines.Rank != 3 || targets.Rank != 1 || targets.Shape[0] != cosines.Shape[0])
            throw new ArgumentException($"--parts: expected cosines [N, parts, classes] and targets [N], got {cosines.Shape} and {targets.Shape}");
        int n = cosines.Shape[0], parts = cosines.Shape[1];
        // Every row of every part is one sample of the margin loss, so its mean over N·parts is the parts' mean.
        var repeated = targets.To(DType.Int64).Unsqueeze(1).Expand(n, parts).Contiguous().Reshape(n * parts);
        return margin(cosines.Reshape(n * parts, cosines.Shape[2]), repeated);
    }

    // Contrastive training's output is views' projections, not one row of class scores: there is no training accuracy to count.
    // With parts, training accuracy is of the parts' mean cosines.
    public IReadOnlyList<Func<IMetric>> Metrics(TaskData data) => ((FaceVerificationData)data).Options switch
    {
        { Contrastive: true } => [],
        { Parts: not null } => [() => new PartMeanAccuracy()],
        _ => [() => new Accuracy()],
    };

    private sealed class PartMeanAccuracy : IMetric
    {
        private readonly Accuracy _accuracy = new();

        public string Name => _accuracy.Name;

        public bool HigherIsBetter => _accuracy.HigherIsBetter;

        public void Update(Tensor predictions, Tensor targets) => _accuracy.Update(predictions.Rank == 3 ? predictions.Mean([1]) : predictions, targets);

        public double Compute() => _accuracy.Compute();

        public void Reset() => _accuracy.Reset();
    }

    public TaskEvaluation Evaluate(Evaluator evaluator, TaskData data, IEnumerable<Batch> test)
    {
        var d = (FaceVerificationData)data;
        return FaceVerificationEvaluation.Of(evaluator, d, d.Options.Pairs);
    }

    /// <summary>Per held-out test image: its class and the class of its nearest other image (identification).</summary>
    public ResultTable Predict(Evaluator evaluator, TaskData data, IEnumerable<Batch> test)
    {
        var d = (FaceVerificationData)data;
        var model = (FaceEmbedder)evaluator.Model;
        var e = FaceVerificationEvaluation.Embed(model, d.Test.Inputs);
        var labels = d.Test.Targets.ToArray<long>();
        var nearest = Verification.NearestNeighbours(e, model.Dimension);
        var rows = new List<IReadOnlyList<Cell>>(labels.Length);
        for (int i = 0; i < labels.Length; i++)
        {
            var (best, similarity) = nearest[i];
            rows.Add([(long)i, d.HeldOutNames[(int)labels[i]], (long)best, d.HeldOutNames[(int)labels[best]], similarity.ToString("G4", CultureInfo.InvariantCulture)]);
        }
        return new ResultTable("Nearest neighbours", ["image", "class", "nearest", "nearest_class", "similarity"], rows);
    }
}
