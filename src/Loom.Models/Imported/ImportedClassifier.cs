using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Loom.Memory;
using Loom.Onnx;

namespace Loom.Models;

/// <summary>
/// Transfer learning on an imported network: samples adapted to the network's input (channels repeated, images
/// resized bilinearly, values scaled, per-channel means subtracted), the imported network, its output flattened into
/// features, and a new Linear head for the task's classes. Frozen (the default), the network is a fixed feature
/// extractor — its parameters take no gradient and its BatchNorms keep their running statistics even in training mode
/// — and only the head learns; its features are then computed once per distinct sample and reused
/// (<see cref="CacheFeatures"/>), so epochs after the first cost the head alone.
/// </summary>
/// <remarks>Children: <c>features</c> (the <see cref="OnnxModule"/>, parameters under its ONNX names) and <c>head</c>.</remarks>
public sealed class ImportedClassifier : Module<Tensor, Tensor>, IOnnxExportable
{
    public const string ModelName = "onnx";

    private readonly int[] _networkInput;
    private readonly int[] _sampleShape;
    private readonly double _scale;
    private readonly bool _trainAll;
    private readonly double[]? _mean;

    // Frozen features by sample: a 128-bit digest of the sample's bytes → its feature row. Valid while the network's
    // tensors keep the storage versions they had when the rows were computed (loading a checkpoint empties it).
    private readonly Dictionary<(ulong, ulong), float[]> _featureCache = [];
    private long _cacheStamp = -1;

    /// <param name="sampleShape">One sample's shape ([C, H, W] or [H, W] images, [F] rows).</param>
    /// <param name="networkInput">What the network reads per sample: [C, H, W] for images, or the sample's own shape.</param>
    /// <param name="mean">Per-channel values subtracted after the scale (images only); null: none.</param>
    public ImportedClassifier(OnnxModule network, int[] sampleShape, int[] networkInput, double scale, int classes, bool trainAll, double[]? mean = null)
    {
        _networkInput = (int[])networkInput.Clone();
        _sampleShape = (int[])sampleShape.Clone();
        _scale = scale;
        _trainAll = trainAll;
        if (mean is not null && (networkInput.Length != 3 || mean.Length != networkInput[0]))
            throw new ArgumentException($"onnx: onnx_mean has {mean.Length} values; it needs one per channel of an image network (input [{string.Join(", ", networkInput)}])");
        _mean = mean is null ? null : (double[])mean.Clone();
        Features = RegisterModule("features", network);
        if (!trainAll) network.RequiresGrad_(false);
        int features;
        using (new NoGrad())
        {
            bool training = network.Training;
            network.Eval();
            try
            {
                features = network.Forward(Adapt(Tensor.Zeros(new Shape([1, .. sampleShape])))).Shape.Numel;
            }
            catch (OnnxException e)
            {
                throw new ArgumentException($"onnx: the network does not run on inputs [{string.Join(", ", _networkInput)}] (choose them with loom import --input): {e.Message}", e);
            }
            network.Train(training);
        }
        Head = RegisterModule("head", new Linear(features, classes));
    }

    public OnnxModule Features { get; }

    public Linear Head { get; }

    /// <summary>
    /// Whether a frozen network's features are remembered per distinct sample (by a digest of its values) instead of
    /// recomputed: the same images every epoch cost the network once. Default true; it does not apply with
    /// train-all, to inputs that require grad, or to non-Float32 features.
    /// </summary>
    public bool CacheFeatures { get; set; } = true;

    /// <summary>How many samples' features are cached.</summary>
    public int CachedSamples => _featureCache.Count;

    /// <summary>The imported network of <paramref name="path"/>; a damaged file is an <see cref="InvalidDataException"/> naming it.</summary>
    public static OnnxModule LoadNetwork(string path)
    {
        try
        {
            return OnnxModule.Load(path);
        }
        catch (OnnxException e)
        {
            throw new InvalidDataException(e.Message, e);
        }
        catch (IOException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    protected override Tensor ForwardCore(Tensor input)
    {
        // A frozen network is a fixed function: its BatchNorms must not normalise with (or move towards) batch statistics.
        if (!_trainAll && Features.Training) Features.Eval();
        bool cache = CacheFeatures && !_trainAll && !GradMode.ShouldRecord(input) && input.DType == DType.Float32 && input.Rank >= 1 && input.Shape[0] > 0;
        var features = cache ? CachedFeatures(input) : Compute(input);
        return Head.Forward(features);
    }

    private Tensor Compute(Tensor input)
    {
        var features = Features.Forward(Adapt(input));
        return features.Reshape(features.Shape[0], -1);
    }

    /// <summary>The features of a batch: cached rows where the sample was seen, the network run once on the others.</summary>
    private Tensor CachedFeatures(Tensor input)
    {
        long stamp = Features.Parameters().Select(p => (Tensor)p).Concat(Features.NamedBuffers().Select(b => b.Buffer)).Sum(t => (long)t.Storage.Version);
        if (stamp != _cacheStamp)
        {
            _featureCache.Clear();
            _cacheStamp = stamp;
        }
        int batch = input.Shape[0];
        var samples = input.Contiguous().ToArray<float>();
        int sampleSize = samples.Length / batch;
        var keys = new (ulong, ulong)[batch];
        var missing = new List<int>();
        Span<byte> digest = stackalloc byte[32];
        for (int i = 0; i < batch; i++)
        {
            SHA256.HashData(MemoryMarshal.AsBytes(samples.AsSpan(i * sampleSize, sampleSize)), digest);
            keys[i] = (BitConverter.ToUInt64(digest), BitConverter.ToUInt64(digest[8..]));
            if (!_featureCache.ContainsKey(keys[i]) && !missing.Any(m => keys[m] == keys[i])) missing.Add(i);
        }
        if (missing.Count > 0)
        {
            Tensor computed;
            using (new NoGrad()) computed = Compute(input.IndexSelect(0, Tensor.FromArray(missing.Select(m => (long)m).ToArray(), missing.Count)));
            if (computed.DType != DType.Float32) return Compute(input);
            var rows = computed.ToArray<float>();
            int width = rows.Length / missing.Count;
            for (int k = 0; k < missing.Count; k++) _featureCache[keys[missing[k]]] = rows.AsSpan(k * width, width).ToArray();
        }
        int featureCount = _featureCache[keys[0]].Length;
        var result = new float[batch * featureCount];
        for (int i = 0; i < batch; i++) _featureCache[keys[i]].CopyTo(result, i * featureCount);
        return Tensor.FromArray(result, batch, featureCount);
    }

    private Tensor Adapt(Tensor x)
    {
        var networkInput = _networkInput;
        if (networkInput.Length == 3)
        {
            if (x.Rank == 3) x = x.Unsqueeze(1); // [B, H, W] grayscale
            if (x.Rank != 4) throw new ArgumentException($"onnx: the network reads images [C, H, W] = [{string.Join(", ", networkInput)}], got samples of shape {x.Shape}");
            int c = networkInput[0];
            if (x.Shape[1] != c)
            {
                if (x.Shape[1] != 1) throw new ArgumentException($"onnx: cannot turn {x.Shape[1]} channels into the network's {c}");
                x = x.Expand(x.Shape[0], c, x.Shape[2], x.Shape[3]);
            }
            if (x.Shape[2] != networkInput[1] || x.Shape[3] != networkInput[2])
                x = Functional.Interpolate(x, [networkInput[1], networkInput[2]], mode: InterpolateMode.Bilinear);
        }
        if (_scale != 1) x = x.Mul(_scale);
        if (_mean is not null) x = x.Sub(Tensor.FromArray(_mean, 1, _mean.Length, 1, 1).To(x.DType));
        return x;
    }

    /// <summary>The adaptation (Expand, Resize as bilinear with half-pixel centres, Mul), the network's own graph, Flatten and the head.</summary>
    public string ExportOnnx(OnnxExportContext onnx, string input)
    {
        var x = input;
        if (_networkInput.Length == 3)
        {
            // The run's samples have one shape, so only the steps that shape needs are written.
            var (c, h, w) = (_networkInput[0], _networkInput[1], _networkInput[2]);
            int[] sample = _sampleShape.Length == 2 ? [1, .. _sampleShape] : _sampleShape;
            if (_sampleShape.Length == 2) x = onnx.Unsqueeze(x, 1);
            if (sample[0] != c) x = onnx.Op("Expand", [x, onnx.Longs("channel_repeat", 1, c, 1, 1)]);
            if (sample[1] != h || sample[2] != w)
                x = onnx.Op("Resize", [x, "", "", onnx.Op("Concat", [onnx.Dim(x, 0), onnx.Longs("network_size", c, h, w)], OnnxExportContext.Int("axis", 0))],
                    OnnxExportContext.Str("mode", "linear"), OnnxExportContext.Str("coordinate_transformation_mode", "half_pixel"));
        }
        if (_scale != 1) x = onnx.Op("Mul", [x, onnx.Scalar("scale", _scale)]);
        if (_mean is not null) x = onnx.Op("Sub", [x, onnx.Constant("channel_mean", Tensor.FromArray(_mean, 1, _mean.Length, 1, 1).To(DType.Float32))]);
        var features = onnx.Module(Features, x);
        return onnx.Module(Head, onnx.Op("Flatten", [features], OnnxExportContext.Int("axis", 1)));
    }
}
