namespace Loom.Data;

/// <summary>
/// Reads the binary version of CIFAR-10 and CIFAR-100 (Krizhevsky 2009), as distributed in cifar-10-binary.tar.gz and
/// cifar-100-binary.tar.gz: fixed-size records of label byte(s) then 3,072 pixel bytes, 1,024 red, 1,024 green and
/// 1,024 blue, each 32×32 row-major. CIFAR-10 has one label byte per record; CIFAR-100 two (coarse, then fine).
/// </summary>
/// <remarks>
/// No Debian package ships CIFAR, so Loom cannot include it: this reader takes the files from any folder the user names
/// (<see cref="FindFolder"/>): data_batch_1.bin … data_batch_5.bin and test_batch.bin with batches.meta.txt for
/// CIFAR-10, train.bin and test.bin with fine_label_names.txt for CIFAR-100.
/// </remarks>
public static class CifarReader
{
    public const int Side = 32, Channels = 3, PixelBytes = Channels * Side * Side;

    /// <summary>
    /// Every record of <paramref name="path"/>: images [N, 3, 32, 32] as float32 in [0, 1] and labels [N] as Int64.
    /// <paramref name="labelBytes"/> is 1 (CIFAR-10) or 2 (CIFAR-100); <paramref name="label"/> picks which of them is the label.
    /// </summary>
    /// <exception cref="InvalidDataException">A size that is not a whole number of records (a truncated file), or a label outside 0..<paramref name="classes"/>−1; the message names the file.</exception>
    public static TensorDataset Read(string path, int labelBytes = 1, int label = 0, int classes = 10)
    {
        if (labelBytes is not (1 or 2) || label < 0 || label >= labelBytes) throw new ArgumentException($"CifarReader: label {label} of {labelBytes} label bytes per record");
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no such CIFAR file", path);
        var bytes = File.ReadAllBytes(path);
        int record = labelBytes + PixelBytes;
        if (bytes.Length == 0 || bytes.Length % record != 0)
            throw new InvalidDataException($"{path}: {bytes.Length} bytes is not a whole number of {record}-byte CIFAR records ({labelBytes} label byte{(labelBytes == 1 ? "" : "s")} + {PixelBytes} pixels): truncated, or not a CIFAR{(labelBytes == 1 ? "-10" : "-100")} binary file");
        int n = bytes.Length / record;
        using var persistent = Memory.MemoryScope.Persistent();
        var x = new float[n * PixelBytes];
        var y = new long[n];
        for (int i = 0; i < n; i++)
        {
            int offset = i * record;
            y[i] = bytes[offset + label];
            if (y[i] >= classes)
                throw new InvalidDataException($"{path}: record {i} (byte {offset + label}) has label {y[i]}, but the data set has {classes} classes");
            var pixels = bytes.AsSpan(offset + labelBytes, PixelBytes);
            var dst = x.AsSpan(i * PixelBytes, PixelBytes);
            for (int k = 0; k < PixelBytes; k++) dst[k] = pixels[k] / 255f;
        }
        return new TensorDataset(Tensor.FromArray(x, [n, Channels, Side, Side]), Tensor.FromArray(y));
    }

    /// <summary>The CIFAR files of <paramref name="folder"/>, or null when it holds neither layout.</summary>
    public static CifarFiles? FindFolder(string folder)
    {
        string File_(string name) => Path.Combine(folder, name);
        var batches = Enumerable.Range(1, 5).Select(i => File_($"data_batch_{i}.bin")).ToArray();
        if (File.Exists(File_("test_batch.bin")) && batches.Any(File.Exists))
            return new CifarFiles(batches.Where(File.Exists).ToArray(), File_("test_batch.bin"), 1, 0, ClassNames(File_("batches.meta.txt"), 10, CifarTenClasses));
        if (File.Exists(File_("train.bin")) && File.Exists(File_("test.bin")))
            return new CifarFiles([File_("train.bin")], File_("test.bin"), 2, 1, ClassNames(File_("fine_label_names.txt"), 100, null));
        return null;
    }

    private static readonly string[] CifarTenClasses = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    // The names file lists one class per line (CIFAR-10's ends with a blank line); without it, CIFAR-10's known names or numbers.
    private static string[] ClassNames(string path, int classes, string[]? known)
    {
        if (!File.Exists(path)) return known ?? Enumerable.Range(0, classes).Select(i => i.ToString()).ToArray();
        var names = File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        if (names.Length != classes || names.Distinct().Count() != classes)
            throw new InvalidDataException($"{path}: expected {classes} different class names, one per line, found {names.Length}{(names.Distinct().Count() != names.Length ? " with repeats" : "")}");
        return names;
    }
}

/// <summary>The files of a CIFAR folder (<see cref="CifarReader.FindFolder"/>): training and test batches, label layout and class names.</summary>
public sealed record CifarFiles(string[] Train, string Test, int LabelBytes, int Label, string[] ClassNames)
{
    public TensorDataset ReadTrain()
    {
        using var persistent = Loom.Memory.MemoryScope.Persistent();
        var parts = Train.Select(f => CifarReader.Read(f, LabelBytes, Label, ClassNames.Length)).ToArray();
        return parts.Length == 1 ? parts[0] : new TensorDataset(Tensor.Cat(parts.Select(p => p.Inputs).ToArray(), 0), Tensor.Cat(parts.Select(p => p.Targets).ToArray(), 0));
    }

    public TensorDataset ReadTest() => CifarReader.Read(Test, LabelBytes, Label, ClassNames.Length);
}
