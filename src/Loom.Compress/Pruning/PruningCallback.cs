using Loom.Train;

namespace Loom.Compress;

/// <summary>
/// Prune while training (iterative prune → fine-tune): at every step the masks are re-applied, so pruned weights stay
/// zero through optimiser steps; whenever the schedule's target rises, magnitude pruning masks more weights. Saved in
/// checkpoints (the current sparsity; the mask itself is the zeros of the saved weights, see <see cref="PruningMasks"/>),
/// so a resumed run goes on with the same mask.
/// </summary>
/// <param name="model">The model pruned; null: the trainer's model, taken when fitting starts.</param>
public sealed class PruningCallback(SparsitySchedule schedule, PruningScope scope = PruningScope.Global, Module? model = null) : IStatefulCallback
{
    private Module? _model = model;
    private double _sparsity;
    private bool _restoreMasks;

    /// <summary>The masks in force (null before the first pruning step).</summary>
    public PruningMasks? Masks { get; private set; }

    public string StateKey => "pruning";

    public void OnFitStart(Trainer trainer)
    {
        _model ??= trainer.Model;
        if (_restoreMasks) Masks = PruningMasks.FromZeros(_model);
        _restoreMasks = false;
        Update(trainer.GlobalStep);
    }

    public void OnBatchEnd(Trainer trainer, StepInfo step) => Update(step.GlobalStep);

    private void Update(long globalStep)
    {
        double target = schedule.At(globalStep);
        if (target > _sparsity || (Masks is null && target > 0))
        {
            Masks = PruningMasks.Magnitude(_model!, target, scope, Masks);
            _sparsity = target;
        }
        Masks?.Apply();
    }

    public Dictionary<string, double> GetState() => new() { ["sparsity"] = _sparsity };

    public void SetState(IReadOnlyDictionary<string, double> state)
    {
        _sparsity = state.GetValueOrDefault("sparsity");
        // The checkpoint's weights are loaded before its callback states, so their zeros are the mask.
        if (_model is not null) Masks = _sparsity > 0 ? PruningMasks.FromZeros(_model) : null;
        else _restoreMasks = _sparsity > 0;
    }
}
