namespace Loom.Models;

/// <summary>
/// Recognising spoken words: one class per one-second clip (a word, "_unknown_" for other words, "_silence_" for
/// none) from log-mel features by a small CNN (or a depthwise-separable one). Cross-entropy, accuracy and macro F1, the
/// per-class table and confusion matrix of classification; predictions are the word and its probability. The verbs
/// `loom listen` (words with times in a long recording) and `loom speech-translate` run a trained model through
/// <see cref="KeywordSpotter"/>.
/// </summary>
public sealed class KeywordSpottingTask : ITask
{
    public const string TaskName = "keyword-spotting";

    public static DataKind Audio { get; } = new("audio", "audio (.wav clips)");

    public string Name => TaskName;

    public string Description => "spoken words in one-second clips (keyword spotting), with listen and speech-translate";

    public string AcceptedData => "an audio folder (one sub-folder of .wav clips per word, e.g. from loom datasets make speech-commands)";

    public IReadOnlyList<DataKind> Kinds { get; } = [Audio];

    public IReadOnlyList<TaskOption> Options => KeywordSpottingOptions.Declared;

    public DataKind? Recognize(string data) => AudioClips.Recognize(data) ? Audio : null;

    public TrainingDefaults TrainingDefaults { get; } = new(BatchSize: 64, Optimizer: "adamw", LearningRate: 3e-3, WeightDecay: 1e-2, Schedule: "cosine", ClipGradNorm: 0);

    public IReadOnlyList<string> Models(DataKind kind) => [KeywordModels.Cnn, KeywordModels.DepthwiseSeparable];

    public TrainingConfig NormalizeOptions(TrainingConfig config)
    {
        var options = config.GetTaskOptions<KeywordSpottingOptions>();
        options.Validate();
        return config.WithTaskOptions(options);
    }

    public TaskData Load(TrainingConfig config, RunFolder? trainedRun = null, bool newData = false) =>
        KeywordSpottingData.Load(config, trainedRun, newData);

    public Module<Tensor, Tensor> CreateModel(TrainingConfig config, TaskData data) =>
        CreateModel(config, ((KeywordSpottingData)data).ClassNames.Count);

    /// <summary>The run's model for <paramref name="classes"/> classes.</summary>
    public static Module<Tensor, Tensor> CreateModel(TrainingConfig config, int classes)
    {
        var features = new SpeechFeatures(config.GetTaskOptions<KeywordSpottingOptions>());
        return KeywordModels.Create(config.Model!, features.Bands, features.Frames, classes, config.Dropout);
    }

    public Func<Tensor, Tensor, Tensor> Loss(TaskData data) => (output, target) => Functional.CrossEntropy(output, target);

    public IReadOnlyList<Func<IMetric>> Metrics(TaskData data) => ClassificationEvaluation.ClassMetrics(((KeywordSpottingData)data).ClassNames.Count);

    public TaskEvaluation Evaluate(Evaluator evaluator, TaskData data, IEnumerable<Batch> test) =>
        ClassificationEvaluation.Of(evaluator, test, ((KeywordSpottingData)data).ClassNames);

    /// <summary>Per test clip: its file, its true word when labelled, the predicted word and its probability, and every class's probability.</summary>
    public ResultTable Predict(Evaluator evaluator, TaskData data, IEnumerable<Batch> test) =>
        ((KeywordSpottingData)data).Predictions(evaluator.Predict(test));
}
