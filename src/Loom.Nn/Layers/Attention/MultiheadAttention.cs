using Loom.Autograd;

namespace Loom.Nn;

/// <summary>
/// Multi-head attention, as <c>torch.nn.MultiheadAttention</c>: the query, key and value are projected to
/// <c>numHeads</c> heads of size E/numHeads (or <c>headDim</c>), each head attends with scaled dot products
/// (<see cref="Attention.ScaledDotProductAttention"/>), and the concatenated heads go through <c>out_proj</c>.
/// Parameters (PyTorch's names): <c>in_proj_weight</c> [3E, E] (Xavier uniform) holding the query, key and value
/// projections stacked, <c>in_proj_bias</c> [3E] (zeros) and the child <c>out_proj</c>, a <see cref="Linear"/> whose
/// bias starts at zero. When kdim or vdim differ from E the projections are separate: <c>q_proj_weight</c> [E, E],
/// <c>k_proj_weight</c> [E, kdim], <c>v_proj_weight</c> [E, vdim]. With <c>headDim</c> the heads span
/// I = numHeads·headDim rather than E (T5's inner_dim): the projections have I rows and out_proj I inputs — what
/// removing heads from a trained layer leaves (<see cref="KeepHeads"/>).
/// </summary>
/// <remarks>
/// Shapes (L target length, S source length, B batch, E embed_dim): query [B, L, E] with <c>batchFirst</c>, else
/// [L, B, E]; key [B, S, kdim], value [B, S, vdim] likewise; unbatched [L, E], [S, kdim], [S, vdim] also work. Output
/// as the query; weights [B, L, S] averaged over heads, or [B, heads, L, S]. As a <see cref="Module{TIn, TOut}"/> it
/// is self-attention (query = key = value, no mask), so it can sit in a <see cref="Sequential"/>.
/// </remarks>
public sealed class MultiheadAttention : Module<Tensor, Tensor>, IAttentionLayer, IHeadPrunable
{
    private const string Op = "multi_head_attention";
    private readonly Generator? _generator;
    private readonly AttentionHooks _attentionHooks = new();
    private readonly DType _dtype;
    private readonly bool _bias;
    private readonly bool _stacked;
    // Packed (int8) projections for inference, set by Module.PackParameter: in_proj, or q, k, v when separate.
    private PackedWeight? _inProjPacked, _qPacked, _kPacked, _vPacked;

    public MultiheadAttention(int embedDim, int numHeads, double dropout = 0, bool bias = true, bool batchFirst = false, int? kdim = null, int? vdim = null,
        DType dtype = DType.Float32, Generator? generator = null, int? headDim = null)
    {
        if (embedDim <= 0 || numHeads <= 0)
            throw new ArgumentException($"MultiheadAttention: embed_dim ({embedDim}) and num_heads ({numHeads}) must be positive");
        if (headDim is null && embedDim % numHeads != 0)
            throw new ArgumentException($"MultiheadAttention: embed_dim ({embedDim}) must be divisible by num_heads ({numHeads})");
        if (headDim <= 0) throw new ArgumentException($"MultiheadAttention: head_dim ({headDim}) must be positive");
        if (!(dropout >= 0 && dropout <= 1))
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "MultiheadAttention: dropout probability must be in [0, 1]");
        if (kdim <= 0 || vdim <= 0)
            throw new ArgumentException($"MultiheadAttention: kdim ({kdim}) and vdim ({vdim}) must be positive");
        (EmbedDim, NumHeads, DropoutP, BatchFirst) = (embedDim, numHeads, dropout, batchFirst);
        HeadDim = headDim ?? embedDim / numHeads;
        int inner = InnerDim;
        KDim = kdim ?? embedDim;
        VDim = vdim ?? embedDim;
        _generator = generator;

        _stacked = KDim == embedDim && VDim == embedDim;
        if (_stacked)
        {
            InProjWeight = RegisterParameter("in_proj_weight", XavierUniform(new Shape(3 * inner, embedDim), dtype, generator));
        }
        else
        {
            QProjWeight = RegisterParameter("q_proj_weight", XavierUniform(new Shape(inner, embedDim), dtype, generator));
            KProjWeight = RegisterParameter("k_proj_weight", XavierUniform(new Shape(inner, KDim), dtype, generator));
            VProjWeight = RegisterParameter("v_proj_weight", XavierUniform(new Shape(inner, VDim), dtype, generator));
        }
        InProjBias = RegisterParameter("in_proj_bias", bias ? new Parameter(Tensor.Zeros(new Shape(3 * inner), dtype)) : null);
        OutProj = RegisterModule("out_proj", new Linear(inner, embedDim, bias, dtype, generator));
        (_dtype, _bias) = (dtype, bias);
        if (OutProj.Bias is not null)
            using (new NoGrad()) OutProj.Bias.ZeroInPlace();
    }

    public int EmbedDim { get; }
    public int NumHeads { get; }
    public int HeadDim { get; }

    /// <summary>NumHeads · HeadDim: the width of the projected queries, keys and values (E unless head_dim was given).</summary>
    public int InnerDim => NumHeads * HeadDim;
    public int KDim { get; }
    public int VDim { get; }

    /// <summary>Dropout probability on the attention weights (training mode only).</summary>
    public double DropoutP { get; }

    public bool BatchFirst { get; }

    /// <summary>[3I, E]: the query, key and value projections stacked (null when kdim or vdim differ from E, or once packed).</summary>
    public Parameter? InProjWeight { get; private set; }

    /// <summary>The separate projections (null when stacked in <see cref="InProjWeight"/>, or once packed).</summary>
    public Parameter? QProjWeight { get; private set; }
    public Parameter? KProjWeight { get; private set; }
    public Parameter? VProjWeight { get; private set; }

    /// <summary>[3I]: the query, key and value biases stacked (null without bias).</summary>
    public Parameter? InProjBias { get; }

    public Linear OutProj { get; }

    /// <summary>
    /// Attends from <paramref name="query"/> to <paramref name="key"/>/<paramref name="value"/> and returns the output
    /// and, when <paramref name="needWeights"/>, the attention weights. Runs the module's hooks with the query as input
    /// and the output as output (a pre-hook's replacement of the query also replaces key and value when they are the
    /// same tensor, i.e. for self-attention).
    /// </summary>
    /// <param name="keyPaddingMask">[B, S]: Bool, true for keys to ignore (padding), or float, added to the scores.</param>
    /// <param name="attnMask">[L, S] or [B·heads, L, S]: Bool, true where attention is not allowed, or float, added.</param>
    /// <param name="averageAttnWeights">Weights averaged over heads [B, L, S] rather than per head [B, heads, L, S].</param>
    /// <param name="isCausal">Without <paramref name="attnMask"/>, mask later keys (<see cref="Attention.CausalMask(int, int)"/>, aligned to
    /// the end when decoding with a cache); with one, it is only a hint and the given mask is used.</param>
    /// <param name="cache">Incremental decoding: this call's projected keys and values are appended to the layer's entry
    /// in the cache and attention covers everything cached (<paramref name="keyPaddingMask"/> and <paramref name="attnMask"/>
    /// then have S = all cached positions).</param>
    /// <remarks>Shapes: see the class remarks; rows whose keys are all masked come out NaN, as in PyTorch.</remarks>
    public (Tensor Output, Tensor? Weights) Forward(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask = null, Tensor? attnMask = null,
        bool needWeights = true, bool averageAttnWeights = true, bool isCausal = false, KeyValueCache? cache = null) =>
        ForwardWithHooks(query, key, value, keyPaddingMask, attnMask, needWeights, averageAttnWeights, isCausal, cache, fixedKeyValue: false);

    /// <summary>
    /// As <see cref="Forward(Tensor, Tensor, Tensor, Tensor?, Tensor?, bool, bool, bool, KeyValueCache?)"/>; with
    /// <paramref name="fixedKeyValue"/> the cache entry holds keys and values projected once (a decoder's memory) and
    /// later calls skip the key and value projections.
    /// </summary>
    internal (Tensor Output, Tensor? Weights) ForwardWithHooks(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask, Tensor? attnMask,
        bool needWeights, bool averageAttnWeights, bool isCausal, KeyValueCache? cache, bool fixedKeyValue)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        var input = (Tensor)RunPreHooks(query);
        if (!ReferenceEquals(input, query))
        {
            if (ReferenceEquals(key, query)) key = input;
            if (ReferenceEquals(value, query)) value = input;
            query = input;
        }
        var result = Attend(query, key, value, keyPaddingMask, attnMask, needWeights, averageAttnWeights, isCausal, cache, fixedKeyValue);
        RunHooks(query, result.Output);
        return result;
    }

    /// <summary>Self-attention without masks (for <see cref="Sequential"/>).</summary>
    protected override Tensor ForwardCore(Tensor input) =>
        Attend(input, input, input, null, null, needWeights: false, averageAttnWeights: true, isCausal: false, cache: null, fixedKeyValue: false).Output;

    private (Tensor Output, Tensor? Weights) Attend(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask, Tensor? attnMask,
        bool needWeights, bool averageAttnWeights, bool isCausal, KeyValueCache? cache, bool fixedKeyValue)
    {
        bool batched = CheckInputs(query, key, value, keyPaddingMask);
        var entry = cache?.For(this);
        bool reuse = fixedKeyValue && entry is { Length: > 0 };
        bool selfAttention = ReferenceEquals(query, key) && ReferenceEquals(key, value);
        bool sharedKeyValue = ReferenceEquals(key, value);
        if (!batched)
        {
            // An unbatched call is a batch of one; PyTorch ignores batch_first for it.
            int axis = BatchFirst ? 0 : 1;
            query = query.Unsqueeze(axis);
            key = key.Unsqueeze(axis);
            value = value.Unsqueeze(axis);
            keyPaddingMask = keyPaddingMask?.Unsqueeze(0);
        }
        int b = query.Shape[BatchFirst ? 0 : 1], l = query.Shape[BatchFirst ? 1 : 0];

        Tensor q, k, v;
        if (reuse)
        {
            q = Heads(Project(query, 0, 1), 1, 0);
            (k, v) = entry!.Current;
        }
        else
        {
            (q, k, v) = ProjectAll(query, key, value, selfAttention, sharedKeyValue);
            if (entry is not null) (k, v) = fixedKeyValue ? entry.SetFixed(k, v) : entry.Append(k, v);
        }
        int s = k.Shape[2];

        var mask = BuildMask(attnMask, keyPaddingMask, isCausal, b, l, s, query.DType, cache is not null);
        var (heads, weights, probabilities) = Attention.Compute(q, k, v, mask, Training ? DropoutP : 0, 1 / Math.Sqrt(HeadDim), _generator);
        if (_attentionHooks.Any) _attentionHooks.Run(this, probabilities);

        // [B, H, L, D] → [B, L, H·D] or [L, B, H·D]: the one copy of the attention output, which out_proj then reads.
        var merged = BatchFirst ? heads.Permute(0, 2, 1, 3).Reshape(b, l, InnerDim) : heads.Permute(2, 0, 1, 3).Reshape(l, b, InnerDim);
        var output = OutProj.Forward(merged);
        Tensor? returned = !needWeights ? null : averageAttnWeights ? weights.Mean(1) : weights;
        if (!batched)
        {
            output = output.Squeeze(BatchFirst ? 0 : 1);
            returned = returned?.Squeeze(0);
        }
        return (output, returned);
    }

    public HookHandle RegisterAttentionHook(Action<Module, Tensor> hook) => _attentionHooks.Register(hook);

    /// <summary>Validates ranks and sizes; returns whether the call is batched.</summary>
    private bool CheckInputs(Tensor query, Tensor key, Tensor value, Tensor? keyPaddingMask)
    {
        if (query.Rank is not (2 or 3) || key.Rank != query.Rank || value.Rank != query.Rank)
            throw new ArgumentException($"{Op}: query, key and value must all be 3-D (batched) or all 2-D (unbatched), got query {query.Shape}, key {key.Shape}, value {value.Shape}");
        if (query.Shape[^1] != EmbedDim)
            throw new ArgumentException($"{Op}: query {query.Shape} must have embed_dim {EmbedDim} as its last dimension");
        if (key.Shape[^1] != KDim || value.Shape[^1] != VDim)
            throw new ArgumentException($"{Op}: key {key.Shape} and value {value.Shape} must have last dimensions kdim {KDim} and vdim {VDim}");
        if (!key.Shape.Dims[..^1].SequenceEqual(value.Shape.Dims[..^1]))
            throw new ArgumentException($"{Op}: key {key.Shape} and value {value.Shape} must have the same sequence length and batch size");
        bool batched = query.Rank == 3;
        int batchAxis = BatchFirst ? 0 : 1;
        if (batched && key.Shape[batchAxis] != query.Shape[batchAxis])
            throw new ArgumentException($"{Op}: query {query.Shape} and key {key.Shape} have different batch sizes ({query.Shape[batchAxis]} != {key.Shape[batchAxis]}; batch_first={BatchFirst})");
        if (!query.DType.IsFloatingPoint() || key.DType != query.DType || value.DType != query.DType)
            throw new ArgumentException($"{Op}: query, key and value must share one floating-point dtype, got {query.DType.Name()}, {key.DType.Name()} and {value.DType.Name()}");
        if (keyPaddingMask is not null && keyPaddingMask.Rank != query.Rank - 1)
            throw new ArgumentException($"{Op}: key_padding_mask {keyPaddingMask.Shape} must be [B, S] for batched inputs or [S] for unbatched ones (query {query.Shape})");
        return batched;
    }

    /// <summary>The query, key and value heads [B, H, n, D] (views), with as few GEMMs as the inputs allow.</summary>
    private (Tensor Q, Tensor K, Tensor V) ProjectAll(Tensor query, Tensor key, Tensor value, bool selfAttention, bool sharedKeyValue)
    {
        if (_stacked && selfAttention)
        {
            var qkv = Project(query, 0, 3);
            return (Heads(qkv, 3, 0), Heads(qkv, 3, 1), Heads(qkv, 3, 2));
        }
        var q = Heads(Project(query, 0, 1), 1, 0);
        if (_stacked && sharedKeyValue)
        {
            var kv = Project(key, 1, 2);
            return (q, Heads(kv, 2, 0), Heads(kv, 2, 1));
        }
        return (q, Heads(Project(key, 1, 1), 1, 0), Heads(Project(value, 2, 1), 1, 0));
    }

    /// <summary>
    /// x · Wᵀ + b for <paramref name="count"/> consecutive projections starting at <paramref name="first"/> (0 query,
    /// 1 key, 2 value): rows of in_proj_weight, or the separate weight (count 1) when they are not stacked; float or packed.
    /// </summary>
    private Tensor Project(Tensor x, int first, int count)
    {
        int e = InnerDim;
        var bias = InProjBias is null ? null : count == 3 ? InProjBias : InProjBias.Narrow(0, first * e, count * e);
        if (_stacked)
        {
            if (_inProjPacked is { } packed) return Functional.Linear(x, count == 3 ? packed : packed.Narrow(first * e, count * e), bias);
            return Functional.Linear(x, count == 3 ? InProjWeight! : InProjWeight!.Narrow(0, first * e, count * e), bias);
        }
        var separatePacked = first switch { 0 => _qPacked, 1 => _kPacked, _ => _vPacked };
        if (separatePacked is not null) return Functional.Linear(x, separatePacked, bias);
        return Functional.Linear(x, (first switch { 0 => QProjWeight, 1 => KProjWeight, _ => VProjWeight })!, bias);
    }

    /// <summary>Accepts packed forms of the input projections (quantised inference); out_proj packs itself, being a <see cref="Linear"/>.</summary>
    protected override void OnParameterPacking(string name, Parameter current, PackedWeight weight)
    {
        switch (name)
        {
            case "in_proj_weight": (_inProjPacked, InProjWeight) = (weight, null); break;
            case "q_proj_weight": (_qPacked, QProjWeight) = (weight, null); break;
            case "k_proj_weight": (_kPacked, KProjWeight) = (weight, null); break;
            case "v_proj_weight": (_vPacked, VProjWeight) = (weight, null); break;
            default: base.OnParameterPacking(name, current, weight); break;
        }
    }

    /// <summary>Part <paramref name="part"/> of <paramref name="parts"/> stacked projections [n0, n1, parts·E] as heads [B, H, n, D] (a view).</summary>
    private Tensor Heads(Tensor projected, int parts, int part)
    {
        var split = projected.View(projected.Shape[0], projected.Shape[1], parts, NumHeads, HeadDim).Select(2, part);
        return BatchFirst ? split.Permute(0, 2, 1, 3) : split.Permute(1, 2, 0, 3);
    }

    /// <summary>The attention mask and key padding mask as one mask broadcastable to the scores [B, H, L, S].</summary>
    private Tensor? BuildMask(Tensor? attnMask, Tensor? keyPaddingMask, bool isCausal, int b, int l, int s, DType dtype, bool cached)
    {
        Tensor? attn = null;
        if (attnMask is not null)
        {
            Attention.CheckMaskDType(attnMask, Op, "attn_mask");
            if (attnMask.Rank == 2 && attnMask.Shape[0] == l && attnMask.Shape[1] == s) attn = attnMask;
            else if (attnMask.Rank == 3 && attnMask.Shape[0] == b * NumHeads && attnMask.Shape[1] == l && attnMask.Shape[2] == s)
                attn = attnMask.Reshape(b, NumHeads, l, s);
            else
                throw new ArgumentException(
                    $"{Op}: attn_mask {attnMask.Shape} should be [{l}, {s}] (L, S) or [{b * NumHeads}, {l}, {s}] (batch·heads, L, S)" +
                    (cached ? " where S counts every cached position" : ""));
        }
        else if (isCausal && l > 1)
        {
            attn = Attention.CausalMask(l, s);
        }
        Tensor? padding = null;
        if (keyPaddingMask is not null)
        {
            Attention.CheckMaskDType(keyPaddingMask, Op, "key_padding_mask");
            if (keyPaddingMask.Shape[0] != b || keyPaddingMask.Shape[1] != s)
                throw new ArgumentException($"{Op}: key_padding_mask {keyPaddingMask.Shape} should be [{b}, {s}] (batch, S)" + (cached ? " where S counts every cached position" : ""));
            padding = keyPaddingMask.Reshape(b, 1, 1, s);
        }
        return Attention.CombineMasks(attn, padding, dtype);
    }

    Linear IHeadPrunable.OutputProjection => OutProj;

    /// <summary>
    /// A copy holding only <paramref name="heads"/> (indices, in the order given): their rows of the query, key and
    /// value projections and their columns of out_proj, so it computes what this layer computes minus the other heads'
    /// contributions. HuggingFace's <c>prune_heads</c>, as a new module to swap in (<see cref="Module.SetSubmodule"/>).
    /// </summary>
    public MultiheadAttention KeepHeads(IReadOnlyList<int> heads)
    {
        if (_inProjPacked is not null || _qPacked is not null || _kPacked is not null || _vPacked is not null || OutProj.PackedWeight is not null)
            throw new InvalidOperationException("MultiheadAttention: the projections are packed (int8); remove heads before quantising");
        var rows = AttentionHeads.Rows(heads, NumHeads, HeadDim, 1, nameof(MultiheadAttention));
        var stacked = AttentionHeads.Rows(heads, NumHeads, HeadDim, 3, nameof(MultiheadAttention));
        var copy = new MultiheadAttention(EmbedDim, heads.Count, DropoutP, _bias, BatchFirst, KDim, VDim, _dtype, _generator, HeadDim);
        using (new NoGrad())
        {
            if (InProjWeight is not null) copy.InProjWeight!.CopyFrom(InProjWeight.IndexSelect(0, stacked));
            else
            {
                copy.QProjWeight!.CopyFrom(QProjWeight!.IndexSelect(0, rows));
                copy.KProjWeight!.CopyFrom(KProjWeight!.IndexSelect(0, rows));
                copy.VProjWeight!.CopyFrom(VProjWeight!.IndexSelect(0, rows));
            }
            if (InProjBias is not null) copy.InProjBias!.CopyFrom(InProjBias.IndexSelect(0, stacked));
            copy.OutProj.Weight.CopyFrom(OutProj.Weight.IndexSelect(1, rows));
            if (OutProj.Bias is not null) copy.OutProj.Bias!.CopyFrom(OutProj.Bias);
        }
        copy.Train(Training);
        return copy;
    }

    Module IHeadPrunable.KeepHeads(IReadOnlyList<int> heads) => KeepHeads(heads);

    private static Parameter XavierUniform(Shape shape, DType dtype, Generator? generator)
    {
        var w = new Parameter(Tensor.Zeros(shape, dtype));
        Init.XavierUniform(w, generator: generator);
        return w;
    }

    protected override string ExtraRepr() =>
        $"embed_dim={EmbedDim}, num_heads={NumHeads}" + (DropoutP != 0 ? $", dropout={DropoutP}" : "") + (BatchFirst ? ", batch_first=True" : "") +
        (InnerDim != EmbedDim ? $", head_dim={HeadDim}" : "") + (KDim != EmbedDim ? $", kdim={KDim}" : "") + (VDim != EmbedDim ? $", vdim={VDim}" : "") + (InProjBias is null ? ", bias=False" : "");
}
