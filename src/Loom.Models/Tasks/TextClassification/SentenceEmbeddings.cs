using System.Security.Cryptography;
using System.Text;

namespace Loom.Models;

/// <summary>
/// A frozen sentence encoder's embeddings of texts, each text encoded once: cross-validation folds and epochs read
/// the stored rows (the encoder costs far more than training a head on its outputs). With a cache file, rows also
/// outlive the process, so `loom train` after `loom cv`, or `loom predict` on the same texts, encodes nothing again.
/// </summary>
/// <remarks>
/// The cache file holds records of a text's SHA-256 (of its UTF-8) and its D floats, appended as texts are encoded;
/// it is named by the encoder's fingerprint (<see cref="SentenceEncoder.Fingerprint"/>), so another encoder never
/// reads these rows. A record cut short (a process stopped while writing) is ignored, and a cache that cannot be
/// read or written is only slower, never an error.
/// </remarks>
public sealed class SentenceEmbeddings
{
    private readonly Dictionary<string, float[]> _rows = new(StringComparer.Ordinal);
    private readonly string? _cacheFile;

    // Texts encoded between writes to the cache: long reviews take seconds each on two cores.
    private const int Chunk = 128;

    public SentenceEmbeddings(SentenceEncoder encoder, string? cacheFile = null)
    {
        Encoder = encoder;
        _cacheFile = cacheFile;
        if (cacheFile is not null) ReadCache(cacheFile);
    }

    public SentenceEncoder Encoder { get; }

    /// <summary>Where embeddings of <paramref name="encoder"/> are kept between runs: $XDG_CACHE_HOME/loom/embeddings (or ~/.cache/…).</summary>
    public static string DefaultCacheFile(SentenceEncoder encoder)
    {
        var root = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "loom", "embeddings", encoder.Fingerprint + ".bin");
    }

    /// <summary>Unit embeddings [N, D] (Float32) of <paramref name="texts"/>, encoding only the texts not seen before.</summary>
    public Tensor Embed(IReadOnlyList<string> texts)
    {
        int dim = Encoder.Dim;
        var keys = texts.Select(Key).ToArray();
        var missing = new List<int>();
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < texts.Count; i++)
            if (!_rows.ContainsKey(keys[i]) && wanted.Add(keys[i])) missing.Add(i);
        // Minutes for a thousand full reviews on two cores: say what is happening when someone is watching.
        bool show = missing.Count >= Chunk && !Console.IsErrorRedirected;
        // In chunks, each cached as soon as it is done, so a run stopped part way keeps what it encoded.
        for (int start = 0; start < missing.Count; start += Chunk)
        {
            var chunk = missing.GetRange(start, Math.Min(Chunk, missing.Count - start));
            int before = start;
            var flat = Encoder.Embed([.. chunk.Select(i => texts[i])],
                show ? (done, _) => Console.Error.Write($"\rembedding {missing.Count:N0} texts with the pretrained encoder: {before + done:N0}") : null).ToArray<float>();
            for (int k = 0; k < chunk.Count; k++) _rows[keys[chunk[k]]] = flat.AsSpan(k * dim, dim).ToArray();
            WriteCache([.. chunk.Select(i => keys[i])]);
        }
        if (show) Console.Error.WriteLine();
        var result = new float[texts.Count * dim];
        for (int i = 0; i < texts.Count; i++) _rows[keys[i]].CopyTo(result, i * dim);
        return Tensor.FromArray(result, texts.Count, dim);
    }

    private static string Key(string text) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    private void ReadCache(string path)
    {
        int record = 32 + 4 * Encoder.Dim;
        try
        {
            if (!File.Exists(path)) return;
            var bytes = File.ReadAllBytes(path);
            for (int at = 0; at + record <= bytes.Length; at += record)
            {
                var row = new float[Encoder.Dim];
                Buffer.BlockCopy(bytes, at + 32, row, 0, 4 * Encoder.Dim);
                _rows[Convert.ToHexString(bytes, at, 32)] = row;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    private void WriteCache(IReadOnlyList<string> keys)
    {
        if (_cacheFile is null) return;
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(_cacheFile)!);
            var buffer = new byte[keys.Count * (32 + 4 * Encoder.Dim)];
            int at = 0;
            foreach (var key in keys)
            {
                Convert.FromHexString(key).CopyTo(buffer, at);
                Buffer.BlockCopy(_rows[key], 0, buffer, at + 32, 4 * Encoder.Dim);
                at += 32 + 4 * Encoder.Dim;
            }
            // Whole records only: a file whose length is not a multiple of the record (a write cut short) is cut back first.
            using var file = new FileStream(_cacheFile, FileMode.OpenOrCreate, FileAccess.Write, FileShare.None);
            file.SetLength(file.Length - file.Length % (32 + 4 * Encoder.Dim));
            file.Seek(0, SeekOrigin.End);
            file.Write(buffer);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
