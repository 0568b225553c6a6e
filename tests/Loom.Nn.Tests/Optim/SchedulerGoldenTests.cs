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
        var cases = doc.RootElement.GetProperty("schedulers").EnumerateArray().Where(s => s.GetProperty("name").GetString() == name).ToArray();
        Assert.NotEmpty(cases);
        foreach (var c in cases)
        {
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
                    // PyTorch has no single class: the golden is SequentialLR(LinearLR, CosineAnnealingLR), see make_optim_golden.py.
                    "WarmupCosineLR" => new WarmupCosineLR(opt, o.GetProperty("warmup_steps").GetInt32(), o.GetProperty("total_steps").GetInt32(), o.GetProperty("min_lr").GetDouble()),
                    _ => throw new ArgumentException(name),
                };
                actual.Add(opt.LearningRate);
                for (int i = 1; i < expected.Length; i++) { s.Step(); actual.Add(opt.LearningRate); }
            }
            TensorAssert.Close(expected, actual.ToArray(), atol: 1e-12, rtol: 1e-9, what: $"{name} {o}");
        }
    }

    [Fact]
    public void Warmup_cosine_holds_min_lr_after_total_steps()
    {
        // A deliberate departure: PyTorch's SequentialLR(LinearLR, CosineAnnealingLR), which the golden matches up to
        // total_steps, climbs back up the cosine afterwards (its period is 2·T_max). Loom's schedule ends at min_lr.
        var opt = new Sgd([new Parameter(Tensor.Zeros(1))], learningRate: 0.1);
        var s = new WarmupCosineLR(opt, warmupSteps: 3, totalSteps: 12, minLr: 0.002);
        for (int i = 0; i < 12; i++) s.Step();
        Assert.Equal(0.002, opt.LearningRate, 15);
        for (int i = 0; i < 5; i++)
        {
            s.Step();
            Assert.Equal(0.002, opt.LearningRate, 15);
        }
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
