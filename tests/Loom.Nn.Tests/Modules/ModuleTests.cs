namespace Loom.Nn.Tests.Modules;

public class ModuleTests
{
    /// <summary>A module with a weight, an optional bias, a buffer and a child, to exercise naming.</summary>
    private sealed class Affine : Module<Tensor, Tensor>
    {
        public Affine(int n, bool bias = true)
        {
            Weight = RegisterParameter("weight", new Parameter(Tensor.Ones(new Shape(n))))!;
            Bias = RegisterParameter("bias", bias ? new Parameter(Tensor.Zeros(n)) : null);
            Count = RegisterBuffer("num_batches", Tensor.Zeros(new Shape(1), DType.Int64))!;
        }

        public Parameter Weight { get; }
        public Parameter? Bias { get; }
        public Tensor Count { get; }

        protected override Tensor ForwardCore(Tensor input) => input;

        protected override string ExtraRepr() => $"n={Weight.Numel}";
    }

    private sealed class Net : Module<Tensor, Tensor>
    {
        public Net()
        {
            Encoder = RegisterModule("encoder", new ModuleList<Affine>([new Affine(3), new Affine(2, bias: false)]));
            Head = RegisterModule("head", new Sequential(new Affine(4)));
        }

        public ModuleList<Affine> Encoder { get; }
        public Sequential Head { get; }

        protected override Tensor ForwardCore(Tensor input) => Head.Forward(input);
    }

    [Fact]
    public void Named_parameters_use_dotted_paths_in_registration_order()
    {
        var names = new Net().NamedParameters().Select(p => p.Name).ToArray();
        Assert.Equal(new[] { "encoder.0.weight", "encoder.0.bias", "encoder.1.weight", "head.0.weight", "head.0.bias" }, names);
        Assert.Equal(3 + 3 + 2 + 4 + 4, new Net().ParameterCount());
    }

    [Fact]
    public void State_dict_holds_parameters_and_persistent_buffers()
    {
        var keys = new Net().StateDict().Keys.ToArray();
        Assert.Contains("encoder.1.num_batches", keys);
        Assert.Contains("head.0.bias", keys);
        Assert.Equal(8, keys.Length);
    }

    [Fact]
    public void Load_state_dict_copies_values_in_place()
    {
        var a = new Net();
        var b = new Net();
        var w = b.Encoder[0].Weight;
        using (new Autograd.NoGrad()) a.Encoder[0].Weight.CopyFrom(Tensor.FromArray(new float[] { 7, 8, 9 }));
        b.LoadStateDict(a.StateDict());
        Assert.Same(w, b.Encoder[0].Weight);
        Assert.Equal(new float[] { 7, 8, 9 }, w.ToArray<float>());
    }

    [Fact]
    public void Load_state_dict_names_missing_unexpected_and_mis_shaped_keys_and_changes_nothing()
    {
        var net = new Net();
        var state = net.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.Clone());
        state.Remove("head.0.bias");
        state["extra.weight"] = Tensor.Zeros(1);
        state["encoder.0.weight"] = Tensor.Full(new Shape(5), 3);
        var target = new Net();
        var ex = Assert.Throws<StateDictMismatchException>(() => target.LoadStateDict(state));
        Assert.Contains("head.0.bias", ex.Message);
        Assert.Contains("extra.weight", ex.Message);
        Assert.Contains("encoder.0.weight (checkpoint [5], model [3])", ex.Message);
        Assert.Equal(new float[] { 1, 1, 1 }, target.Encoder[0].Weight.ToArray<float>());

        state["encoder.0.weight"] = Tensor.Full(new Shape(3), 3);
        var result = target.LoadStateDict(state, strict: false);
        Assert.Equal(new[] { "head.0.bias" }, result.MissingKeys);
        Assert.Equal(new[] { "extra.weight" }, result.UnexpectedKeys);
        Assert.Equal(new float[] { 3, 3, 3 }, target.Encoder[0].Weight.ToArray<float>());
    }

    [Fact]
    public void Train_and_eval_reach_every_descendant()
    {
        var net = new Net();
        net.Eval();
        Assert.All(net.Modules(), m => Assert.False(m.Training));
        net.Train();
        Assert.All(net.Modules(), m => Assert.True(m.Training));
    }

    [Fact]
    public void Freezing_a_subtree_turns_off_its_gradients_only()
    {
        var net = new Net();
        net.Encoder.RequiresGrad_(false);
        Assert.All(net.Encoder.Parameters(), p => Assert.False(p.RequiresGrad));
        Assert.All(net.Head.Parameters(), p => Assert.True(p.RequiresGrad));
        Assert.Equal(8, net.ParameterCount(trainableOnly: true));
    }

    [Fact]
    public void Hooks_run_around_forward_and_are_removable()
    {
        var net = new Net();
        var seen = new List<string>();
        var pre = net.Head.RegisterForwardPreHook((m, x) => { seen.Add("pre"); return ((Tensor)x).Reshape(-1); });
        var post = net.Head.RegisterForwardHook((m, x, y) => seen.Add($"post {y.Shape}"));
        var output = net.Forward(Tensor.Zeros(2, 2));
        Assert.Equal(new Shape(4), output.Shape);
        Assert.Equal(new[] { "pre", "post [4]" }, seen);
        pre.Remove();
        post.Remove();
        net.Forward(Tensor.Zeros(2, 2));
        Assert.Equal(2, seen.Count);
    }

    [Fact]
    public void Apply_visits_children_before_parents()
    {
        var order = new List<string>();
        new Net().Apply(m => order.Add(m.GetType().Name));
        Assert.Equal("Net", order[^1]);
        Assert.Equal("Affine", order[0]);
    }

    [Fact]
    public void Duplicate_or_dotted_names_are_rejected()
    {
        TensorAssert.Throws<ArgumentException>(() => new Dup(), "already registered");
    }

    private sealed class Dup : Module
    {
        public Dup()
        {
            RegisterParameter("w", null);
            RegisterParameter("w", null);
        }
    }

    [Fact]
    public void ToString_is_a_tree_with_parameter_counts()
    {
        var text = new Net().ToString();
        Assert.StartsWith("Net(\n  (encoder): ModuleList`1(\n    (0): Affine(n=3; weight: [3], bias: [3])", text);
        Assert.Contains("Total parameters: 16", text);
    }

    [Fact]
    public void Zero_grad_clears_gradients()
    {
        var net = new Net();
        foreach (var p in net.Parameters()) p.Grad = Tensor.OnesLike(p);
        net.ZeroGrad();
        Assert.All(net.Parameters(), p => Assert.Null(p.Grad));
    }

    [Fact]
    public void Zero_grad_without_set_to_none_zeroes_the_same_arrays_and_drops_strided_ones()
    {
        var net = new Net();
        var grads = net.Parameters().Select(p => p.Grad = Tensor.OnesLike(p)).ToList();
        var strided = net.Parameters().First(p => p.Numel > 1);
        strided.Grad = Tensor.Ones(strided.Numel, 2).Select(1, 0); // every other element: not contiguous
        net.ZeroGrad(setToNone: false);
        Assert.Null(strided.Grad);
        foreach (var (p, g) in net.Parameters().Zip(grads).Where(pair => !ReferenceEquals(pair.First, strided)))
        {
            Assert.Same(g, p.Grad);
            Assert.All(g.ToArray<float>(), v => Assert.Equal(0, v));
        }
    }
}
