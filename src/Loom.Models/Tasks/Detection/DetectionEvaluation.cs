namespace Loom.Models;

/// <summary>
/// mAP@0.5 of a detector's outputs against the boxes its targets encode, as a per-epoch metric: the truth is read back
/// from the target heatmaps (<see cref="CenterTargets"/>' centres), which loses an object only when two of one class are
/// centred on the same cell. The test evaluation scores against the scenes' exact boxes instead (<see cref="DetectionEvaluation"/>).
/// </summary>
public sealed class DetectionMap(int classes) : IMetric
{
    private MeanAveragePrecision _map = new(classes);

    public string Name => "map50";

    public bool HigherIsBetter => true;

    public void Update(Tensor predictions, Tensor targets)
    {
        var predicted = CenterNet.Decode(predictions);
        var truth = Truth(targets);
        for (int i = 0; i < predicted.Length; i++) _map.Add(truth[i], predicted[i]);
    }

    public double Compute() => _map.At(0.5).Mean;

    public void Reset() => _map = new MeanAveragePrecision(classes);

    private IReadOnlyList<Detection>[] Truth(Tensor targets)
    {
        int n = targets.Shape[0], cells = targets.Shape[2], plane = cells * cells;
        var values = targets.To(DType.Float32).Contiguous().ToArray<float>();
        var decoder = new CenterTargets(classes, cells * CenterNet.Stride, CenterNet.Stride);
        var result = new IReadOnlyList<Detection>[n];
        for (int i = 0; i < n; i++)
        {
            var image = values.AsSpan(i * (classes + 5) * plane, (classes + 5) * plane);
            // A target heatmap is exactly 1 at a centre and below it elsewhere.
            result[i] = decoder.Decode(image[..(classes * plane)], image.Slice(classes * plane, 2 * plane), image.Slice((classes + 2) * plane, 2 * plane), minScore: 1, topK: int.MaxValue)
                .Select(d => d with { Score = 1 }).ToList();
        }
        return result;
    }
}

/// <summary>Collects the decoded detections of every batch an evaluation runs, in order.</summary>
internal sealed class DetectionCollector : IMetric
{
    public List<IReadOnlyList<Detection>> Detections { get; } = [];

    public string Name => "detections";

    public bool HigherIsBetter => true;

    public void Update(Tensor predictions, Tensor targets) => Detections.AddRange(CenterNet.Decode(predictions));

    public double Compute() => Detections.Count;

    public void Reset() => Detections.Clear();
}

/// <summary>
/// A detector's test evaluation: mAP@0.5 and COCO's mAP@[0.5:0.95] against the test scenes' exact boxes, with AP per
/// class at both, and where AP is lost (<see cref="DetectionBreakdown"/>).
/// </summary>
public sealed class DetectionEvaluation : TaskEvaluation
{
    private DetectionEvaluation(EvaluationResult result, MeanAveragePrecision map, DetectionBreakdown breakdown, IReadOnlyList<string> classNames) : base(result)
    {
        var (map50, perClass50) = map.At(0.5);
        var perThreshold = MeanAveragePrecision.CocoThresholds.Select(t => map.At(t).PerClass).ToArray();
        var coco = Enumerable.Range(0, classNames.Count).Select(c => perThreshold.Average(p => p[c])).ToArray();
        Map50 = map50;
        Coco = map.Coco;
        Tables =
        [
            new ResultTable("Average precision per class", ["class", "AP@0.5", "AP@[.5:.95]"],
                [.. classNames.Select((name, c) => (IReadOnlyList<Cell>)[name, perClass50[c], coco[c]])]),
            breakdown.SubsetTable(), breakdown.OutcomeTable(), breakdown.CalibrationTable(),
        ];
    }

    public double Map50 { get; }

    public double Coco { get; }

    public override IReadOnlyList<ResultTable> Tables { get; }

    /// <summary>Runs <paramref name="evaluator"/> over <paramref name="test"/> (batches of <paramref name="data"/>'s test scenes, in order) and scores the detections.</summary>
    public static DetectionEvaluation Of(Evaluator evaluator, DetectionData data, IEnumerable<Batch> test)
    {
        var collector = new DetectionCollector();
        var result = evaluator.Evaluate(test, collector);
        var map = new MeanAveragePrecision(data.ClassNames.Count);
        var breakdown = new DetectionBreakdown(data.ClassNames.Count, data.Test.Size);
        for (int i = 0; i < collector.Detections.Count; i++)
        {
            var truth = data.Test.Objects(i);
            map.Add(truth, collector.Detections[i]);
            breakdown.Add(truth, collector.Detections[i]);
        }
        var metrics = new Dictionary<string, double>(result.Metrics) { ["map50"] = map.At(0.5).Mean, ["map50_95"] = map.Coco };
        return new DetectionEvaluation(result with { Metrics = metrics }, map, breakdown, data.ClassNames);
    }
}
