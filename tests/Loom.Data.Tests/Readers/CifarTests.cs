namespace Loom.Data.Tests.Readers;

/// <summary>The CIFAR binary format on small files written here (no package ships CIFAR itself).</summary>
public sealed class CifarTests : IDisposable
{
    private readonly TempDir _temp = new();

    public void Dispose() => _temp.Dispose();

    // Record i: label bytes, then pixel k (channel-major) = (i * 7 + k) % 256.
    private static byte[] Records(int n, params Func<int, byte>[] labels)
    {
        int record = labels.Length + 3072;
        var bytes = new byte[n * record];
        for (int i = 0; i < n; i++)
        {
            for (int l = 0; l < labels.Length; l++) bytes[i * record + l] = labels[l](i);
            for (int k = 0; k < 3072; k++) bytes[i * record + labels.Length + k] = (byte)((i * 7 + k) % 256);
        }
        return bytes;
    }

    [Fact]
    public void Reads_cifar10_records_as_red_green_blue_planes_scaled_to_one()
    {
        var path = _temp.File("test_batch.bin");
        File.WriteAllBytes(path, Records(3, i => (byte)(9 - i)));

        var data = CifarReader.Read(path);

        Assert.Equal(new Shape(3, 3, 32, 32), data.Inputs.Shape);
        Assert.Equal([9L, 8, 7], data.Targets.ToArray<long>());
        // Record 2, green (channel 1), row 4, column 5 is pixel byte 1024 + 4 * 32 + 5.
        Assert.Equal(((2 * 7 + 1024 + 4 * 32 + 5) % 256) / 255f, data.Inputs.ToArray<float>()[2 * 3072 + 1024 + 4 * 32 + 5], 6);
    }

    [Fact]
    public void Cifar100_takes_the_fine_label_of_two()
    {
        var path = _temp.File("train.bin");
        File.WriteAllBytes(path, Records(2, i => (byte)(i + 1), i => (byte)(50 + i)));
        Assert.Equal([50L, 51], CifarReader.Read(path, labelBytes: 2, label: 1, classes: 100).Targets.ToArray<long>());
        Assert.Equal([1L, 2], CifarReader.Read(path, labelBytes: 2, label: 0, classes: 100).Targets.ToArray<long>());
    }

    [Fact]
    public void A_truncated_file_or_a_label_out_of_range_is_an_error_naming_the_file()
    {
        var truncated = _temp.File("data_batch_1.bin");
        File.WriteAllBytes(truncated, Records(2, _ => 1)[..^10]);
        TensorAssert.Throws<InvalidDataException>(() => CifarReader.Read(truncated), truncated, "6136 bytes", "truncated");
        var badLabel = _temp.File("data_batch_2.bin");
        File.WriteAllBytes(badLabel, Records(2, i => (byte)(i == 1 ? 10 : 0)));
        TensorAssert.Throws<InvalidDataException>(() => CifarReader.Read(badLabel), badLabel, "record 1", "label 10");
        TensorAssert.Throws<FileNotFoundException>(() => CifarReader.Read(_temp.File("missing.bin")), "missing.bin");
    }

    [Fact]
    public void A_folder_of_batches_is_found_with_its_class_names()
    {
        File.WriteAllBytes(_temp.File("data_batch_1.bin"), Records(2, _ => 3));
        File.WriteAllBytes(_temp.File("data_batch_2.bin"), Records(3, _ => 4));
        File.WriteAllBytes(_temp.File("test_batch.bin"), Records(1, _ => 5));
        var files = CifarReader.FindFolder(_temp.Path)!;
        Assert.Equal("cat", files.ClassNames[3]); // CIFAR-10's names without batches.meta.txt
        var train = files.ReadTrain();
        Assert.Equal([3L, 3, 4, 4, 4], train.Targets.ToArray<long>());
        Assert.Equal(1, files.ReadTest().Count);

        File.WriteAllLines(_temp.File("batches.meta.txt"), [.. Enumerable.Range(0, 10).Select(i => $"c{i}"), ""]);
        Assert.Equal("c3", CifarReader.FindFolder(_temp.Path)!.ClassNames[3]);
        File.WriteAllLines(_temp.File("batches.meta.txt"), ["a", "b"]);
        TensorAssert.Throws<InvalidDataException>(() => CifarReader.FindFolder(_temp.Path), "batches.meta.txt", "10 different class names");
        Assert.Null(CifarReader.FindFolder(_temp.File("nowhere")));
    }
}
