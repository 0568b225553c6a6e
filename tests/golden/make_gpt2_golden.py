#!/usr/bin/python3
"""A small GPT-2-shaped checkpoint and its logits, from a GPT-2 written here in PyTorch (Debian python3-torch 1.13)
with Hugging Face's tensor names and layouts, for Loom's GPT-2 loader (Gpt2Checkpoint) to be checked against.

Run by hand:  /usr/bin/python3 tests/golden/make_gpt2_golden.py
Writes tests/golden/gpt2/ (committed; CI needs no Python):
  model.safetensors   GPT2Model's state dict as transformers saves it: wte, wpe, h.<i>.{ln_1, attn.c_attn, attn.c_proj,
                      ln_2, mlp.c_fc, mlp.c_proj}, ln_f, plus the h.<i>.attn.bias causal-mask buffers; the Conv1D weights
                      stored [in, out] as GPT-2 stores them
  config.json         the sizes, in transformers' GPT2Config keys (n_head is what the loader reads)
  expected.safetensors  input_ids [2, 9] (I64) and logits [2, 9, vocab] (F32) of the tied LM head
No package ships GPT-2's own weights, so the model is random (weights N(0, 0.1), LayerNorm gains around 1) and small:
vocabulary 96, context 32, width 32, 2 layers, 4 heads. The maths is GPT-2's: pre-norm blocks, causal attention,
GELU with the tanh approximation ("gelu_new"), LayerNorm eps 1e-5, logits = ln_f(h) · wteᵀ.
"""
import json, math, os, struct
import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gpt2")
os.makedirs(OUT, exist_ok=True)
DT = {torch.float32: "F32", torch.int64: "I64"}
VOCAB, CTX, DIM, LAYERS, HEADS = 96, 32, 32, 2, 4


def save(path, tensors):
    """safetensors by hand (Debian 12 has no python3-safetensors): header sorted by name, padded to 8 bytes."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        b = tensors[name].detach().contiguous().numpy().tobytes()
        header[name] = {"dtype": DT[tensors[name].dtype], "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


class Conv1D(nn.Module):
    """GPT-2's linear layer: y = x·W + b with W stored [in, out]."""
    def __init__(self, nf, nx):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(nx, nf) * 0.1)
        self.bias = nn.Parameter(torch.randn(nf) * 0.1)

    def forward(self, x):
        return x @ self.weight + self.bias


class Attention(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("bias", torch.tril(torch.ones(CTX, CTX)).view(1, 1, CTX, CTX))
        self.c_attn = Conv1D(3 * DIM, DIM)
        self.c_proj = Conv1D(DIM, DIM)

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = [t.view(B, T, HEADS, C // HEADS).transpose(1, 2) for t in (q, k, v)]
        w = (q @ k.transpose(-2, -1)) / math.sqrt(C // HEADS)
        w = w.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf")).softmax(-1)
        return self.c_proj((w @ v).transpose(1, 2).reshape(B, T, C))


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_fc = Conv1D(4 * DIM, DIM)
        self.c_proj = Conv1D(DIM, 4 * DIM)

    def forward(self, x):
        return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))


def layer_norm():
    ln = nn.LayerNorm(DIM, eps=1e-5)
    with torch.no_grad():
        ln.weight.copy_(1 + 0.1 * torch.randn(DIM))
        ln.bias.copy_(0.1 * torch.randn(DIM))
    return ln


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1, self.attn, self.ln_2, self.mlp = layer_norm(), Attention(), layer_norm(), MLP()

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT2Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Embedding(VOCAB, DIM)
        self.wpe = nn.Embedding(CTX, DIM)
        with torch.no_grad():
            self.wte.weight.mul_(0.5)
            self.wpe.weight.mul_(0.1)
        self.h = nn.ModuleList(Block() for _ in range(LAYERS))
        self.ln_f = layer_norm()

    def forward(self, ids):
        x = self.wte(ids) + self.wpe(torch.arange(ids.shape[1]))
        for block in self.h:
            x = block(x)
        return self.ln_f(x) @ self.wte.weight.t()


torch.manual_seed(2024)
model = GPT2Model().eval()
ids = torch.randint(0, VOCAB, (2, 9))
with torch.no_grad():
    logits = model(ids)
save(os.path.join(OUT, "model.safetensors"), dict(model.state_dict()))
save(os.path.join(OUT, "expected.safetensors"), {"input_ids": ids, "logits": logits})
with open(os.path.join(OUT, "config.json"), "w") as f:
    json.dump({"model_type": "gpt2", "vocab_size": VOCAB, "n_positions": CTX, "n_embd": DIM, "n_layer": LAYERS, "n_head": HEADS,
               "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5}, f, indent=2)
    f.write("\n")
print("wrote", OUT, "logits", tuple(logits.shape))
