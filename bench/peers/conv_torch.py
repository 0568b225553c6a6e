"""PyTorch peer for Loom's ConvBench: the same conv2d (3x3, padding 1) forward and forward+backward.

Prints one JSON object per line: {"threads", "pass", "median_ms"}. Run with the tuned settings from
/work/shared/peers/README.md (OPENBLAS_CORETYPE=SkylakeX, the OpenMP OpenBLAS); ConvBench sets them itself.
"""
import argparse, json, time

import torch
import torch.nn.functional as F


def median_seconds(fn, warmup=3, min_iters=5, budget=1.0):
    for _ in range(warmup):
        fn()
    times, start = [], time.perf_counter()
    while len(times) < min_iters or time.perf_counter() - start < budget:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--threads", default="1,2")
    a = p.parse_args()
    torch.manual_seed(0)
    x = torch.randn(a.batch, 32, 28, 28)
    w = torch.randn(64, 32, 3, 3) * 0.1
    b = torch.randn(64)
    dy = torch.randn(a.batch, 64, 28, 28)
    xg, wg, bg = (t.clone().requires_grad_() for t in (x, w, b))
    for threads in (int(t) for t in a.threads.split(",")):
        torch.set_num_threads(threads)
        with torch.no_grad():
            fwd = median_seconds(lambda: F.conv2d(x, w, b, padding=1))
        both = median_seconds(lambda: F.conv2d(xg, wg, bg, padding=1).backward(dy))
        for name, t in (("forward", fwd), ("forward+backward", both)):
            print(json.dumps({"threads": threads, "pass": name, "median_ms": t * 1e3}), flush=True)


if __name__ == "__main__":
    main()
