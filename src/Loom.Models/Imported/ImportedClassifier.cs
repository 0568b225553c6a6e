using Loom.Autograd;
using Loom.Nn;
using Loom.Onnx;

namespace Loom.Models;

/// <summary>
/// Transfer learning on an imported network: samples adapted to the network's input (channels repeated, images
/// resized bilinearly, values scaled), the imported network, its output flattened into features, and a new Linear
/// head for the task's classes. Frozen (the default), the network is a fixed feature extractor — its parameters take no
/// gradient and its BatchNorms keep their running statistics even in training mode — and only the head learns.
/// </summary>
/// <remarks>Children: <c>features</c> (the <see cref="OnnxModule"/>, parameters under its ONNX names) and <c>head</c>.</remarks>
public sealed class ImportedClassifier : Module<Tensor, Tensor>, IOnnxExportable
{
    public const string ModelName = "onnx";

    private readonly int[] _networkInput;
    private readonly int[] _sampleShape;
    private readonly double _scale;
    private readonly bool _trainAll;

    /// <param name="sampleShape">One sample's shape ([C, H, W] or [H, W] images, [F] rows).</param>
    /// <param name="networkInput">What the network reads per sample: [C, H, W] for images, or the sample's own shape.</param>
    public ImportedClassifier(OnnxModule network, int[] sampleShape, int[] networkInput, double scale, int classes, bool trainAll)
    {
        _networkInput = (int[])networkInput.Clone();
        _sampleShape = (int[])sampleShape.Clone();
        _scale = scale;
        _trainAll = trainAll;
        Features = RegisterModule("features", network);
        if (!trainAll) network.RequiresGrad_(false);
        int features;
        using (new NoGrad())
        {
            bool training = network.Training;
            network.Eval();
            try
            {
                features = network.Forward(Adapt(Tensor.Zeros(new Shape([1, .. sampleShape])), _networkInput, scale)).Shape.Numel;
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
        var features = Features.Forward(Adapt(input, _networkInput, _scale));
        return Head.Forward(features.Reshape(features.Shape[0], -1));
    }

    private static Tensor Adapt(Tensor x, int[] networkInput, double scale)
    {
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
        return scale == 1 ? x : x.Mul(scale);
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
        var features = onnx.Module(Features, x);
        return onnx.Module(Head, onnx.Op("Flatten", [features], OnnxExportContext.Int("axis", 1)));
    }
}
