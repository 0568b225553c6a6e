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

    // The last residual block's output (before the fixed 7×7 average pool) and the output of the stage of 256
    // channels (before the last stage's stride-2 shortcut), as the CNTK export names them.
    private const string LastBlock = "ReLU393_Output_0", Layer3 = "ReLU347_Output_0";

    [Fact]
    public void Ending_at_the_last_block_then_pooling_gives_the_file_output()
    {
        var whole = Model.Value;
        var cut = OnnxModule.Load(PretrainedModels.ResNet18, [LastBlock]);
        Assert.Equal(LastBlock, Assert.Single(cut.Outputs).Name);
        Assert.DoesNotContain(cut.OpCounts, c => c.Op == "AveragePool");
        var x = Tensor.Rand(new Shape(1, 3, 224, 224), new Loom.Random.Generator(3)).Mul(255);
        Tensor expected, features;
        using (new Autograd.NoGrad())
        {
            expected = whole.Forward(x).Reshape(1, -1);
            features = cut.Forward(x);
        }
        Assert.Equal([1, 512, 7, 7], features.Shape.ToArray());
        Assert.True(OrtReference.MaxAbsDiff(features.Mean([2, 3]), expected) < 1e-4, $"max diff {OrtReference.MaxAbsDiff(features.Mean([2, 3]), expected)}");
    }

    [Fact]
    public void Ending_earlier_drops_later_weights_and_runs_where_the_whole_graph_cannot()
    {
        var whole = Model.Value;
        var cut = OnnxModule.Load(PretrainedModels.ResNet18, [Layer3]);
        // The last stage (this export's has 7 convolutions, each with a batch norm) goes with its weights and statistics.
        Assert.Equal(15, cut.OpCounts.Single(c => c.Op == "Conv").Count);
        Assert.Equal(whole.NamedBuffers().Count() - 7 * 2, cut.NamedBuffers().Count());
        Assert.True(cut.Parameters().Sum(p => ((Tensor)p).Shape.Numel) < whole.Parameters().Sum(p => ((Tensor)p).Shape.Numel) / 3);
        var small = Tensor.Rand(new Shape(2, 3, 64, 64), new Loom.Random.Generator(4)).Mul(255);
        using (new Autograd.NoGrad())
        {
            Assert.Equal([2, 256, 4, 4], cut.Forward(small).Shape.ToArray());
            Assert.Throws<OnnxException>(() => whole.Forward(small));
        }
    }

    [Fact]
    public void Ending_at_a_value_no_node_computes_is_an_error_naming_it()
    {
        var e = Assert.Throws<OnnxException>(() => OnnxModule.Load(PretrainedModels.ResNet18, ["ReLU999_Output_0"]));
        Assert.Contains("ReLU999_Output_0", e.Message);
        Assert.Contains("ResNet18.onnx", e.Message);
    }
}
