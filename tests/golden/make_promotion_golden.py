#!/usr/bin/python3
"""Writes tests/golden/type_promotion.json: PyTorch's result dtype and values for binary ops over every pair of
dtypes and operand kinds (a tensor with dimensions, a zero-dim tensor, an integer or a float scalar), plus the integer
forms of relu, clamp, matmul, cat and stack. TypePromotionTests checks Loom against it. Run with Debian's
python3-torch: /usr/bin/python3 tests/golden/make_promotion_golden.py"""
import json
import math
import os

import torch

DTYPES = {"float32": torch.float32, "float64": torch.float64, "int32": torch.int32, "int64": torch.int64,
          "uint8": torch.uint8, "int8": torch.int8, "bool": torch.bool}
NAME = {v: k for k, v in DTYPES.items()}
NAME[torch.int16] = "int16"  # uint8 with int8; Loom has no int16 and gives int32 (TypePromotionTests says so)


def values(dtype, side):
    """Small values valid in every dtype: no negatives (uint8), no zero divisors, exact in float32."""
    if dtype == torch.bool:
        return [True, False, True] if side == "a" else [True, True, True]
    if dtype.is_floating_point:
        return [3.5, 2.25, 5.0] if side == "a" else [1.5, 2.0, 0.5]
    return [3, 2, 5] if side == "a" else [2, 3, 1]


def operand(kind, dtype, side):
    """(torch operand, JSON description)."""
    if kind == "int":
        return 2, {"kind": "int", "value": 2}
    if kind == "float":
        return 2.5, {"kind": "float", "value": 2.5}
    v = values(DTYPES[dtype], side)
    t = torch.tensor(v if kind == "dim" else v[0], dtype=DTYPES[dtype])
    return t, {"kind": kind, "dtype": dtype}


BINARY = {
    "add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div, "pow": torch.pow,
    "floor_divide": torch.floor_divide, "remainder": torch.remainder, "eq": torch.eq, "lt": torch.lt,
    "maximum": torch.maximum, "minimum": torch.minimum,
    "where": lambda a, b: torch.where(torch.tensor([True, False, True]), a, b),
    "cat": lambda a, b: torch.cat([a, b]), "stack": lambda a, b: torch.stack([a, b]),
}
SCALAR_OPS = {"add", "sub", "mul", "div", "pow", "floor_divide", "remainder", "eq", "lt"}


def run(fn, *args):
    try:
        out = fn(*args)
    except Exception as e:  # PyTorch refuses the combination: Loom must refuse it too
        return {"result": "error", "error": str(e).split("\n")[0][:120]}
    return {"result": NAME[out.dtype], "shape": list(out.shape), "values": [float(v) for v in out.double().flatten().tolist()]}


def strict(v):
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    if isinstance(v, dict):
        return {k: strict(x) for k, x in v.items()}
    if isinstance(v, list):
        return [strict(x) for x in v]
    return v


def main():
    cases = []
    for op, fn in BINARY.items():
        for ka in ("dim", "zero"):
            for da in DTYPES:
                kinds = [("dim", d) for d in DTYPES] + [("zero", d) for d in DTYPES]
                if op in SCALAR_OPS and ka == "dim":
                    kinds += [("int", None), ("float", None)]
                for kb, db in kinds:
                    a, ja = operand(ka, da, "a")
                    b, jb = operand(kb, db, "b")
                    entry = {"op": op, "a": ja, "b": jb}
                    entry["result_type"] = NAME[torch.result_type(a, b)]
                    entry.update(run(fn, a, b))
                    cases.append(entry)
    unary = []
    for d in ("int32", "int64", "uint8", "int8", "float32", "float64"):
        x = torch.tensor([3, 0, 5, 1] if d == "uint8" else [3, -2, 5, 1], dtype=DTYPES[d])
        unary.append({"op": "relu", "dtype": d, **run(torch.relu, x)})
        unary.append({"op": "clamp_int", "dtype": d, **run(lambda t: t.clamp(1, 4), x)})
        unary.append({"op": "clamp_float", "dtype": d, **run(lambda t: t.clamp(1.5, 4.5), x)})
        m = x.reshape(2, 2)
        unary.append({"op": "matmul", "dtype": d, **run(lambda t: t @ t, m)})
        unary.append({"op": "matvec", "dtype": d, **run(lambda t: t @ t[0], m)})
        unary.append({"op": "true_divide_scalar", "dtype": d, **run(lambda t: t / 2, x)})
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "type_promotion.json")
    with open(out, "w") as f:
        json.dump(strict({"torch": torch.__version__, "binary": cases, "unary": unary}), f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(cases)} binary and {len(unary)} unary cases to {out}")


if __name__ == "__main__":
    main()
