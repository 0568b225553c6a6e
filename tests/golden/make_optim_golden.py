#!/usr/bin/python3
"""Golden values for Loom's optimisers and LR schedules, from PyTorch (Debian python3-torch).

Run by hand:  /usr/bin/python3 tests/golden/make_optim_golden.py
Writes tests/golden/optim.json (committed; CI needs no Python). Everything is float64 so Loom can match to 1e-12.
"""
import json, os, warnings
import torch

torch.manual_seed(0)
torch.set_default_dtype(torch.float64)
out = {"optimizers": [], "schedulers": []}

p0 = torch.tensor([0.5, -1.25, 2.0, 0.0, -0.75, 1.5, 3.0, -2.0, 0.25])
grads = [torch.sin(torch.arange(9.0) * (t + 1) * 0.7) * (1 + 0.1 * t) for t in range(10)]

configs = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.001)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.05, amsgrad=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.01, momentum=0.5, centered=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.02, initial_accumulator_value=0.1, eps=1e-8)),
]
for name, kw in configs:
    p = p0.clone().requires_grad_()
    opt = getattr(torch.optim, name)([p], **kw)
    steps = []
    for g in grads:
        p.grad = g.clone()
        opt.step()
        steps.append(p.detach().tolist())
    kw = {k: (list(v) if isinstance(v, tuple) else v) for k, v in kw.items()}
    out["optimizers"].append({"name": name, "options": kw, "initial": p0.tolist(),
                              "grads": [g.tolist() for g in grads], "params": steps})


def lrs(make, n=12, metrics=None):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.1)
    sched = make(opt)
    seq = [opt.param_groups[0]["lr"]]
    for i in range(n):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        seq.append(opt.param_groups[0]["lr"])
    return seq


S = torch.optim.lr_scheduler
# SequentialLR steps the cosine schedule with an explicit epoch at the milestone, which PyTorch warns is deprecated.
warnings.filterwarnings("ignore", category=UserWarning, module="torch.optim.lr_scheduler")


def warmup_cosine(o, warm, total, min_lr):
    """PyTorch's own composition: linear warm-up to lr0 over the first `warm` steps (lr0·(k+1)/warm at step k), then
    cosine annealing to min_lr over the remaining total − warm steps. Loom's WarmupCosineLR is one class for this."""
    cosine = S.CosineAnnealingLR(o, T_max=total - warm, eta_min=min_lr)
    if warm == 0:
        return cosine
    linear = S.LinearLR(o, start_factor=1 / warm, end_factor=1.0, total_iters=warm - 1)
    return S.SequentialLR(o, [linear, cosine], milestones=[warm])


# Up to total_steps only: there Loom holds min_lr, while CosineAnnealingLR (period 2·T_max) climbs back up.
warmup_cosine_configs = [(3, 12, 0.0), (1, 10, 0.001), (5, 8, 0.01), (0, 10, 0.002)]
plateau_metrics = [1.0, 0.9, 0.95, 0.96, 0.97, 0.85, 0.86, 0.87, 0.88, 0.89, 0.9, 0.91]
out["schedulers"] = [
    {"name": "StepLR", "options": {"step_size": 3, "gamma": 0.5}, "lrs": lrs(lambda o: S.StepLR(o, 3, 0.5))},
    {"name": "MultiStepLR", "options": {"milestones": [2, 5, 9], "gamma": 0.3}, "lrs": lrs(lambda o: S.MultiStepLR(o, [2, 5, 9], 0.3))},
    {"name": "ExponentialLR", "options": {"gamma": 0.9}, "lrs": lrs(lambda o: S.ExponentialLR(o, 0.9))},
    {"name": "CosineAnnealingLR", "options": {"t_max": 10, "eta_min": 0.001}, "lrs": lrs(lambda o: S.CosineAnnealingLR(o, 10, 0.001))},
    {"name": "OneCycleLR", "options": {"max_lr": 1.0, "total_steps": 12}, "lrs": lrs(lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=12, cycle_momentum=False), n=11)},
    {"name": "ReduceLROnPlateau", "options": {"factor": 0.5, "patience": 2, "metrics": plateau_metrics},
     "lrs": lrs(lambda o: S.ReduceLROnPlateau(o, factor=0.5, patience=2), metrics=plateau_metrics)},
] + [
    {"name": "WarmupCosineLR", "options": {"warmup_steps": w, "total_steps": t, "min_lr": m},
     "lrs": lrs(lambda o, w=w, t=t, m=m: warmup_cosine(o, w, t, m), n=t)}
    for w, t, m in warmup_cosine_configs
]

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
print("wrote", path)
