using System.Reflection;

namespace Loom.Onnx.Tests;

/// <summary>Paths to the pretrained ONNX models that NuGet packages ship (fetched by the test project's PackageDownload).</summary>
internal static class PretrainedModels
{
    public static string ResNet18 => Metadata("ResNet18Onnx");

    private static string Metadata(string key)
    {
        var path = typeof(PretrainedModels).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
        Assert.True(File.Exists(path), $"{path} is missing: the test project's PackageDownload should have fetched it at restore");
        return path;
    }
}
