namespace Loom.Nn.Tests.Serialization;

public class AtomicFileTests
{
    private static string[] FilesIn(string dir) => Directory.GetFileSystemEntries(dir).Select(p => Path.GetFileName(p)!).Order().ToArray();

    [Fact]
    public void Write_creates_the_file_with_what_the_callback_wrote()
    {
        using var dir = new TemporaryDirectory();
        var path = Path.Combine(dir.Path, "out.bin");

        AtomicFile.Write(path, s => s.Write([1, 2, 3]));

        Assert.Equal(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path));
        Assert.Equal(["out.bin"], FilesIn(dir.Path));
    }

    [Fact]
    public void Write_replaces_an_existing_file_whole()
    {
        using var dir = new TemporaryDirectory();
        var path = Path.Combine(dir.Path, "out.bin");
        File.WriteAllBytes(path, new byte[1000]);

        AtomicFile.Write(path, s => s.Write([9]));

        Assert.Equal(new byte[] { 9 }, File.ReadAllBytes(path));
        Assert.Equal(["out.bin"], FilesIn(dir.Path));
    }

    [Fact]
    public void A_callback_that_throws_mid_write_leaves_the_previous_file_and_no_temporary_file()
    {
        using var dir = new TemporaryDirectory();
        var path = Path.Combine(dir.Path, "checkpoint.safetensors");
        File.WriteAllBytes(path, [1, 2, 3, 4]);

        var ex = Assert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            s.Write(new byte[100_000]);
            s.Flush();
            throw new InvalidOperationException("disk on fire");
        }));

        Assert.Equal("disk on fire", ex.Message);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, File.ReadAllBytes(path));
        Assert.Equal(["checkpoint.safetensors"], FilesIn(dir.Path));
    }

    [Fact]
    public void A_callback_that_throws_on_a_new_path_leaves_nothing()
    {
        using var dir = new TemporaryDirectory();

        Assert.Throws<IOException>(() => AtomicFile.Write(Path.Combine(dir.Path, "new.bin"), s =>
        {
            s.Write([1]);
            throw new IOException("boom");
        }));

        Assert.Empty(FilesIn(dir.Path));
    }

    [Fact]
    public void A_callback_that_closes_the_stream_is_refused_and_changes_nothing()
    {
        using var dir = new TemporaryDirectory();
        var path = Path.Combine(dir.Path, "out.bin");
        File.WriteAllBytes(path, [7]);

        TensorAssert.Throws<InvalidOperationException>(() => AtomicFile.Write(path, s =>
        {
            using var writer = new BinaryWriter(s);
            writer.Write(42);
        }), "closed the stream", "leaveOpen");

        Assert.Equal(new byte[] { 7 }, File.ReadAllBytes(path));
        Assert.Equal(["out.bin"], FilesIn(dir.Path));
    }

    [Fact]
    public void Missing_folder_fails_without_creating_anything()
    {
        using var dir = new TemporaryDirectory();
        var path = Path.Combine(dir.Path, "no", "such", "folder", "out.bin");

        Assert.Throws<DirectoryNotFoundException>(() => AtomicFile.Write(path, s => s.Write([1])));
        Assert.Empty(FilesIn(dir.Path));
    }

    [Fact]
    public void SafeTensors_Save_that_fails_mid_write_keeps_the_previous_checkpoint()
    {
        using var dir = new TemporaryDirectory();
        var path = Path.Combine(dir.Path, "model.safetensors");
        var good = new Dictionary<string, Tensor> { ["w"] = Tensor.Ones(3) };
        SafeTensors.Save(path, good);
        var before = File.ReadAllBytes(path);

        // A tensor whose pooled storage went back to the pool when its scope ended: the header and the first tensor are
        // written, then reading this one's data throws.
        Tensor stale;
        using (new MemoryScope()) stale = Tensor.Zeros(4096);
        var bad = new Dictionary<string, Tensor> { ["a"] = Tensor.Ones(new Shape(2), DType.Float64), ["b"] = stale };

        Assert.Throws<ObjectDisposedException>(() => SafeTensors.Save(path, bad));

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["model.safetensors"], FilesIn(dir.Path));
        Assert.Equal(new Shape(3), SafeTensors.Load(path).Tensors["w"].Shape);
    }

    [Fact]
    public void SafeTensors_Save_with_invalid_arguments_creates_no_file()
    {
        using var dir = new TemporaryDirectory();

        Assert.Throws<ArgumentException>(() =>
            SafeTensors.Save(Path.Combine(dir.Path, "m.safetensors"), new Dictionary<string, Tensor> { ["__metadata__"] = Tensor.Ones(1) }));

        Assert.Empty(FilesIn(dir.Path));
    }
}
