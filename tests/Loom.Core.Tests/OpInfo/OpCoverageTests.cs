using System.Reflection;
using Xunit.Abstractions;

namespace Loom.Tests.OpInfo;

/// <summary>
/// Keeps the OpInfo table complete: every public method of <see cref="Tensor"/> and <see cref="Functional"/> is
/// exercised by a row or listed below with the reason it is not an op to check against PyTorch.
/// </summary>
public class OpCoverageTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string> NotInTable = new()
    {
        ["Backward"] = "autograd entry point (tests/Loom.Core.Tests/Autograd)",
        ["CausalMask"] = "builds a constant Bool mask, no gradient; its layout and argument check are tested through Attention.CausalMask in tests/Loom.Nn.Tests/Attention",
        ["ScaledDotProductAttention"] = "a composition of rows (Mul, Matmul, MaskedFill, Add, Softmax, Dropout); checked in tests/Loom.Nn.Tests/Attention and by the GPT's float64 GradCheck (Loom.Models.Tests), until a fused kernel gets its own row",
        ["LinearCrossEntropy"] = "fused Linear + CrossEntropy (both rows of the table), checked against that composition (loss, gradients, ignore index, reductions, every GEMM path, thread counts) and by GradCheck in tests/Loom.Core.Tests/Reductions/LinearCrossEntropyTests",
        ["SelfAttention"] = "fused kernel checked against the unfused composition (forward, gradients, causal and padded) and by GradCheck in tests/Loom.Core.Tests/Attention",
        ["Activate"] = "dispatches to the activation rows (Relu, Gelu, Silu, Sigmoid, Tanh); the mapping is checked in tests/Loom.Core.Tests/Elementwise/ActivationTests",
        ["Detach"] = "autograd bookkeeping, no values change",
        ["RequiresGrad_"] = "autograd bookkeeping, no values change",
        ["RegisterPostAccumulateGradHook"] = "autograd bookkeeping, no values change (tests/Loom.Core.Tests/Autograd/GradHookTests)",
        ["ZeroGrad"] = "autograd bookkeeping on the gradient, not an op on values (tests/Loom.Core.Tests/Autograd/DeferredZeroGradTests)",
        ["Item"] = "element access",
        ["GetDouble"] = "element access",
        ["ToArray"] = "element access",
        ["AsSpan"] = "element access (SpanAccessTests)",
        ["AsReadOnlySpan"] = "element access (SpanAccessTests)",
        ["Size"] = "shape query",
        ["ToString"] = "formatting",
        ["HasNonFinite"] = "returns a C# bool (ComparisonTests)",
        ["AllClose"] = "returns a C# bool (ComparisonTests)",
        ["Equal"] = "returns a C# bool (ComparisonTests)",
        ["Empty"] = "uninitialised memory",
        ["Zeros"] = "builds a tensor of given values; every row builds inputs with the creation API",
        ["Ones"] = "builds a tensor of given values",
        ["ZerosLike"] = "builds a tensor of given values",
        ["OnesLike"] = "builds a tensor of given values",
        ["Scalar"] = "builds a tensor of given values",
        ["FromArray"] = "builds a tensor of given values",
        ["FromSpan"] = "builds a tensor of given values",
        ["FromRows"] = "builds a tensor of given values",
        ["Wrap"] = "builds a tensor over given memory",
        ["SgdUpdate"] = "optimiser step in place, no autograd; PyTorch's single-tensor loop bit for bit in SimdPathTests, optimiser goldens in Loom.Nn.Tests",
        ["AdamUpdate"] = "optimiser step in place, no autograd; PyTorch's single-tensor loop bit for bit in SimdPathTests, optimiser goldens in Loom.Nn.Tests",
        ["RmsPropUpdate"] = "optimiser step in place, no autograd; PyTorch's single-tensor loop bit for bit in SimdPathTests, optimiser goldens in Loom.Nn.Tests",
        ["AdagradUpdate"] = "optimiser step in place, no autograd; PyTorch's single-tensor loop bit for bit in SimdPathTests, optimiser goldens in Loom.Nn.Tests",
        ["Conv2dBlocked"] = "inference layout for fused convolution chains (NCHWc); against the float64 oracle and bit for bit against the NCHW convolution in PackedTileTests",
        ["Conv2dIntoBlocks"] = "inference layout (NCHW in, NCHWc out) for the start of a blocked chain; against the float64 oracle and bit for bit against the NCHW convolution in PackedTileTests",
        ["MaxPool2dBlocked"] = "inference layout (NCHWc) for a max pool inside a blocked chain; the values of max_pool2d (NaN, signed zeros) in BlockedPoolTests",
        ["AvgPool2dBlocked"] = "inference layout (NCHWc) for the average pool ending a blocked chain; the bits of avg_pool2d in BlockedPoolTests",
        ["Conv2dChannelBlock"] = "a machine query (the block size the direct kernel reads), not an op on values",
        ["ToChannelBlocks"] = "a layout reorder (view permutation made contiguous); index map and register path in PackedTileTests",
        ["FromChannelBlocks"] = "a layout reorder (view permutation); the inverse of ToChannelBlocks in PackedTileTests",
        ["Rand"] = "Loom's generator draws other numbers than PyTorch's",
        ["Randn"] = "Loom's generator draws other numbers than PyTorch's",
        ["Uniform"] = "Loom's generator draws other numbers than PyTorch's",
        ["Randint"] = "Loom's generator draws other numbers than PyTorch's",
    };

    private static IEnumerable<string> PublicMethods() =>
        typeof(Tensor).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
            .Concat(typeof(Functional).GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => !m.IsSpecialName) // property accessors and operators (which forward to the named methods)
            .Select(m => m.Name)
            .Where(n => n is not ("Equals" or "GetHashCode" or "GetType"))
            .Distinct()
            .Order();

    [Fact]
    public void Every_public_op_has_a_row_or_a_reason()
    {
        var covered = OpTable.All.SelectMany(r => r.Covers).ToHashSet();
        var missing = PublicMethods().Where(m => !covered.Contains(m) && !NotInTable.ContainsKey(m)).ToArray();
        Assert.True(missing.Length == 0, $"public methods with no OpInfo row and no reason: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Covered_names_are_public_methods()
    {
        var methods = PublicMethods().ToHashSet();
        var unknown = OpTable.All.SelectMany(r => r.Covers.Where(c => !methods.Contains(c)).Select(c => $"{r.Name}: {c}")).ToArray();
        Assert.True(unknown.Length == 0, $"rows cover names that are not public methods: {string.Join(", ", unknown)}");
        var stale = NotInTable.Keys.Where(k => !methods.Contains(k)).ToArray();
        Assert.True(stale.Length == 0, $"reasons given for methods that do not exist: {string.Join(", ", stale)}");
    }

    [Fact]
    public void Coverage_summary()
    {
        var methods = PublicMethods().ToArray();
        var covered = OpTable.All.SelectMany(r => r.Covers).ToHashSet();
        var goldens = OpTable.All.Where(r => OpGolden.Exists(r.Name)).Select(r => OpGolden.Load(r.Name)).ToArray();
        int samples = goldens.Sum(g => g.Samples.Count(s => !s.Sweep));
        int sweeps = goldens.Sum(g => g.Samples.Count(s => s.Sweep));
        int known = OpTable.All.Sum(r => r.Known.Length);
        output.WriteLine($"{methods.Length} public methods: {methods.Count(covered.Contains)} in the table, {methods.Count(NotInTable.ContainsKey)} not ops");
        output.WriteLine($"{OpTable.All.Count} rows, {samples} samples, {sweeps} precision sweeps, {known} known issues");
        Assert.True(samples > OpTable.All.Count);
    }
}
