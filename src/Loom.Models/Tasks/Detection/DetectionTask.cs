namespace Loom.Models;

/// <summary>
/// Object detection on scenes composed on the fly from real MNIST digits (<c>digit-scenes</c>) or Fashion-MNIST
/// clothes (<c>fashion-scenes</c>) by a centre-based detector (<see cref="CenterNet"/>): focal and L1 losses, mAP@0.5
/// per epoch, and on held-out scenes composed from test-split images only, mAP@0.5 and COCO's mAP@[0.5:0.95] with AP per
/// class. Predictions are one row per detected object; `loom detect` draws them on a picture.
/// </summary>
public sealed class DetectionTask : ITask
{
    public const string TaskName = "detection";
    public const string DigitScenes = "digit-scenes";
    public const string FashionScenes = "fashion-scenes";
    public const string ModelName = "centernet";
    public const string WideModelName = "centernet-wide";

    public static DataKind Scenes { get; } = new("scenes", "composed detection scenes");

    public string Name => TaskName;

    public string Description => "object detection (boxes and classes) on scenes composed from real digits or clothes, with loom detect";

    public string AcceptedData => $"composed scenes ({DigitScenes}: MNIST digits, {FashionScenes}: Fashion-MNIST clothes)";

    public IReadOnlyList<DataKind> Kinds { get; } = [Scenes];

    public IReadOnlyList<TaskOption> Options => DetectionOptions.Declared;

    public DataKind? Recognize(string data) =>
        string.Equals(data, DigitScenes, StringComparison.OrdinalIgnoreCase) || string.Equals(data, FashionScenes, StringComparison.OrdinalIgnoreCase) ? Scenes : null;

    public TrainingDefaults TrainingDefaults { get; } = new(BatchSize: 32, Optimizer: "adamw", LearningRate: 2e-3, WeightDecay: 1e-4, Schedule: "cosine", ClipGradNorm: 10);

    public IReadOnlyList<string> Models(DataKind kind) => [ModelName, WideModelName];

    public TrainingConfig NormalizeOptions(TrainingConfig config)
    {
        var options = config.GetTaskOptions<DetectionOptions>();
        options.Validate();
        if (config.Model == WideModelName && options.Canvas % 8 != 0)
            throw new ArgumentException($"--canvas must be a multiple of 8 for --model {WideModelName} (its stride-8 level), got {options.Canvas}");
        return config.WithTaskOptions(options);
    }

    public TaskData Load(TrainingConfig config, RunFolder? trainedRun = null, bool newData = false) => DetectionData.Load(config);

    public Module<Tensor, Tensor> CreateModel(TrainingConfig config, TaskData data) => CreateModel(((DetectionData)data).ClassNames.Count, config.Model);

    /// <summary>The detector <paramref name="model"/> (<see cref="ModelName"/> when null) for <paramref name="classes"/> classes of grey scenes.</summary>
    public static Module<Tensor, Tensor> CreateModel(int classes, string? model = null) => model switch
    {
        null or ModelName => new CenterNet(classes),
        WideModelName => new WideCenterNet(classes),
        _ => throw new ArgumentException($"unknown detector '{model}'; choose {ModelName} or {WideModelName}"),
    };

    public Func<Tensor, Tensor, Tensor> Loss(TaskData data) => CenterNet.Loss;

    public IReadOnlyList<Func<IMetric>> Metrics(TaskData data)
    {
        int classes = ((DetectionData)data).ClassNames.Count;
        return [() => new DetectionMap(classes)];
    }

    public TaskEvaluation Evaluate(Evaluator evaluator, TaskData data, IEnumerable<Batch> test) =>
        DetectionEvaluation.Of(evaluator, (DetectionData)data, test);

    /// <summary>One row per detected object of each test scene, best first within a scene: scene, class, score and box corners in pixels.</summary>
    public ResultTable Predict(Evaluator evaluator, TaskData data, IEnumerable<Batch> test)
    {
        var d = (DetectionData)data;
        var rows = new List<IReadOnlyList<Cell>>();
        var detections = CenterNet.Decode(evaluator.Predict(test), height: d.Test.Size, width: d.Test.Size);
        for (int i = 0; i < detections.Length; i++)
            foreach (var o in detections[i])
                rows.Add([(long)i, d.ClassNames[o.Class], o.Score.ToString("G4", CultureInfo.InvariantCulture), o.Box.X1, o.Box.Y1, o.Box.X2, o.Box.Y2]);
        return new ResultTable("Detections", ["scene", "class", "score", "x1", "y1", "x2", "y2"], rows);
    }
}
