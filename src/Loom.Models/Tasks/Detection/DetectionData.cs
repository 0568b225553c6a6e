namespace Loom.Models;

/// <summary>
/// Scenes <see cref="SceneComposer"/> composes, as samples for <see cref="CenterNet"/>: the scene [1, size, size] and
/// its targets [classes + 5, size/4, size/4] (heatmap, size, offset, centre mask of <see cref="CenterTargets"/>).
/// Scene k is composition <c>rows[k]</c> of the sequence <c>seed</c>, made when asked for, so a set of any size needs no
/// storage and is the same on every run; <see cref="Objects"/> gives a scene's exact boxes for scoring.
/// </summary>
public sealed class SceneSet : IDataset<Sample>
{
    private readonly SceneComposer _composer;
    private readonly ulong _seed;
    private readonly int[] _rows;
    private readonly CenterTargets _targets;

    public SceneSet(SceneComposer composer, ulong seed, int count) : this(composer, seed, Enumerable.Range(0, count).ToArray())
    {
    }

    private SceneSet(SceneComposer composer, ulong seed, int[] rows)
    {
        (_composer, _seed, _rows) = (composer, seed, rows);
        _targets = new CenterTargets(composer.ClassCount, composer.Size, CenterNet.Stride);
    }

    public int Count => _rows.Length;

    /// <summary>What the scenes are composed from.</summary>
    public SceneComposer Composer => _composer;

    public int ClassCount => _composer.ClassCount;

    public int Size => _composer.Size;

    public Sample this[int index]
    {
        get
        {
            var (pixels, objects) = _composer.Compose(_seed, _rows[index]);
            var (heat, size, offset, mask) = _targets.Encode(objects);
            var target = new float[heat.Length + size.Length + offset.Length + mask.Length];
            heat.CopyTo(target, 0);
            size.CopyTo(target, heat.Length);
            offset.CopyTo(target, heat.Length + size.Length);
            mask.CopyTo(target, heat.Length + size.Length + offset.Length);
            int cells = _targets.Cells;
            return new Sample(Tensor.FromArray(pixels, 1, Size, Size), Tensor.FromArray(target, ClassCount + 5, cells, cells));
        }
    }

    /// <summary>Scene <paramref name="index"/>'s objects with their exact boxes.</summary>
    public IReadOnlyList<Detection> Objects(int index) => _composer.Compose(_seed, _rows[index]).Objects;

    /// <summary>The scenes at <paramref name="indices"/> of this set.</summary>
    public SceneSet Subset(int[] indices) => new(_composer, _seed, [.. indices.Select(i => _rows[i])]);
}

/// <summary>
/// Detection data: training scenes composed from the source dataset's training images, test scenes composed from its
/// test images only (a different sequence, too), so no object image seen in training is scored.
/// </summary>
public sealed class DetectionData(SceneSet train, SceneSet test, IReadOnlyList<string> classNames, string description) : TaskData
{
    /// <summary>The sequence test scenes are drawn from; fixed, so every run is scored on the same scenes.</summary>
    public const ulong TestSeed = 0x7E57_5CE7E5UL;

    public override SceneSet Train { get; } = train;

    public override SceneSet Test { get; } = test;

    public IReadOnlyList<string> ClassNames { get; } = classNames;

    public override string Description { get; } = description;

    // Scenes are composed as they are loaded: smaller evaluation batches keep the prefetch queue's memory modest.
    public override int EvaluationBatchSize => 64;

    public override TaskData Fold(int[] train, int[] validation) =>
        new DetectionData(Train.Subset(train), Train.Subset(validation), ClassNames, $"{Description}, fold of {train.Length} + {validation.Length} training scenes");

    /// <summary>The objects a scene data name composes from: (dataset name, class names).</summary>
    public static (string Dataset, IReadOnlyList<string> Classes) Source(string data) => data.ToLowerInvariant() switch
    {
        DetectionTask.DigitScenes => (Digits.Name, Digits.Info.ClassNames),
        DetectionTask.FashionScenes => (FashionMnist.Name, FashionMnist.ClassNames),
        _ => throw new ArgumentException($"--data {data}: detection composes scenes from {DetectionTask.DigitScenes} or {DetectionTask.FashionScenes}"),
    };

    /// <summary>Composes the data of a resolved config (<see cref="ITask.Load"/>; composed data is never new data).</summary>
    public static DetectionData Load(TrainingConfig config)
    {
        var options = config.GetTaskOptions<DetectionOptions>();
        var (dataset, classes) = Source(config.Data);
        var split = BuiltinDatasets.Load(dataset);
        SceneComposer Composer(TensorDataset images) =>
            new(images.Inputs, images.Targets.ToArray<long>(), classes.Count, options.Canvas, scale: options.ObjectHeights, visibleShare: options.VisibleShare);
        var train = new SceneSet(Composer(split.Train), config.Seed, options.Scenes);
        var test = new SceneSet(Composer(split.Test), TestSeed, options.TestScenes);
        return new DetectionData(train, test, classes,
            $"{config.Data}: {options.Canvas}×{options.Canvas} scenes of 2–5 objects from {dataset} (≥ {options.VisibleShare:0.##} of each on the canvas), {options.Scenes} composed from training images, {options.TestScenes} from test images");
    }
}
