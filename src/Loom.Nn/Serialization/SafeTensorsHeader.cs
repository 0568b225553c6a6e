using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Loom.Nn.Serialization;

/// <summary>One tensor as the header describes it, after validation: offsets are relative to the start of the data section.</summary>
internal sealed record SafeTensorsEntry(string Name, SafeTensorsDType DType, int[] Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;
}

/// <summary>
/// The parsed and validated JSON header of a safetensors file. Parsing is strict where the format is: the header is one
/// JSON object whose keys are tensor names (each once) plus an optional <c>"__metadata__"</c> object of strings; every
/// entry has exactly <c>dtype</c>, <c>shape</c> and <c>data_offsets</c>; the offsets, sorted, tile the data section
/// from 0 with no gap or overlap and each spans exactly shape × dtype size bytes.
/// </summary>
internal sealed class SafeTensorsHeader
{
    /// <summary>The largest header accepted, as in the reference implementation: bigger is taken as corruption.</summary>
    public const long MaxLength = 100_000_000;

    private SafeTensorsHeader(List<SafeTensorsEntry> entries, OrderedDictionary<string, string> metadata)
    {
        Entries = entries;
        Metadata = metadata;
    }

    /// <summary>The tensors in the order of their data in the file.</summary>
    public IReadOnlyList<SafeTensorsEntry> Entries { get; }

    public OrderedDictionary<string, string> Metadata { get; }

    /// <summary>Bytes of tensor data the header describes: the data section's exact length.</summary>
    public long DataLength => Entries.Count == 0 ? 0 : Entries[^1].End;

    /// <summary>
    /// Parses <paramref name="json"/> and validates it against a data section of <paramref name="dataLength"/> bytes
    /// (null when unknown, as for a stream that cannot seek: the reader then checks lengths as the data arrives).
    /// </summary>
    public static SafeTensorsHeader Parse(ReadOnlySpan<byte> json, long? dataLength, string? fileName)
    {
        var parser = new Parser(fileName);
        if (!Utf8.IsValid(json)) throw parser.Fail(null, "the header is not valid UTF-8");
        List<RawEntry> raw;
        OrderedDictionary<string, string> metadata;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            (raw, metadata) = parser.ParseRoot(ref reader);
        }
        catch (JsonException e)
        {
            throw parser.Fail(null, $"the header is not valid JSON ({e.Message})", e);
        }
        return new SafeTensorsHeader(parser.Validate(raw, dataLength), metadata);
    }

    /// <summary>An entry as written, before its numbers are checked.</summary>
    private sealed record RawEntry(string Name, SafeTensorsDType DType, ulong[] Shape, ulong Begin, ulong End);

    private sealed class Parser(string? fileName)
    {
        public SafeTensorsFormatException Fail(string? tensor, string problem, Exception? inner = null) => new(fileName, tensor, problem, inner);

        public (List<RawEntry>, OrderedDictionary<string, string>) ParseRoot(ref Utf8JsonReader reader)
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw Fail(null, $"the header must be a JSON object, but it starts with {Describe(ref reader)}");
            var entries = new List<RawEntry>();
            var names = new HashSet<string>(StringComparer.Ordinal);
            OrderedDictionary<string, string>? metadata = null;
            while (Next(ref reader) != JsonTokenType.EndObject)
            {
                string name = reader.GetString()!;
                if (!names.Add(name))
                    throw name == "__metadata__" ? Fail(null, "'__metadata__' appears twice in the header") : Fail(name, "the name appears twice in the header");
                Next(ref reader);
                if (name == "__metadata__") metadata = ParseMetadata(ref reader);
                else entries.Add(ParseEntry(ref reader, name));
            }
            // Only whitespace may follow the object (the writer pads with spaces); the reader rejects anything else here.
            if (reader.Read()) throw Fail(null, "the header holds more than one JSON value");
            return (entries, metadata ?? new OrderedDictionary<string, string>(StringComparer.Ordinal));
        }

        private OrderedDictionary<string, string>? ParseMetadata(ref Utf8JsonReader reader)
        {
            if (reader.TokenType == JsonTokenType.Null) return null; // the reference reader takes null as "no metadata"
            if (reader.TokenType != JsonTokenType.StartObject)
                throw Fail(null, $"'__metadata__' must be an object of strings, not {Describe(ref reader)}");
            var metadata = new OrderedDictionary<string, string>(StringComparer.Ordinal);
            while (Next(ref reader) != JsonTokenType.EndObject)
            {
                string key = reader.GetString()!;
                Next(ref reader);
                if (reader.TokenType != JsonTokenType.String)
                    throw Fail(null, $"'__metadata__' value of '{key}' must be a string, not {Describe(ref reader)}");
                if (!metadata.TryAdd(key, reader.GetString()!))
                    throw Fail(null, $"'__metadata__' key '{key}' appears twice");
            }
            return metadata;
        }

        private RawEntry ParseEntry(ref Utf8JsonReader reader, string name)
        {
            if (reader.TokenType != JsonTokenType.StartObject)
                throw Fail(name, $"its entry must be an object with dtype, shape and data_offsets, not {Describe(ref reader)}");
            string? dtype = null;
            ulong[]? shape = null, offsets = null;
            while (Next(ref reader) != JsonTokenType.EndObject)
            {
                string field = reader.GetString()!;
                Next(ref reader);
                switch (field)
                {
                    case "dtype":
                        if (dtype is not null) throw Fail(name, "field 'dtype' appears twice");
                        if (reader.TokenType != JsonTokenType.String) throw Fail(name, $"dtype must be a string, not {Describe(ref reader)}");
                        dtype = reader.GetString()!;
                        break;
                    case "shape":
                        if (shape is not null) throw Fail(name, "field 'shape' appears twice");
                        shape = ReadIntegers(ref reader, name, "shape");
                        break;
                    case "data_offsets":
                        if (offsets is not null) throw Fail(name, "field 'data_offsets' appears twice");
                        offsets = ReadIntegers(ref reader, name, "data_offsets");
                        if (offsets.Length != 2) throw Fail(name, $"data_offsets must hold 2 integers [begin, end], not {offsets.Length}");
                        break;
                    default:
                        throw Fail(name, $"unexpected field '{Clip(field)}' (an entry holds only dtype, shape and data_offsets)");
                }
            }
            if (dtype is null) throw Fail(name, "missing field 'dtype'");
            if (shape is null) throw Fail(name, "missing field 'shape'");
            if (offsets is null) throw Fail(name, "missing field 'data_offsets'");
            var parsed = SafeTensorsDTypes.Parse(dtype, out bool known)
                ?? throw Fail(name, known
                    ? $"dtype '{dtype}' is not supported by Loom (it reads F64, F32, F16, BF16, I64, I32, I8, U8 and BOOL)"
                    : $"unknown dtype '{Clip(dtype)}'");
            return new RawEntry(name, parsed, shape, offsets[0], offsets[1]);
        }

        private ulong[] ReadIntegers(ref Utf8JsonReader reader, string name, string field)
        {
            if (reader.TokenType != JsonTokenType.StartArray)
                throw Fail(name, $"{field} must be an array of integers, not {Describe(ref reader)}");
            var values = new List<ulong>();
            while (Next(ref reader) != JsonTokenType.EndArray)
            {
                if (reader.TokenType != JsonTokenType.Number)
                    throw Fail(name, $"{field} must be an array of integers, but holds {Describe(ref reader)}");
                if (!reader.TryGetUInt64(out ulong value))
                {
                    string text = Clip(Encoding.UTF8.GetString(reader.ValueSpan));
                    throw Fail(name, text.StartsWith('-')
                        ? $"{field} holds the negative number {text}"
                        : $"{field} holds {text}, which is not a non-negative 64-bit integer");
                }
                values.Add(value);
            }
            return values.ToArray();
        }

        /// <summary>Checks sizes against shapes and that the offsets tile the data; returns the entries in data order.</summary>
        public List<SafeTensorsEntry> Validate(List<RawEntry> raw, long? dataLength)
        {
            var entries = new List<SafeTensorsEntry>(raw.Count);
            foreach (var e in raw)
            {
                string shapeText = FormatShape(e.Shape);
                ulong numel = 1;
                bool fitsLoom = true;
                foreach (var d in e.Shape)
                {
                    if (d != 0 && numel > ulong.MaxValue / d) throw Fail(e.Name, $"the element count of shape {shapeText} overflows");
                    numel *= d;
                    fitsLoom &= d <= int.MaxValue;
                }
                ulong size = (ulong)e.DType.SizeInBytes();
                if (numel > ulong.MaxValue / size) throw Fail(e.Name, $"the byte size of shape {shapeText} of {e.DType.Code()} overflows");
                ulong bytes = numel * size;

                string offsetsText = $"data_offsets [{e.Begin}, {e.End}]";
                if (e.End < e.Begin) throw Fail(e.Name, $"{offsetsText} are reversed (end before begin)");
                if (dataLength is { } length && e.End > (ulong)length)
                    throw Fail(e.Name, $"{offsetsText} run past the end of the data, which holds {length} bytes after the header");
                if (e.End - e.Begin != bytes)
                    throw Fail(e.Name, $"{offsetsText} span {e.End - e.Begin} bytes, but shape {shapeText} of {e.DType.Code()} needs {bytes}");
                if (!fitsLoom || numel > int.MaxValue)
                    throw Fail(e.Name, $"shape {shapeText} is larger than a Loom tensor can be (at most {int.MaxValue} elements)");
                if (e.End > long.MaxValue) throw Fail(e.Name, $"{offsetsText} are beyond any file's size");

                var shape = Array.ConvertAll(e.Shape, d => (int)d);
                entries.Add(new SafeTensorsEntry(e.Name, e.DType, shape, (long)e.Begin, (long)e.End));
            }

            // Stable sort keeps header order among empty tensors that share an offset.
            var ordered = entries.OrderBy(e => e.Begin).ThenBy(e => e.End).ToList();
            long expected = 0;
            SafeTensorsEntry? previous = null;
            foreach (var e in ordered)
            {
                if (e.Begin < expected)
                    throw Fail(e.Name, $"data_offsets [{e.Begin}, {e.End}] overlap those of tensor '{previous!.Name}' [{previous.Begin}, {previous.End}]");
                if (e.Begin > expected)
                    throw Fail(e.Name, previous is null
                        ? $"data_offsets [{e.Begin}, {e.End}] leave a gap: the first tensor's data must start at 0"
                        : $"data_offsets [{e.Begin}, {e.End}] leave a gap of {e.Begin - expected} bytes after tensor '{previous.Name}' [{previous.Begin}, {previous.End}]");
                expected = e.End;
                previous = e;
            }
            if (dataLength is { } total && expected < total)
                throw Fail(null, $"{total - expected} trailing bytes follow the last tensor's data (the header describes {expected} of {total} bytes)");
            return ordered;
        }

        /// <summary>Advances to the next token; a complete header never ends inside the object, so running out is an error.</summary>
        private JsonTokenType Next(ref Utf8JsonReader reader)
        {
            if (!reader.Read()) throw Fail(null, "the header JSON ends early");
            return reader.TokenType;
        }

        private static string Describe(ref Utf8JsonReader reader) => reader.TokenType switch
        {
            JsonTokenType.None => "nothing",
            JsonTokenType.StartObject => "an object",
            JsonTokenType.StartArray => "an array",
            JsonTokenType.String => $"the string \"{Clip(reader.GetString()!)}\"",
            JsonTokenType.Number => $"the number {Clip(Encoding.UTF8.GetString(reader.ValueSpan))}",
            JsonTokenType.True => "true",
            JsonTokenType.False => "false",
            JsonTokenType.Null => "null",
            var other => other.ToString(),
        };

        /// <summary>Shortens text quoted from a corrupt header so that a message stays readable.</summary>
        private static string Clip(string text) => text.Length <= 40 ? text : text[..40] + "…";

        private static string FormatShape(ulong[] shape) => "[" + string.Join(", ", shape) + "]";
    }
}
