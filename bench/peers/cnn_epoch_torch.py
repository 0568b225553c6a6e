#!/usr/bin/python3
"""PyTorch peer of `loom train --data fashion-mnist --model cnn`: the same network (Loom.Models.ModelZoo.SmallCnn),
the same data (Debian's dataset-fashion-mnist), batch size, optimiser and schedule, timing each epoch.

    OPENBLAS_CORETYPE=SkylakeX LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \
        /usr/bin/python3 bench/peers/cnn_epoch_torch.py [--epochs 5] [--threads 2]
"""
import argparse, os, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cnn_epoch_torch_data import load  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--epochs", type=int, default=5)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--batch", type=int, default=64)
ap.add_argument("--folder", default="/usr/share/datasets/fashion-mnist")
args = ap.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(42)

xtr, ytr = load(args.folder, "train")
xte, yte = load(args.folder, "t10k")
# Loom holds out 10% for validation (stratified); the peer trains on the same amount.
perm = torch.randperm(len(xtr))
ntr = int(len(xtr) * 0.9)
xtr, ytr = xtr[perm[:ntr]], ytr[perm[:ntr]]

model = nn.Sequential(
    nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.1), nn.Linear(128, 10))
decay = [p for p in model.parameters() if p.dim() >= 2]
no_decay = [p for p in model.parameters() if p.dim() < 2]
opt = torch.optim.Adam([{"params": decay}, {"params": no_decay, "weight_decay": 0}], lr=2e-3)
steps = args.epochs * ((ntr + args.batch - 1) // args.batch)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
print("torch", torch.__version__, "threads", torch.get_num_threads())
for epoch in range(args.epochs):
    model.train()
    t0 = time.perf_counter()
    order = torch.randperm(ntr)
    for i in range(0, ntr, args.batch):
        b = order[i:i + args.batch]
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(xtr[b]), ytr[b]).backward()
        opt.step()
        sched.step()
    seconds = time.perf_counter() - t0
    model.eval()
    with torch.no_grad():
        acc = sum((model(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum().item() for i in range(0, len(xte), 1000)) / len(xte)
    print(f"epoch {epoch + 1}: {seconds:.1f} s, test accuracy {acc:.4f}", flush=True)
