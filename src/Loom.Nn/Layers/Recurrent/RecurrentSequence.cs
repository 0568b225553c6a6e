using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using Loom.Autograd;
using Loom.Kernels;

namespace Loom.Nn;

// One layer of a recurrent network in one direction, over the whole sequence, as a single autograd op.
//   Inputs: gx = x·W_ihᵀ + b_ih for every step (one GEMM, done by the caller), W_hh [G·H, H], b_hh, h0, c0.
//   Step s, with hg = h_{s−1}·W_hhᵀ + b_hh (one GEMM per step):
//     RNN   h = tanh(gx + hg) or relu(gx + hg)
//     LSTM  i, f, g, o = σ, σ, tanh, σ of (gx + hg);  c = f⊙c_{s−1} + i⊙g;  h = o⊙tanh(c)
//     GRU   r, z = σ(gx + hg);  n = tanh(gx_n + r⊙hg_n);  h = (1 − z)⊙n + z⊙h_{s−1}
//   Backward, from the last step down: the cell's local derivatives give dA_s = dL/dhg_s (RecurrentKernels), then
//     dh_{s−1} = dA_s·W_hh + direct path (GRU: dh⊙z; LSTM's cell state: dc_{s−1} = dc⊙f)
//     dgx_s = dA_s, except GRU's n gate, where the reset gate sits between them: dA_n = dgx_n⊙r
//   and once for the whole sequence: dW_hh = Σ_s dA_sᵀ·h_{s−1} (one GEMM with inner dimension T·B), db_hh = Σ_s dA_s.
// Why one op: a composed graph records ~15 small nodes per step; here a step costs one GEMM and one pass over the
// gates each way, and the weight gradient is a single large GEMM instead of T small ones.
//
// The op has one output, the flat z = [output (T·B·H) | h_T (B·H) | c_T (B·H, LSTM)]; the tensors returned are views
// of it, so gradients arriving through any of them meet in this one backward node.
//
// Lengths (padded batches, like packed sequences): row b is active for steps s < len_b, at time s (forward) or
// len_b − 1 − s (reverse). An inactive row keeps its state, its output stays zero, and in backward its gradients pass
// through unchanged (its dA row is zero).
internal static class RecurrentSequence
{
    /// <summary>
    /// Runs one layer in one direction. <paramref name="gatesX"/> is [T, B, G·H] ([B, T, G·H] when
    /// <paramref name="batchFirst"/>); h0 and c0 are [B, H] or null for zeros. Returns the output in the input's layout
    /// ([T, B, H] or [B, T, H]) and the final states [B, H] (C only for LSTM). Shapes are validated by the module.
    /// </summary>
    public static (Tensor Output, Tensor H, Tensor? C) Run(RecurrentCell cell, Tensor gatesX, Tensor weightHh, Tensor? biasHh,
        Tensor? h0, Tensor? c0, bool batchFirst, bool reverse, int[]? lengths)
    {
        int steps = gatesX.Shape[batchFirst ? 1 : 0], batch = gatesX.Shape[batchFirst ? 0 : 1], hidden = weightHh.Shape[1];
        var plan = new SequencePlan(cell, steps, batch, hidden, batchFirst, reverse, lengths);
        var inputs = new List<Tensor> { gatesX, weightHh };
        if (biasHh is not null) inputs.Add(biasHh);
        if (h0 is not null) inputs.Add(h0);
        if (c0 is not null) inputs.Add(c0);
        bool record = GradMode.ShouldRecord(inputs);

        var tape = new SequenceTape(plan, gatesX.DType, record);
        int outputSize = plan.OutputElements + (cell == RecurrentCell.Lstm ? 2 : 1) * batch * hidden;
        var z = plan.HasPadding ? Tensor.Zeros(new Shape(outputSize), gatesX.DType) : Tensor.Empty(new Shape(outputSize), gatesX.DType);
        var gx = gatesX.Detach().Contiguous();
        // W_hhᵀ [H, G·H] stored row-major once per call: GEMM packs a row-major B with vector copies, a transposed one
        // element by element, and with only B rows per step that packing is repeated every step.
        Tensor w;
        using (new NoGrad()) w = weightHh.Detach().Transpose(0, 1).Contiguous();
        var b = biasHh?.Detach().Contiguous();
        var h = h0?.Detach().Contiguous();
        var c = c0?.Detach().Contiguous();
        if (gx.DType == DType.Float32) Forward<float>(plan, tape, gx, w, b, h, c, z);
        else Forward<double>(plan, tape, gx, w, b, h, c, z);
        if (record) z = new SequenceBackward(plan, tape, gatesX, weightHh, biasHh, h0, c0).Attach(z);

        int bh = batch * hidden;
        var output = z.Narrow(0, 0, plan.OutputElements).Reshape(batchFirst ? [batch, steps, hidden] : [steps, batch, hidden]);
        var hN = z.Narrow(0, plan.OutputElements, bh).Reshape(batch, hidden);
        var cN = cell == RecurrentCell.Lstm ? z.Narrow(0, plan.OutputElements + bh, bh).Reshape(batch, hidden) : null;
        return (output, hN, cN);
    }

    private static void Forward<T>(SequencePlan p, SequenceTape tape, Tensor gatesX, Tensor weightHhT, Tensor? biasHh, Tensor? h0, Tensor? c0, Tensor z)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int batch = p.Batch, n = p.Hidden, width = p.GateWidth, bh = batch * n;
        var gx = gatesX.Data<T>();
        var wT = weightHhT.Data<T>();
        var bias = biasHh is null ? default : biasHh.Data<T>();
        var hAll = tape.H.Data<T>();
        var cAll = tape.C is null ? default : tape.C.Data<T>();
        var gatesAll = tape.Gates is null ? default : tape.Gates.Data<T>();
        var hgNAll = tape.HgN is null ? default : tape.HgN.Data<T>();
        var output = z.Data<T>();
        if (h0 is null) hAll[..bh].Clear(); else h0.Data<T>().CopyTo(hAll);
        if (p.Cell == RecurrentCell.Lstm)
        {
            if (c0 is null) cAll[..bh].Clear(); else c0.Data<T>().CopyTo(cAll);
        }

        var hgArray = ArrayPool<T>.Shared.Rent(batch * width);
        try
        {
            var hg = hgArray.AsSpan(0, batch * width);
            for (int s = 0; s < p.Steps; s++)
            {
                var hPrev = hAll.Slice(tape.StateSlot(s) * bh, bh);
                var hNext = hAll.Slice(tape.StateSlot(s + 1) * bh, bh);
                var cPrev = cAll.IsEmpty ? default : cAll.Slice(tape.StateSlot(s) * bh, bh);
                var cNext = cAll.IsEmpty ? default : cAll.Slice(tape.StateSlot(s + 1) * bh, bh);
                if (!bias.IsEmpty) BiasKernels.FillRows<T>(bias, hg);
                TypedGemm.Run<T>(false, false, batch, width, n, hPrev, n, wT, width, accumulate: !bias.IsEmpty, hg, width);
                int gateBase = tape.StepSlot(s) * batch;
                for (int b = 0; b < batch; b++)
                {
                    var hp = hPrev.Slice(b * n, n);
                    var hb = hNext.Slice(b * n, n);
                    int t = p.TimeAt(s, b);
                    if (t < 0)
                    {
                        hp.CopyTo(hb);
                        if (!cPrev.IsEmpty) cPrev.Slice(b * n, n).CopyTo(cNext.Slice(b * n, n));
                        continue;
                    }
                    int row = p.Row(t, b);
                    var gxRow = gx.Slice(row * width, width);
                    var hgRow = hg.Slice(b * width, width);
                    switch (p.Cell)
                    {
                        case RecurrentCell.Lstm:
                            RecurrentKernels.LstmForward(gxRow, hgRow, cPrev.Slice(b * n, n), gatesAll.Slice((gateBase + b) * width, width), cNext.Slice(b * n, n), hb);
                            break;
                        case RecurrentCell.Gru:
                            RecurrentKernels.GruForward(gxRow, hgRow, hp, gatesAll.Slice((gateBase + b) * width, width), hb);
                            if (!hgNAll.IsEmpty) hgRow.Slice(2 * n, n).CopyTo(hgNAll.Slice((gateBase + b) * n, n));
                            break;
                        default:
                            RecurrentKernels.RnnForward(gxRow, hgRow, p.Cell == RecurrentCell.RnnRelu, hb);
                            break;
                    }
                    hb.CopyTo(output.Slice(row * n, n));
                }
            }
            hAll.Slice(tape.StateSlot(p.Steps) * bh, bh).CopyTo(output.Slice(p.OutputElements, bh));
            if (p.Cell == RecurrentCell.Lstm) cAll.Slice(tape.StateSlot(p.Steps) * bh, bh).CopyTo(output.Slice(p.OutputElements + bh, bh));
        }
        finally
        {
            ArrayPool<T>.Shared.Return(hgArray);
        }
    }

    /// <summary>Backward of <see cref="Run"/>: inputs gx, W_hh, b_hh, h0, c0 (in that order; absent ones are null).</summary>
    private sealed class SequenceBackward : BackwardNode
    {
        private readonly SequencePlan _plan;
        private readonly SavedTensor _weightHh;
        private readonly SavedTensor _h;
        private readonly SavedTensor? _c;
        private readonly SavedTensor? _gates;
        private readonly SavedTensor? _hgN;
        private readonly Shape _gatesXShape;

        public SequenceBackward(SequencePlan plan, SequenceTape tape, Tensor gatesX, Tensor weightHh, Tensor? biasHh, Tensor? h0, Tensor? c0)
            : base(plan.Cell.OpName(), gatesX, weightHh, biasHh, h0, c0)
        {
            _plan = plan;
            _gatesXShape = gatesX.Shape;
            _weightHh = Save(weightHh);
            _h = Save(tape.H);
            if (tape.C is not null) _c = Save(tape.C);
            if (tape.Gates is not null) _gates = Save(tape.Gates);
            if (tape.HgN is not null) _hgN = Save(tape.HgN);
        }

        protected internal override Tensor?[] Apply(Tensor gradOutput)
        {
            var dz = gradOutput.Contiguous();
            return dz.DType == DType.Float32 ? Backward<float>(dz) : Backward<double>(dz);
        }

        private Tensor?[] Backward<T>(Tensor gradOutput) where T : unmanaged, IFloatingPointIeee754<T>
        {
            var p = _plan;
            int batch = p.Batch, n = p.Hidden, width = p.GateWidth, bh = batch * n;
            var dtype = gradOutput.DType;
            var dz = gradOutput.Data<T>();
            var dy = dz[..p.OutputElements];
            var w = _weightHh.Value.Detach().Contiguous().Data<T>();
            var hAll = _h.Value.Data<T>();
            var cAll = _c is null ? default : _c.Value.Data<T>();
            var gatesAll = _gates is null ? default : _gates.Value.Data<T>();
            var hgNAll = _hgN is null ? default : _hgN.Value.Data<T>();

            Tensor? dgxTensor = NeedsGrad(0) ? (p.HasPadding ? Tensor.Zeros(_gatesXShape, dtype) : Tensor.Empty(_gatesXShape, dtype)) : null;
            var dgx = dgxTensor is null ? default : dgxTensor.Data<T>();
            // dA for every step, kept for the weight and bias gradients at the end.
            var dATensor = Tensor.Empty(new Shape(p.Steps * batch, width), dtype);
            var dAAll = dATensor.Data<T>();

            var pool = ArrayPool<T>.Shared;
            T[] dhArray = pool.Rent(bh), dhPrevArray = pool.Rent(bh), dcArray = pool.Rent(bh), scratchArray = pool.Rent(width);
            try
            {
                var dh = dhArray.AsSpan(0, bh);
                var dhPrev = dhPrevArray.AsSpan(0, bh);
                var dc = dcArray.AsSpan(0, bh);
                var scratch = scratchArray.AsSpan(0, width);
                dz.Slice(p.OutputElements, bh).CopyTo(dh);
                if (p.Cell == RecurrentCell.Lstm) dz.Slice(p.OutputElements + bh, bh).CopyTo(dc);

                for (int s = p.Steps - 1; s >= 0; s--)
                {
                    var dA = dAAll.Slice(s * batch * width, batch * width);
                    for (int b = 0; b < batch; b++)
                    {
                        var dhb = dh.Slice(b * n, n);
                        var dhPrevB = dhPrev.Slice(b * n, n);
                        var dAb = dA.Slice(b * width, width);
                        int t = p.TimeAt(s, b);
                        if (t < 0)
                        {
                            dAb.Clear();
                            dhb.CopyTo(dhPrevB);
                            continue;
                        }
                        int row = p.Row(t, b);
                        TensorPrimitives.Add(dhb, dy.Slice(row * n, n), dhb);
                        int state = s * bh + b * n, gate = (s * batch + b) * width;
                        switch (p.Cell)
                        {
                            case RecurrentCell.Lstm:
                                RecurrentKernels.LstmBackward<T>(gatesAll.Slice(gate, width), cAll.Slice(state + bh, n), cAll.Slice(state, n), dhb,
                                    dc.Slice(b * n, n), scratch[..n], dAb);
                                dhPrevB.Clear();
                                break;
                            case RecurrentCell.Gru:
                                RecurrentKernels.GruBackward<T>(gatesAll.Slice(gate, width), hgNAll.Slice((s * batch + b) * n, n), hAll.Slice(state, n), dhb,
                                    dgx.IsEmpty ? scratch : dgx.Slice(row * width, width), dAb, dhPrevB);
                                break;
                            default:
                                RecurrentKernels.RnnBackward<T>(hAll.Slice(state + bh, n), dhb, p.Cell == RecurrentCell.RnnRelu, dAb);
                                dhPrevB.Clear();
                                break;
                        }
                        if (p.Cell != RecurrentCell.Gru && !dgx.IsEmpty) dAb.CopyTo(dgx.Slice(row * width, width));
                    }
                    // The gradient reaching h0 is only needed when h0 wants one.
                    if (s > 0 || NeedsGrad(3))
                        TypedGemm.Run<T>(false, false, batch, n, width, dA, width, w, n, accumulate: true, dhPrev, n);
                    var swap = dhArray; dhArray = dhPrevArray; dhPrevArray = swap;
                    dh = dhArray.AsSpan(0, bh);
                    dhPrev = dhPrevArray.AsSpan(0, bh);
                }

                Tensor? dw = null, db = null, dh0 = null, dc0 = null;
                if (NeedsGrad(1))
                {
                    dw = Tensor.Empty(new Shape(width, n), dtype);
                    TypedGemm.Run<T>(true, false, width, n, p.Steps * batch, dAAll, width, hAll[..(p.Steps * bh)], n, accumulate: false, dw.Data<T>(), n);
                }
                if (NeedsGrad(2))
                {
                    db = Tensor.Empty(new Shape(width), dtype);
                    BiasKernels.ColumnSums<T>(dAAll, db.Data<T>());
                }
                if (NeedsGrad(3)) dh0 = Tensor.FromSpan<T>(dh, batch, n);
                if (NeedsGrad(4)) dc0 = Tensor.FromSpan<T>(dc, batch, n);
                return [dgxTensor, dw, db, dh0, dc0];
            }
            finally
            {
                pool.Return(dhArray);
                pool.Return(dhPrevArray);
                pool.Return(dcArray);
                pool.Return(scratchArray);
            }
        }
    }
}

/// <summary>Sizes of one layer-direction run, and for each (step, batch row) the time it processes.</summary>
internal sealed class SequencePlan
{
    private readonly int[] _time; // [step · Batch + b] → time index, or −1 when the row is past its length

    public SequencePlan(RecurrentCell cell, int steps, int batch, int hidden, bool batchFirst, bool reverse, int[]? lengths)
    {
        (Cell, Steps, Batch, Hidden, BatchFirst) = (cell, steps, batch, hidden, batchFirst);
        GateWidth = cell.GateCount() * hidden;
        _time = new int[steps * batch];
        for (int b = 0; b < batch; b++)
        {
            int length = lengths?[b] ?? steps;
            HasPadding |= length < steps;
            for (int s = 0; s < steps; s++)
                _time[s * batch + b] = s >= length ? -1 : reverse ? length - 1 - s : s;
        }
    }

    public RecurrentCell Cell { get; }
    public int Steps { get; }
    public int Batch { get; }
    public int Hidden { get; }
    public bool BatchFirst { get; }

    /// <summary>G·H: the width of a row of gate pre-activations.</summary>
    public int GateWidth { get; }

    /// <summary>Whether some sequence is shorter than <see cref="Steps"/> (its padded outputs must be zero).</summary>
    public bool HasPadding { get; }

    /// <summary>Elements of the output sequence, T·B·H.</summary>
    public int OutputElements => Steps * Batch * Hidden;

    /// <summary>Time index that row <paramref name="b"/> processes at step <paramref name="s"/>, or −1 if none.</summary>
    public int TimeAt(int s, int b) => _time[s * Batch + b];

    /// <summary>Row of (time t, batch b) in the [T, B, ·] or [B, T, ·] layout of the input and output.</summary>
    public int Row(int t, int b) => BatchFirst ? b * Steps + t : t * Batch + b;
}

/// <summary>
/// What the forward keeps for backward: every state (h for all steps, c for LSTM), the gate activations, and for
/// GRU the hidden-side n pre-activation hg_n (its reset-gate gradient needs it). Without autograd only two state
/// slots and one gate slot are allocated and reused.
/// </summary>
internal sealed class SequenceTape
{
    private readonly bool _full;

    public SequenceTape(SequencePlan plan, DType dtype, bool record)
    {
        _full = record;
        int states = record ? plan.Steps + 1 : 2, stepSlots = record ? plan.Steps : 1;
        int bh = plan.Batch * plan.Hidden;
        H = Tensor.Empty(new Shape(states, bh), dtype);
        if (plan.Cell == RecurrentCell.Lstm) C = Tensor.Empty(new Shape(states, bh), dtype);
        if (plan.Cell is RecurrentCell.Lstm or RecurrentCell.Gru) Gates = Tensor.Empty(new Shape(stepSlots * plan.Batch, plan.GateWidth), dtype);
        if (plan.Cell == RecurrentCell.Gru && record) HgN = Tensor.Empty(new Shape(stepSlots * plan.Batch, plan.Hidden), dtype);
    }

    /// <summary>h before step 0 (h0) and after every step: [T + 1, B·H] (or 2 reused slots).</summary>
    public Tensor H { get; }

    /// <summary>LSTM's cell state, laid out as <see cref="H"/>.</summary>
    public Tensor? C { get; }

    /// <summary>Gate activations per step and row: [T·B, G·H] (or one reused step).</summary>
    public Tensor? Gates { get; }

    /// <summary>GRU's hg_n per step and row, [T·B, H]; only when recording.</summary>
    public Tensor? HgN { get; }

    /// <summary>Slot of the state before step <paramref name="s"/> (the state after step s − 1).</summary>
    public int StateSlot(int s) => _full ? s : s & 1;

    /// <summary>Slot of step <paramref name="s"/>'s gates.</summary>
    public int StepSlot(int s) => _full ? s : 0;
}
