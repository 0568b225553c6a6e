namespace Loom.Nn.Tests;

/// <summary>Loads golden files written by the PyTorch scripts in tests/golden (copied next to the test assembly).</summary>
internal static class Golden
{
    public static JsonDocument Json(string name) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "golden", name)));

    public static double[] Doubles(this JsonElement e) => e.EnumerateArray().Select(x => x.GetDouble()).ToArray();
}
