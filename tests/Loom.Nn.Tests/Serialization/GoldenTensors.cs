namespace Loom.Nn.Tests.Serialization;

/// <summary>
/// The tensors of the golden files in tests/golden/safetensors, built in C#. They mirror python_tensors(),
/// half_tensors() and loom_tensors() in make_fixtures.py: change both together.
/// </summary>
internal static class GoldenTensors
{
    public static readonly Dictionary<string, string> PythonMetadata = new()
    {
        ["format"] = "pt",
        ["producer"] = "make_fixtures.py",
        ["note"] = "ünïcödé \"quoted\"\n",
    };

    public static Dictionary<string, Tensor> Python() => new()
    {
        ["embed.weight"] = Tensor.FromArray(Enumerable.Range(0, 12).Select(i => (i - 5) * 0.375f).ToArray(), 3, 4),
        ["head.bias"] = Tensor.FromArray(Enumerable.Range(0, 5).Select(i => i / 3.0).ToArray()),
        ["scale"] = Tensor.FromSpan<double>([-2.5]),
        ["counts"] = Tensor.FromArray(new[] { (1L << 40) + 1, -3, 0, -(1L << 62) }, 2, 2),
        ["labels"] = Tensor.FromArray(Enumerable.Range(0, 7).Select(i => i * i - 10).ToArray()),
        ["pixels"] = Tensor.FromArray(new byte[] { 0, 1, 127, 128, 254, 255 }, 2, 3),
        ["deltas"] = Tensor.FromArray(new sbyte[] { -128, -1, 0, 127 }),
        ["mask"] = Tensor.FromArray(new[] { true, false, false, true }, 2, 2),
        ["empty"] = Tensor.Zeros(0, 3),
        ["z\uFF21"] = Tensor.FromArray(new[] { 1 }),
        ["z\U0001F600"] = Tensor.FromArray(new[] { 2 }),
        ["odd \"name\"\\\t\u0001"] = Tensor.FromArray(new byte[] { 7 }),
    };

    /// <summary>The quiet NaN NumPy writes (sign bit clear); .NET's float.NaN has the sign bit set.</summary>
    private static readonly float QuietNaN = BitConverter.Int32BitsToSingle(0x7FC00000);

    /// <summary>python_written_half.safetensors as Loom loads it (Float32).</summary>
    public static Dictionary<string, Tensor> PythonHalfAsFloat() => new()
    {
        ["half"] = Tensor.FromArray(new[] { 0f, -0f, 1f, -2.5f, 65504f, MathF.Pow(2, -24), float.PositiveInfinity, QuietNaN }),
        ["brain"] = Tensor.FromArray(new[]
        {
            1f, -1.5f, 3.140625f, BitConverter.Int32BitsToSingle(0x7F7F0000),
            float.NegativeInfinity, BitConverter.Int32BitsToSingle(0x00010000), -0f, QuietNaN,
        }, 2, 4),
    };

    public static readonly Dictionary<string, string> LoomMetadata = new()
    {
        ["written_by"] = "Loom",
        ["format"] = "pt",
    };

    /// <summary>What loom_written.safetensors holds; two of them are views, so the file also proves strided writes.</summary>
    public static Dictionary<string, Tensor> Loom() => new()
    {
        ["conv.weight"] = Tensor.FromArray(Enumerable.Range(0, 12).Select(i => i * 0.5f).ToArray(), 3, 4).Transpose(0, 1),
        ["running_mean"] = Tensor.FromArray(new[] { 1 / 3.0, 2 / 3.0, 3 / 3.0 }),
        ["num_batches_tracked"] = Tensor.FromSpan<long>([1234567890123]),
        ["ids"] = Tensor.FromArray(new[] { -1, 0, 1, int.MaxValue }, 2, 2),
        ["bytes"] = Tensor.FromArray(new byte[] { 0, 128, 255 }),
        ["signed"] = Tensor.FromArray(new sbyte[] { -128, 0, 127 }),
        ["keep"] = Tensor.FromArray(new[] { true, false, true }),
        ["nothing"] = Tensor.Zeros(new Shape(0), DType.Int64),
        ["broadcast"] = Tensor.FromArray(new[] { 1.5f, -2f, 4f }).Expand(2, 3),
    };

    /// <summary>A golden file as copied next to the test assembly.</summary>
    public static string PathOf(string fileName) => System.IO.Path.Combine(AppContext.BaseDirectory, "golden", "safetensors", fileName);

    /// <summary>The golden file in the source tree (for regenerating it), found by walking up from the test assembly.</summary>
    public static string SourcePathOf(string fileName)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "tests", "golden", "safetensors");
            if (Directory.Exists(candidate)) return System.IO.Path.Combine(candidate, fileName);
        }
        throw new DirectoryNotFoundException("tests/golden/safetensors not found above " + AppContext.BaseDirectory);
    }
}
