namespace Loom.Models.Tests.Tasks;

/// <summary>Summarisation data split by source package, the lead baseline, and the encoder–decoder's masking and decoding.</summary>
public sealed class SummarizationTaskTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    // Forty source packages of one to three binary packages each (foo, foo-dev, foo-doc) with near-identical descriptions.
    private string PackageIndex()
    {
        var lines = new List<string>();
        for (int s = 0; s < 40; s++)
            for (int b = 0; b < 1 + s % 3; b++)
            {
                string package = $"tool{s}" + (b == 0 ? "" : b == 1 ? "-dev" : "-doc");
                lines.AddRange([$"Package: {package}", $"Source: tool{s} (1.{s})", $"Description: widget tool {s}" + (b == 1 ? " - development files" : ""),
                    $" Tool{s} handles widgets of kind {s}.", " .", b == 2 ? " This package holds the manual." : $" Variant {b} of it.", ""]);
            }
        var path = _temp.File("index.txt");
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void No_source_package_has_binary_packages_on_both_sides_of_the_test_or_validation_split()
    {
        var config = new TrainingConfig { Data = PackageIndex(), Seed = 5 }.WithTaskOptions(new SummarizationOptions { TestFraction = 0.25, MinCount = 1 });
        var data = SummarizationData.Load(config, null, newData: false);
        var trainSources = data.TrainPairs.Select(p => p.Source).ToHashSet();
        var testSources = data.TestPairs.Select(p => p.Source).ToHashSet();
        Assert.NotEmpty(testSources);
        Assert.Empty(trainSources.Intersect(testSources));
        Assert.Equal(data.TrainPairs.Count + data.TestPairs.Count, PackageDescriptions.Read(config.Data).Descriptions.Count);

        data.HoldOut(0.3, seed: 2);
        var validationSources = data.HeldOut!.Select(p => p.Source).ToHashSet();
        Assert.NotEmpty(validationSources);
        Assert.Empty(validationSources.Intersect(testSources));
        var kept = data.TrainPairs.Where(p => !validationSources.Contains(p.Source)).ToList();
        Assert.Equal(data.TrainPairs.Count, kept.Count + data.HeldOut!.Count); // every pair of a validation source went with it
    }

    [Fact]
    public void The_lead_takes_the_first_words_and_is_tuned_to_the_length_with_the_best_rouge_L()
    {
        Assert.Equal("GNU Bourne", new LeadBaseline(2).Summarize("GNU  Bourne\nAgain SHell"));
        // References are the first three words of each text (the fourth differs): three words score 100.
        var texts = new[] { "alpha beta gamma one two", "delta eps zeta three four five", "eta theta iota kappa" };
        var references = new[] { "alpha beta gamma", "delta eps zeta", "eta theta iota" };
        Assert.Equal(3, LeadBaseline.Tune(texts, references).Words);
    }

    private static Seq2SeqTransformer Model(int vocab = 30)
    {
        Generator.ManualSeed(3);
        var model = new Seq2SeqTransformer(vocab, dim: 16, layers: 2, heads: 4, dropout: 0, activation: "gelu");
        model.Eval();
        return model;
    }

    // Packed pairs [B, 2, L] (SentencePairs): each row's source, then bos and its target, padded with 0.
    private static Tensor Pairs(int length, params (long[] Source, long[] Target)[] rows)
    {
        var ids = new long[rows.Length * 2 * length];
        for (int r = 0; r < rows.Length; r++)
        {
            rows[r].Source.CopyTo(ids, r * 2 * length);
            ids[r * 2 * length + length] = 1;
            rows[r].Target.CopyTo(ids, r * 2 * length + length + 1);
        }
        return Tensor.FromArray(ids, rows.Length, 2, length);
    }

    [Fact]
    public void A_target_position_sees_neither_later_target_words_nor_source_padding()
    {
        var model = Model();
        // The same source and target but for the last two target words.
        var logits = model.Forward(Pairs(6, ([5, 6, 7], [7, 8, 9]), ([5, 6, 7], [7, 20, 21]))).ToArray<float>();
        int v = 30, t = 4;
        for (int pos = 0; pos < 2; pos++)
            for (int k = 0; k < v; k++)
                Assert.Equal(logits[(0 * t + pos) * v + k], logits[(1 * t + pos) * v + k], 5);
        Assert.NotEqual(logits[(0 * t + 3) * v + 5], logits[(1 * t + 3) * v + 5]); // not column 0: the padding token's embedding, and so its logit, is 0

        // The same pair alone (its source cut to its 3 words) and beside a longer source (padded to 6): padding changes nothing.
        var alone = model.Forward(Pairs(6, ([5, 6, 7], [7, 8, 9]))).ToArray<float>();
        var beside = model.Forward(Pairs(6, ([5, 6, 7], [7, 8, 9]), ([9, 9, 9, 9, 9, 9], [4, 4, 4]))).ToArray<float>();
        for (int i = 0; i < alone.Length; i++) Assert.Equal(alone[i], beside[i], 5);
    }

    [Fact]
    public void Greedy_decoding_with_the_cache_picks_what_the_full_forward_pass_ranks_first_and_obeys_the_constraints()
    {
        var model = Model();
        var source = Tensor.FromArray(new long[] { 5, 6, 7, 8, 0, 0, 9, 10, 11, 12, 13, 14 }, 2, 6);
        var decoded = SequenceSearch.Greedy(model.StartDecoding(source, 1), 2, bos: 1, eos: 2, [5, 5]);
        for (int r = 0; r < 2; r++)
        {
            // Teacher-force the decoded words: each must be the argmax of the full pass at its position.
            var words = decoded[r];
            var logits = model.Forward(Pairs(7, (source.Select(0, r).ToArray<long>(), [.. words.Select(w => (long)w)])));
            var best = logits.ArgMax(2).ToArray<long>();
            for (int i = 0; i < words.Length; i++) Assert.Equal(words[i], (int)best[i]);
            if (words.Length < 5) Assert.Equal(2, (int)best[words.Length]); // stopped at eos
        }

        // Held back from eos until four words, and never choosing the banned ids, greedy and beam alike.
        int[] banned = [0, 1, 3, 5, 6];
        var greedy = SequenceSearch.Greedy(new ConstrainedDecoder(model.StartDecoding(source, 1), 2, 4, banned), 2, bos: 1, eos: 2, [6, 6]);
        var beam = SequenceSearch.Beam(new ConstrainedDecoder(model.StartDecoding(source, 3), 2, 4, banned), 2, 3, bos: 1, eos: 2, [6, 6], 0.6).Select(h => h[0].Tokens);
        foreach (var words in greedy.Concat(beam))
        {
            Assert.InRange(words.Length, 4, 6);
            Assert.DoesNotContain(words, w => w is 0 or 1 or 2 or 3 or 5 or 6);
        }
    }
}
