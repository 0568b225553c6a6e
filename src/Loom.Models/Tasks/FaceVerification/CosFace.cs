namespace Loom.Models;

/// <summary>
/// CosFace (Wang et al. 2018, "Large Margin Cosine Loss"): the training head and loss of a face-recognition
/// embedding. Each class has a learnt direction; the logits are s·cos θ between the L2-normalised embedding and each
/// direction, less a margin m on the true class: s·(cos θ_y − m). Cross-entropy over these pushes an embedding closer
/// (in angle) to its own class than to any other by the margin, so embeddings of one identity cluster tightly and a
/// fixed cosine threshold separates same from different, also for identities never trained on.
/// </summary>
public static class CosFace
{
    /// <summary>
    /// The mean CosFace loss of cosines [N, classes] (from <see cref="CosineClassifier"/>) against class indices [N]:
    /// cross-entropy of s·(cos − m·onehot(target)).
    /// </summary>
    public static Tensor Loss(Tensor cosines, Tensor targets, double scale = 16, double margin = 0.35)
    {
        CheckShapes("CosFace.Loss", cosines, targets);
        if (!(scale > 0) || !(margin >= 0)) throw new ArgumentException($"CosFace.Loss: needs scale > 0 and margin ≥ 0, got {scale} and {margin}");
        var oneHot = Functional.OneHot(targets.To(DType.Int64), cosines.Shape[1]).To(cosines.DType);
        return Functional.CrossEntropy((cosines - oneHot * margin) * scale, targets.To(DType.Int64));
    }

    /// <summary>The margin losses' check of their inputs: cosines [N, classes] and one target per row.</summary>
    internal static void CheckShapes(string loss, Tensor cosines, Tensor targets)
    {
        if (cosines.Rank != 2 || targets.Rank != 1 || targets.Shape[0] != cosines.Shape[0])
            throw new ArgumentException($"{loss}: expected cosines [N, classes] and targets [N], got {cosines.Shape} and {targets.Shape}");
    }

    /// <summary>Rows of <paramref name="x"/> [N, D] scaled to unit length (a zero row stays zero).</summary>
    public static Tensor Normalize(Tensor x) => x / x.Norm(2, 1, keepDim: true).Clamp(min: 1e-12);
}

/// <summary>Cosines [N, classes] between L2-normalised inputs [N, D] and each class's learnt direction (a bias-free linear layer of unit rows).</summary>
public sealed class CosineClassifier : Module<Tensor, Tensor>
{
    public CosineClassifier(int dimension, int classes)
    {
        if (dimension < 1 || classes < 2) throw new ArgumentException($"CosineClassifier: needs a dimension ≥ 1 and two or more classes, got {dimension} and {classes}");
        Weight = RegisterParameter("weight", new Parameter(Tensor.Zeros(classes, dimension)))!;
        using var noGrad = new NoGrad();
        Init.XavierUniform(Weight);
    }

    public Parameter Weight { get; }

    protected override Tensor ForwardCore(Tensor input) => CosFace.Normalize(input).Matmul(CosFace.Normalize(Weight).Transpose(0, 1));
}

/// <summary>
/// A face-recognition network: a trunk maps an image to an embedding, L2-normalised (<see cref="Embed"/>); for
/// training, <see cref="CosineClassifier"/> turns it into cosines to the training identities, which
/// <see cref="CosFace.Loss"/> or <see cref="ArcFace.Loss"/> scores; or (projection > 0) a <see cref="Projector"/>
/// maps two views of each image to what <see cref="SupCon.Loss"/> scores. Verification and identification use the
/// embedding only, so identities never seen in training are compared the same way.
/// </summary>
/// <remarks>
/// Trunks: <see cref="FaceVerificationTask.ModelName"/>, three Conv–BatchNorm–ReLU blocks (32, 64, 128 channels) with
/// global average pooling and a Linear layer to the embedding; <see cref="FaceVerificationTask.ResNetModelName"/>,
/// resnet-mini whose last layer (fc) maps to the embedding. With a batch-normalised embedding (batchNormEmbedding) the embedding
/// passes a batch norm before the normalisation (ArcFace's "BN after the embedding" output): it centres the
/// embeddings on the training data's mean, so the sphere's directions are spent on differences between identities
/// rather than on the offset every image shares, which is what lets unseen identities spread out instead of sharing
/// a narrow cone near the training classes they resemble.
/// </remarks>
public sealed class FaceEmbedder : Module<Tensor, Tensor>
{
    public FaceEmbedder(int inChannels, int height, int width, int classes, int dimension = 64, string trunk = FaceVerificationTask.ModelName, bool batchNormEmbedding = false,
        int projection = 0, bool marginHead = true, string? parts = null)
    {
        if (projection < 0) throw new ArgumentException($"FaceEmbedder: the projection head's size must be ≥ 0 (0: none), got {projection}");
        if (projection == 0 && !marginHead) throw new ArgumentException("FaceEmbedder: needs a margin head, a projection head or both");
        RequirePartsTrunk(parts, trunk);
        if (parts is not null && (projection > 0 || !marginHead)) throw new ArgumentException("--parts trains a margin head per part; it does not combine with a projection head (--loss supcon, --instance-weight)");
        InChannels = inChannels;
        Dimension = dimension;
        Backbone = RegisterModule("backbone", trunk switch
        {
            FaceVerificationTask.ModelName => new Sequential(
                new Conv2d(inChannels, 32, 3, padding: 1, bias: false), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2),
                new Conv2d(32, 64, 3, padding: 1, bias: false), new BatchNorm2d(64), new ReLU(), new MaxPool2d(2),
                new Conv2d(64, 128, 3, padding: 1, bias: false), new BatchNorm2d(128), new ReLU()),
            FaceVerificationTask.ResNetModelName => (Module<Tensor, Tensor>)new ResNet(ResNetConfig.Mini, inChannels, dimension),
            _ => throw new ArgumentException($"unknown face-embedding trunk '{trunk}'; choose {FaceVerificationTask.ModelName} or {FaceVerificationTask.ResNetModelName}"),
        });
        if (parts is not null)
        {
            // Each part: its own Linear, batch norm and margin head; the verification embedding is their concatenation.
            Parts = RegisterModule("parts", new PartEmbedding(128, dimension, parts, batchNormEmbedding));
            Dimension = Parts.Parts * dimension;
            PartHeads = [.. Enumerable.Range(0, Parts.Parts).Select(k => RegisterModule($"part_head{k}", new CosineClassifier(dimension, classes)))];
            return;
        }
        // The small CNN's global pooling and Linear to the embedding; same names and order as before parts existed, so old weights load.
        if (Backbone is Sequential small)
            foreach (var layer in new Module<Tensor, Tensor>[] { new AdaptiveAvgPool2d(1), new Flatten(), new Linear(128, dimension) }) small.Append(layer);
        if (batchNormEmbedding) EmbeddingNorm = RegisterModule("embedding_norm", new BatchNorm1d(dimension));
        if (marginHead) Head = RegisterModule("head", new CosineClassifier(dimension, classes));
        if (projection > 0) Projector = RegisterModule("projector", new Sequential(new Linear(dimension, projection), new ReLU(), new Linear(projection, projection)));
    }

    /// <summary>Parts are cut from the small CNN's last feature map; the ResNet trunk ends in its embedding, with no map to cut.</summary>
    internal static void RequirePartsTrunk(string? parts, string trunk)
    {
        if (parts is not null && trunk != FaceVerificationTask.ModelName)
            throw new ArgumentException($"--parts cuts the {FaceVerificationTask.ModelName} trunk's feature map; it does not take --model {trunk}");
    }

    public int InChannels { get; }

    /// <summary>The verification embedding's length: the parts' lengths summed with <see cref="Parts"/>.</summary>
    public int Dimension { get; }
    public Module<Tensor, Tensor> Backbone { get; }
    public BatchNorm1d? EmbeddingNorm { get; }
    /// <summary>The margin losses' head (cosines to the training identities); null for SupCon alone and with <see cref="Parts"/>.</summary>
    public CosineClassifier? Head { get; }

    /// <summary>`--parts`: the part embeddings cut from the trunk's feature map (<see cref="PartEmbedding"/>); null: one global embedding.</summary>
    public PartEmbedding? Parts { get; }

    /// <summary>With <see cref="Parts"/>: each part's margin head, used in training only.</summary>
    public IReadOnlyList<CosineClassifier> PartHeads { get; } = [];

    /// <summary>
    /// SupCon's projection head (Linear–ReLU–Linear from the embedding before its L2 normalisation), used in training
    /// only: the contrastive loss is taken on its output, and the embedding before it keeps more of what the loss
    /// does not need (SimCLR's finding), which is what unseen identities are told apart by. Null without contrastive training.
    /// </summary>
    public Module<Tensor, Tensor>? Projector { get; }

    /// <summary>L2-normalised embeddings [N, D] of images [N, C, H, W].</summary>
    public Tensor Embed(Tensor images)
    {
        var e = Backbone.Forward(images);
        if (Parts is not null)
        {
            // Each part on the unit sphere, scaled by 1/√parts: the concatenation is a unit vector whose cosine to another is the parts' mean cosine.
            int n = images.Shape[0];
            var unit = CosFace.Normalize(Parts.Forward(e).Reshape(n * Parts.Parts, Parts.Dimension));
            return unit.Reshape(n, Dimension) * (1 / Math.Sqrt(Parts.Parts));
        }
        return CosFace.Normalize(EmbeddingNorm is null ? e : EmbeddingNorm.Forward(e));
    }

    /// <summary>
    /// With <see cref="Parts"/>: each part's cosines, [N, parts, classes]. Without a <see cref="Projector"/>: cosines
    /// [N, classes] of images [N, C, H, W]. With one: for images given as V
    /// views stacked on the channel axis, [N, V·C, H, W] (V = 1 for plain images), each view's cosines (with a
    /// <see cref="Head"/>) followed by its projection, [N, V, classes + P] (or [N, V, P]).
    /// </summary>
    protected override Tensor ForwardCore(Tensor input)
    {
        if (Parts is not null)
        {
            var p = Parts.Forward(Backbone.Forward(input));
            return Tensor.Stack([.. PartHeads.Select((head, k) => head.Forward(p.Narrow(1, k, 1).Reshape(p.Shape[0], Parts.Dimension)))], 1);
        }
        if (Projector is null) return Head!.Forward(Embed(input));
        if (input.Rank != 4 || input.Shape[1] % InChannels != 0)
            throw new ArgumentException($"FaceEmbedder: expected views stacked on the channel axis, [N, V·{InChannels}, H, W], got {input.Shape}");
        int n = input.Shape[0], views = input.Shape[1] / InChannels;
        // One pass over all views: the batch norms see both views of every image.
        var e = Backbone.Forward(input.Reshape(n * views, InChannels, input.Shape[2], input.Shape[3]));
        if (EmbeddingNorm is not null) e = EmbeddingNorm.Forward(e);
        var projections = Projector.Forward(e);
        var output = Head is null ? projections : Tensor.Cat([Head.Forward(CosFace.Normalize(e)), projections], 1);
        return output.Reshape(n, views, -1);
    }
}
