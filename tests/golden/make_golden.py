#!/usr/bin/python3
"""Golden files for Loom's layers and losses, computed by PyTorch (Debian python3-torch 1.13).

Run by hand:  /usr/bin/python3 tests/golden/make_golden.py
Writes tests/golden/layers/<case>.safetensors (committed; CI needs no Python). Each file holds, in float32:
  input.<i>            the inputs (input.0, input.1, …)
  param.<name>         the module's state dict, PyTorch names (Loom uses the same names)
  output.<i>           the outputs (output.0 is the main one)
  probe.<i>            a fixed random tensor per output; the scalar loss is Σ_i Σ output_i · probe_i
  grad.input.<i>       d loss / d input_i (for float inputs)
  grad.param.<name>    d loss / d parameter
and __metadata__ {"case": …, "args": JSON of constructor arguments}.
Debian 12 has no python3-safetensors, so the format (8-byte little-endian header length, JSON header sorted by
name, data in that order, header padded with spaces to 8 bytes) is written here by hand.
"""
import json, os, struct
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "layers")
os.makedirs(OUT, exist_ok=True)
DT = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.int32: "I32", torch.bool: "BOOL", torch.uint8: "U8"}


def save(path, tensors, metadata):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        b = t.numpy().tobytes()
        header[name] = {"dtype": DT[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def case(name, module, inputs, args, forward=None):
    torch.manual_seed(1234)
    inputs = [x.clone().requires_grad_(x.is_floating_point()) for x in inputs]
    outs = forward(module, *inputs) if forward else module(*inputs)
    if not isinstance(outs, (tuple, list)):
        outs = (outs,)
    outs = [o for o in outs if o is not None]
    g = torch.Generator().manual_seed(99)
    probes = [torch.randn(o.shape, generator=g) for o in outs]
    loss = sum((o * p).sum() for o, p in zip(outs, probes))
    loss.backward()
    t = {}
    for i, x in enumerate(inputs):
        t[f"input.{i}"] = x
        if x.grad is not None:
            t[f"grad.input.{i}"] = x.grad
    for k, v in module.state_dict().items():
        t[f"param.{k}"] = v
    for k, p in module.named_parameters():
        if p.grad is not None:
            t[f"grad.param.{k}"] = p.grad
    for i, (o, p) in enumerate(zip(outs, probes)):
        t[f"output.{i}"] = o
        t[f"probe.{i}"] = p
    save(os.path.join(OUT, name + ".safetensors"), t, {"case": name, "args": json.dumps(args)})
    print("wrote", name)


torch.manual_seed(0)
r = lambda *s: torch.randn(*s)

case("linear", nn.Linear(5, 3), [r(4, 5)], {"in": 5, "out": 3})
case("linear_3d_nobias", nn.Linear(6, 4, bias=False), [r(2, 3, 6)], {"in": 6, "out": 4, "bias": False})
case("bilinear", nn.Bilinear(3, 4, 2), [r(5, 3), r(5, 4)], {"in1": 3, "in2": 4, "out": 2})
case("conv2d", nn.Conv2d(3, 4, 3), [r(2, 3, 7, 6)], {"in": 3, "out": 4, "k": 3})
case("conv2d_stride_pad", nn.Conv2d(4, 6, (3, 2), stride=2, padding=(1, 2), dilation=(1, 2)), [r(2, 4, 9, 8)],
     {"in": 4, "out": 6, "k": [3, 2], "stride": 2, "padding": [1, 2], "dilation": [1, 2]})
case("conv2d_groups", nn.Conv2d(4, 6, 3, padding=1, groups=2), [r(1, 4, 5, 5)], {"in": 4, "out": 6, "k": 3, "padding": 1, "groups": 2})
case("conv1d", nn.Conv1d(3, 5, 4, stride=2, padding=1), [r(2, 3, 11)], {"in": 3, "out": 5, "k": 4, "stride": 2, "padding": 1})
case("conv_transpose2d", nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1), [r(2, 3, 4, 5)],
     {"in": 3, "out": 2, "k": 3, "stride": 2, "padding": 1, "output_padding": 1})
bn = nn.BatchNorm2d(3)
case("batchnorm2d_train", bn, [r(4, 3, 5, 5) * 2 + 1], {"c": 3, "train": True})
bn_eval = nn.BatchNorm2d(3)
bn_eval.running_mean.copy_(torch.tensor([0.5, -0.2, 1.0])); bn_eval.running_var.copy_(torch.tensor([2.0, 0.5, 1.5]))
bn_eval.eval()
case("batchnorm2d_eval", bn_eval, [r(2, 3, 4, 4)], {"c": 3, "train": False})
case("batchnorm1d_train", nn.BatchNorm1d(4), [r(6, 4)], {"c": 4, "train": True})
case("layernorm", nn.LayerNorm([4, 5]), [r(3, 4, 5)], {"shape": [4, 5]})
case("groupnorm", nn.GroupNorm(2, 6), [r(3, 6, 4)], {"groups": 2, "c": 6})
case("embedding_pad", nn.Embedding(10, 4, padding_idx=1), [torch.tensor([[1, 2, 3], [4, 1, 9]])], {"n": 10, "d": 4, "padding_idx": 1})
case("lstm", nn.LSTM(3, 5, num_layers=2, batch_first=True), [r(2, 4, 3)], {"in": 3, "hidden": 5, "layers": 2, "batch_first": True},
     forward=lambda m, x: (lambda o: (o[0], o[1][0], o[1][1]))(m(x)))
case("lstm_bidirectional", nn.LSTM(3, 4, bidirectional=True), [r(5, 2, 3)], {"in": 3, "hidden": 4, "bidirectional": True},
     forward=lambda m, x: (lambda o: (o[0], o[1][0], o[1][1]))(m(x)))
case("gru", nn.GRU(3, 5, num_layers=2, batch_first=True), [r(2, 4, 3)], {"in": 3, "hidden": 5, "layers": 2, "batch_first": True},
     forward=lambda m, x: m(x))
case("rnn_tanh", nn.RNN(3, 4, batch_first=True), [r(2, 5, 3)], {"in": 3, "hidden": 4, "batch_first": True}, forward=lambda m, x: m(x))
causal = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)
case("mha_causal", nn.MultiheadAttention(8, 2, batch_first=True), [r(2, 5, 8)], {"d": 8, "heads": 2, "causal": True},
     forward=lambda m, x: m(x, x, x, attn_mask=causal, need_weights=True))
pad = torch.tensor([[False, False, False, True, True], [False, False, False, False, False]])
case("mha_padded", nn.MultiheadAttention(8, 4, batch_first=True), [r(2, 4, 8), r(2, 5, 8)], {"d": 8, "heads": 4, "key_padding": [[0, 0, 0, 1, 1], [0, 0, 0, 0, 0]]},
     forward=lambda m, q, kv: m(q, kv, kv, key_padding_mask=pad, need_weights=True))
case("transformer_encoder_post", nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True), [r(2, 5, 8)],
     {"d": 8, "heads": 2, "ff": 16, "norm_first": False})
case("transformer_encoder_pre_gelu", nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation="gelu", batch_first=True, norm_first=True), [r(2, 5, 8)],
     {"d": 8, "heads": 2, "ff": 16, "norm_first": True, "activation": "gelu"})
case("transformer_decoder_post", nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True), [r(2, 4, 8), r(2, 5, 8)],
     {"d": 8, "heads": 2, "ff": 16, "norm_first": False, "causal": True},
     forward=lambda m, t, mem: m(t, mem, tgt_mask=torch.triu(torch.ones(4, 4, dtype=torch.bool), diagonal=1)))


class Loss(nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *a):
        return self.fn(*a)


logits, target = r(6, 5), torch.tensor([0, 3, 4, 1, 1, 2])
case("loss_cross_entropy", Loss(nn.CrossEntropyLoss()), [logits, target], {"loss": "cross_entropy"})
case("loss_cross_entropy_weighted_smoothed", Loss(nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 0.5, 1.0, 3.0]), ignore_index=4, label_smoothing=0.1)),
     [logits, target], {"loss": "cross_entropy", "weight": [1.0, 2.0, 0.5, 1.0, 3.0], "ignore_index": 4, "label_smoothing": 0.1})
case("loss_cross_entropy_probs", Loss(nn.CrossEntropyLoss()), [logits, F.softmax(r(6, 5), 1)], {"loss": "cross_entropy_probs"})
case("loss_cross_entropy_sum_2d", Loss(nn.CrossEntropyLoss(reduction="sum")), [r(2, 3, 4), torch.tensor([[0, 1, 2, 1], [2, 2, 0, 1]])], {"loss": "cross_entropy", "reduction": "sum"})
case("loss_nll", Loss(nn.NLLLoss()), [F.log_softmax(r(6, 5), 1), target], {"loss": "nll"})
p = torch.sigmoid(r(7))
y = (torch.rand(7) > 0.5).float()
case("loss_bce", Loss(nn.BCELoss()), [p, y], {"loss": "bce"})
case("loss_bce_logits_posweight", Loss(nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0]))), [r(7), y], {"loss": "bce_logits", "pos_weight": 2.0})
case("loss_mse", Loss(nn.MSELoss()), [r(3, 4), r(3, 4)], {"loss": "mse"})
case("loss_l1_sum", Loss(nn.L1Loss(reduction="sum")), [r(3, 4), r(3, 4)], {"loss": "l1", "reduction": "sum"})
case("loss_smooth_l1", Loss(nn.SmoothL1Loss(beta=0.5)), [r(3, 4), r(3, 4)], {"loss": "smooth_l1", "beta": 0.5})
case("loss_huber", Loss(nn.HuberLoss(delta=0.7)), [r(3, 4) * 2, r(3, 4)], {"loss": "huber", "delta": 0.7})
case("loss_kl_div", Loss(nn.KLDivLoss(reduction="batchmean")), [F.log_softmax(r(4, 5), 1), F.softmax(r(4, 5), 1)], {"loss": "kl_div", "reduction": "batchmean"})
case("loss_kl_div_log_target", Loss(nn.KLDivLoss(reduction="sum", log_target=True)), [F.log_softmax(r(4, 5), 1), F.log_softmax(r(4, 5), 1)],
     {"loss": "kl_div", "reduction": "sum", "log_target": True})
case("loss_cosine_embedding", Loss(nn.CosineEmbeddingLoss(margin=0.2)), [r(5, 6), r(5, 6), torch.tensor([1.0, -1.0, 1.0, -1.0, -1.0])], {"loss": "cosine_embedding", "margin": 0.2})
case("loss_triplet", Loss(nn.TripletMarginLoss(margin=1.0)), [r(5, 6), r(5, 6), r(5, 6)], {"loss": "triplet", "margin": 1.0})
case("loss_margin_ranking", Loss(nn.MarginRankingLoss(margin=0.3)), [r(6), r(6), torch.tensor([1.0, -1.0, 1.0, 1.0, -1.0, -1.0])], {"loss": "margin_ranking", "margin": 0.3})


# Attention cases added for Loom's MultiheadAttention and transformer stacks. Weights are jittered so that zero biases,
# unit norm weights and the identical layers of a deep-copied stack cannot hide a mix-up.
def jitter(m):
    with torch.no_grad():
        for p in m.parameters():
            p.add_(0.1 * torch.randn(p.shape))
    return m


case("mha_kdim_vdim", jitter(nn.MultiheadAttention(8, 2, kdim=6, vdim=5)), [r(4, 2, 8), r(5, 2, 6), r(5, 2, 5)],
     {"d": 8, "heads": 2, "kdim": 6, "vdim": 5, "key_padding": [[0, 0, 0, 1, 1], [0, 0, 0, 0, 0]], "average_attn_weights": False},
     forward=lambda m, q, k, v: m(q, k, v, key_padding_mask=pad, need_weights=True, average_attn_weights=False))
case("mha_float_mask_nobias", nn.MultiheadAttention(8, 4, bias=False, batch_first=True), [r(2, 5, 8), r(5, 5)],
     {"d": 8, "heads": 4, "bias": False, "attn_mask": "input.1 (float, added)"},
     forward=lambda m, x, mask: m(x, x, x, attn_mask=mask, need_weights=True))
head_mask = torch.rand(4, 4, 4) < 0.4
head_mask[:, torch.arange(4), torch.arange(4)] = False
case("mha_per_head_mask", jitter(nn.MultiheadAttention(8, 2, batch_first=True)), [r(2, 4, 8), head_mask],
     {"d": 8, "heads": 2, "attn_mask": "input.1 (bool [batch*heads, L, S])", "average_attn_weights": False},
     forward=lambda m, x, mask: m(x, x, x, attn_mask=mask, need_weights=True, average_attn_weights=False))
case("transformer_encoder_stack", jitter(nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), 2, norm=nn.LayerNorm(8))),
     [r(5, 2, 8)], {"d": 8, "heads": 2, "ff": 16, "layers": 2, "norm": True, "key_padding": [[0, 0, 0, 1, 1], [0, 0, 0, 0, 0]]},
     forward=lambda m, x: m(x, src_key_padding_mask=pad))
case("transformer_decoder_stack_pre_gelu",
     jitter(nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, activation="gelu", norm_first=True), 2, norm=nn.LayerNorm(8))),
     [r(4, 2, 8), r(5, 2, 8)],
     {"d": 8, "heads": 2, "ff": 16, "layers": 2, "norm_first": True, "activation": "gelu", "causal": True, "memory_key_padding": [[0, 0, 0, 1, 1], [0, 0, 0, 0, 0]]},
     forward=lambda m, t, mem: m(t, mem, tgt_mask=torch.triu(torch.ones(4, 4, dtype=torch.bool), diagonal=1), memory_key_padding_mask=pad))
# ---- recurrent layers with lengths (packed sequences), initial states, relu and no-bias variants.
# Own seed, so that cases added above do not change these.
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
torch.manual_seed(3)


def packed(lengths, batch_first):
    """Forward through pack_padded_sequence; outputs padded back to full length with zeros, like Loom's lengths."""
    def run(m, x, *state):
        total = x.shape[1 if batch_first else 0]
        out, hn = m(pack_padded_sequence(x, torch.tensor(lengths), batch_first=batch_first, enforce_sorted=False),
                    (state[0], state[1]) if len(state) == 2 else (state[0] if state else None))
        y, _ = pad_packed_sequence(out, batch_first=batch_first, total_length=total)
        return (y, hn[0], hn[1]) if isinstance(hn, tuple) else (y, hn)
    return run


case("lstm_packed_state", nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True), [r(3, 5, 3), r(4, 3, 4), r(4, 3, 4)],
     {"in": 3, "hidden": 4, "layers": 2, "bidirectional": True, "batch_first": True, "lengths": [5, 2, 4]}, forward=packed([5, 2, 4], True))
case("gru_packed_bidirectional_nobias", nn.GRU(3, 4, bidirectional=True, bias=False), [r(5, 3, 3), r(2, 3, 4)],
     {"in": 3, "hidden": 4, "bidirectional": True, "bias": False, "lengths": [3, 5, 1]}, forward=packed([3, 5, 1], False))
case("rnn_relu_bidirectional", nn.RNN(3, 4, num_layers=2, nonlinearity="relu", bidirectional=True), [r(4, 2, 3), r(4, 2, 4)],
     {"in": 3, "hidden": 4, "layers": 2, "nonlinearity": "relu", "bidirectional": True}, forward=lambda m, x, h0: m(x, h0))
