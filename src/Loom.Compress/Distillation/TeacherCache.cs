namespace Loom.Compress;

/// <summary>
/// A teacher's outputs remembered per sample, keyed by the sample's content: on an unaugmented dataset every epoch
/// shows the student the same samples in another order, so the teacher (in eval mode, deterministic) needs one forward
/// per sample for the whole run instead of one per sample per epoch — distilling from a CNN into an MLP was spending
/// nine tenths of its time in the teacher. A batch with any sample not seen before (the first epoch, augmented data)
/// runs the teacher on the whole batch and remembers every row.
/// </summary>
/// <remarks>
/// The key is two independent 64-bit hashes of the sample's values, so a wrong hit needs both to collide: for 10⁶
/// distinct samples the chance is about 10⁻²⁶. Keys by content rather than by dataset index because the loss sees
/// only the batch (the data loader's shuffled indices do not reach it). Memory: one row of outputs per distinct sample
/// (60,000 × 10 floats = 2.4 MB for Fashion-MNIST).
/// </remarks>
public sealed class TeacherCache(Func<Tensor, Tensor> teacher)
{
    // Each row with its own shape: a sequence model's rows are as long as their batch's padding.
    private readonly Dictionary<(ulong, ulong), (float[] Values, int[] Shape)> _outputs = [];

    /// <summary>Samples whose outputs came from the cache.</summary>
    public long Hits { get; private set; }

    /// <summary>Samples the teacher ran on.</summary>
    public long Misses { get; private set; }

    /// <summary>Distinct samples whose outputs are kept: what the cache holds in memory.</summary>
    public int Remembered => _outputs.Count;

    /// <summary>The teacher's outputs for <paramref name="input"/> [N, ...]: [N, ...] float32, no gradient.</summary>
    /// <param name="input">The batch.</param>
    /// <param name="remember">False for a batch that cannot come again (mixed or augmented training batches): the
    /// teacher runs on it (counted in <see cref="Misses"/>) without hashing its samples or keeping its outputs, which
    /// would grow by a batch's rows every step and never be served.</param>
    public Tensor Forward(Tensor input, bool remember = true)
    {
        if (input.Shape.Rank == 0) throw new ArgumentException("teacher cache: the input needs a batch dimension");
        int n = input.Shape[0];
        if (!remember) return ToFloat32(RunTeacher(input, n));
        var keys = SampleKeys(input);
        var rows = new (float[] Values, int[] Shape)[n];
        bool all = n > 0;
        for (int i = 0; i < n; i++)
        {
            if (all && _outputs.TryGetValue(keys[i], out var row) && (i == 0 || row.Shape.AsSpan().SequenceEqual(rows[0].Shape))) rows[i] = row;
            else all = false;
        }
        if (all)
        {
            Hits += n;
            int rowLength = rows[0].Values.Length;
            var data = new float[n * rowLength];
            for (int i = 0; i < n; i++) rows[i].Values.CopyTo(data, i * rowLength);
            return Tensor.FromArray(data, [n, .. rows[0].Shape]);
        }
        var output = RunTeacher(input, n);
        var rowShape = output.Shape.ToArray()[1..];
        var computed = output.ToArray<float>();
        int length = n == 0 ? 0 : computed.Length / n;
        for (int i = 0; i < n; i++) _outputs[keys[i]] = (computed.AsSpan(i * length, length).ToArray(), rowShape);
        return ToFloat32(output);
    }

    private Tensor RunTeacher(Tensor input, int n)
    {
        Tensor output;
        using (new Autograd.NoGrad()) output = teacher(input);
        if (output.Shape.Rank == 0 || output.Shape[0] != n)
            throw new InvalidOperationException($"teacher cache: the teacher gave {output.Shape} for a batch of {n}");
        Misses += n;
        return output;
    }

    private static Tensor ToFloat32(Tensor output) => output.DType == DType.Float32 ? output : output.To(DType.Float32);

    /// <summary>
    /// The keys the samples (rows) of <paramref name="batch"/> [N, ...] are remembered by: per sample two independent
    /// 64-bit hashes of its values' bits. Also how an out-of-fold ensemble recognises its members' training samples.
    /// </summary>
    public static (ulong, ulong)[] SampleKeys(Tensor batch)
    {
        if (batch.Shape.Rank == 0) throw new ArgumentException("teacher cache: the input needs a batch dimension");
        int n = batch.Shape[0];
        var keys = new (ulong, ulong)[n];
        if (n == 0) return keys;
        var values = batch.ToArray<double>();
        int width = values.Length / n;
        for (int i = 0; i < n; i++) keys[i] = SampleKey(values.AsSpan(i * width, width));
        return keys;
    }

    private static (ulong, ulong) SampleKey(ReadOnlySpan<double> values)
    {
        // Two multiply-xorshift chains with different odd constants and seeds (splitmix64's finaliser at the end).
        ulong a = 0x9E3779B97F4A7C15, b = 0xC2B2AE3D27D4EB4F ^ (ulong)values.Length;
        foreach (double v in values)
        {
            ulong x = (ulong)BitConverter.DoubleToInt64Bits(v);
            a = (a ^ x) * 0xBF58476D1CE4E5B9;
            a ^= a >> 29;
            b = (b + x) * 0x94D049BB133111EB;
            b ^= b >> 31;
        }
        return (Mix(a), Mix(b));
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}
