using System.Text;
using Xunit.Sdk;
using static Loom.Nn.Tests.Serialization.SafeTensorsTestHelpers;

namespace Loom.Nn.Tests.Serialization;

/// <summary>
/// Mutates valid files thousands of times with a fixed seed. Every mutation must either load with sizes that agree
/// with its header, or fail with a <see cref="SafeTensorsFormatException"/>: never another exception type, never an
/// out-of-range read.
/// </summary>
public class SafeTensorsFuzzTests
{
    private const int Iterations = 4000;

    private static readonly string[] DTypeCodes = ["F32", "F64", "F16", "BF16", "I32", "I64", "U8", "I8", "BOOL", "U16", "F8_E4M3", "X", "", "f32", "F3"];

    /// <summary>Bytes that JSON gives meaning to, plus invalid UTF-8 and NUL.</summary>
    private static readonly byte[] Garbage = [.. "{}[]\",:-0123456789.e \\u"u8.ToArray(), 0xFF, 0xC3, 0x00, 0x80];

    private static List<byte[]> Seeds()
    {
        var mixed = new Dictionary<string, Tensor>
        {
            ["double"] = TestTensors.Randn(1, DType.Float64, 3),
            ["float"] = TestTensors.Randn(2, DType.Float32, 2, 3),
            ["int"] = Tensor.FromArray(new[] { 1, -2, 3, int.MinValue }),
            ["long"] = Tensor.FromSpan<long>([long.MaxValue]),
            ["bytes"] = Tensor.FromArray(new byte[] { 1, 2, 3, 4, 5 }),
            ["sbytes"] = Tensor.FromArray(new sbyte[] { -1, 2, -3, 4 }, 2, 2),
            ["mask"] = Tensor.FromArray(new[] { true, false, true }),
            ["empty"] = Tensor.Zeros(0, 2),
        };
        return
        [
            Write(mixed, new Dictionary<string, string> { ["format"] = "pt", ["epoch"] = "12" }),
            Write(new Dictionary<string, Tensor> { ["big"] = TestTensors.Randn(3, DType.Float32, 64, 33) }),
            File.ReadAllBytes(GoldenTensors.PathOf("python_written.safetensors")),
            File.ReadAllBytes(GoldenTensors.PathOf("python_written_half.safetensors")),
        ];
    }

    [Fact]
    public void Mutated_files_load_consistently_or_fail_with_a_format_exception()
    {
        var seeds = Seeds();
        var random = new System.Random(20240611);
        int rejected = 0, loaded = 0;
        for (int i = 0; i < Iterations; i++)
        {
            var seed = seeds[random.Next(seeds.Count)];
            var (file, what) = Mutate(seed, random);
            if (random.Next(4) == 0)
            {
                var (again, how) = Mutate(file, random);
                (file, what) = (again, $"{what}, then {how}");
            }
            bool seekable = i % 2 == 0;
            try
            {
                var result = Read(file, seekable);
                CheckConsistent(file, result);
                loaded++;
            }
            catch (SafeTensorsFormatException)
            {
                rejected++;
            }
            catch (Exception e) when (e is not XunitException)
            {
                throw new XunitException($"iteration {i} ({what}, {(seekable ? "seekable" : "non-seekable")}): {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
            }
        }
        // Both outcomes must occur, or the mutations are not testing what they claim to.
        Assert.True(rejected > Iterations / 2, $"only {rejected} of {Iterations} mutations were rejected");
        Assert.True(loaded > 20, $"only {loaded} of {Iterations} mutations still loaded");
    }

    /// <summary>A loaded file's tensors must be exactly what its header describes, and the header must account for every byte.</summary>
    private static void CheckConsistent(byte[] file, SafeTensorsFile result)
    {
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(file);
        long dataLength = file.Length - 8 - headerLength;
        SafeTensorsHeader header;
        try
        {
            header = SafeTensorsHeader.Parse(file.AsSpan(8, (int)headerLength), dataLength, null);
        }
        catch (SafeTensorsFormatException e)
        {
            throw new XunitException($"a file loaded although its header does not fit its length: {e.Message}");
        }
        Assert.Equal(dataLength, header.Entries.Sum(e => e.ByteLength));
        Assert.Equal(header.Entries.Select(e => e.Name), result.Tensors.Keys);
        foreach (var e in header.Entries)
        {
            var t = result.Tensors[e.Name];
            Assert.Equal(new Shape(e.Shape), t.Shape);
            Assert.Equal(e.DType.ToLoom(), t.DType);
            Assert.Equal((long)t.Numel * e.DType.SizeInBytes(), e.ByteLength);
        }
    }

    private static (byte[] File, string What) Mutate(byte[] source, System.Random random)
    {
        if (source.Length < 8) return ([.. source, (byte)random.Next(256)], "append a byte to a stub");
        var file = (byte[])source.Clone();
        int headerLength = file.Length >= 8 ? (int)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(file), (ulong)(file.Length - 8)) : 0;
        switch (random.Next(9))
        {
            case 0:
                {
                    int length = random.Next(file.Length);
                    return (file[..length], $"truncate to {length}");
                }
            case 1:
                {
                    int at = random.Next(file.Length);
                    file[at] ^= (byte)random.Next(1, 256);
                    return (file, $"flip byte {at}");
                }
            case 2:
                {
                    if (headerLength == 0) goto case 1;
                    int at = 8 + random.Next(headerLength);
                    file[at] ^= (byte)random.Next(1, 256);
                    return (file, $"flip header byte {at}");
                }
            case 3:
                {
                    ulong length = random.Next(5) switch
                    {
                        0 => (ulong)random.NextInt64(long.MinValue, long.MaxValue),
                        1 => (ulong)Math.Max(0, headerLength + random.Next(-16, 17)),
                        2 => (ulong)random.Next(file.Length + 1),
                        3 => 100_000_001,
                        _ => ulong.MaxValue,
                    };
                    BinaryPrimitives.WriteUInt64LittleEndian(file, length);
                    return (file, $"header length {length}");
                }
            case 4:
                {
                    var digits = Enumerable.Range(8, headerLength).Where(i => file[i] is >= (byte)'0' and <= (byte)'9').ToArray();
                    if (digits.Length < 2) goto case 1;
                    int a = digits[random.Next(digits.Length)], b = digits[random.Next(digits.Length)];
                    if (random.Next(2) == 0) (file[a], file[b]) = (file[b], file[a]);
                    else file[a] = (byte)('0' + random.Next(10));
                    return (file, $"edit digits at {a} and {b}");
                }
            case 5:
                {
                    var header = Encoding.UTF8.GetString(file, 8, headerLength);
                    var positions = AllIndexesOf(header, "\"dtype\":\"");
                    if (positions.Count == 0) goto case 6;
                    int start = positions[random.Next(positions.Count)] + 9;
                    int end = header.IndexOf('"', start);
                    if (end < 0) goto case 6;
                    var code = DTypeCodes[random.Next(DTypeCodes.Length)];
                    return (Rebuild(file, headerLength, header[..start] + code + header[end..], random), $"dtype {header[start..end]} -> {code}");
                }
            case 6:
                {
                    var header = file.AsSpan(8, headerLength).ToArray().ToList();
                    int at = random.Next(header.Count + 1);
                    int count = random.Next(1, 9);
                    for (int k = 0; k < count; k++) header.Insert(at, Garbage[random.Next(Garbage.Length)]);
                    return (Rebuild(file, headerLength, header.ToArray(), random), $"insert {count} bytes at header byte {at}");
                }
            case 7:
                {
                    if (headerLength == 0) goto case 0;
                    var header = file.AsSpan(8, headerLength).ToArray().ToList();
                    int at = random.Next(header.Count);
                    int count = Math.Min(random.Next(1, 11), header.Count - at);
                    header.RemoveRange(at, count);
                    return (Rebuild(file, headerLength, header.ToArray(), random), $"delete {count} bytes at header byte {at}");
                }
            default:
                {
                    var extra = new byte[random.Next(1, 17)];
                    random.NextBytes(extra);
                    return ([.. file, .. extra], $"append {extra.Length} bytes");
                }
        }
    }

    /// <summary>Replaces the header; the length prefix follows the new header only most of the time, so a stale prefix is tested too.</summary>
    private static byte[] Rebuild(byte[] file, int oldHeaderLength, string header, System.Random random) =>
        Rebuild(file, oldHeaderLength, Encoding.UTF8.GetBytes(header), random);

    private static byte[] Rebuild(byte[] file, int oldHeaderLength, byte[] header, System.Random random)
    {
        var data = file.AsSpan(8 + oldHeaderLength).ToArray();
        ulong declared = random.Next(3) == 0 ? (ulong)oldHeaderLength : (ulong)header.Length;
        return Build(header, data, declared);
    }

    private static List<int> AllIndexesOf(string text, string value)
    {
        var found = new List<int>();
        for (int i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + 1, StringComparison.Ordinal)) found.Add(i);
        return found;
    }
}
