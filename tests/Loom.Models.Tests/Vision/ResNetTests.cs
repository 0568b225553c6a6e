using Loom.Nn;

namespace Loom.Models.Tests.Vision;

public sealed class ResNetTests
{
    [Fact]
    public void ResNet18_has_torchvision_s_parameter_count_and_names()
    {
        var model = new ResNet(ResNetConfig.ResNet18, inChannels: 3, classes: 1000);
        // torchvision.models.resnet18(): 11,689,512 parameters (its model card's figure).
        Assert.Equal(11_689_512, model.ParameterCount());
        var names = model.StateDict().Keys.ToHashSet();
        foreach (var name in new[] { "conv1.weight", "bn1.running_var", "layer1.1.bn2.weight", "layer2.0.downsample.0.weight", "layer2.0.downsample.1.running_mean", "layer4.1.conv2.weight", "fc.bias" })
            Assert.Contains(name, names);
        Assert.DoesNotContain("layer1.0.downsample.0.weight", names); // same width and stride: the identity shortcut
        Assert.DoesNotContain("conv1.bias", names);
    }

    [Fact]
    public void Its_batch_norms_can_be_swapped_for_another_of_the_same_width_and_nothing_else_can()
    {
        Generator.ManualSeed(2);
        var model = new ResNet(new ResNetConfig([4, 8], [1, 1], ImageNetStem: false), 1, 3);
        model.Eval();
        var x = Tensor.Randn(new Shape(2, 1, 8, 8));
        using var noGrad = new NoGrad();
        var before = model.Forward(x).ToArray<float>();
        // A batch norm whose running mean shifts every channel: the model must call it from now on.
        foreach (var name in new[] { "bn1", "layer1.0.bn1", "layer2.0.bn2" })
        {
            var replacement = new BatchNorm2d(((BatchNormBase)model.GetSubmodule(name)).NumFeatures);
            replacement.RunningMean!.CopyFrom(Tensor.Full(replacement.RunningMean.Shape, 3.0));
            model.SetSubmodule(name, replacement);
            Assert.Same(replacement, model.GetSubmodule(name));
        }
        Assert.Same(model.GetSubmodule("bn1"), model.Bn1);
        Assert.Same(model.GetSubmodule("layer1.0.bn1"), ((BasicBlock)model.Stages[0][0]).Bn1);
        Assert.NotEqual(before, model.Forward(x).ToArray<float>());

        TensorAssert.Throws<NotSupportedException>(() => model.SetSubmodule("layer1.0.bn2", new BatchNorm2d(5)), "bn2", "4 channels");
        TensorAssert.Throws<NotSupportedException>(() => model.SetSubmodule("layer1.0.bn2", new Identity()), "bn2", "Identity");
        TensorAssert.Throws<NotSupportedException>(() => model.SetSubmodule("conv1", new Identity()), "conv1");
    }

    [Fact]
    public void The_layouts_reduce_the_image_as_their_stems_and_stages_say()
    {
        Generator.ManualSeed(1);
        var mini = new ResNet(ResNetConfig.Mini, 1, 10);
        var shapes = new List<Shape>();
        foreach (var stage in mini.Stages) stage.RegisterForwardHook((_, _, output) => shapes.Add(((Tensor)output).Shape));
        using (new NoGrad()) Assert.Equal(new Shape(2, 10), mini.Forward(Tensor.Randn(new Shape(2, 1, 28, 28))).Shape);
        Assert.Equal([new Shape(2, 16, 28, 28), new Shape(2, 32, 14, 14), new Shape(2, 64, 7, 7)], shapes);

        var r18 = new ResNet(ResNetConfig.ResNet18, 3, 5);
        shapes.Clear();
        foreach (var stage in r18.Stages) stage.RegisterForwardHook((_, _, output) => shapes.Add(((Tensor)output).Shape));
        using (new NoGrad()) Assert.Equal(new Shape(1, 5), r18.Forward(Tensor.Randn(new Shape(1, 3, 64, 64))).Shape);
        // 64 → 32 (stem) → 16 (max pool), then 16, 8, 4, 2.
        Assert.Equal([new Shape(1, 64, 16, 16), new Shape(1, 128, 8, 8), new Shape(1, 256, 4, 4), new Shape(1, 512, 2, 2)], shapes);
        TensorAssert.Throws<ArgumentException>(() => mini.Forward(Tensor.Zeros(new Shape(1, 3, 28, 28))), "ResNet", "[N, 1, H, W]");
    }

    [Fact]
    public void Every_block_starts_as_the_identity_so_the_network_starts_shallow()
    {
        Generator.ManualSeed(2);
        var block = new BasicBlock(8, 8);
        var x = Tensor.Rand(new Shape(4, 8, 6, 6)); // non-negative: relu(x) = x
        // The block's last batch norm starts with scale 0 (zero_init_residual), so conv2's branch adds nothing.
        TensorAssert.Close(x, block.Forward(x), 0, 0);

        // A shortcut that changes shape is a strided 1×1 convolution with batch norm, not the identity.
        var down = new BasicBlock(8, 16, stride: 2);
        var y = down.Forward(x);
        Assert.Equal(new Shape(4, 16, 3, 3), y.Shape);
        var shortcut = down.Downsample!.Forward(x).Relu();
        TensorAssert.Close(shortcut, y, 1e-6, 1e-6);
    }

    [Fact]
    public void A_block_learns_through_both_branches()
    {
        Generator.ManualSeed(3);
        var block = new BasicBlock(4, 8, stride: 2);
        var x = Tensor.Randn(new Shape(3, 4, 6, 6));
        block.Forward(x).Square().Sum().Backward();
        // bn2's scale starts at zero but gets a gradient, so the residual branch wakes up at the first step.
        Assert.True(block.Bn2.Weight!.Grad!.Abs().Sum().Item() > 0);
        Assert.True(block.Downsample![0] is Conv2d conv && conv.Weight.Grad!.Abs().Sum().Item() > 0);
    }
}
