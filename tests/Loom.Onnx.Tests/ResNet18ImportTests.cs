using Microsoft.ML.OnnxRuntime;

namespace Loom.Onnx.Tests;

/// <summary>The CNTK ResNet18 that ML.NET ships (IR 3, opset 8, uneven pads, BatchNormalization with `spatial`), imported and run against ONNX Runtime.</summary>
public class ResNet18ImportTests
{
    private static readonly Lazy<OnnxModule> Model = new(() => OnnxModule.Load(PretrainedModels.ResNet18));

    [Fact]
    public void Summary_names_the_graph_as_the_file_declares_it()
    {
        var model = Model.Value;
        Assert.Equal(8, model.Opset);
        var counts = model.OpCounts.ToDictionary(c => c.Op, c => c.Count);
        Assert.Equal(22, counts["Conv"]);
        Assert.Equal(22, counts["BatchNormalization"]);
        Assert.Equal(19, counts["Relu"]);
        Assert.Equal(9, counts["Add"]);
        Assert.Equal(74, counts.Values.Sum());
        Assert.Single(model.Inputs);
        // The BatchNormalization statistics are buffers, not trainable parameters.
        Assert.Equal(44, model.NamedBuffers().Count());
        Assert.Contains("74 nodes", model.Summary());
    }

    [Fact]
    public void Matches_onnx_runtime_within_1e4()
    {
        var model = Model.Value;
        var input = model.Inputs[0];
        var x = Tensor.Rand(new Shape(1, 3, 224, 224), new Loom.Random.Generator(7)).Mul(255);
        Tensor actual;
        using (new Autograd.NoGrad()) actual = model.Forward(x);
        using var session = new InferenceSession(PretrainedModels.ResNet18);
        var expected = OrtReference.Run(session, new Dictionary<string, Tensor> { [input.Name] = x })[model.Outputs[0].Name];
        Assert.True(OrtReference.MaxAbsDiff(actual, expected) < 1e-4, $"max |Loom − ORT| = {OrtReference.MaxAbsDiff(actual, expected)}");
    }
}
