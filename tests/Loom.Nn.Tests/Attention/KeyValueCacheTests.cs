namespace Loom.Nn.Tests.Attention;

/// <summary>Incremental decoding with a <see cref="KeyValueCache"/> must reproduce the full causal pass.</summary>
public class KeyValueCacheTests
{
    private const DType F64 = DType.Float64;

    /// <summary>Runs <paramref name="step"/> on consecutive chunks of <paramref name="x"/> along the time axis and joins the outputs.</summary>
    private static Tensor Decode(Tensor x, int timeAxis, int[] chunks, Func<Tensor, Tensor> step)
    {
        var outputs = new List<Tensor>();
        int start = 0;
        foreach (int n in chunks)
        {
            outputs.Add(step(x.Narrow(timeAxis, start, n)));
            start += n;
        }
        Assert.Equal(x.Shape[timeAxis], start);
        return Tensor.Cat(outputs, timeAxis);
    }

    private static int[] Ones(int n) => Enumerable.Repeat(1, n).ToArray();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Decoding_one_token_at_a_time_equals_the_full_causal_pass(bool batchFirst)
    {
        // 21 steps: past the cache's first capacity (16), so growing is covered too.
        const int T = 21;
        var m = new MultiheadAttention(8, 2, batchFirst: batchFirst, dtype: F64, generator: new Generator(3));
        var x = TestTensors.Randn(1, F64, batchFirst ? [2, T, 8] : [T, 2, 8]);
        int time = batchFirst ? 1 : 0;
        var expected = m.Forward(x, x, x, isCausal: true).Output;
        var cache = new KeyValueCache();
        using (new NoGrad())
        {
            var actual = Decode(x, time, Ones(T), t => m.Forward(t, t, t, isCausal: true, cache: cache).Output);
            TensorAssert.Close(expected, actual, 1e-12, 1e-12);
        }
        Assert.Equal(T, cache.SequenceLength);
        var (keys, values) = cache.Get(m)!.Value;
        Assert.Equal(new Shape(2, 2, T, 4), keys.Shape);
        Assert.Equal(new Shape(2, 2, T, 4), values.Shape);
    }

    [Fact]
    public void Prefill_then_single_steps_equals_the_full_pass_with_weights_over_all_cached_keys()
    {
        var m = new MultiheadAttention(8, 4, batchFirst: true, dtype: F64, generator: new Generator(5));
        var x = TestTensors.Randn(1, F64, 2, 7, 8);
        var (expected, expectedWeights) = m.Forward(x, x, x, isCausal: true);
        var cache = new KeyValueCache();
        var weights = new List<Tensor>();
        var actual = Decode(x, 1, [4, 1, 2], t =>
        {
            var (o, w) = m.Forward(t, t, t, isCausal: true, cache: cache);
            weights.Add(w!);
            return o;
        });
        TensorAssert.Close(expected, actual, 1e-12, 1e-12);
        // The last chunk's two queries attend over all seven positions: rows 5 and 6 of the full weights.
        TensorAssert.Close(expectedWeights!.Narrow(1, 5, 2), weights[2], 1e-12, 1e-12);
    }

    [Fact]
    public void Key_padding_covers_every_cached_position()
    {
        var m = new MultiheadAttention(8, 2, batchFirst: true, dtype: F64, generator: new Generator(9));
        var x = TestTensors.Randn(1, F64, 2, 5, 8);
        // Sequence 0 is left-padded by two positions (as when batching prompts of different lengths).
        var pad = Tensor.FromRows([new[] { true, true, false, false, false }, [false, false, false, false, false]]);
        var expected = m.Forward(x, x, x, keyPaddingMask: pad, isCausal: true).Output;
        var cache = new KeyValueCache();
        var actual = Decode(x, 1, [3, 1, 1], t =>
        {
            int seen = cache.SequenceLength + t.Shape[1];
            return m.Forward(t, t, t, keyPaddingMask: pad.Narrow(1, 0, seen), isCausal: true, cache: cache).Output;
        });
        TensorAssert.Close(expected, actual, 1e-12, 1e-12); // NaN compares equal to NaN
        // Sequence 0's first two queries see only padding (causal + padding): NaN, as in PyTorch. The rest are real.
        Assert.All(actual.Select(0, 0).Narrow(0, 0, 2).ToArray<double>(), v => Assert.True(double.IsNaN(v)));
        Assert.False(actual.Select(0, 0).Narrow(0, 2, 3).HasNonFinite());
        Assert.False(actual.Select(0, 1).HasNonFinite());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Decoder_stack_decoding_with_the_cache_equals_the_full_causal_pass(bool normFirst)
    {
        var decoder = new TransformerDecoder(i => new TransformerDecoderLayer(8, 2, 16, normFirst: normFirst, dtype: F64, generator: new Generator((ulong)i + 1)),
            2, new LayerNorm(8, dtype: F64));
        decoder.Eval(); // dropout off: the two passes must see the same network
        var tgt = TestTensors.Randn(1, F64, 6, 2, 8);
        var memory = TestTensors.Randn(2, F64, 5, 2, 8);
        var memoryPad = Tensor.FromRows([new[] { false, false, false, true, true }, [false, false, false, false, false]]);
        var expected = decoder.Forward(tgt, memory, tgtIsCausal: true, memoryKeyPaddingMask: memoryPad);
        var cache = new KeyValueCache();
        using (new NoGrad())
        {
            var actual = Decode(tgt, 0, [2, 1, 1, 1, 1], t => decoder.Forward(t, memory, tgtIsCausal: true, memoryKeyPaddingMask: memoryPad, cache: cache));
            TensorAssert.Close(expected, actual, 1e-12, 1e-12);
        }
        // Two self-attention entries and two cross-attention (memory) entries.
        Assert.Equal(4, cache.LayerCount);
        Assert.Equal(6, cache.SequenceLength);
        Assert.Equal(new Shape(2, 2, 5, 4), cache.Get(decoder.Layers[1].MultiheadAttn)!.Value.Keys.Shape);
    }

    [Fact]
    public void Cached_entries_survive_the_memory_scope_of_each_step()
    {
        var decoder = new TransformerDecoder(new TransformerDecoderLayer(8, 2, 16, batchFirst: true, dtype: F64), 2);
        decoder.Eval();
        var tgt = TestTensors.Randn(1, F64, 1, 4, 8);
        var memory = TestTensors.Randn(2, F64, 1, 3, 8);
        var expected = decoder.Forward(tgt, memory, tgtIsCausal: true);
        var cache = new KeyValueCache();
        var steps = new List<double[]>();
        using (new NoGrad())
            for (int t = 0; t < 4; t++)
            {
                using var scope = new MemoryScope(); // as the trainer and generators wrap each step
                steps.Add(decoder.Forward(tgt.Narrow(1, t, 1), memory, tgtIsCausal: true, cache: cache).ToArray<double>());
            }
        TensorAssert.Close(expected.ToArray<double>(), steps.SelectMany(s => s).ToArray(), 1e-12, 1e-12);
    }

    [Fact]
    public void Gradients_through_cached_decoding_equal_those_of_the_full_pass()
    {
        var m = new MultiheadAttention(4, 2, batchFirst: true, dtype: F64, generator: new Generator(11));
        var x = TestTensors.Param(1, 2, 5, 4);
        var probe = TestTensors.Randn(2, F64, 2, 5, 4);
        m.Forward(x, x, x, isCausal: true).Output.Mul(probe).Sum().Backward();
        var expected = m.Parameters().Select(p => p.Grad!.Clone()).Append(x.Grad!.Clone()).ToList();
        m.ZeroGrad();
        x.Grad = null;
        var cache = new KeyValueCache();
        Decode(x, 1, [2, 1, 1, 1], t => m.Forward(t, t, t, isCausal: true, cache: cache).Output).Mul(probe).Sum().Backward();
        var actual = m.Parameters().Select(p => p.Grad!).Append(x.Grad!).ToList();
        for (int i = 0; i < expected.Count; i++) TensorAssert.Close(expected[i], actual[i], 1e-12, 1e-10);
    }

    [Fact]
    public void A_different_batch_is_rejected_until_the_cache_is_cleared()
    {
        var m = new MultiheadAttention(8, 2, batchFirst: true, dtype: F64);
        var cache = new KeyValueCache();
        var a = TestTensors.Randn(1, F64, 2, 1, 8);
        var b = TestTensors.Randn(2, F64, 3, 1, 8);
        using (new NoGrad())
        {
            m.Forward(a, a, a, cache: cache);
            TensorAssert.Throws<ArgumentException>(() => m.Forward(b, b, b, cache: cache), "[2, 2, 1, 4]", "[3, 2, 1, 4]", "Clear()");
            cache.Clear();
            Assert.Equal(0, cache.SequenceLength);
            Assert.Equal(3, m.Forward(b, b, b, cache: cache).Output.Shape[0]);
        }
    }
}
