using System.Text.Json;

namespace Loom.Train.Tests.Metrics;

/// <summary>ROC AUC against scikit-learn's roc_auc_score (tests/golden/make_metric_golden.py writes metrics.json).</summary>
public class RocAucGoldenTests
{
    private static readonly JsonElement[] Cases = LoadCases();

    private static JsonElement[] LoadCases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "golden", "metrics.json")));
        return doc.RootElement.GetProperty("roc_auc").EnumerateArray().Select(e => e.Clone()).ToArray();
    }

    public static TheoryData<string, RocAucMultiClass, Averaging> All()
    {
        var data = new TheoryData<string, RocAucMultiClass, Averaging>();
        foreach (var c in Cases)
            foreach (var mode in new[] { RocAucMultiClass.OneVsRest, RocAucMultiClass.OneVsOne })
                foreach (var average in new[] { Averaging.Macro, Averaging.Weighted })
                    data.Add(c.GetProperty("name").GetString()!, mode, average);
        return data;
    }

    [Theory]
    [MemberData(nameof(All))]
    public void Matches_scikit_learn(string name, RocAucMultiClass mode, Averaging average)
    {
        var c = Cases.Single(e => e.GetProperty("name").GetString() == name);
        int classes = c.GetProperty("classes").GetInt32();
        var predictions = c.GetProperty("predictions").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetDouble())).ToArray();
        var targets = c.GetProperty("targets").EnumerateArray().Select(v => v.GetInt64()).ToArray();
        string key = $"{(mode == RocAucMultiClass.OneVsRest ? "ovr" : "ovo")}_{(average == Averaging.Macro ? "macro" : "weighted")}";
        double expected = c.GetProperty("expected").GetProperty(key).GetDouble();

        var metric = new RocAuc(c.GetProperty("probabilities").GetBoolean(), mode, average);
        int n = targets.Length, half = n / 2; // two batches: the metric accumulates
        metric.Update(Tensor.FromArray(predictions[..(half * classes)], half, classes), Tensor.FromArray(targets[..half]));
        metric.Update(Tensor.FromArray(predictions[(half * classes)..], n - half, classes), Tensor.FromArray(targets[half..]));
        Assert.Equal(expected, metric.Compute(), 12);
    }

    [Fact]
    public void Names_follow_scikit_learn_scorers_and_micro_is_refused()
    {
        Assert.Equal("roc_auc", new RocAuc().Name);
        Assert.Equal("roc_auc_ovr_weighted", new RocAuc(average: Averaging.Weighted).Name);
        Assert.Equal("roc_auc_ovo", new RocAuc(multiClass: RocAucMultiClass.OneVsOne).Name);
        Assert.Equal("roc_auc_ovo_weighted", new RocAuc(multiClass: RocAucMultiClass.OneVsOne, average: Averaging.Weighted).Name);
        Assert.Throws<ArgumentException>(() => new RocAuc(average: Averaging.Micro));
    }
}
