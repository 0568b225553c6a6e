using System.Text.Json;
using Loom.Testing;

namespace Loom.Nn.Tests.Optim;

/// <summary>Learning-rate sequences against PyTorch's (tests/golden/make_optim_golden.py).</summary>
public class SchedulerGoldenTests
{
    public static TheoryData<string> Names() => new("StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "OneCycleLR", "WarmupCosineLR", "ReduceLROnPlateau");

    [Theory]
    [MemberData(nameof(Names))]
    public void Learning_rates_match_pytorch(string name)
    {
        using var doc = Golden.Json("optim.json");
        var c = doc.RootElement.GetProperty("schedulers").EnumerateArray().Single(s => s.GetProperty("name").GetString() == name);
        var o = c.GetProperty("options");
        var expected = c.GetProperty("lrs").Doubles();
        var opt = new Sgd([new Parameter(Tensor.Zeros(1))], learningRate: 0.1);
        var actual = new List<double>();
        if (name == "ReduceLROnPlateau")
        {
            var s = new ReduceLROnPlateau(opt, factor: o.GetProperty("factor").GetDouble(), patience: o.GetProperty("patience").GetInt32());
            actual.Add(opt.LearningRate);
            foreach (var m in o.GetProperty("metrics").Doubles()) { s.Step(m); actual.Add(opt.LearningRate); }
        }
        else
        {
            LRScheduler s = name switch
            {
                "StepLR" => new StepLR(opt, o.GetProperty("step_size").GetInt32(), o.GetProperty("gamma").GetDouble()),
                "MultiStepLR" => new MultiStepLR(opt, o.GetProperty("milestones").EnumerateArray().Select(x => x.GetInt32()), o.GetProperty("gamma").GetDouble()),
                "ExponentialLR" => new ExponentialLR(opt, o.GetProperty("gamma").GetDouble()),
                "CosineAnnealingLR" => new CosineAnnealingLR(opt, o.GetProperty("t_max").GetInt32(), o.GetProperty("eta_min").GetDouble()),
                "OneCycleLR" => new OneCycleLR(opt, o.GetProperty("max_lr").GetDouble(), o.GetProperty("total_steps").GetInt32()),
                "WarmupCosineLR" => new WarmupCosineLR(opt, o.GetProperty("warmup_steps").GetInt32(), o.GetProperty("total_steps").GetInt32()),
                _ => throw new ArgumentException(name),
            };
            actual.Add(opt.LearningRate);
            for (int i = 1; i < expected.Length; i++) { s.Step(); actual.Add(opt.LearningRate); }
        }
        TensorAssert.Close(expected, actual.ToArray(), atol: 1e-12, rtol: 1e-9);
    }

    [Fact]
    public void Scheduler_state_round_trip_resumes_the_sequence()
    {
        var opt = new Sgd([new Parameter(Tensor.Zeros(1))], learningRate: 0.1);
        var s = new CosineAnnealingLR(opt, 10);
        for (int i = 0; i < 4; i++) s.Step();
        var state = s.StateDict();
        var opt2 = new Sgd([new Parameter(Tensor.Zeros(1))], learningRate: 0.1);
        var s2 = new CosineAnnealingLR(opt2, 10);
        s2.LoadStateDict(state);
        s.Step();
        s2.Step();
        Assert.Equal(opt.LearningRate, opt2.LearningRate, 15);
    }
}
