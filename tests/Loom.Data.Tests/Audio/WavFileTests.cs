namespace Loom.Data.Tests.Audio;

public class WavFileTests
{
    // A chirp-like test signal that uses the whole range and differs per channel.
    private static float[] Signal(int n, int channel) =>
        [.. Enumerable.Range(0, n).Select(i => (float)(0.9 * Math.Sin(0.01 * i * i / n + channel) * Math.Cos(0.03 * i)))];

    [Theory]
    [InlineData(WavEncoding.Pcm8, 8000, 1, 1.0 / 128)]
    [InlineData(WavEncoding.Pcm16, 16000, 1, 1.0 / 32768)]
    [InlineData(WavEncoding.Pcm16, 22050, 2, 1.0 / 32768)]
    [InlineData(WavEncoding.Pcm24, 44100, 2, 1.0 / 8388608)]
    [InlineData(WavEncoding.Pcm32, 48000, 1, 1e-7)]
    [InlineData(WavEncoding.Float32, 48000, 2, 0)]
    public void Every_supported_encoding_rate_and_channel_count_reads_back_within_one_quantisation_step(WavEncoding encoding, int rate, int channels, double step)
    {
        using var dir = new TempDir();
        var audio = new Waveform([.. Enumerable.Range(0, channels).Select(c => Signal(1000, c))], rate);
        WavFile.Write(dir.File("a.wav"), audio, encoding);

        var read = WavFile.Read(dir.File("a.wav"));

        Assert.Equal(rate, read.SampleRate);
        Assert.Equal(channels, read.Channels.Length);
        Assert.Equal(1000, read.Length);
        for (int c = 0; c < channels; c++)
            for (int i = 0; i < 1000; i++)
                Assert.True(Math.Abs(read.Channels[c][i] - audio.Channels[c][i]) <= step * 0.5 + 1e-9, $"channel {c} sample {i}: {read.Channels[c][i]} vs {audio.Channels[c][i]}");
    }

    [Fact]
    public void Integer_samples_decode_to_their_documented_values()
    {
        // 16-bit -32768 → -1, 16384 → 0.5; 8-bit is unsigned with 128 as zero.
        var pcm16 = Header(1, 1, 8000, 16, 4).Concat(new byte[] { 0x00, 0x80, 0x00, 0x40 }).ToArray();
        Assert.Equal([-1f, 0.5f], WavFile.Parse(pcm16, "x.wav").Channels[0]);
        var pcm8 = Header(1, 1, 8000, 8, 2).Concat(new byte[] { 0, 192 }).ToArray();
        Assert.Equal([-1f, 0.5f], WavFile.Parse(pcm8, "x.wav").Channels[0]);
        var pcm24 = Header(1, 1, 8000, 24, 3).Concat(new byte[] { 0x00, 0x00, 0xC0 }).ToArray();
        Assert.Equal([-0.5f], WavFile.Parse(pcm24, "x.wav").Channels[0]);
    }

    [Fact]
    public void Stereo_mixes_down_to_the_mean_of_its_channels()
    {
        var audio = new Waveform([[1f, 0f], [0f, -0.5f]], 8000);
        Assert.Equal([0.5f, -0.25f], audio.Mono());
    }

    [Fact]
    public void Extensible_format_and_extra_chunks_are_read()
    {
        // WAVE_FORMAT_EXTENSIBLE with a PCM sub-format, a LIST chunk of odd size (padded) before the data.
        var fmt = new byte[40];
        BinaryPrimitives.WriteUInt16LittleEndian(fmt, 0xFFFE);
        BinaryPrimitives.WriteUInt16LittleEndian(fmt.AsSpan(2), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(fmt.AsSpan(4), 16000);
        BinaryPrimitives.WriteUInt16LittleEndian(fmt.AsSpan(14), 16);
        BinaryPrimitives.WriteUInt16LittleEndian(fmt.AsSpan(24), 1);
        var bytes = Riff(Chunk("fmt ", fmt), Chunk("LIST", [1, 2, 3]), Chunk("data", [0x00, 0x40]));
        var read = WavFile.Parse(bytes, "x.wav");
        Assert.Equal(16000, read.SampleRate);
        Assert.Equal([0.5f], read.Channels[0]);
    }

    [Fact]
    public void A_truncated_data_chunk_is_an_error_naming_the_file()
    {
        using var dir = new TempDir();
        var bytes = WavFile.Encode(new Waveform(Signal(100, 0), 8000));
        File.WriteAllBytes(dir.File("cut.wav"), bytes[..^10]);
        var e = Assert.Throws<InvalidDataException>(() => WavFile.Read(dir.File("cut.wav")));
        Assert.Contains("cut.wav: truncated: the data chunk declares 200 bytes but only 190 follow", e.Message);
    }

    [Fact]
    public void A_file_cut_inside_the_header_is_truncated_not_a_crash()
    {
        var bytes = WavFile.Encode(new Waveform(Signal(100, 0), 8000));
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => WavFile.Parse(bytes[..30], "h.wav")).Message);
        Assert.Contains("h.wav: truncated: no data chunk", Assert.Throws<InvalidDataException>(() => WavFile.Parse(bytes[..36], "h.wav")).Message);
        // Half a sample frame of stereo 16-bit data.
        var odd = Header(1, 2, 8000, 16, 2).Concat(new byte[] { 1, 2 }).ToArray();
        Assert.Contains("not a whole number of 4-byte sample frames", Assert.Throws<InvalidDataException>(() => WavFile.Parse(odd, "o.wav")).Message);
    }

    [Fact]
    public void A_streamed_file_with_unknown_data_size_reads_to_its_end()
    {
        var bytes = WavFile.Encode(new Waveform(Signal(100, 0), 8000));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(40), uint.MaxValue);
        Assert.Equal(100, WavFile.Parse(bytes, "s.wav").Length);
    }

    [Theory]
    [InlineData("not a WAV file (no RIFF/WAVE header)", "ID3\u0004 an mp3 file.......")]
    [InlineData("a big-endian RIFX file", "RIFX\0\0\0\0WAVEfmt ")]
    public void Wrong_headers_are_named(string expected, string content)
    {
        var e = Assert.Throws<InvalidDataException>(() => WavFile.Parse(System.Text.Encoding.Latin1.GetBytes(content), "w.wav"));
        Assert.Equal($"w.wav: {expected}" + (expected.StartsWith("a big") ? ", which is not supported" : ""), e.Message);
    }

    [Theory]
    [InlineData(7, 8, "µ-law")]
    [InlineData(6, 8, "A-law")]
    [InlineData(2, 4, "Microsoft ADPCM")]
    [InlineData(1, 12, "12-bit PCM")]
    [InlineData(3, 64, "64-bit float")]
    public void Unsupported_encodings_are_refused_with_their_name(int tag, int bits, string name)
    {
        var bytes = Header((ushort)tag, 1, 8000, (ushort)bits, 4).Concat(new byte[4]).ToArray();
        var e = Assert.Throws<InvalidDataException>(() => WavFile.Parse(bytes, "u.wav"));
        Assert.StartsWith($"u.wav: unsupported encoding {name};", e.Message);
    }

    [Fact]
    public void A_missing_file_is_a_file_not_found_naming_it()
    {
        var e = Assert.Throws<FileNotFoundException>(() => WavFile.Read("/nonexistent/x.wav"));
        Assert.Contains("/nonexistent/x.wav", e.Message);
    }

    private static byte[] Header(ushort tag, ushort channels, int rate, ushort bits, int dataBytes)
    {
        var fmt = new byte[16];
        BinaryPrimitives.WriteUInt16LittleEndian(fmt, tag);
        BinaryPrimitives.WriteUInt16LittleEndian(fmt.AsSpan(2), channels);
        BinaryPrimitives.WriteUInt32LittleEndian(fmt.AsSpan(4), (uint)rate);
        BinaryPrimitives.WriteUInt16LittleEndian(fmt.AsSpan(12), (ushort)(channels * bits / 8));
        BinaryPrimitives.WriteUInt16LittleEndian(fmt.AsSpan(14), bits);
        var data = new byte[8];
        "data"u8.CopyTo(data);
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(4), (uint)dataBytes);
        return Riff(Chunk("fmt ", fmt)).Concat(data).ToArray();
    }

    private static byte[] Chunk(string id, byte[] content)
    {
        var chunk = new byte[8 + content.Length + (content.Length & 1)];
        System.Text.Encoding.ASCII.GetBytes(id).CopyTo(chunk, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(4), (uint)content.Length);
        content.CopyTo(chunk, 8);
        return chunk;
    }

    private static byte[] Riff(params byte[][] chunks)
    {
        var body = chunks.SelectMany(c => c).ToArray();
        var head = new byte[12];
        "RIFF"u8.CopyTo(head);
        BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(4), (uint)(4 + body.Length));
        "WAVE"u8.CopyTo(head.AsSpan(8));
        return [.. head, .. body];
    }
}
