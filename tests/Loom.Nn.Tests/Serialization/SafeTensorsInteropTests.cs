using static Loom.Nn.Tests.Serialization.SafeTensorsTestHelpers;

namespace Loom.Nn.Tests.Serialization;

/// <summary>
/// Compatibility with the Python ecosystem through golden files made by tests/golden/safetensors/make_fixtures.py,
/// which writes and checks files exactly as the reference safetensors library lays them out.
/// </summary>
public class SafeTensorsInteropTests
{
    [Fact]
    public void Python_written_file_loads_with_the_expected_tensors_and_metadata()
    {
        var file = SafeTensors.Load(GoldenTensors.PathOf("python_written.safetensors"));

        AssertIdentical(GoldenTensors.Python(), file.Tensors);
        Assert.Equal(GoldenTensors.PythonMetadata.OrderBy(p => p.Key, StringComparer.Ordinal), file.Metadata);
        // Data order is the writer's: widest dtype first, then names as UTF-8 bytes (U+FF21 before U+1F600).
        Assert.Equal(
            ["counts", "head.bias", "scale", "embed.weight", "empty", "labels", "z\uFF21", "z\U0001F600", "deltas", "odd \"name\"\\\t\u0001", "pixels", "mask"],
            file.Tensors.Keys);
    }

    [Fact]
    public void Loom_writes_the_python_file_byte_for_byte()
    {
        var expected = File.ReadAllBytes(GoldenTensors.PathOf("python_written.safetensors"));

        Assert.Equal(expected, Write(GoldenTensors.Python(), GoldenTensors.PythonMetadata));
        var loaded = SafeTensors.Load(GoldenTensors.PathOf("python_written.safetensors"));
        Assert.Equal(expected, Write(loaded.Tensors, loaded.Metadata));
    }

    [Fact]
    public void Python_half_precision_file_loads_as_float32_with_exact_values()
    {
        var file = SafeTensors.Load(GoldenTensors.PathOf("python_written_half.safetensors"));

        // Bit-identical: -0 keeps its sign, subnormals and the bfloat16 maximum survive, NaN stays NaN.
        AssertIdentical(GoldenTensors.PythonHalfAsFloat(), file.Tensors);
        Assert.Empty(file.Metadata);
    }

    [Fact]
    public void Loom_written_fixture_equals_what_Loom_writes_today()
    {
        var bytes = Write(GoldenTensors.Loom(), GoldenTensors.LoomMetadata);
        if (Environment.GetEnvironmentVariable("LOOM_UPDATE_GOLDEN") == "1")
            File.WriteAllBytes(GoldenTensors.SourcePathOf("loom_written.safetensors"), bytes);

        // make_fixtures.py check verifies the committed file's values and layout from the Python side.
        Assert.Equal(File.ReadAllBytes(GoldenTensors.PathOf("loom_written.safetensors")), bytes);
    }

    [Fact]
    public void Loom_written_fixture_reads_back_as_the_contiguous_tensors()
    {
        var file = SafeTensors.Load(GoldenTensors.PathOf("loom_written.safetensors"));

        var expected = GoldenTensors.Loom().ToDictionary(p => p.Key, p => p.Value.Contiguous());
        AssertIdentical(expected, file.Tensors);
        Assert.Equal(GoldenTensors.LoomMetadata.OrderBy(p => p.Key, StringComparer.Ordinal), file.Metadata);
    }
}
