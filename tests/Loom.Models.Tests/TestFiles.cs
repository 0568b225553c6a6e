using System.Globalization;
using System.Text;

[assembly: CollectionBehavior(DisableTestParallelization = true)] // pipelines set Loom.Threads and seed the default generator

namespace Loom.Models.Tests;

/// <summary>A temporary folder deleted at the end of the test.</summary>
internal sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("loom-models-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

internal static class TestFiles
{
    /// <summary>
    /// A CSV of <paramref name="rows"/> rows: three numeric features on different scales and offsets (so a
    /// standardisation matters and differs between subsets) and a categorical "label" of three classes that depends on them.
    /// </summary>
    public static string TableCsv(string folder, int rows = 90, int seed = 3)
    {
        var rng = new System.Random(seed);
        var sb = new StringBuilder("a,b,c,label\n");
        for (int i = 0; i < rows; i++)
        {
            int c = i % 3;
            double a = 10 + 5 * rng.NextDouble() + 4 * c, b = -200 + 100 * rng.NextDouble() * (c + 1), x = rng.NextDouble();
            sb.Append(string.Join(',', new[] { a, b, x }.Select(v => v.ToString("F4", CultureInfo.InvariantCulture)))).Append(',').Append("cls" + c).Append('\n');
        }
        var path = System.IO.Path.Combine(folder, "table.csv");
        File.WriteAllText(path, sb.ToString());
        return path;
    }
}
