#!/usr/bin/python3
"""PyTorch peer of `loom bench --peers`: the training steps, inference and convolutions Loom's benchmarks time, with
the same shapes (those of the reference torch_bench.py that the peers README describes).

    OPENBLAS_CORETYPE=SkylakeX LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \
        /usr/bin/python3 bench/peers/torch_peer.py [--threads 1,2] [--only trainstep/mlp,trainstep/gpt]

Loom runs it with `--serve` (see peer_protocol.py) and sets those two variables itself. A training step is
forward + cross-entropy + backward + Adam step, as in Loom's TrainStepBench.
"""
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F

import peer_protocol

ce = nn.CrossEntropyLoss()


# ---------------------------------------------------------------- (a) MLP 784-512-512-10
def mlp():
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))


# ---------------------------------------------------------------- (b) LeNet-5 on 1x28x28
class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)   # 28 -> 28, pool -> 14
        self.c2 = nn.Conv2d(6, 16, 5)             # 14 -> 10, pool -> 5
        self.f1 = nn.Linear(16 * 5 * 5, 120)
        self.f2 = nn.Linear(120, 84)
        self.f3 = nn.Linear(84, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        return self.f3(F.relu(self.f2(F.relu(self.f1(x.flatten(1))))))


# ---------------------------------------------------------------- (c) GPT: V 4096, 4 layers, d 256, 4 heads, T 128
class Block(nn.Module):
    def __init__(self, d, h, gelu="none"):
        super().__init__()
        self.h = h
        self.gelu = gelu
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc = nn.Linear(d, 4 * d)
        self.fc2 = nn.Linear(4 * d, d)

    def attn(self, x, cache=None):
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q = q.view(B, T, self.h, C // self.h).transpose(1, 2)
        k = k.view(B, T, self.h, C // self.h).transpose(1, 2)
        v = v.view(B, T, self.h, C // self.h).transpose(1, 2)
        if cache is not None:
            if cache.get("k") is not None:
                k = torch.cat([cache["k"], k], dim=2)
                v = torch.cat([cache["v"], v], dim=2)
            cache["k"], cache["v"] = k, v
        S = k.shape[2]
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(C // self.h))
        if T > 1:  # causal: query i sees keys up to S - T + i
            mask = torch.ones(T, S, dtype=torch.bool).tril(diagonal=S - T)
            att = att.masked_fill(~mask, float("-inf"))
        y = (F.softmax(att, dim=-1) @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.proj(y)

    def forward(self, x, cache=None):
        x = x + self.attn(self.ln1(x), cache)
        return x + self.fc2(F.gelu(self.fc(self.ln2(x)), approximate=self.gelu))


class GPT(nn.Module):
    def __init__(self, vocab=4096, d=256, layers=4, heads=4, ctx=128, gelu="none"):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = nn.Embedding(ctx, d)
        self.blocks = nn.ModuleList([Block(d, heads, gelu) for _ in range(layers)])
        self.lnf = nn.LayerNorm(d)

    def forward(self, idx, caches=None, pos0=0):
        B, T = idx.shape
        x = self.tok(idx) + self.pos(torch.arange(pos0, pos0 + T))
        for i, b in enumerate(self.blocks):
            x = b(x, None if caches is None else caches[i])
        return self.lnf(x) @ self.tok.weight.t()  # tied embeddings


# ---------------------------------------------------------------- (d) LSTM 64 -> 256, 50 steps, batch 32
class LSTMNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(64, 256, num_layers=1, batch_first=True)
        self.fc = nn.Linear(256, 10)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.fc(h[-1])


# ---------------------------------------------------------------- (e) ResNet-mini (Loom.Models.ResNetConfig.Mini), 1x28x28
class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNetMini(nn.Module):
    """3x3 stem, stages of (16, 32, 64) channels with two basic blocks each, global average pooling, fc."""
    def __init__(self, channels=1, classes=10, widths=(16, 32, 64), blocks=(2, 2, 2)):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, widths[0], 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        layers, cin = [], widths[0]
        for s, (w, n) in enumerate(zip(widths, blocks)):
            for b in range(n):
                layers.append(BasicBlock(cin, w, 2 if s > 0 and b == 0 else 1))
                cin = w
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.fc(x.mean((2, 3)))


def train_step(model, x, y, loss=ce):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        opt.zero_grad(set_to_none=True)
        loss(model(x), y).backward()
        opt.step()
    return step


def gpt_train(params):
    B, T, V = 8, 128, 4096
    return train_step(GPT(), torch.randint(0, V, (B, T)), torch.randint(0, V, (B, T)),
                      lambda logits, y: ce(logits.view(-1, V), y.view(-1)))


def gpt2_124m_train(params):
    """GPT-2 124M (GPT-2's shapes, tanh GELU, tied head), B 4, T 64, AdamW: the shapes of
    ../shared/peers/gpt2_124m_torch.py, the step llm.c reports."""
    B, T, V = 4, 64, 50257
    model = GPT(vocab=V, d=768, layers=12, heads=12, ctx=1024, gelu="tanh")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    x, y = torch.randint(0, V, (B, T)), torch.randint(0, V, (B, T))

    def step():
        opt.zero_grad(set_to_none=True)
        ce(model(x).view(-1, V), y.view(-1)).backward()
        opt.step()
    return step


def no_grad(fn):
    def step():
        with torch.no_grad():
            fn()
    return step


def gpt_generate(use_cache, tokens=64):
    """Greedy generation of 64 tokens from a 1-token prompt at batch 1, with or without the key/value cache."""
    m = GPT().eval()
    prompt = torch.randint(0, 4096, (1, 1))

    def recompute():
        idx = prompt
        for _ in range(tokens):  # the whole prefix again for every token
            idx = torch.cat([idx, m(idx)[:, -1].argmax(-1, keepdim=True)], dim=1)

    def cached():
        caches = [dict() for _ in m.blocks]
        logits, idx = m(prompt, caches, 0), prompt
        for i in range(tokens):
            nxt = logits[:, -1].argmax(-1, keepdim=True)
            idx = torch.cat([idx, nxt], dim=1)
            if i < tokens - 1:
                logits = m(nxt, caches, i + 1)
    return no_grad(cached if use_cache else recompute)


def conv2d(backward):
    """ConvBench's layer: batch (default 64) x 32 -> 64 channels, 28x28, 3x3, padding 1."""
    def make(params):
        batch = int(params.get("batch", 64))
        x, w, b = torch.randn(batch, 32, 28, 28), torch.randn(64, 32, 3, 3) * 0.1, torch.randn(64)
        if not backward:
            return no_grad(lambda: F.conv2d(x, w, b, padding=1))
        dy = torch.randn(batch, 64, 28, 28)
        xg, wg, bg = (t.clone().requires_grad_() for t in (x, w, b))
        # Gradients accumulate from step to step, as in ConvBench's Loom step.
        return lambda: F.conv2d(xg, wg, bg, padding=1).backward(dy)
    return make


def conv_layer(params):
    """ResNetLayersBench's convolutions: batch x in -> out channels, size x size, square kernel, stride, padding
    kernel // 2, no bias; forward + backward, the input gradient only when input_grad (the stem's input needs none)."""
    batch, cin, cout, size = (int(params[k]) for k in ("batch", "in", "out", "size"))
    kernel, stride = int(params["kernel"]), int(params["stride"])
    x = torch.randn(batch, cin, size, size).requires_grad_(bool(params.get("input_grad", True)))
    w = (torch.randn(cout, cin, kernel, kernel) * 0.1).requires_grad_()
    out = (size + 2 * (kernel // 2) - kernel) // stride + 1
    dy = torch.randn(batch, cout, out, out)
    return lambda: F.conv2d(x, w, None, stride=stride, padding=kernel // 2).backward(dy)


def bn_relu_layer(params):
    """ResNetLayersBench's batch norm (training statistics) + ReLU, forward + backward."""
    batch, channels, size = (int(params[k]) for k in ("batch", "channels", "size"))
    x = torch.randn(batch, channels, size, size).requires_grad_()
    w, b = torch.ones(channels).requires_grad_(), torch.zeros(channels).requires_grad_()
    mean, var = torch.zeros(channels), torch.ones(channels)
    dy = torch.randn(batch, channels, size, size)
    return lambda: F.relu(F.batch_norm(x, mean, var, w, b, training=True)).backward(dy)


def mlp_inference(params):
    m, x = mlp().eval(), torch.randn(1, 784)
    return no_grad(lambda: m(x))


CASES = {
    "trainstep/mlp": lambda p: train_step(mlp(), torch.randn(128, 784), torch.randint(0, 10, (128,))),
    "trainstep/lenet5": lambda p: train_step(LeNet5(), torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))),
    "trainstep/gpt": gpt_train,
    "trainstep/resnet-mini": lambda p: train_step(ResNetMini(), torch.randn(128, 1, 28, 28), torch.randint(0, 10, (128,))),
    "trainstep/gpt2-124m": gpt2_124m_train,
    "trainstep/lstm": lambda p: train_step(LSTMNet(), torch.randn(32, 50, 64), torch.randint(0, 10, (32,))),
    "infer/mlp": mlp_inference,
    "infer/gpt-generate-cache": lambda p: gpt_generate(True),
    "infer/gpt-generate-nocache": lambda p: gpt_generate(False),
    "conv2d/forward": conv2d(False),
    "conv2d/forward+backward": conv2d(True),
    "layer/conv2d": conv_layer,
    "layer/bn-relu": bn_relu_layer,
}


def details():
    d = {"env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "LD_LIBRARY_PATH", "OMP_NUM_THREADS")}}
    for line in torch.__config__.show().splitlines():
        if line.strip().startswith("- CPU capability"):
            d["cpu_capability"] = line.split(":", 1)[1].strip()
    try:
        from threadpoolctl import threadpool_info
        d["threadpools"] = [peer_protocol.describe_pool(i) for i in threadpool_info()]
    except ImportError:
        pass
    return d


if __name__ == "__main__":
    torch.manual_seed(0)
    peer_protocol.main("torch", torch.__version__, details(), CASES, torch.set_num_threads)
