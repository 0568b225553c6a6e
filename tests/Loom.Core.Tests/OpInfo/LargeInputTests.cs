namespace Loom.Tests.OpInfo;

/// <summary>
/// The golden samples are small; kernels split inputs above about 10⁵ elements across threads. For every element-wise
/// row (one input, output of its shape), a large input split over 4 threads must give, element by element, what
/// the same values give in pieces small enough for one thread.
/// </summary>
[Collection(GlobalSettings.Name)]
public class LargeInputTests
{
    private const int Large = 300_007, Piece = 20_000;

    public static TheoryData<string> ElementwiseRows()
    {
        var data = new TheoryData<string>();
        foreach (var row in OpTable.All)
        {
            if (!OpGolden.Exists(row.Name)) continue;
            var sample = OpGolden.Load(row.Name).Samples.FirstOrDefault(s => s.Name == "vec37");
            // Scans (cumsum, cumprod) also keep the shape but are not element-wise: they take an axis.
            if (sample is { Inputs.Length: 1, Outputs.Length: 1 } && sample.Outputs[0].Shape == sample.Inputs[0].Shape && !sample.Args.Has("axis"))
                data.Add(row.Name);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(ElementwiseRows))]
    public void Threaded_large_inputs_match_small_pieces(string name)
    {
        var row = OpTable.Row(name);
        var args = OpGolden.Load(name).Sample("vec37").Args;
        var x = TestTensors.Uniform(11, -3, 3, DType.Float32, Large);
        if (name is "log" or "sqrt" or "rsqrt" or "log1p") x = x.Abs().Add(0.01);
        Tensor whole = null!;
        GlobalSettings.WithThreads(4, () => whole = row.Run([x], args)[0]);
        var pieces = Enumerable.Range(0, (Large + Piece - 1) / Piece)
            .Select(i => row.Run([x.Narrow(0, i * Piece, Math.Min(Piece, Large - i * Piece)).Contiguous()], args)[0]).ToArray();
        // A value can take a kernel's vector path in one run and its scalar tail in the other: allow a few ulps.
        TensorAssert.Close(Tensor.Cat(pieces), whole, 1e-6, 1e-6);
    }
}
