namespace Loom.Models.Tests.Faces;

/// <summary>The LFW folder layout: pairs.txt read into pairs of files, and its mistakes named by file and line.</summary>
public sealed class LfwPairsTests : IDisposable
{
    private readonly TempFolder _temp = new();

    private string Folder(string pairs)
    {
        var root = _temp.File($"lfw{Guid.NewGuid():N}");
        foreach (var (name, count) in new[] { ("Ada_Lovelace", 2), ("Alan_Turing", 1) })
        {
            Directory.CreateDirectory(Path.Combine(root, name));
            for (int i = 1; i <= count; i++) File.WriteAllBytes(LfwPairs.ImagePath(root, name, i), [1]);
        }
        File.WriteAllText(Path.Combine(root, LfwPairs.PairsFile), pairs);
        return root;
    }

    [Fact]
    public void Same_and_different_pairs_are_read_after_the_header()
    {
        var root = Folder("1\t2\nAda_Lovelace\t1\t2\nAda_Lovelace 2   Alan_Turing 1\n");
        Assert.True(LfwPairs.Recognize(root));
        var pairs = LfwPairs.Read(root);
        Assert.Equal(
            [
                new FacePair(Path.Combine(root, "Ada_Lovelace", "Ada_Lovelace_0001.jpg"), Path.Combine(root, "Ada_Lovelace", "Ada_Lovelace_0002.jpg"), true, 2),
                new FacePair(Path.Combine(root, "Ada_Lovelace", "Ada_Lovelace_0002.jpg"), Path.Combine(root, "Alan_Turing", "Alan_Turing_0001.jpg"), false, 3),
            ],
            pairs);
    }

    [Theory]
    [InlineData("10 300\nAda_Lovelace 1\n", ":2: expected 'name n1 n2' or 'name1 n1 name2 n2', got 2 fields")]
    [InlineData("Ada_Lovelace 1 2\nAda_Lovelace 1 x\n", ":2: expected an image number of 1 or more, got 'x'")]
    [InlineData("2\nAda_Lovelace 1 2\nAda_Lovelace 1 3\n", ":3: no image Ada_Lovelace/Ada_Lovelace_0003.jpg")]
    [InlineData("2\nAlan_Turing 1 Grace_Hopper 1\n", ":2: no image Grace_Hopper/Grace_Hopper_0001.jpg")]
    [InlineData("1 2 3\n", ":1: expected a header of the number of pairs, or of folds and pairs per fold")]
    [InlineData("2\n", ": no pairs")]
    public void Malformed_lines_and_missing_images_name_the_file_and_line(string pairs, string message)
    {
        var root = Folder(pairs);
        var e = Assert.Throws<InvalidDataException>(() => LfwPairs.Read(root));
        Assert.Equal(Path.Combine(root, "pairs.txt") + message, e.Message);
    }

    public void Dispose() => _temp.Dispose();
}
