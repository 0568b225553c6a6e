namespace Loom.Models;

/// <summary>
/// A classification data set ready for training: train and test splits as tensors, the shape of one input, the class
/// names, and (for tabular data) the feature schema and the standardisation fitted on the training rows. Read from
/// files by <see cref="ClassificationSources"/>.
/// </summary>
public sealed class ClassificationData : TaskData
{
    // What a run folder keeps so that eval and predict read new data as the training data was read.
    internal const string StandardizeFile = "standardize.json", FeaturesFile = "features.json", ClassesFile = ClassNamesFile.Name;

    // Tables keep their rows as read, so that a cross-validation fold can refit the standardisation on its own rows.
    private readonly TensorDataset? _unscaledTrain;

    public ClassificationData(TensorDataset train, TensorDataset test, int[] inputShape, IReadOnlyList<string> classNames, string description)
    {
        (Train, Test, InputShape, ClassNames, Description) = (train, test, inputShape, classNames, description);
    }

    internal ClassificationData(TensorDataset unscaledTrain, TensorDataset unscaledTest, Standardize standardizer, CsvSchema? schema, IReadOnlyList<string> classNames, string description)
        : this(new TensorDataset(standardizer.Apply(unscaledTrain.Inputs), unscaledTrain.Targets),
            new TensorDataset(standardizer.Apply(unscaledTest.Inputs), unscaledTest.Targets),
            unscaledTrain.Inputs.Shape.ToArray()[1..], classNames, description)
    {
        _unscaledTrain = unscaledTrain;
        Standardizer = standardizer;
        Schema = schema;
    }

    public override TensorDataset Train { get; }

    public override TensorDataset Test { get; }

    public override TensorDataset? Validation => OwnValidation;

    /// <summary>The data's own validation split (an image folder's val/), if it has one.</summary>
    internal TensorDataset? OwnValidation { get; init; }

    /// <summary>The shape of one input, without the batch dimension.</summary>
    public int[] InputShape { get; }

    public IReadOnlyList<string> ClassNames { get; }

    public override string Description { get; }

    /// <summary>For tabular data: the standardisation applied to <see cref="Train"/> and <see cref="Test"/>.</summary>
    public Standardize? Standardizer { get; }

    /// <summary>For tabular data: which columns make the features, in which order, with their categories.</summary>
    public CsvSchema? Schema { get; }

    /// <summary>Where each test sample is in its source (a CSV's data row, an image's place in its folder), for predictions; null: in order.</summary>
    public IReadOnlyList<int>? TestRows { get; init; }

    /// <summary>For images predicted one by one or from a folder without class folders: each test sample's file, which keys its prediction.</summary>
    public IReadOnlyList<string>? TestFiles { get; init; }

    public override string? Unlabelled => UnlabelledReason;

    internal string? UnlabelledReason { get; init; }

    public override IReadOnlyList<string> Notes => NoteList;

    internal IReadOnlyList<string> NoteList { get; init; } = [];

    public override Tensor Strata => Train.Targets;

    /// <summary>The predictions table of the test samples, keyed by their file (<see cref="TestFiles"/>) or their index in the data (<see cref="TestRows"/>).</summary>
    internal ResultTable Predictions(Tensor logits) => TestFiles is { } files
        ? ClassificationEvaluation.Predictions(logits, ClassNames, ["file"], i => [files[i]], ClassificationEvaluation.TestClasses(this, Test))
        : ClassificationEvaluation.Predictions(logits, ClassNames, ["index"], i => [(long)(TestRows?[i] ?? i)], ClassificationEvaluation.TestClasses(this, Test));

    /// <summary>The random augmentation of training images (`--augment`), or null.</summary>
    public ITransform? Augmentation { get; internal set; }

    /// <summary>ε of the loss's label smoothing (`--label-smoothing`).</summary>
    public double LabelSmoothing { get; internal set; }

    public override IDataset<Sample> ForTraining(IDataset<Sample> train) => Augmentation is null ? train : train.WithTransform(Augmentation);

    public override void Save(RunFolder folder)
    {
        Standardizer?.Save(folder.File(StandardizeFile));
        Schema?.Save(folder.File(FeaturesFile));
        ClassNamesFile.Write(folder, ClassNames);
    }

    public override ClassificationData Fold(int[] train, int[] validation)
    {
        if (_unscaledTrain is null) return new ClassificationData(Train.Gather(train), Train.Gather(validation), InputShape, ClassNames, Description) { Augmentation = Augmentation, LabelSmoothing = LabelSmoothing };
        var foldTrain = _unscaledTrain.Gather(train);
        return new ClassificationData(foldTrain, _unscaledTrain.Gather(validation), Standardize.Fit(foldTrain.Inputs), Schema, ClassNames, Description) { LabelSmoothing = LabelSmoothing };
    }
}
