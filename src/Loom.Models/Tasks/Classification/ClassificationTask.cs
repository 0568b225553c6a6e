namespace Loom.Models;

/// <summary>
/// One class per sample, from a table row (an MLP by default) or an image (a CNN by default): cross-entropy, accuracy
/// and macro F1, a per-class table and a confusion matrix; predictions are the class and its probabilities.
/// </summary>
public sealed class ClassificationTask : ITask
{
    public const string TaskName = "classification";

    internal static string Accepted =>
        $"a .csv file (with --target), an image folder (one sub-folder per class), a folder of IDX or CIFAR binary files or a built-in dataset ({string.Join(", ", BuiltinDatasets.Names)})";

    public string Name => TaskName;

    public string Description => "one class per table row or image";

    public string AcceptedData => Accepted;

    public IReadOnlyList<DataKind> Kinds { get; } = [DataKind.Table, DataKind.Images];

    public IReadOnlyList<TaskOption> Options => ClassificationOptions.Declared;

    public DataKind? Recognize(string data) => ClassificationSources.Recognize(data);

    // A trained image run also predicts single image files; training on one is refused when the data is read.
    public DataKind? RecognizeWhenAsked(string data) => Recognize(data) ?? (ClassificationSources.LooseImages(data) is null ? null : DataKind.Images);

    public TrainingDefaults TrainingDefaults { get; } = new(BatchSize: 64, Optimizer: "adam", LearningRate: 2e-3, WeightDecay: 0, Schedule: "cosine", ClipGradNorm: 0);

    // A table row has no spatial layout for a convolution to exploit; an image can be flattened for an MLP.
    public IReadOnlyList<string> Models(DataKind kind) => kind == DataKind.Table
        ? ["mlp", ImportedClassifier.ModelName]
        : ["cnn", "mlp", "lenet5", "resnet-mini", "resnet18", ModelZoo.FaceWindowNet, ImportedClassifier.ModelName];

    public TrainingConfig NormalizeOptions(TrainingConfig config)
    {
        var options = config.GetTaskOptions<ClassificationOptions>();
        options.Validate();
        return config.WithTaskOptions(options);
    }

    public TaskData Load(TrainingConfig config, RunFolder? trainedRun = null, bool newData = false)
    {
        var data = ClassificationSources.Load(config, trainedRun, newData);
        var options = config.GetTaskOptions<ClassificationOptions>();
        data.LabelSmoothing = options.LabelSmoothing ?? 0;
        // A trained run's data is only evaluated: nothing to augment.
        if (trainedRun is null) Augment(data, config);
        return data;
    }

    /// <summary>
    /// Gives <paramref name="data"/> the training augmentation of <paramref name="config"/>'s --augment (none when it
    /// has none). `loom distill` trains its student on the teacher run's data, which loads unaugmented as a trained
    /// run's data does: this is how the student gets the augmentation its own options ask for.
    /// </summary>
    public static void Augment(TaskData data, TrainingConfig config)
    {
        var d = (ClassificationData)data;
        var options = config.GetTaskOptions<ClassificationOptions>();
        d.Augmentation = null;
        if (options.Augment is not { Length: > 0 } augment) return;
        if (d.Standardizer is not null || d.InputShape.Length is not (2 or 3))
            throw new ArgumentException($"--augment {string.Join(",", augment)} transforms images, but --data {config.Data} is a table");
        d.Augmentation = ImageAugmentation.Create(augment, d.InputShape[^2], d.InputShape[^1], config.Seed);
    }

    public Module<Tensor, Tensor> CreateModel(TrainingConfig config, TaskData data)
    {
        var d = (ClassificationData)data;
        var options = config.GetTaskOptions<ClassificationOptions>();
        if (config.Model == ImportedClassifier.ModelName)
        {
            if (options.OnnxModel is null) throw new ArgumentException($"model '{ImportedClassifier.ModelName}' needs onnx_model in the config: make the run with loom import --out");
            return new ImportedClassifier(ImportedClassifier.LoadNetwork(options.OnnxModel), d.InputShape, options.OnnxInput ?? d.InputShape,
                options.OnnxScale ?? 1, d.ClassNames.Count, options.OnnxTrainAll ?? false, options.OnnxMean);
        }
        return ModelZoo.Create(config.Model!, d.InputShape, d.ClassNames.Count, options.Hidden, config.Dropout, options.Width ?? 1);
    }

    // The task's one loss serves training, validation and test alike (as one criterion does in PyTorch): with label
    // smoothing all three report the smoothed cross-entropy.
    public Func<Tensor, Tensor, Tensor> Loss(TaskData data) => Loss(((ClassificationData)data).LabelSmoothing);

    private static Func<Tensor, Tensor, Tensor> Loss(double labelSmoothing) =>
        (output, target) => Functional.CrossEntropy(output, target, labelSmoothing: labelSmoothing);

    public IReadOnlyList<Func<IMetric>> Metrics(TaskData data) => ClassificationEvaluation.ClassMetrics(((ClassificationData)data).ClassNames.Count);

    public TaskEvaluation Evaluate(Evaluator evaluator, TaskData data, IEnumerable<Batch> test) =>
        ClassificationEvaluation.Of(evaluator, test, ((ClassificationData)data).ClassNames);

    /// <summary>
    /// Per test sample: its index in the data (a CSV's data row, counting from 0), its true class when the data has
    /// labels, the predicted class and its probability, and every class's probability (p_NAME).
    /// </summary>
    public ResultTable Predict(Evaluator evaluator, TaskData data, IEnumerable<Batch> test) =>
        ((ClassificationData)data).Predictions(evaluator.Predict(test));
}
