using Loom.Nn;

namespace Loom.Models.Tests.Text;

/// <summary>The pointer-generator of <see cref="Seq2SeqTransformer"/>: its gradients, its distribution, and a copy task only it can learn.</summary>
public sealed class PointerGeneratorTests
{
    // Two sources of five tokens: the first repeats id 4 and holds the extended ids 6 and 7 (vocabulary 6, 2 extended);
    // the second ends in two padding positions.
    private static readonly Tensor SourceIds = Tensor.FromArray(new long[] { 4, 6, 4, 7, 2, 3, 5, 1, 0, 0 }, 2, 5);
    private static readonly Tensor Padding = SourceIds.Eq(0);

    private static Tensor[] Inputs(Generator g) =>
    [
        Tensor.Randn(new Shape(2, 3, 4), g, DType.Float64).RequiresGrad_(), // decoder states h
        Tensor.Randn(new Shape(2, 3, 4), g, DType.Float64).RequiresGrad_(), // decoder inputs x
        Tensor.Randn(new Shape(2, 5, 4), g, DType.Float64).RequiresGrad_(), // memory
        Tensor.Randn(new Shape(2, 5, 4), g, DType.Float64).RequiresGrad_(), // copy keys
        Tensor.Randn(new Shape(6, 4), g, DType.Float64).RequiresGrad_(),    // embedding (output layer)
        Tensor.Randn(new Shape(4, 4), g, DType.Float64).RequiresGrad_(),    // query weight
        Tensor.Randn(new Shape(1, 12), g, DType.Float64).RequiresGrad_(),   // gate weight over [h; context; x]
        Tensor.Randn(new Shape(1), g, DType.Float64).RequiresGrad_(),       // gate bias
    ];

    private static Tensor Mix(Tensor[] a) => Seq2SeqTransformer.PointerGenerator(a[0], a[1], a[2], a[3], Padding, SourceIds, a[4], a[5], a[6], a[7], outputs: 8);

    [Fact]
    public void Gradients_of_the_mixed_log_probabilities_match_finite_differences_in_float64()
    {
        Assert.Null(GradCheck.Run(Mix, Inputs(new Generator(7)), atol: 1e-6, rtol: 1e-4));
    }

    [Fact]
    public void The_mixture_is_a_distribution_whose_extended_ids_get_only_copied_mass()
    {
        Tensor p;
        using (new NoGrad()) p = Mix(Inputs(new Generator(3))).Exp();
        var values = p.ToArray<double>();
        for (int row = 0; row < 6; row++)
        {
            // Eight outputs each: the floor of 1e-9 is added to every probability before the log.
            Assert.Equal(1.0, values.AsSpan(row * 8, 8).ToArray().Sum(), 7);
            bool first = row < 3;
            // Extended ids 6 and 7 stand in the first source only; the second source cannot put mass there.
            Assert.True(first ? values[row * 8 + 6] > 1e-4 && values[row * 8 + 7] > 1e-4 : values[row * 8 + 6] < 1e-8 && values[row * 8 + 7] < 1e-8);
        }
    }

    // "the package NAME provides a KIND tool", NAME a made-up word the vocabulary lacks, after 0–2 filler words;
    // its synopsis "NAME KIND tool". Only copying can write NAME.
    private static readonly string[] Kinds = ["image", "audio", "video", "font", "mail", "chess"];
    private static readonly string[] Fillers = ["new", "free", "small"];

    private static (string Text, string Synopsis, string Name) Sample(Generator g)
    {
        var name = "zq" + string.Concat(Enumerable.Range(0, 4).Select(_ => (char)('a' + (int)(g.NextUInt64() % 26))));
        var kind = Kinds[(int)(g.NextUInt64() % (ulong)Kinds.Length)];
        var fillers = Enumerable.Range(0, (int)(g.NextUInt64() % 3)).Select(_ => Fillers[(int)(g.NextUInt64() % (ulong)Fillers.Length)]);
        return ($"{string.Join(' ', fillers)} the package {name} provides a {kind} tool", $"{name} {kind} tool", name);
    }

    // Trains a tiny model on the copy task and returns the share of fresh samples whose summary starts with NAME.
    private static double CopiedNames(bool copy)
    {
        Generator.ManualSeed(11);
        var tokenizer = new WordTokenizer(["the", "package", "provides", "a", "tool", .. Kinds, .. Fillers]);
        const int sourceLength = 10;
        var model = new Seq2SeqTransformer(tokenizer.VocabSize, dim: 32, layers: 1, heads: 4, dropout: 0, activation: "gelu",
            copy: copy ? new CopyMechanism(sourceLength, tokenizer.Special.Unk!.Value) : null);
        var g = new Generator(5);
        var optimizer = new AdamW(model.Parameters(), 1e-2);
        var loss = SequenceTasks.Loss();
        int bos = tokenizer.Special.Bos!.Value, eos = tokenizer.Special.Eos!.Value;
        for (int step = 0; step < 120; step++)
        {
            var pairs = Enumerable.Range(0, 16).Select(_ => Sample(g)).Select(s =>
            {
                var (source, unknown) = SummarizationData.EncodeSource(tokenizer, s.Text, sourceLength, copy);
                return (source, SummarizationData.EncodeTarget(tokenizer, s.Synopsis, unknown, copy), true);
            }).ToList();
            var batch = SentencePairs.Pack(pairs, bos, eos);
            optimizer.ZeroGrad();
            var value = loss(model.Forward(batch.Inputs), batch.Targets);
            value.Backward();
            optimizer.Step();
        }
        var test = Enumerable.Range(0, 40).Select(_ => Sample(g)).ToList();
        var summaries = SummarizationTask.Summarize(model, tokenizer, [.. test.Select(s => s.Text)], sourceLength, maxWords: 5, new SummarizationOptions { Copy = copy });
        return test.Zip(summaries).Count(p => p.Second.StartsWith(p.First.Name + " ", StringComparison.Ordinal)) / (double)test.Count;
    }

    [Fact]
    public void A_pointer_generator_learns_to_copy_unknown_names_that_plain_attention_cannot_write()
    {
        Assert.True(CopiedNames(copy: true) >= 0.9, "the pointer-generator should copy the unknown name into at least 90 % of summaries");
        Assert.Equal(0, CopiedNames(copy: false));
    }
}
