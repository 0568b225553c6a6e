#!/usr/bin/python3
"""PyTorch peer of `loom train --data fashion-mnist --model resnet-mini` for epoch times: the same network
(torch_peer.ResNetMini, Loom.Models.ResNetConfig.Mini), data (Debian's dataset-fashion-mnist, 10% held out), batch size,
optimiser (SGD, Nesterov momentum 0.9, weight decay on weights only), one-cycle schedule and label smoothing. No
augmentation: time Loom without --augment too.

    OPENBLAS_CORETYPE=SkylakeX LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp \\
        /usr/bin/python3 bench/peers/resnet_epoch_torch.py [--epochs 2] [--threads 2] [--batch 128]
    loom train --data fashion-mnist --model resnet-mini --epochs 2 --threads 2 --batch-size 128 --optimizer sgd \\
        --lr 0.1 --weight-decay 5e-4 --schedule onecycle --label-smoothing 0.1
"""
import argparse, os, sys, time
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cnn_epoch_torch_data import load  # noqa: E402
from torch_peer import ResNetMini  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--epochs", type=int, default=2)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--batch", type=int, default=128)
ap.add_argument("--lr", type=float, default=0.1)
ap.add_argument("--folder", default="/usr/share/datasets/fashion-mnist")
args = ap.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(42)

xtr, ytr = load(args.folder, "train")
xte, yte = load(args.folder, "t10k")
perm = torch.randperm(len(xtr))
ntr = int(len(xtr) * 0.9)
xtr, ytr = xtr[perm[:ntr]], ytr[perm[:ntr]]

model = ResNetMini()
decay = [p for p in model.parameters() if p.dim() >= 2]
no_decay = [p for p in model.parameters() if p.dim() < 2]
opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4}, {"params": no_decay, "weight_decay": 0}], lr=args.lr, momentum=0.9, nesterov=True)
steps = args.epochs * ((ntr + args.batch - 1) // args.batch)
sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps + 1, cycle_momentum=False)  # Loom does not cycle momentum
print("torch", torch.__version__, "threads", torch.get_num_threads())
for epoch in range(args.epochs):
    model.train()
    t0 = time.perf_counter()
    order = torch.randperm(ntr)
    for i in range(0, ntr, args.batch):
        b = order[i:i + args.batch]
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(xtr[b]), ytr[b], label_smoothing=0.1).backward()
        opt.step()
        sched.step()
    seconds = time.perf_counter() - t0
    model.eval()
    with torch.no_grad():
        acc = sum((model(xte[i:i + 1000]).argmax(1) == yte[i:i + 1000]).sum().item() for i in range(0, len(xte), 1000)) / len(xte)
    print(f"epoch {epoch + 1}: {seconds:.1f} s, test accuracy {acc:.4f}", flush=True)
