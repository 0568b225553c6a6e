using CsCheck;

namespace Loom.Data.Tests.Tokenizers;

/// <summary>
/// decode(encode(s)) == s for random Unicode strings: ASCII, CJK, emoji (outside the BMP, so surrogate pairs in .NET
/// strings), combining marks and any other scalar value, with white space runs that GPT-2's pre-tokenizer treats
/// specially.
/// </summary>
public class TokenizerRoundTripTests
{
    private static readonly Gen<int> CodePoint = Gen.Frequency(
        (6, Gen.Int[0x20, 0x7E]),
        (2, Gen.OneOf(Gen.Const(0x20), Gen.Const(0x0A), Gen.Const(0x09), Gen.Const(0x27))),
        (2, Gen.Int[0x4E00, 0x9FFF]),
        (2, Gen.Int[0x1F300, 0x1FAFF]),
        (1, Gen.Int[0x0300, 0x036F]),
        (1, Gen.Int[0, 0x10FFFF].Where(Rune.IsValid)));

    /// <summary>Valid Unicode text (no lone surrogates: those are not text and have no UTF-8 form).</summary>
    public static readonly Gen<string> Text = CodePoint.Array[0, 60].Select(cps => string.Concat(cps.Select(char.ConvertFromUtf32)));

    private static readonly Lazy<BpeTokenizer> TrainedBpe = new(() => BpeTrainer.Train(
        ["The quick brown fox jumps over the lazy dog. 快速的棕色狐狸跳过了懒狗。 🦊🐶🦊🐶 naïve café", "the the the fox fox dog dog 狐狸 狐狸 🦊🦊"], 400));

    [Fact]
    public void Char_tokenizer_round_trips_the_text_it_was_fitted_on() =>
        Text.Sample(s =>
        {
            var tokenizer = CharTokenizer.Fit([s]);
            var ids = tokenizer.Encode(s);
            Assert.Equal(s.EnumerateRunes().Count(), ids.Length);
            Assert.Equal(s, tokenizer.Decode(ids));
        }, iter: 300);

    [Fact]
    public void Trained_bpe_round_trips_any_text_even_unseen_scripts() =>
        Text.Sample(s => Assert.Equal(s, TrainedBpe.Value.Decode(TrainedBpe.Value.Encode(s))), iter: 300);

    [Fact]
    public void Gpt2_round_trips_any_text() =>
        Text.Sample(s => Assert.Equal(s, Gpt2Tokenizer.Instance.Decode(Gpt2Tokenizer.Instance.Encode(s))), iter: 300);

    [Fact]
    public void Trained_bpe_encodes_the_same_after_a_save_and_load()
    {
        using var dir = new TempDir();
        var path = dir.File("tokenizer.json");
        TrainedBpe.Value.Save(path);
        var loaded = Assert.IsType<BpeTokenizer>(Tokenizer.Load(path));
        Assert.Equal(TrainedBpe.Value.Merges, loaded.Merges);
        Text.Sample(s => Assert.Equal(TrainedBpe.Value.Encode(s), loaded.Encode(s)), iter: 100);
    }

    [Fact]
    public void Char_tokenizer_survives_a_save_and_load_and_marks_unseen_characters_unknown()
    {
        using var dir = new TempDir();
        var tokenizer = CharTokenizer.Fit(["abc 🦊 狐"]);
        tokenizer.Save(dir.File("t.json"));
        var loaded = Tokenizer.Load(dir.File("t.json"));
        Assert.Equal(tokenizer.VocabSize, loaded.VocabSize);
        Assert.Equal(tokenizer.Encode("🦊 cab 狐"), loaded.Encode("🦊 cab 狐"));
        var ids = loaded.Encode("abz");
        Assert.Equal(SpecialTokens.Reserved.Unk, ids[2]);
        Assert.Equal("ab\uFFFD", loaded.Decode(ids));
    }

    [Fact]
    public void A_damaged_tokenizer_file_is_a_one_line_error_naming_the_file()
    {
        using var dir = new TempDir();
        var path = dir.File("tokenizer.json");
        File.WriteAllText(path, "{\"kind\":\"bpe\",\"merges\":[\"4 999\"]}");
        var e = Assert.Throws<InvalidDataException>(() => Tokenizer.Load(path));
        Assert.Contains(path, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
