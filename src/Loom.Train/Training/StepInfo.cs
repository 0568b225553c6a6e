namespace Loom.Train;

/// <summary>What happened in one training batch, passed to <see cref="ICallback.OnBatchEnd"/>.</summary>
/// <param name="Epoch">0-based epoch.</param>
/// <param name="Batch">0-based batch within the epoch.</param>
/// <param name="BatchesPerEpoch">Batches in this epoch (the loader's count).</param>
/// <param name="GlobalStep">Optimiser steps taken so far, after this batch.</param>
/// <param name="Loss">This batch's loss.</param>
/// <param name="LearningRate">The first parameter group's learning rate.</param>
/// <param name="Samples">Samples in this batch.</param>
public readonly record struct StepInfo(int Epoch, int Batch, int BatchesPerEpoch, long GlobalStep, double Loss, double LearningRate, int Samples);
