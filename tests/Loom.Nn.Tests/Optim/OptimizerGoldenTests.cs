namespace Loom.Nn.Tests.Optim;

/// <summary>Ten steps of every optimiser configuration against PyTorch's values (tests/golden/make_optim_golden.py).</summary>
public class OptimizerGoldenTests
{
    public static TheoryData<int> Cases()
    {
        using var doc = Golden.Json("optim.json");
        var data = new TheoryData<int>();
        for (int i = 0; i < doc.RootElement.GetProperty("optimizers").GetArrayLength(); i++) data.Add(i);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_pytorch_for_ten_steps_in_float64(int index)
    {
        using var doc = Golden.Json("optim.json");
        var c = doc.RootElement.GetProperty("optimizers")[index];
        var p = new Parameter(Tensor.FromArray(c.GetProperty("initial").Doubles()));
        var opt = Make(c.GetProperty("name").GetString()!, c.GetProperty("options"), p);
        var grads = c.GetProperty("grads").EnumerateArray().ToList();
        var expected = c.GetProperty("params").EnumerateArray().ToList();
        for (int t = 0; t < grads.Count; t++)
        {
            p.Grad = Tensor.FromArray(grads[t].Doubles());
            opt.Step();
            TensorAssert.Close(expected[t].Doubles(), p.ToArray<double>(), atol: 1e-12, rtol: 1e-10, what: $"after step {t + 1} ");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Float32_follows_the_float64_trajectory(int index)
    {
        using var doc = Golden.Json("optim.json");
        var c = doc.RootElement.GetProperty("optimizers")[index];
        var p = new Parameter(Tensor.FromArray(c.GetProperty("initial").Doubles()).To(DType.Float32));
        var opt = Make(c.GetProperty("name").GetString()!, c.GetProperty("options"), p);
        var grads = c.GetProperty("grads").EnumerateArray().ToList();
        var expected = c.GetProperty("params").EnumerateArray().ToList();
        for (int t = 0; t < grads.Count; t++)
        {
            p.Grad = Tensor.FromArray(grads[t].Doubles()).To(DType.Float32);
            opt.Step();
        }
        TensorAssert.Close(expected[^1].Doubles(), p.ToArray<double>(), atol: 1e-5, rtol: 1e-5);
    }

    [Fact]
    public void State_dict_round_trip_continues_identically()
    {
        using var doc = Golden.Json("optim.json");
        var c = doc.RootElement.GetProperty("optimizers")[4]; // Adam with AMSGrad and weight decay
        var grads = c.GetProperty("grads").EnumerateArray().Select(g => g.Doubles()).ToList();
        var p = new Parameter(Tensor.FromArray(c.GetProperty("initial").Doubles()));
        var opt = Make("Adam", c.GetProperty("options"), p);
        for (int t = 0; t < 5; t++) { p.Grad = Tensor.FromArray(grads[t]); opt.Step(); }
        var saved = opt.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        var resumedParam = new Parameter(p);
        var resumed = Make("Adam", c.GetProperty("options"), resumedParam);
        resumed.LoadStateDict(saved);
        for (int t = 5; t < 10; t++)
        {
            p.Grad = Tensor.FromArray(grads[t]); opt.Step();
            resumedParam.Grad = Tensor.FromArray(grads[t]); resumed.Step();
        }
        TensorAssert.Close(p, resumedParam, 0, 0);
    }

    [Fact]
    public void Bad_hyperparameters_are_rejected_at_construction()
    {
        var p = new Parameter(Tensor.Zeros(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Sgd([p], learningRate: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Adam([p], beta1: 1.0));
        Assert.Throws<ArgumentException>(() => new Sgd([p], 0.1, nesterov: true));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RmsProp([p], momentum: -0.1));
        Assert.Throws<ArgumentException>(() => new Adam(new[] { new ParamGroup([p]), new ParamGroup([p]) }));
        // NaN passes a test written as value < 0, so each check must refuse it, with the one wording per rule.
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => new Adam([p], beta2: double.NaN), "beta2 must be in [0, 1)");
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => new AdamW([p], eps: double.NaN), "eps must be ≥ 0");
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => new RmsProp([p], alpha: double.NaN), "alpha must be ≥ 0");
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => new Adagrad([p], lrDecay: -1), "lr decay must be ≥ 0");
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => new Adagrad([p], initialAccumulatorValue: double.NaN), "initial accumulator value must be ≥ 0");
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => new Sgd([p], learningRate: 0.1, weightDecay: double.NaN), "weight decay must be ≥ 0");
        TensorAssert.Throws<ArgumentOutOfRangeException>(() => GradientClipping.ClipGradValue([p], double.NaN), "clip value must be ≥ 0");
    }

    [Fact]
    public void Parameter_groups_keep_their_own_learning_rate_and_decay()
    {
        var a = new Parameter(Tensor.Ones(2));
        var b = new Parameter(Tensor.Ones(2));
        var opt = new Sgd([new ParamGroup([a]), new ParamGroup([b], learningRate: 0.5, weightDecay: 1.0)], learningRate: 0.1);
        a.Grad = Tensor.Ones(2);
        b.Grad = Tensor.Ones(2);
        opt.Step();
        TensorAssert.Close(new double[] { 0.9, 0.9 }, a.ToArray<double>(), 1e-6);
        TensorAssert.Close(new double[] { 0.0, 0.0 }, b.ToArray<double>(), 1e-6); // 1 − 0.5·(1 + 1·1)
    }

    internal static Optimizer Make(string name, JsonElement o, Parameter p)
    {
        double D(string key, double fallback) => o.TryGetProperty(key, out var v) ? v.GetDouble() : fallback;
        bool B(string key) => o.TryGetProperty(key, out var v) && v.GetBoolean();
        var betas = o.TryGetProperty("betas", out var bs) ? bs.Doubles() : [0.9, 0.999];
        return name switch
        {
            "SGD" => new Sgd([p], D("lr", 0), D("momentum", 0), D("dampening", 0), D("weight_decay", 0), B("nesterov")),
            "Adam" => new Adam([p], D("lr", 1e-3), betas[0], betas[1], D("eps", 1e-8), D("weight_decay", 0), B("amsgrad")),
            "AdamW" => new AdamW([p], D("lr", 1e-3), betas[0], betas[1], D("eps", 1e-8), D("weight_decay", 0.01), B("amsgrad")),
            "RMSprop" => new RmsProp([p], D("lr", 1e-2), D("alpha", 0.99), D("eps", 1e-8), D("weight_decay", 0), D("momentum", 0), B("centered")),
            "Adagrad" => new Adagrad([p], D("lr", 1e-2), D("lr_decay", 0), D("weight_decay", 0), D("initial_accumulator_value", 0), D("eps", 1e-10)),
            _ => throw new ArgumentException(name),
        };
    }
}
