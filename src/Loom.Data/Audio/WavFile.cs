using System.Buffers.Binary;

namespace Loom.Data;

/// <summary>How a WAV file stores its samples.</summary>
public enum WavEncoding
{
    /// <summary>8-bit unsigned integers (128 is silence).</summary>
    Pcm8,
    /// <summary>16-bit signed integers, the usual encoding.</summary>
    Pcm16,
    /// <summary>24-bit signed integers.</summary>
    Pcm24,
    /// <summary>32-bit signed integers.</summary>
    Pcm32,
    /// <summary>32-bit IEEE floats in [-1, 1].</summary>
    Float32,
}

/// <summary>
/// Reads and writes RIFF/WAVE files: PCM of 8, 16, 24 or 32 bits and 32-bit float (plain or WAVE_FORMAT_EXTENSIBLE),
/// any number of channels, any sample rate. Other encodings (µ-law, A-law, ADPCM…) and damaged files are refused with
/// one line naming the file and what is wrong.
/// </summary>
/// <remarks>
/// Layout: "RIFF", size, "WAVE", then chunks (id, little-endian u32 size, data padded to an even length); "fmt " holds
/// the format tag, channels, rate and bits per sample, "data" the interleaved samples; other chunks (LIST, fact…) are
/// skipped. A data size of 0xFFFFFFFF (left by a writer streaming to a pipe, which did not know the length) reads to the
/// end of the file; any other size reaching past the end is a truncated file.
/// </remarks>
public static class WavFile
{
    private const ushort FormatPcm = 1, FormatFloat = 3, FormatExtensible = 0xFFFE;

    public static Waveform Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException($"{path}: no such WAV file", path);
        }
        return Parse(bytes, path);
    }

    /// <summary>Reads a WAV file held in memory; <paramref name="name"/> names it in errors.</summary>
    public static Waveform Parse(ReadOnlySpan<byte> bytes, string name)
    {
        if (bytes.Length < 12 || !bytes[..4].SequenceEqual("RIFF"u8) || !bytes[8..12].SequenceEqual("WAVE"u8))
        {
            string what = bytes.Length >= 4 && bytes[..4].SequenceEqual("RIFX"u8) ? "a big-endian RIFX file, which is not supported"
                : bytes.Length >= 4 && bytes[..4].SequenceEqual("RF64"u8) ? "an RF64 file, which is not supported"
                : "not a WAV file (no RIFF/WAVE header)";
            throw new InvalidDataException($"{name}: {what}");
        }
        int position = 12;
        (ushort Tag, int Channels, int Rate, int Bits)? format = null;
        while (position + 8 <= bytes.Length)
        {
            var id = bytes.Slice(position, 4);
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(bytes[(position + 4)..]);
            int start = position + 8;
            if (id.SequenceEqual("fmt "u8))
            {
                if (size < 16 || start + 16 > bytes.Length) throw new InvalidDataException($"{name}: truncated fmt chunk ({Math.Min(size, bytes.Length - start)} bytes, needs 16)");
                format = ReadFormat(bytes.Slice(start, (int)Math.Min(size, (uint)(bytes.Length - start))), name);
            }
            else if (id.SequenceEqual("data"u8))
            {
                if (format is not { } f) throw new InvalidDataException($"{name}: the data chunk comes before any fmt chunk");
                long available = bytes.Length - start;
                long length = size;
                if (size == uint.MaxValue) length = available - available % (f.Channels * (f.Bits / 8));
                else if (size > available)
                    throw new InvalidDataException($"{name}: truncated: the data chunk declares {size} bytes but only {available} follow");
                return Decode(bytes.Slice(start, (int)length), f, name);
            }
            // Chunks are padded to an even size.
            position = (int)Math.Min(int.MaxValue, start + (long)size + (size & 1));
        }
        throw new InvalidDataException(format is null ? $"{name}: truncated: no fmt chunk" : $"{name}: truncated: no data chunk after the fmt chunk");
    }

    private static (ushort Tag, int Channels, int Rate, int Bits) ReadFormat(ReadOnlySpan<byte> fmt, string name)
    {
        ushort tag = BinaryPrimitives.ReadUInt16LittleEndian(fmt);
        int channels = BinaryPrimitives.ReadUInt16LittleEndian(fmt[2..]);
        uint rate = BinaryPrimitives.ReadUInt32LittleEndian(fmt[4..]);
        int bits = BinaryPrimitives.ReadUInt16LittleEndian(fmt[14..]);
        if (tag == FormatExtensible)
        {
            // WAVE_FORMAT_EXTENSIBLE: the real tag is the first two bytes of the sub-format GUID.
            if (fmt.Length < 26) throw new InvalidDataException($"{name}: truncated WAVE_FORMAT_EXTENSIBLE fmt chunk");
            tag = BinaryPrimitives.ReadUInt16LittleEndian(fmt[24..]);
        }
        string? encoding = (tag, bits) switch
        {
            (FormatPcm, 8 or 16 or 24 or 32) => null,
            (FormatFloat, 32) => null,
            (FormatPcm, _) => $"{bits}-bit PCM",
            (FormatFloat, _) => $"{bits}-bit float",
            (2, _) => "Microsoft ADPCM",
            (6, _) => "A-law",
            (7, _) => "µ-law",
            (0x11, _) => "IMA ADPCM",
            (0x55, _) => "MP3",
            _ => $"format tag 0x{tag:X4}",
        };
        if (encoding is not null)
            throw new InvalidDataException($"{name}: unsupported encoding {encoding}; Loom reads 8/16/24/32-bit PCM and 32-bit float (convert with: sox IN -e signed-integer -b 16 OUT.wav)");
        if (channels == 0) throw new InvalidDataException($"{name}: the fmt chunk declares 0 channels");
        if (rate == 0 || rate > int.MaxValue) throw new InvalidDataException($"{name}: the fmt chunk declares a sample rate of {rate}");
        return (tag, channels, (int)rate, bits);
    }

    private static Waveform Decode(ReadOnlySpan<byte> data, (ushort Tag, int Channels, int Rate, int Bits) f, string name)
    {
        int width = f.Bits / 8, frame = width * f.Channels;
        if (data.Length % frame != 0)
            throw new InvalidDataException($"{name}: truncated: the data chunk holds {data.Length} bytes, not a whole number of {frame}-byte sample frames");
        int n = data.Length / frame;
        var channels = new float[f.Channels][];
        for (int c = 0; c < f.Channels; c++) channels[c] = new float[n];
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < f.Channels; c++)
            {
                var s = data.Slice(i * frame + c * width, width);
                channels[c][i] = (f.Tag, f.Bits) switch
                {
                    (FormatFloat, _) => BinaryPrimitives.ReadSingleLittleEndian(s),
                    (_, 8) => (s[0] - 128) / 128f,
                    (_, 16) => BinaryPrimitives.ReadInt16LittleEndian(s) / 32768f,
                    (_, 24) => ((s[0] | (s[1] << 8) | ((sbyte)s[2] << 16))) / 8388608f,
                    _ => (float)(BinaryPrimitives.ReadInt32LittleEndian(s) / 2147483648.0),
                };
            }
        }
        return new Waveform(channels, f.Rate);
    }

    /// <summary>Writes <paramref name="audio"/> as a WAV file; samples outside [-1, 1] are clipped for integer encodings.</summary>
    public static void Write(string path, Waveform audio, WavEncoding encoding = WavEncoding.Pcm16)
    {
        File.WriteAllBytes(path, Encode(audio, encoding));
    }

    /// <summary>Writes mono <paramref name="samples"/> at <paramref name="sampleRate"/> as 16-bit PCM (or <paramref name="encoding"/>).</summary>
    public static void Write(string path, float[] samples, int sampleRate, WavEncoding encoding = WavEncoding.Pcm16) =>
        Write(path, new Waveform(samples, sampleRate), encoding);

    /// <summary>The bytes of a WAV file holding <paramref name="audio"/>.</summary>
    public static byte[] Encode(Waveform audio, WavEncoding encoding = WavEncoding.Pcm16)
    {
        int width = encoding switch { WavEncoding.Pcm8 => 1, WavEncoding.Pcm16 => 2, WavEncoding.Pcm24 => 3, _ => 4 };
        int channels = audio.Channels.Length, frame = width * channels, n = audio.Length;
        long dataBytes = (long)n * frame;
        if (dataBytes + 44 > int.MaxValue) throw new ArgumentException($"{audio.Seconds:F0} s of audio is too long for a WAV file");
        var bytes = new byte[44 + dataBytes];
        var span = bytes.AsSpan();
        "RIFF"u8.CopyTo(span);
        BinaryPrimitives.WriteUInt32LittleEndian(span[4..], (uint)(36 + dataBytes));
        "WAVEfmt "u8.CopyTo(span[8..]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[16..], 16);
        BinaryPrimitives.WriteUInt16LittleEndian(span[20..], encoding == WavEncoding.Float32 ? FormatFloat : FormatPcm);
        BinaryPrimitives.WriteUInt16LittleEndian(span[22..], (ushort)channels);
        BinaryPrimitives.WriteUInt32LittleEndian(span[24..], (uint)audio.SampleRate);
        BinaryPrimitives.WriteUInt32LittleEndian(span[28..], (uint)(audio.SampleRate * frame));
        BinaryPrimitives.WriteUInt16LittleEndian(span[32..], (ushort)frame);
        BinaryPrimitives.WriteUInt16LittleEndian(span[34..], (ushort)(width * 8));
        "data"u8.CopyTo(span[36..]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[40..], (uint)dataBytes);
        for (int i = 0; i < n; i++)
        {
            for (int c = 0; c < channels; c++)
            {
                var s = span.Slice(44 + i * frame + c * width, width);
                float v = audio.Channels[c][i];
                double clipped = Math.Clamp((double)v, -1.0, 1.0);
                switch (encoding)
                {
                    case WavEncoding.Float32: BinaryPrimitives.WriteSingleLittleEndian(s, v); break;
                    case WavEncoding.Pcm8: s[0] = (byte)Math.Clamp(Math.Round(clipped * 128 + 128), 0, 255); break;
                    case WavEncoding.Pcm16: BinaryPrimitives.WriteInt16LittleEndian(s, (short)Math.Clamp(Math.Round(clipped * 32768), short.MinValue, short.MaxValue)); break;
                    case WavEncoding.Pcm24:
                        int q = (int)Math.Clamp(Math.Round(clipped * 8388608), -8388608, 8388607);
                        (s[0], s[1], s[2]) = ((byte)q, (byte)(q >> 8), (byte)(q >> 16));
                        break;
                    default: BinaryPrimitives.WriteInt32LittleEndian(s, (int)Math.Clamp(Math.Round(clipped * 2147483648.0), int.MinValue, int.MaxValue)); break;
                }
            }
        }
        return bytes;
    }
}
