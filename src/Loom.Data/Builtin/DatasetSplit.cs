namespace Loom.Data;

/// <summary>A built-in dataset loaded as fixed train and test sets: inputs Float32 [N, C, H, W] in 0..1, targets Int64 [N].</summary>
public sealed record DatasetSplit(DatasetInfo Info, TensorDataset Train, TensorDataset Test);
