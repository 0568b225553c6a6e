using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace Loom.Data;

/// <summary>
/// BERT's WordPiece over a pretrained model's vocab.txt (one token a line, the line number its id), as
/// Microsoft.ML.Tokenizers implements it: basic tokenization (punctuation split off, Chinese characters one by one),
/// lower-casing and accent stripping for uncased models, then the longest vocabulary pieces ("##" continuing a word).
/// The ids are the ones the pretrained model was trained with, so its embeddings read text as they were trained to.
/// </summary>
public sealed class WordPieceTokenizer
{
    private readonly BertTokenizer _tokenizer;

    private readonly bool _stripAccents;

    private WordPieceTokenizer(BertTokenizer tokenizer, int vocabSize, bool stripAccents)
    {
        _tokenizer = tokenizer;
        VocabSize = vocabSize;
        _stripAccents = stripAccents;
    }

    /// <summary>
    /// The tokenizer of the vocabulary in <paramref name="vocab"/> (UTF-8 vocab.txt). <paramref name="lowerCase"/>:
    /// an uncased model (bert-base-uncased, all-MiniLM-L6-v2), whose tokenizer also strips accents.
    /// </summary>
    public static WordPieceTokenizer FromVocab(byte[] vocab, bool lowerCase = true)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        // Counted here because the tokenizer keeps its vocabulary to itself; every line is one id, empty ones included.
        int lines = 0;
        foreach (byte b in vocab) if (b == (byte)'\n') lines++;
        if (vocab.Length > 0 && vocab[^1] != (byte)'\n') lines++;
        var options = new BertOptions { LowerCaseBeforeTokenization = lowerCase, RemoveNonSpacingMarks = lowerCase };
        using var stream = new MemoryStream(vocab, writable: false);
        return new WordPieceTokenizer(BertTokenizer.Create(stream, options), lines, lowerCase);
    }

    public int VocabSize { get; }

    /// <summary>[CLS], which starts every sequence.</summary>
    public int Cls => _tokenizer.ClassificationTokenId;

    /// <summary>[SEP], which ends every sequence.</summary>
    public int Sep => _tokenizer.SeparatorTokenId;

    /// <summary>[PAD], which fills batches (masked out of attention).</summary>
    public int Pad => _tokenizer.PaddingTokenId;

    /// <summary>The word pieces of <paramref name="text"/>, without [CLS] and [SEP].</summary>
    public int[] Encode(string text)
    {
        // Hugging Face strips accents from the canonical decomposition (é → e + U+0301, the mark then dropped); the
        // tokenizer here left a precomposed "café" whole, an [UNK], so the marks go before it sees the text.
        if (_stripAccents) text = StripAccents(text);
        return [.. _tokenizer.EncodeToIds(text, addSpecialTokens: false, considerPreTokenization: true, considerNormalization: true)];
    }

    private static string StripAccents(string text)
    {
        var decomposed = text.Normalize(NormalizationForm.FormD);
        var kept = new StringBuilder(decomposed.Length);
        foreach (char c in decomposed)
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark) kept.Append(c);
        return kept.ToString();
    }

    /// <summary>The text of <paramref name="ids"/>, word pieces joined back into words.</summary>
    public string Decode(IEnumerable<int> ids) => _tokenizer.Decode(ids) ?? "";
}
