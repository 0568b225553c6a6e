"""Fashion-MNIST from Debian's dataset-fashion-mnist IDX files as float tensors [N, 1, 28, 28] in [0, 1], for the epoch peers."""
import gzip, struct
import numpy as np
import torch


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(folder, prefix):
    x = torch.from_numpy(idx(f"{folder}/{prefix}-images-idx3-ubyte.gz").astype(np.float32) / 255).unsqueeze(1)
    y = torch.from_numpy(idx(f"{folder}/{prefix}-labels-idx1-ubyte.gz").astype(np.int64))
    return x, y
