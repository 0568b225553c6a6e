#!/usr/bin/python3
"""Golden values for Loom's OpInfo suite (tests/Loom.Core.Tests/OpInfo), computed by PyTorch (Debian python3-torch
1.13) and, for the precision sweeps, by mpmath at 40 significant digits.

Run by hand:  /usr/bin/python3 tests/golden/make_op_golden.py [op …]
Writes tests/golden/ops/<op>.safetensors (committed; CI needs no Python). With op names, only those files.

Every op is one `op(...)` call below: a name (the C# table has a row of the same name), the PyTorch function of
(inputs, args), and its samples. Each sample is stored as
  <sample>.in.<i>     the inputs: floats as F32 when every value is a float32 (generated inputs always are), else F64;
                      indices and masks in their own dtype
  <sample>.out.<j>    the outputs: floats in F64 (computed in float64), others in their own dtype
  <sample>.probe.<j>  a fixed random F32 tensor per float output; the scalar loss is Σ_j Σ out_j · probe_j
  <sample>.grad.<i>   d loss / d input_i, F64, for the inputs that require grad
and the metadata entry "samples" lists, per sample, its name, args (JSON, passed to both sides), which inputs
require grad, which outputs are differentiable, and whether it is "exact" (run once with the stored dtypes and every output's dtype checked as
stored) or, by default, run by Loom in float64 (tight tolerance) and float32 (against the float64 values).
A precision sweep is a sample named sweep32 or sweep64 (kind "sweep"): log-spaced inputs from the denormals to
the overflow threshold with the correctly rounded value of the exact function (mpmath), in F64.

Debian 12 has no python3-safetensors, so the format is written by hand (as make_golden.py does).
"""
import json, math, os, struct, sys, zlib
import mpmath
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ops")
DT = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.int32: "I32", torch.bool: "BOOL", torch.uint8: "U8"}
mpmath.mp.dps = 40


def save(path, tensors, metadata):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        b = t.numpy().tobytes()
        header[name] = {"dtype": DT[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ---------------------------------------------------------------------------------------------------------------
# Sample inputs. A generator is reseeded per op (from its name), so adding an op changes no other file.

G = torch.Generator()


def rn(*shape, scale=1.0):
    """Normal values, float32-representable, as float64."""
    return (torch.randn(shape, generator=G) * scale).float().double()


def un(lo, hi, *shape):
    return (torch.rand(shape, generator=G) * (hi - lo) + lo).float().double()


def ints(lo, hi, *shape):
    return torch.randint(lo, hi, shape, generator=G)


def mask(*shape):
    return torch.rand(shape, generator=G) < 0.5


# Vector width on AVX-512 is 16 floats / 8 doubles: 37 elements are two or four full vectors and a tail of 5, so
# special values at 3 and 17 sit in the vector body, at 34..36 in the tail.
BODY_TAIL = {3: math.nan, 17: math.inf, 20: -math.inf, 34: math.nan, 35: math.inf, 36: -math.inf}


def special(x, at=BODY_TAIL):
    x = x.clone()
    flat = x.view(-1)
    for i, v in at.items():
        if i < flat.numel():
            flat[i] = v
    return x


class S:
    """One sample: inputs (tensors), args (JSON-able, passed to both sides), grad (input indices needing gradients;
    None: every float input when the op is differentiable), exact (run with the stored dtypes only)."""

    def __init__(self, name, inputs, args=None, grad=None, exact=False):
        self.name, self.inputs, self.args, self.grad, self.exact = name, inputs, args or {}, grad, exact


def unary(domain=lambda *s: rn(*s), specials=True, empty=True):
    """The element-wise samples: a vector with a tail, a 3-D block, a scalar, an empty tensor, NaN/±inf placements."""
    s = [S("vec37", [domain(37)]), S("block", [domain(2, 3, 5)]), S("scalar", [domain()])]
    if empty:
        s.append(S("empty", [domain(0, 3)]))
    if specials:
        s.append(S("special", [special(domain(37))]))
    return s


BROADCAST = [("outer", (3, 1), (1, 4)), ("lead", (5,), (2, 3, 5)), ("scalar_left", (), (4,)), ("rows", (2, 3, 5), (5,)),
             ("empty", (0, 3), (3,))]


def binary(da=lambda *s: rn(*s), db=lambda *s: rn(*s), specials=True):
    s = [S("same37", [da(37), db(37)])] + [S(n, [da(*a), db(*b)]) for n, a, b in BROADCAST]
    if specials:
        s.append(S("special", [special(da(37)), special(db(37), {5: math.nan, 17: 2.0, 21: math.inf, 33: -math.inf, 36: math.nan})]))
    return s


def pos(*s):
    return un(0.2, 3.0, *s)


def away(*s):
    """Values with |x| in [0.5, 2]: denominators, and ops with a kink at zero."""
    return un(0.5, 2.0, *s) * torch.where(torch.rand(s, generator=G) < 0.5, -1.0, 1.0).double()


# ---------------------------------------------------------------------------------------------------------------
# Precision sweeps: log-spaced magnitudes from the smallest denormal to the largest finite value, both signs unless
# the domain is positive, plus a dense linear stretch of [-10, 10] where most functions turn.

def sweep_points(bits, positive):
    lo, hi = (-45.0, 38.5) if bits == 32 else (-323.5, 308.2)
    n = 240
    mags = [10 ** (lo + (hi - lo) * i / (n - 1)) for i in range(n)]
    mags += [2.0 ** -149 if bits == 32 else 5e-324, 1e-40 if bits == 32 else 1e-310]
    lin = [-10 + 20 * i / 120 for i in range(121)]
    vals = set()
    for v in mags + [abs(x) for x in lin]:
        vals.add(v)
        if not positive:
            vals.add(-v)
    for v in lin:
        if not positive or v > 0:
            vals.add(v)
    vals.add(0.0)
    if positive:
        vals.discard(0.0)
    t = torch.tensor(sorted(vals), dtype=torch.float64)
    if bits == 32:
        t = t.float()
        t = t[torch.isfinite(t)].unique().double()
        if positive:
            t = t[t > 0]
    return t


def sweep_samples(ref, positive=False, domain=None):
    out = []
    for bits in (32, 64):
        x = sweep_points(bits, positive)
        if domain is not None:
            x = x[torch.tensor([bool(domain(v)) for v in x.tolist()], dtype=torch.bool)]
        y = torch.tensor([float(ref(mpmath.mpf(float(v)))) for v in x.tolist()], dtype=torch.float64)
        out.append((f"sweep{bits}", x, y))
    return out


# ---------------------------------------------------------------------------------------------------------------
# The ops.

OPS = {}


def op(name, fn, samples, grad=True, sweep=None, sweep_positive=False, sweep_domain=None):
    """sweep: the exact function for a precision sweep (mpmath), over inputs of both signs, positive ones only, or
    those where sweep_domain holds."""
    assert name not in OPS, name
    OPS[name] = (fn, samples, grad, sweep, sweep_positive, sweep_domain)


def build(name):
    fn, samples, grad, sweep, sweep_positive, sweep_domain = OPS[name]
    G.manual_seed(zlib.crc32(name.encode()))
    samples = samples() if callable(samples) else samples
    tensors, meta = {}, []
    for s in samples:
        assert "." not in s.name, s.name
        inputs = [x.clone() for x in s.inputs]
        if not s.exact:
            inputs = [x.double() if x.is_floating_point() else x for x in inputs]
        need = s.grad if s.grad is not None else ([i for i, x in enumerate(inputs) if x.is_floating_point()] if grad else [])
        for i in need:
            inputs[i].requires_grad_(True)
        outs = fn(inputs, s.args)
        if not isinstance(outs, (tuple, list)):
            outs = (outs,)
        pg = torch.Generator().manual_seed(99)
        loss, differentiable = None, []
        for j, o in enumerate(outs):
            tensors[f"{s.name}.out.{j}"] = o.detach().clone() if (s.exact or not o.is_floating_point()) else o.detach().double()
            if o.is_floating_point():
                p = torch.randn(o.shape, generator=pg).to(o.dtype)
                tensors[f"{s.name}.probe.{j}"] = p.float()
                if o.requires_grad:
                    differentiable.append(j)
                    term = (o * p).sum()
                    loss = term if loss is None else loss + term
        if loss is not None:
            loss.backward()
        for i, x in enumerate(inputs):
            stored = s.inputs[i]
            if stored.is_floating_point() and not s.exact:
                finite = lambda t: torch.where(torch.isfinite(t), t, torch.zeros_like(t))
                stored = stored.float() if torch.equal(finite(stored.float().double()), finite(stored.double())) else stored.double()
            tensors[f"{s.name}.in.{i}"] = stored
            if x.grad is not None:
                tensors[f"{s.name}.grad.{i}"] = x.grad.double()
        missing = [i for i in need if inputs[i].grad is None]
        meta.append({"name": s.name, "args": s.args, "grad": [i for i in need if i not in missing], "exact": s.exact,
                     "differentiable": differentiable})
    if sweep is not None:
        for sname, x, y in sweep_samples(sweep, sweep_positive, sweep_domain):
            tensors[f"{sname}.in.0"] = x.float() if sname == "sweep32" else x
            tensors[f"{sname}.out.0"] = y
            meta.append({"name": sname, "args": {}, "grad": [], "exact": False, "sweep": True})
    save(os.path.join(OUT, name + ".safetensors"), tensors, {"op": name, "samples": json.dumps(strict_json(meta), separators=(",", ":"))})


def strict_json(v):
    """JSON has no infinities or NaN: they travel as the strings .NET parses ("Infinity", "-Infinity", "NaN")."""
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    if isinstance(v, dict):
        return {k: strict_json(x) for k, x in v.items()}
    if isinstance(v, list):
        return [strict_json(x) for x in v]
    return v


# --- element-wise math -------------------------------------------------------------------------------------------
mp = mpmath

op("neg", lambda x, a: -x[0], unary)
op("abs", lambda x, a: x[0].abs(), lambda: unary(away))
op("sqrt", lambda x, a: x[0].sqrt(), lambda: unary(pos), sweep=mp.sqrt, sweep_positive=True)
op("rsqrt", lambda x, a: x[0].rsqrt(), lambda: unary(pos), sweep=lambda v: 1 / mp.sqrt(v), sweep_positive=True)
op("exp", lambda x, a: x[0].exp(), unary, sweep=mp.exp)
op("log", lambda x, a: x[0].log(), lambda: unary(pos), sweep=mp.log, sweep_positive=True)
op("square", lambda x, a: x[0].square(), unary)
op("reciprocal", lambda x, a: x[0].reciprocal(), lambda: unary(away))
op("sin", lambda x, a: x[0].sin(), unary, sweep=mp.sin)
op("cos", lambda x, a: x[0].cos(), unary, sweep=mp.cos)
op("erf", lambda x, a: x[0].erf(), unary, sweep=lambda v: mp.sign(v) if abs(v) > 30 else mp.erf(v))
op("clamp", lambda x, a: x[0].clamp(a.get("min"), a.get("max")),
   lambda: [S("both", [rn(37)], {"min": -0.5, "max": 0.7}), S("min", [rn(2, 3, 5)], {"min": 0.1}), S("max", [rn(3, 4)], {"max": -0.2}),
            S("crossed", [rn(6)], {"min": 1.0, "max": -1.0}), S("scalar", [rn()], {"min": -0.3, "max": 0.3}),
            S("special", [special(rn(37))], {"min": -0.5, "max": 0.7}), S("empty", [rn(0, 2)], {"min": 0.0})])

# --- new element-wise math (issue 8) ----------------------------------------------------------------------------------
op("log1p", lambda x, a: x[0].log1p(), lambda: unary(lambda *s: un(-0.9, 3, *s)), sweep=lambda v: mp.log1p(v), sweep_domain=lambda v: v > -1)
op("expm1", lambda x, a: x[0].expm1(), unary, sweep=lambda v: mp.expm1(v))


def rounding_samples():
    s = unary(lambda *s: rn(*s, scale=3.0))
    return s + [S("halves", [torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, -0.0]).double()])]


def int_unary():
    return [S("int64", [ints(-9, 9, 7)], exact=True), S("int32", [ints(-9, 9, 5).int()], exact=True)]


for name, f in [("floor", torch.floor), ("ceil", torch.ceil), ("trunc", torch.trunc), ("round", torch.round), ("sign", torch.sign)]:
    op(name, (lambda f: lambda x, a: f(x[0]))(f), (lambda: rounding_samples() + int_unary()))
op("round_decimals", lambda x, a: torch.round(x[0], decimals=a["decimals"]),
   lambda: [S("two", [rn(37, scale=5.0)], {"decimals": 2}), S("minus_one", [rn(3, 4, scale=300.0)], {"decimals": -1})])


def division_samples():
    s = binary(da=lambda *s: rn(*s, scale=4.0), db=away)
    return s + [S("signs", [torch.tensor([7.0, -7.0, 7.0, -7.0, 0.0, 5.5]).double(), torch.tensor([2.0, 2.0, -2.0, -2.0, -3.0, 0.5]).double()]),
                S("int64", [ints(-20, 20, 3, 4), torch.tensor([3, -3, 2, -7])], exact=True),
                S("int32", [ints(-20, 20, 6).int(), torch.tensor([3, -3, 2, -7, 1, 5]).int()], exact=True)]


op("floor_divide", lambda x, a: torch.floor_divide(x[0], x[1]), division_samples, grad=False)
op("remainder", lambda x, a: torch.remainder(x[0], x[1]), division_samples)
op("floor_divide_scalar", lambda x, a: torch.floor_divide(x[0], a["value"]), lambda: [S(s.name, s.inputs, {"value": -1.5}) for s in unary(lambda *s: rn(*s, scale=4.0))], grad=False)
op("remainder_scalar", lambda x, a: torch.remainder(x[0], a["value"]), lambda: [S(s.name, s.inputs, {"value": 1.25}) for s in unary(lambda *s: rn(*s, scale=4.0))])

# --- activations ------------------------------------------------------------------------------------------------
sig = lambda v: 1 / (1 + mp.exp(-v))
op("relu", lambda x, a: x[0].relu(), lambda: unary(away))
op("leaky_relu", lambda x, a: F.leaky_relu(x[0], a["slope"]),
   lambda: [S(s.name, s.inputs, {"slope": 0.2}) for s in unary(away)])
# Beyond ±60 the exact value is x or underflows to (minus) zero in every format; mpmath's erfc overflows there.
op("gelu", lambda x, a: F.gelu(x[0]), unary, sweep=lambda v: v if v > 60 else (mpmath.mpf(0) if v < -60 else v / 2 * mp.erfc(-v / mp.sqrt(2))))
op("gelu_tanh", lambda x, a: F.gelu(x[0], approximate="tanh"), unary,
   sweep=lambda v: v / 2 * (1 + mp.tanh(mp.sqrt(2 / mp.pi) * (v + mpmath.mpf("0.044715") * v ** 3))))
op("silu", lambda x, a: F.silu(x[0]), unary, sweep=lambda v: v * sig(v))
op("sigmoid", lambda x, a: x[0].sigmoid(), unary, sweep=sig)
op("tanh", lambda x, a: x[0].tanh(), unary, sweep=mp.tanh)
op("softplus", lambda x, a: F.softplus(x[0], a["beta"], a["threshold"]),
   lambda: [S(s.name, s.inputs, {"beta": 1.0, "threshold": 20.0}) for s in unary(lambda *s: rn(*s, scale=3.0))]
   + [S("beta2", [rn(4, 5, scale=8.0)], {"beta": 2.0, "threshold": 5.0})],
   sweep=lambda v: v if v > 20 else mp.log(1 + mp.exp(v)))
op("softmax", lambda x, a: x[0].softmax(a["axis"]),
   lambda: [S("rows", [rn(4, 7)], {"axis": -1}), S("cols", [rn(4, 7)], {"axis": 0}), S("mid", [rn(2, 5, 3)], {"axis": 1}),
            S("wide", [rn(3, 37)], {"axis": 1}), S("empty", [rn(0, 5)], {"axis": 1}), S("scalar", [rn()], {"axis": 0}),
            S("neg_inf", [special(rn(3, 37), {5: -math.inf, 40: -math.inf, 41: -math.inf})], {"axis": 1}),
            S("special", [special(rn(3, 37), {5: math.nan, 40: math.inf, 110: -math.inf})], {"axis": 1})])
op("log_softmax", lambda x, a: x[0].log_softmax(a["axis"]), OPS["softmax"][1])

# --- new activations (issue 8) -------------------------------------------------------------------------------------
SELU_SCALE, SELU_ALPHA = mpmath.mpf("1.0507009873554804934193349852946"), mpmath.mpf("1.6732632423543772848170429916717")


def with_args(args, domain=lambda *s: rn(*s)):
    return lambda: [S(s.name, s.inputs, args) for s in unary(domain)]


# PyTorch's elu, hardtanh and hardswish backward kernels disagree at NaN: the vectorised body gives NaN (elu,
# hardswish) or 0 (hardtanh), the scalar tail passes dy on. Loom gives the body's value everywhere, so these samples
# put the special values in the body only.
BODY_ONLY = {3: math.nan, 17: math.inf, 20: -math.inf, 5: math.nan, 9: math.inf, 12: -math.inf}


def body_only_samples(args, domain=lambda *s: rn(*s)):
    return lambda: [S(s.name, [special(domain(37), BODY_ONLY)] if s.name == "special" else s.inputs, args) for s in unary(domain)]


def elu_samples(args):
    return body_only_samples(args)


op("elu", lambda x, a: F.elu(x[0], a["alpha"]), elu_samples({"alpha": 1.3}), sweep=lambda v: v if v > 0 else mp.expm1(v))
op("selu", lambda x, a: F.selu(x[0]), elu_samples({}), sweep=lambda v: SELU_SCALE * v if v > 0 else SELU_SCALE * SELU_ALPHA * mp.expm1(v))
op("celu", lambda x, a: F.celu(x[0], a["alpha"]), elu_samples({"alpha": 0.7}), sweep=lambda v: v if v > 0 else mp.expm1(v))
op("hardtanh", lambda x, a: F.hardtanh(x[0], a["min"], a["max"]), body_only_samples({"min": -0.8, "max": 1.2}, lambda *s: rn(*s, scale=2.0)))
op("relu6", lambda x, a: F.relu6(x[0]), body_only_samples({}, lambda *s: rn(*s, scale=5.0)))
op("hardsigmoid", lambda x, a: F.hardsigmoid(x[0]), lambda: unary(lambda *s: rn(*s, scale=4.0)))
op("hardswish", lambda x, a: F.hardswish(x[0]), body_only_samples({}, lambda *s: rn(*s, scale=4.0)))
op("logsigmoid", lambda x, a: F.logsigmoid(x[0]), lambda: unary(lambda *s: rn(*s, scale=4.0)), sweep=lambda v: mp.log(sig(v)))
# Below −700 the exact x·eˣ is a float64 denormal whose eˣ factor is itself a rounded denormal: |x| amplifies that
# rounding (in any libm-based mish), so the float64 sweep stops there (float32 results underflow long before).
op("mish", lambda x, a: F.mish(x[0]), lambda: unary(lambda *s: rn(*s, scale=3.0)), sweep=lambda v: v * mp.tanh(mp.log1p(mp.exp(v))),
   sweep_domain=lambda v: v > -700)

# --- binary arithmetic ------------------------------------------------------------------------------------------
op("add", lambda x, a: x[0] + x[1], binary)
op("sub", lambda x, a: x[0] - x[1], binary)
op("mul", lambda x, a: x[0] * x[1], binary)
op("div", lambda x, a: x[0] / x[1], lambda: binary(db=away))
op("pow", lambda x, a: x[0] ** x[1], lambda: binary(da=pos, db=lambda *s: un(-2, 2, *s)))
op("minimum", lambda x, a: torch.minimum(x[0], x[1]), binary)
op("maximum", lambda x, a: torch.maximum(x[0], x[1]), binary)


def int_binary():
    return [S("int64", [ints(-20, 20, 3, 4), ints(1, 9, 4)], exact=True), S("int32", [ints(-20, 20, 5).int(), ints(1, 9, 5).int()], exact=True)]


op("add_int", lambda x, a: x[0] + x[1], int_binary, grad=False)
op("mul_int", lambda x, a: x[0] * x[1], int_binary, grad=False)
op("div_int", lambda x, a: x[0] / x[1], int_binary, grad=False)
op("add_mixed", lambda x, a: x[0] + x[1], lambda: [S("int_float", [ints(-5, 5, 3, 4), rn(4).float()], exact=True, grad=[1])])


def scalar_samples(value, domain=lambda *s: rn(*s)):
    return lambda: [S(s.name, s.inputs, {"value": value}) for s in unary(domain)]


op("add_scalar", lambda x, a: x[0] + a["value"], scalar_samples(2.5))
op("sub_scalar", lambda x, a: x[0] - a["value"], scalar_samples(-1.25))
op("rsub_scalar", lambda x, a: a["value"] - x[0], scalar_samples(0.75))
op("mul_scalar", lambda x, a: x[0] * a["value"], scalar_samples(-3.0))
op("div_scalar", lambda x, a: x[0] / a["value"], scalar_samples(0.3))
op("rdiv_scalar", lambda x, a: a["value"] / x[0], scalar_samples(1.5, away))
op("pow_scalar", lambda x, a: x[0] ** a["value"], scalar_samples(2.5, pos))
# A C# double cannot tell 3 from 3.0, so Loom treats an integral scalar as an integer (Tensor.Elementwise.cs):
# the sample passes Python's int 3, which PyTorch treats the same way.
op("scalar_int", lambda x, a: x[0] * a["value"] + a["value"],
   lambda: [S("int_int", [ints(-9, 9, 6)], {"value": 3}, exact=True), S("int_fraction", [ints(-9, 9, 6)], {"value": 0.5}, exact=True)], grad=False)

# --- comparisons and logic (no gradients) -------------------------------------------------------------------------
for name, f in [("eq", torch.eq), ("ne", torch.ne), ("lt", torch.lt), ("le", torch.le), ("gt", torch.gt), ("ge", torch.ge)]:
    def cmp_samples():
        s = binary(da=lambda *s: un(-2, 2, *s).round(), db=lambda *s: un(-2, 2, *s).round())
        return s + [S("scalar_value", [un(-2, 2, 3, 4).round()], {"value": 1.0})]
    op(name, (lambda f: lambda x, a: f(x[0], x[1]) if "value" not in a else f(x[0], a["value"]))(f), cmp_samples, grad=False)
for name, f in [("logical_and", torch.logical_and), ("logical_or", torch.logical_or), ("logical_xor", torch.logical_xor)]:
    op(name, (lambda f: lambda x, a: f(x[0], x[1]))(f), lambda: [S("bools", [mask(3, 4), mask(4)], exact=True)], grad=False)
op("logical_not", lambda x, a: torch.logical_not(x[0]), lambda: [S("bools", [mask(3, 4)], exact=True)], grad=False)
op("isnan", lambda x, a: torch.isnan(x[0]), lambda: [S("special", [special(rn(37))])], grad=False)
op("isfinite", lambda x, a: torch.isfinite(x[0]), lambda: [S("special", [special(rn(37))])], grad=False)
op("where", lambda x, a: torch.where(x[0], x[1], x[2]),
   lambda: [S("same", [mask(37), rn(37), rn(37)]), S("broadcast", [mask(3, 1), rn(1, 4), rn(3, 4)]), S("scalar_b", [mask(5), rn(5), rn()]),
            S("special", [mask(37), special(rn(37)), rn(37)])])

# --- reductions ------------------------------------------------------------------------------------------------


def reduce_samples(domain=lambda *s: rn(*s), empty=True):
    s = [S("all", [domain(4, 37)], {}), S("last", [domain(4, 37)], {"axes": [-1]}), S("first", [domain(5, 3, 4)], {"axes": [0]}),
         S("mid_keep", [domain(3, 5, 4)], {"axes": [1], "keep": True}), S("split", [domain(3, 4, 5)], {"axes": [0, 2]}),
         S("scalar", [domain()], {}), S("special", [special(domain(3, 37), {5: math.nan, 40: math.inf, 80: -math.inf, 100: math.nan})], {"axes": [1]})]
    if empty:
        s.append(S("empty", [domain(0, 4)], {"axes": [0]}))
    return s


def red(f):
    return lambda x, a: f(x[0]) if "axes" not in a else f(x[0], a["axes"], a.get("keep", False))


op("sum", red(lambda t, *d: t.sum(*d)), reduce_samples)
op("mean", red(lambda t, *d: t.mean(*d)), reduce_samples)
op("var", lambda x, a: torch.var(x[0], dim=a.get("axes"), correction=a.get("correction", 1), keepdim=a.get("keep", False)),
   lambda: reduce_samples(empty=False) + [S("population", [rn(3, 6)], {"axes": [1], "correction": 0})])
op("std", lambda x, a: torch.std(x[0], dim=a.get("axes"), correction=a.get("correction", 1), keepdim=a.get("keep", False)),
   lambda: reduce_samples(empty=False) + [S("population", [rn(3, 6)], {"axes": [1], "correction": 0})])
op("logsumexp", lambda x, a: torch.logsumexp(x[0], a.get("axes", list(range(x[0].dim())) or 0), a.get("keep", False)), reduce_samples)
op("amax", red(lambda t, *d: t.amax(*d) if d else t.max()), lambda: reduce_samples(empty=False))
op("amin", red(lambda t, *d: t.amin(*d) if d else t.min()), lambda: reduce_samples(empty=False))
op("argmax", lambda x, a: x[0].argmax(a.get("axis"), a.get("keep", False)),
   lambda: [S("flat", [rn(4, 9)]), S("last", [rn(4, 9)], {"axis": -1}), S("first_keep", [rn(4, 9)], {"axis": 0, "keep": True}),
            S("special", [special(rn(3, 37), {5: math.nan, 9: math.nan, 40: math.inf})], {"axis": 1})], grad=False)
op("argmin", lambda x, a: x[0].argmin(a.get("axis"), a.get("keep", False)), OPS["argmax"][1], grad=False)
op("sum_int", lambda x, a: x[0].sum(a["axis"]) if "axis" in a else x[0].sum(),
   lambda: [S("int32", [ints(-50, 50, 4, 5).int()], {"axis": 1}, exact=True), S("bool", [mask(4, 5)], exact=True)], grad=False)

# --- new reductions and scans (issue 8) ---------------------------------------------------------------------------
def with_zeros(x, at):
    x = x.clone()
    x.view(-1)[list(at)] = 0.0
    return x


op("cumsum", lambda x, a: torch.cumsum(x[0], a["axis"]),
   lambda: [S("vec37", [rn(37)], {"axis": 0}), S("mid", [rn(3, 5, 4)], {"axis": 1}), S("last", [rn(2, 3, 6)], {"axis": -1}),
            S("scalar", [rn()], {"axis": 0}), S("empty", [rn(0, 3)], {"axis": 0}), S("special", [special(rn(37))], {"axis": 0}),
            S("int32", [ints(-9, 9, 3, 4).int()], {"axis": 1}, exact=True), S("bool", [mask(2, 5)], {"axis": 1}, exact=True)])
op("cumprod", lambda x, a: torch.cumprod(x[0], a["axis"]),
   lambda: [S("vec", [away(9)], {"axis": 0}), S("mid", [away(3, 5, 4)], {"axis": 1}), S("one_zero", [with_zeros(away(2, 7), [3, 8])], {"axis": 1}),
            S("two_zeros", [with_zeros(away(8), [2, 5])], {"axis": 0}), S("zero_first", [with_zeros(away(5), [0])], {"axis": 0}),
            S("scalar", [rn()], {"axis": -1}), S("special", [special(away(37))], {"axis": 0}),
            S("int64", [ints(-3, 4, 2, 5)], {"axis": 1}, exact=True)])
op("prod", lambda x, a: torch.prod(x[0]) if "axis" not in a else torch.prod(x[0], a["axis"], a.get("keep", False)),
   lambda: [S("all", [away(3, 4)]), S("axis", [away(3, 5, 4)], {"axis": 1}), S("keep", [away(4, 6)], {"axis": 0, "keep": True}),
            S("one_zero", [with_zeros(away(3, 5), [1, 7])], {"axis": 1}), S("two_zeros", [with_zeros(away(2, 6), [1, 4])], {"axis": 1}),
            S("scalar", [rn()]), S("empty", [rn(0, 3)], {"axis": 0}), S("special", [special(away(3, 37), {5: math.nan, 40: math.inf, 80: -math.inf})], {"axis": 1}),
            S("int64", [ints(-3, 4, 3, 4)], {"axis": 1}, exact=True)])
op("norm", lambda x, a: torch.linalg.vector_norm(x[0], a["p"], a.get("axes"), a.get("keep", False)),
   lambda: [S("frobenius", [rn(3, 4)], {"p": 2.0}), S("l1_axis", [rn(4, 5)], {"p": 1.0, "axes": [1]}),
            S("linf", [rn(4, 5)], {"p": math.inf, "axes": [0]}), S("lneginf", [rn(4, 5)], {"p": -math.inf, "axes": [1]}),
            S("l0", [with_zeros(rn(3, 5), [2, 6, 7])], {"p": 0.0, "axes": [1]}), S("l3_split", [rn(3, 4, 5)], {"p": 3.0, "axes": [0, 2]}),
            S("half", [away(4, 5)], {"p": 0.5, "axes": [1], "keep": True}), S("l1_5", [away(4, 5)], {"p": 1.5, "axes": [1]}),
            S("zero_row", [with_zeros(rn(3, 4), [4, 5, 6, 7])], {"p": 2.0, "axes": [1]}), S("scalar", [rn()], {"p": 2.0}),
            S("keep_all", [rn(2, 3)], {"p": 2.0, "keep": True}), S("special", [special(rn(3, 37), {5: math.nan, 40: math.inf})], {"p": 2.0, "axes": [1]})])
op("max_with_indices", lambda x, a: torch.max(x[0], a["axis"], a.get("keep", False)),
   lambda: [S("last", [rn(4, 9)], {"axis": -1}), S("first_keep", [rn(5, 3)], {"axis": 0, "keep": True}), S("mid", [rn(2, 6, 3)], {"axis": 1}),
            S("special", [special(rn(3, 37), {5: math.nan, 9: math.nan, 40: math.inf})], {"axis": 1})])
op("min_with_indices", lambda x, a: torch.min(x[0], a["axis"], a.get("keep", False)), OPS["max_with_indices"][1])
op("median", lambda x, a: torch.median(x[0]) if "axis" not in a else torch.median(x[0], a["axis"], a.get("keep", False)),
   lambda: [S("all_odd", [rn(3, 5)]), S("all_even", [rn(4, 5)]), S("all_ties", [un(-3, 3, 3, 5).round()]), S("all_nan", [special(rn(3, 5), {2: math.nan, 7: math.nan})]),
            S("rows_even", [rn(4, 6)], {"axis": 1}), S("cols_keep", [rn(5, 3)], {"axis": 0, "keep": True}),
            S("special", [special(rn(3, 37), {5: math.nan, 9: math.nan, 40: math.inf})], {"axis": 1})])


def quantile(x, a):
    return torch.quantile(x[0], a["q"], a.get("axis"), a.get("keep", False), interpolation=a.get("interpolation", "linear"))


op("quantile", quantile,
   lambda: [S("linear", [rn(4, 9)], {"q": 0.3, "axis": 1}), S("all", [rn(3, 5)], {"q": 0.75}), S("keep", [rn(6, 3)], {"q": 0.5, "axis": 0, "keep": True}),
            S("lower", [rn(3, 8)], {"q": 0.4, "axis": 1, "interpolation": "lower"}), S("higher", [rn(3, 8)], {"q": 0.4, "axis": 1, "interpolation": "higher"}),
            S("nearest", [rn(3, 9)], {"q": 0.5625, "axis": 1, "interpolation": "nearest"}),
            S("midpoint", [rn(3, 8)], {"q": 0.4, "axis": 1, "interpolation": "midpoint"}), S("ends", [rn(2, 7)], {"q": 1.0, "axis": 1}),
            S("special", [special(rn(3, 37), {5: math.nan, 40: math.inf})], {"q": 0.3, "axis": 1})])
op("cosine_similarity", lambda x, a: F.cosine_similarity(x[0], x[1], a["axis"], a["eps"]),
   lambda: [S("rows", [rn(4, 5), rn(4, 5)], {"axis": 1, "eps": 1e-8}), S("broadcast", [rn(3, 1, 5), rn(4, 5)], {"axis": -1, "eps": 1e-8}),
            S("zero_vector", [with_zeros(rn(3, 4), [4, 5, 6, 7]), rn(3, 4)], {"axis": 1, "eps": 1e-8}),
            S("axis0", [rn(6, 2), rn(6, 2)], {"axis": 0, "eps": 1e-6})])

# --- matmul and linear layers ------------------------------------------------------------------------------------
op("matmul", lambda x, a: x[0] @ x[1],
   lambda: [S("mm", [rn(5, 7), rn(7, 3)]), S("vv", [rn(6), rn(6)]), S("mv", [rn(4, 6), rn(6)]), S("vm", [rn(6), rn(6, 4)]),
            S("batched", [rn(2, 3, 4, 5), rn(5, 6)]), S("broadcast", [rn(2, 1, 3, 4), rn(5, 4, 2)]), S("empty_k", [rn(3, 0), rn(0, 4)]),
            S("special", [special(rn(4, 37), {3: math.nan, 50: math.inf}), rn(37, 3)])])
op("linear", lambda x, a: F.linear(*x),
   lambda: [S("bias", [rn(4, 5), rn(3, 5), rn(3)]), S("nobias", [rn(2, 3, 6), rn(4, 6)]), S("vector", [rn(5), rn(2, 5), rn(2)])])

# --- shape, views, joins, copies ---------------------------------------------------------------------------------
op("reshape", lambda x, a: x[0].reshape(a["shape"]), lambda: [S("split", [rn(4, 6)], {"shape": [2, -1, 3]}), S("scalar", [rn(1, 1)], {"shape": []})])
op("flatten", lambda x, a: x[0].flatten(a["start"], a["end"]), lambda: [S("mid", [rn(2, 3, 4, 5)], {"start": 1, "end": 2}), S("all", [rn(2, 3)], {"start": 0, "end": -1})])
op("transpose", lambda x, a: x[0].transpose(a["a"], a["b"]), lambda: [S("t", [rn(3, 5)], {"a": 0, "b": 1}), S("3d", [rn(2, 3, 4)], {"a": 0, "b": 2})])
op("permute", lambda x, a: x[0].permute(a["axes"]), lambda: [S("rot", [rn(2, 3, 4)], {"axes": [2, 0, 1]})])
op("squeeze", lambda x, a: x[0].squeeze(a["axis"]) if "axis" in a else x[0].squeeze(), lambda: [S("all", [rn(1, 3, 1, 2)]), S("one", [rn(3, 1, 2)], {"axis": 1})])
op("unsqueeze", lambda x, a: x[0].unsqueeze(a["axis"]), lambda: [S("mid", [rn(3, 2)], {"axis": 1}), S("end", [rn(3)], {"axis": -1})])
op("slice", lambda x, a: x[0][(slice(None),) * a["axis"] + (slice(a["start"], a["end"], a["step"]),)],
   lambda: [S("step2", [rn(4, 9)], {"axis": 1, "start": 1, "end": 8, "step": 2}), S("rows", [rn(6, 3)], {"axis": 0, "start": 2, "end": 5, "step": 1})])
op("narrow", lambda x, a: x[0].narrow(a["axis"], a["start"], a["length"]), lambda: [S("cols", [rn(3, 8)], {"axis": 1, "start": 2, "length": 4})])
op("select", lambda x, a: x[0].select(a["axis"], a["index"]), lambda: [S("mid", [rn(3, 4, 5)], {"axis": 1, "index": 2}), S("neg", [rn(3, 4)], {"axis": 0, "index": -1})])
op("expand", lambda x, a: x[0].expand(a["shape"]), lambda: [S("rows", [rn(3, 1)], {"shape": [3, 4]}), S("lead", [rn(4)], {"shape": [2, 3, 4]})])
op("sum_to_size", lambda x, a: x[0].sum_to_size(a["shape"]), lambda: [S("cols", [rn(3, 4)], {"shape": [1, 4]}), S("lead", [rn(2, 3, 4)], {"shape": [3, 1]})])
op("cat", lambda x, a: torch.cat(x, a["axis"]), lambda: [S("rows", [rn(2, 3), rn(4, 3), rn(1, 3)], {"axis": 0}), S("cols", [rn(2, 3), rn(2, 5)], {"axis": -1}),
                                                      S("with_empty", [rn(0, 3), rn(2, 3)], {"axis": 0})])
op("stack", lambda x, a: torch.stack(x, a["axis"]), lambda: [S("new0", [rn(2, 3), rn(2, 3), rn(2, 3)], {"axis": 0}), S("last", [rn(4), rn(4)], {"axis": 1})])
op("split", lambda x, a: x[0].split(a["size"] if "size" in a else a["sizes"], a["axis"]),
   lambda: [S("even", [rn(7, 3)], {"size": 3, "axis": 0}), S("sizes", [rn(2, 9)], {"sizes": [2, 3, 4], "axis": 1})])
op("chunk", lambda x, a: x[0].chunk(a["chunks"], a["axis"]), lambda: [S("three", [rn(8, 2)], {"chunks": 3, "axis": 0})])
op("repeat", lambda x, a: x[0].repeat(a["repeats"]), lambda: [S("tile", [rn(2, 3)], {"repeats": [2, 1]}), S("lead", [rn(3)], {"repeats": [2, 2]})])
op("flip", lambda x, a: x[0].flip(a["axes"]), lambda: [S("both", [rn(3, 4)], {"axes": [0, 1]}), S("last", [rn(2, 3, 5)], {"axes": [-1]})])
op("tril", lambda x, a: x[0].tril(a["diagonal"]), lambda: [S("main", [rn(4, 5)], {"diagonal": 0}), S("batched", [rn(2, 3, 4)], {"diagonal": -1})])
op("triu", lambda x, a: x[0].triu(a["diagonal"]), lambda: [S("main", [rn(4, 5)], {"diagonal": 0}), S("batched", [rn(2, 3, 4)], {"diagonal": 1})])
op("clone", lambda x, a: x[0].clone(), lambda: [S("block", [rn(3, 4)]), S("special", [special(rn(37))])])
op("copy_", lambda x, a: x[0].clone().copy_(x[1]), lambda: [S("broadcast", [rn(3, 4), rn(4)])], grad=False)
op("to_float32", lambda x, a: x[0].float(), lambda: [S("f64", [rn(2, 37)], exact=True), S("int", [ints(-7, 7, 5)], exact=True, grad=[])])

op("view", lambda x, a: x[0].view(a["shape"]), lambda: [S("merge", [rn(4, 6)], {"shape": [3, 8]})])
op("broadcast_to", lambda x, a: x[0].broadcast_to(a["shape"]), lambda: [S("rows", [rn(1, 4)], {"shape": [3, 4]})])
op("contiguous", lambda x, a: x[0].contiguous(), lambda: [S("block", [rn(3, 5)])])

# --- in place (no gradients: Loom's in-place ops are for optimisers and initialisers, outside autograd) --------------
op("add_", lambda x, a: x[0].clone().add_(x[1], alpha=a["alpha"]) if len(x) > 1 else x[0].clone().add_(a["value"]),
   lambda: [S("tensor", [rn(3, 4), rn(4)], {"alpha": -0.5}), S("value", [rn(3, 4)], {"value": 1.5})], grad=False)
op("sub_", lambda x, a: x[0].clone().sub_(x[1], alpha=a["alpha"]) if len(x) > 1 else x[0].clone().sub_(a["value"]),
   lambda: [S("tensor", [rn(3, 4), rn(3, 4)], {"alpha": 2.0}), S("value", [rn(3, 4)], {"value": 0.25})], grad=False)
op("mul_", lambda x, a: x[0].clone().mul_(x[1]) if len(x) > 1 else x[0].clone().mul_(a["value"]),
   lambda: [S("tensor", [rn(3, 4), rn(1, 4)]), S("value", [rn(3, 4)], {"value": -2.0})], grad=False)
op("div_", lambda x, a: x[0].clone().div_(x[1]) if len(x) > 1 else x[0].clone().div_(a["value"]),
   lambda: [S("tensor", [rn(3, 4), away(3, 4)]), S("value", [rn(3, 4)], {"value": 3.0})], grad=False)
op("fill_", lambda x, a: x[0].clone().fill_(a["value"]), lambda: [S("block", [rn(3, 4)], {"value": -1.25})], grad=False)
op("zero_", lambda x, a: x[0].clone().zero_(), lambda: [S("block", [rn(3, 4)])], grad=False)
op("clamp_", lambda x, a: x[0].clone().clamp_(a.get("min"), a.get("max")), lambda: [S("both", [rn(37)], {"min": -0.5, "max": 0.5})], grad=False)
op("scatter_add_", lambda x, a: x[0].clone().scatter_add_(a["axis"], x[1], x[2]),
   lambda: [S("cols", [rn(3, 5), ints(0, 5, 3, 4), rn(3, 4)], {"axis": 1})], grad=False)

# --- indexing ----------------------------------------------------------------------------------------------------
op("index_select", lambda x, a: x[0].index_select(a["axis"], x[1]),
   lambda: [S("rows", [rn(5, 3), torch.tensor([4, 0, 4, 2])], {"axis": 0}), S("cols", [rn(2, 6), torch.tensor([5, 1])], {"axis": 1})])
op("index_add", lambda x, a: x[0].index_add(a["axis"], x[1], x[2]),
   lambda: [S("rows", [rn(5, 3), torch.tensor([4, 0, 4]), rn(3, 3)], {"axis": 0})])
op("gather", lambda x, a: x[0].gather(a["axis"], x[1]),
   lambda: [S("cols", [rn(3, 5), ints(0, 5, 3, 4)], {"axis": 1}), S("rows", [rn(4, 3), ints(0, 4, 2, 3)], {"axis": 0})])
op("scatter_add", lambda x, a: x[0].scatter_add(a["axis"], x[1], x[2]),
   lambda: [S("cols", [rn(3, 5), ints(0, 5, 3, 4), rn(3, 4)], {"axis": 1})])
op("masked_select", lambda x, a: x[0].masked_select(x[1]), lambda: [S("same", [rn(4, 5), mask(4, 5)]), S("broadcast", [rn(3, 4), mask(4)])])
op("masked_scatter", lambda x, a: x[0].masked_scatter(x[1], x[2]), lambda: [S("same", [rn(4, 5), mask(4, 5), rn(20)])])
op("masked_fill", lambda x, a: x[0].masked_fill(x[1], a["value"]), lambda: [S("same", [rn(4, 5), mask(4, 5)], {"value": -2.5}), S("broadcast", [rn(3, 4), mask(4)], {"value": 0.5})])
op("nonzero", lambda x, a: x[0].nonzero(), lambda: [S("ints", [ints(-1, 2, 3, 4)], exact=True)], grad=False)

# --- sorting -----------------------------------------------------------------------------------------------------
op("sort", lambda x, a: torch.sort(x[0], stable=True, dim=a["axis"], descending=a["descending"]),
   lambda: [S("last", [rn(4, 9)], {"axis": -1, "descending": False}), S("first_desc", [rn(6, 3)], {"axis": 0, "descending": True}),
            S("special", [special(rn(37))], {"axis": 0, "descending": False})])
op("argsort", lambda x, a: torch.sort(x[0], stable=True, dim=a["axis"], descending=a["descending"])[1], lambda: [S("last", [rn(4, 9)], {"axis": -1, "descending": True})], grad=False)
op("topk", lambda x, a: torch.topk(x[0], a["k"], a["axis"], a["largest"]),
   lambda: [S("largest", [rn(4, 9)], {"k": 3, "axis": -1, "largest": True}), S("smallest", [rn(7, 3)], {"k": 2, "axis": 0, "largest": False})])

# --- creation (no inputs) ------------------------------------------------------------------------------------------
op("arange", lambda x, a: torch.arange(a["start"], a["end"], a["step"], dtype=getattr(torch, a["dtype"])),
   lambda: [S("float", [], {"start": 0.5, "end": 3.0, "step": 0.5, "dtype": "float32"}, exact=True),
            S("double_down", [], {"start": 2.0, "end": -1.0, "step": -0.75, "dtype": "float64"}, exact=True)], grad=False)
op("arange_int", lambda x, a: torch.arange(*a["bounds"]),
   lambda: [S("end", [], {"bounds": [5]}, exact=True), S("start_end", [], {"bounds": [0, 5]}, exact=True),
            S("start_end_step", [], {"bounds": [7, -3, -2]}, exact=True)], grad=False)
op("linspace", lambda x, a: torch.linspace(a["start"], a["end"], a["steps"], dtype=torch.float64),
   lambda: [S("five", [], {"start": -1.0, "end": 1.0, "steps": 5}, exact=True), S("one", [], {"start": 2.0, "end": 3.0, "steps": 1}, exact=True)], grad=False)
op("eye", lambda x, a: torch.eye(a["n"], a["m"]), lambda: [S("rect", [], {"n": 3, "m": 4}, exact=True)], grad=False)
op("full", lambda x, a: torch.full(a["shape"], a["value"]), lambda: [S("block", [], {"shape": [2, 3], "value": 1.5}, exact=True)], grad=False)

# --- convolution and pooling -----------------------------------------------------------------------------------------
op("conv2d", lambda x, a: F.conv2d(x[0], x[1], x[2] if len(x) > 2 else None, a["stride"], a["padding"], a["dilation"], a["groups"]),
   lambda: [S("plain", [rn(2, 3, 7, 6), rn(4, 3, 3, 3), rn(4)], {"stride": [1, 1], "padding": [0, 0], "dilation": [1, 1], "groups": 1}),
            S("strided", [rn(1, 4, 9, 8), rn(6, 2, 3, 2)], {"stride": [2, 1], "padding": [1, 2], "dilation": [1, 2], "groups": 2}),
            S("pointwise", [rn(2, 5, 4, 4), rn(3, 5, 1, 1), rn(3)], {"stride": [1, 1], "padding": [0, 0], "dilation": [1, 1], "groups": 1})])
op("conv1d", lambda x, a: F.conv1d(x[0], x[1], x[2] if len(x) > 2 else None, a["stride"], a["padding"], a["dilation"], a["groups"]),
   lambda: [S("plain", [rn(2, 3, 11), rn(4, 3, 3), rn(4)], {"stride": 1, "padding": 1, "dilation": 1, "groups": 1}),
            S("strided", [rn(1, 4, 12), rn(2, 2, 3)], {"stride": 2, "padding": 0, "dilation": 2, "groups": 2})])
op("conv_transpose2d", lambda x, a: F.conv_transpose2d(x[0], x[1], x[2] if len(x) > 2 else None, a["stride"], a["padding"], a["output_padding"], a["groups"], a["dilation"]),
   lambda: [S("plain", [rn(2, 3, 4, 5), rn(3, 2, 3, 3), rn(2)], {"stride": [1, 1], "padding": [0, 0], "output_padding": [0, 0], "dilation": [1, 1], "groups": 1}),
            S("strided", [rn(1, 4, 3, 3), rn(4, 1, 2, 2)], {"stride": [2, 2], "padding": [1, 1], "output_padding": [1, 1], "dilation": [2, 2], "groups": 2})])
op("max_pool2d", lambda x, a: F.max_pool2d(x[0], a["kernel"], a["stride"], a["padding"], a["dilation"], a["ceil_mode"]),
   lambda: [S("k2", [rn(2, 3, 6, 8)], {"kernel": [2, 2], "stride": [2, 2], "padding": [0, 0], "dilation": [1, 1], "ceil_mode": False}),
            S("k3s2p1", [rn(1, 2, 7, 9)], {"kernel": [3, 3], "stride": [2, 2], "padding": [1, 1], "dilation": [1, 1], "ceil_mode": True}),
            S("dilated", [rn(2, 9, 8)], {"kernel": [2, 3], "stride": [1, 2], "padding": [0, 1], "dilation": [2, 1], "ceil_mode": False}),
            S("special", [special(rn(1, 1, 6, 8), {3: math.nan, 17: math.inf, 30: -math.inf})], {"kernel": [2, 2], "stride": [2, 2], "padding": [0, 0], "dilation": [1, 1], "ceil_mode": False})])
op("max_pool1d", lambda x, a: F.max_pool1d(x[0], a["kernel"], a["stride"], a["padding"], a["dilation"]),
   lambda: [S("k3", [rn(2, 3, 10)], {"kernel": 3, "stride": 2, "padding": 1, "dilation": 1})])
op("avg_pool2d", lambda x, a: F.avg_pool2d(x[0], a["kernel"], a["stride"], a["padding"], a["ceil_mode"], a["count_include_pad"]),
   lambda: [S("k2", [rn(2, 3, 6, 8)], {"kernel": [2, 2], "stride": [2, 2], "padding": [0, 0], "ceil_mode": False, "count_include_pad": True}),
            S("k3p1", [rn(1, 2, 7, 9)], {"kernel": [3, 3], "stride": [2, 2], "padding": [1, 1], "ceil_mode": True, "count_include_pad": True}),
            S("k3p1_exclude", [rn(1, 2, 7, 9)], {"kernel": [3, 2], "stride": [2, 1], "padding": [1, 1], "ceil_mode": False, "count_include_pad": False})])
op("avg_pool1d", lambda x, a: F.avg_pool1d(x[0], a["kernel"], a["stride"], a["padding"], False, a["count_include_pad"]),
   lambda: [S("k3", [rn(2, 3, 10)], {"kernel": 3, "stride": 2, "padding": 1, "count_include_pad": False})])
op("adaptive_avg_pool2d", lambda x, a: F.adaptive_avg_pool2d(x[0], a["size"]),
   lambda: [S("down", [rn(2, 3, 7, 9)], {"size": [3, 4]}), S("up", [rn(1, 2, 3, 2)], {"size": [5, 3]})])

# --- new spatial ops (issue 8) --------------------------------------------------------------------------------------
op("pad", lambda x, a: F.pad(x[0], a["pad"], a["mode"], a.get("value", 0.0)) if a["mode"] == "constant" else F.pad(x[0], a["pad"], a["mode"]),
   lambda: [S("constant", [rn(2, 3, 4, 5)], {"pad": [1, 2, 0, 3], "mode": "constant", "value": -1.5}),
            S("constant_crop", [rn(3, 6)], {"pad": [-1, 2, 1, -2], "mode": "constant", "value": 0.0}),
            S("constant_3d", [rn(2, 3, 4, 5)], {"pad": [1, 0, 0, 1, 2, 1], "mode": "constant", "value": 0.25}),
            S("reflect_1d", [rn(2, 3, 7)], {"pad": [3, 2], "mode": "reflect"}), S("reflect_2d", [rn(1, 2, 4, 5)], {"pad": [2, 1, 3, 3], "mode": "reflect"}),
            S("replicate_2d", [rn(2, 2, 3, 4)], {"pad": [2, 3, 1, 0], "mode": "replicate"}), S("replicate_3d", [rn(1, 1, 2, 3, 4)], {"pad": [1, 1, 2, 0, 0, 1], "mode": "replicate"}),
            S("circular_2d", [rn(1, 2, 3, 4)], {"pad": [2, 1, 3, 1], "mode": "circular"})])


def interpolate(x, a):
    kw = {"size": a["size"]} if "size" in a else {"scale_factor": a["scale"]}
    if "align_corners" in a:
        kw["align_corners"] = a["align_corners"]
    return F.interpolate(x[0], mode=a["mode"], **kw)


op("interpolate", interpolate,
   lambda: [S("nearest_up", [rn(2, 3, 4, 5)], {"mode": "nearest", "size": [7, 9]}), S("nearest_down", [rn(1, 2, 9, 7)], {"mode": "nearest", "size": [4, 3]}),
            S("nearest_scale", [rn(1, 2, 5, 6)], {"mode": "nearest", "scale": [1.5, 0.7]}), S("nearest_double", [rn(1, 1, 3, 4)], {"mode": "nearest", "scale": [2.0, 2.0]}),
            S("nearest_1d", [rn(2, 3, 5)], {"mode": "nearest", "size": [8]}), S("nearest_exact", [rn(1, 2, 5, 6)], {"mode": "nearest-exact", "size": [8, 4]}),
            S("bilinear_up", [rn(2, 2, 4, 5)], {"mode": "bilinear", "size": [7, 8], "align_corners": False}),
            S("bilinear_up_corners", [rn(2, 2, 4, 5)], {"mode": "bilinear", "size": [7, 8], "align_corners": True}),
            S("bilinear_down", [rn(1, 3, 9, 8)], {"mode": "bilinear", "size": [4, 5], "align_corners": False}),
            S("bilinear_down_corners", [rn(1, 3, 9, 8)], {"mode": "bilinear", "size": [4, 5], "align_corners": True}),
            S("bilinear_scale", [rn(1, 2, 5, 4)], {"mode": "bilinear", "scale": [1.7, 2.5], "align_corners": False}),
            S("bilinear_to_one", [rn(1, 1, 4, 3)], {"mode": "bilinear", "size": [1, 2], "align_corners": True}),
            S("linear_1d", [rn(2, 3, 6)], {"mode": "linear", "size": [10], "align_corners": False})])
op("pixel_shuffle", lambda x, a: F.pixel_shuffle(x[0], a["r"]), lambda: [S("r2", [rn(2, 8, 3, 4)], {"r": 2}), S("r3_unbatched", [rn(9, 2, 3)], {"r": 3})])
op("pixel_unshuffle", lambda x, a: F.pixel_unshuffle(x[0], a["r"]), lambda: [S("r2", [rn(2, 2, 6, 4)], {"r": 2}), S("r3_unbatched", [rn(1, 3, 6)], {"r": 3})])
op("unfold", lambda x, a: F.unfold(x[0], a["kernel"], a["dilation"], a["padding"], a["stride"]),
   lambda: [S("k3", [rn(2, 3, 5, 6)], {"kernel": [3, 3], "dilation": [1, 1], "padding": [0, 0], "stride": [1, 1]}),
            S("strided_padded", [rn(1, 2, 7, 6)], {"kernel": [2, 3], "dilation": [1, 2], "padding": [1, 2], "stride": [2, 1]}),
            S("unbatched", [rn(2, 4, 4)], {"kernel": [2, 2], "dilation": [1, 1], "padding": [0, 0], "stride": [2, 2]})])
op("fold", lambda x, a: F.fold(x[0], a["size"], a["kernel"], a["dilation"], a["padding"], a["stride"]),
   lambda: [S("k3", [rn(2, 27, 12)], {"size": [5, 6], "kernel": [3, 3], "dilation": [1, 1], "padding": [0, 0], "stride": [1, 1]}),
            S("strided_padded", [rn(1, 12, 24)], {"size": [7, 6], "kernel": [2, 3], "dilation": [1, 2], "padding": [1, 2], "stride": [2, 1]}),
            S("unbatched", [rn(8, 4)], {"size": [4, 4], "kernel": [2, 2], "dilation": [1, 1], "padding": [0, 0], "stride": [2, 2]})])
op("max_pool2d_with_indices", lambda x, a: F.max_pool2d(x[0], a["kernel"], a["stride"], a["padding"], a["dilation"], a["ceil_mode"], return_indices=True),
   lambda: [S("k2", [rn(2, 3, 6, 8)], {"kernel": [2, 2], "stride": [2, 2], "padding": [0, 0], "dilation": [1, 1], "ceil_mode": False}),
            S("k3s2p1", [rn(1, 2, 7, 9)], {"kernel": [3, 3], "stride": [2, 2], "padding": [1, 1], "dilation": [1, 1], "ceil_mode": True}),
            S("unbatched", [rn(2, 5, 6)], {"kernel": [2, 3], "stride": [1, 2], "padding": [1, 0], "dilation": [1, 1], "ceil_mode": False})])


def unpool_samples():
    out = []
    for name, shape, k, st, p, size in [("k2", (2, 3, 6, 8), 2, 2, 0, None), ("k3s2p1", (1, 2, 7, 9), 3, 2, 1, [7, 9]), ("sized", (1, 1, 5, 5), 2, 2, 0, [5, 5])]:
        v, i = F.max_pool2d(rn(*shape), k, st, p, return_indices=True)
        args = {"kernel": k, "stride": st, "padding": p}
        if size:
            args["size"] = size
        out.append(S(name, [rn(*v.shape), i], args))
    return out


op("max_unpool2d", lambda x, a: F.max_unpool2d(x[0], x[1], a["kernel"], a["stride"], a["padding"], a.get("size")), unpool_samples)
op("adaptive_max_pool2d", lambda x, a: F.adaptive_max_pool2d(x[0], a["size"], return_indices=True),
   lambda: [S("down", [rn(2, 3, 7, 9)], {"size": [3, 4]}), S("up", [rn(1, 2, 3, 2)], {"size": [5, 3]}), S("unbatched", [rn(2, 6, 6)], {"size": [4, 4]}),
            S("special", [special(rn(1, 1, 6, 7), {3: math.nan, 17: math.inf, 30: -math.inf})], {"size": [3, 3]})])
op("avg_pool2d_divisor", lambda x, a: F.avg_pool2d(x[0], a["kernel"], a["stride"], a["padding"], a["ceil_mode"], True, a["divisor"]),
   lambda: [S("k2", [rn(2, 3, 6, 8)], {"kernel": [2, 2], "stride": [2, 2], "padding": [0, 0], "ceil_mode": False, "divisor": 3}),
            S("k3p1_ceil", [rn(1, 2, 7, 9)], {"kernel": [3, 3], "stride": [2, 2], "padding": [1, 1], "ceil_mode": True, "divisor": 5})])
op("conv2d_same", lambda x, a: F.conv2d(x[0], x[1], x[2] if len(x) > 2 else None, 1, "same", a["dilation"], a["groups"]),
   lambda: [S("k3", [rn(2, 3, 6, 5), rn(4, 3, 3, 3), rn(4)], {"dilation": [1, 1], "groups": 1}),
            S("even_kernel", [rn(1, 2, 5, 6), rn(3, 2, 2, 4)], {"dilation": [1, 1], "groups": 1}),
            S("dilated_groups", [rn(1, 4, 7, 6), rn(4, 2, 3, 2), rn(4)], {"dilation": [2, 3], "groups": 2})])
op("conv1d_same", lambda x, a: F.conv1d(x[0], x[1], x[2] if len(x) > 2 else None, 1, "same", a["dilation"]),
   lambda: [S("k4", [rn(2, 3, 9), rn(2, 3, 4), rn(2)], {"dilation": 1}), S("dilated", [rn(1, 2, 8), rn(3, 2, 3)], {"dilation": 2})])


def instance_norm(x, a):
    rm, rv = (x[1].detach().clone(), x[2].detach().clone()) if a["running"] else (None, None)
    w, b = (x[3], x[4]) if len(x) > 3 else (None, None)
    y = F.instance_norm(x[0], rm, rv, w, b, a["use_input_stats"], 0.1, a["eps"])
    return (y, rm, rv) if a["running"] else y


op("instance_norm", instance_norm,
   lambda: [S("plain", [rn(2, 3, 4, 5)], {"running": False, "use_input_stats": True, "eps": 1e-5}),
            S("affine_1d", [rn(3, 2, 7), rn(2), un(0.5, 2, 2), rn(2), rn(2)], {"running": True, "use_input_stats": True, "eps": 1e-5}, grad=[0, 3, 4]),
            S("running_eval", [rn(2, 3, 4, 4), rn(3), un(0.5, 2, 3), rn(3), rn(3)], {"running": True, "use_input_stats": False, "eps": 1e-3}, grad=[0, 3, 4])])


def embedding_max_norm(x, a):
    w = x[1]
    y = F.embedding(x[0], w, max_norm=a["max_norm"], norm_type=a["norm_type"])
    return y, w.detach().clone()


op("embedding_max_norm", embedding_max_norm,
   lambda: [S("l2", [torch.tensor([[0, 2, 4], [4, 1, 0]]), rn(6, 3, scale=2.0)], {"max_norm": 1.5, "norm_type": 2.0}),
            S("l1", [torch.tensor([3, 3, 5, 0]), rn(6, 4)], {"max_norm": 2.0, "norm_type": 1.0})])

op("einsum", lambda x, a: torch.einsum(a["equation"], *x),
   lambda: [S("matmul", [rn(3, 4), rn(4, 5)], {"equation": "ij,jk->ik"}), S("implicit", [rn(3, 4), rn(4, 5)], {"equation": "ij,jk"}),
            S("batched", [rn(2, 3, 4), rn(2, 4, 5)], {"equation": "bij,bjk->bik"}), S("diagonal", [rn(4, 4)], {"equation": "ii->i"}),
            S("trace", [rn(5, 5)], {"equation": "ii"}), S("transpose", [rn(3, 4)], {"equation": "ij->ji"}), S("outer", [rn(3), rn(4)], {"equation": "i,j->ij"}),
            S("dot", [rn(6), rn(6)], {"equation": "i,i->"}), S("sum_all", [rn(3, 4)], {"equation": "ij->"}),
            S("bilinear", [rn(2, 3), rn(4, 3, 5), rn(2, 5)], {"equation": "bn,anm,bm->ba"}),
            S("ellipsis", [rn(2, 3, 4, 5), rn(3, 5, 6)], {"equation": "...ij,...jk->...ik"}), S("ellipsis_t", [rn(2, 3, 4)], {"equation": "...ij->...ji"}),
            S("broadcast_one", [rn(2, 1, 3, 4), rn(5, 4, 2)], {"equation": "...ij,...jk->...ik"}),
            S("batch_diag", [rn(2, 3, 3), rn(2, 3)], {"equation": "bii,bi->b"}), S("upper", [rn(2, 3), rn(3, 2)], {"equation": "Ab,bA->A"})])

# --- normalisation ---------------------------------------------------------------------------------------------------
op("layer_norm", lambda x, a: F.layer_norm(x[0], a["shape"], *(x[1:] + [None] * (3 - len(x))), eps=a["eps"]),
   lambda: [S("affine", [rn(3, 4, 5), rn(5), rn(5)], {"shape": [5], "eps": 1e-5}), S("two_dims", [rn(2, 3, 4), rn(3, 4), rn(3, 4)], {"shape": [3, 4], "eps": 1e-3}),
            S("plain", [rn(4, 37)], {"shape": [37], "eps": 1e-5})])
op("rms_norm", lambda x, a: x[0] * torch.rsqrt(x[0].pow(2).mean(list(range(-len(a["shape"]), 0)), keepdim=True) + a["eps"]) * (x[1] if len(x) > 1 else 1),
   lambda: [S("affine", [rn(3, 4, 5), rn(5)], {"shape": [5], "eps": 1e-6}), S("plain", [rn(4, 37)], {"shape": [37], "eps": 1e-5})])
def batch_norm(x, a):
    """The output and, when given, the running statistics after the call (updated in place)."""
    rm, rv = (x[1].detach().clone(), x[2].detach().clone()) if a["running"] else (None, None)
    y = F.batch_norm(x[0], rm, rv, x[3] if len(x) > 3 else None, x[4] if len(x) > 4 else None, a["training"], 0.1, a["eps"])
    return (y, rm, rv) if a["running"] else y


op("batch_norm", batch_norm,
   lambda: [S("train", [rn(4, 3, 5), rn(3), un(0.5, 2, 3), rn(3), rn(3)], {"running": True, "training": True, "eps": 1e-5}, grad=[0, 3, 4]),
            S("eval", [rn(2, 3, 4, 4), rn(3), un(0.5, 2, 3), rn(3), rn(3)], {"running": True, "training": False, "eps": 1e-5}, grad=[0, 3, 4]),
            S("batch_only", [rn(5, 4)], {"running": False, "training": True, "eps": 1e-3})])
op("group_norm", lambda x, a: F.group_norm(x[0], a["groups"], *(x[1:] + [None] * (3 - len(x))), eps=a["eps"]),
   lambda: [S("affine", [rn(2, 6, 5), rn(6), rn(6)], {"groups": 3, "eps": 1e-5}), S("plain", [rn(3, 4, 2, 3)], {"groups": 2, "eps": 1e-5})])

# --- embedding, dropout ------------------------------------------------------------------------------------------------
op("embedding", lambda x, a: F.embedding(x[0], x[1], a.get("padding_idx")),
   lambda: [S("plain", [ints(0, 7, 3, 4), rn(7, 5)]), S("padding", [torch.tensor([[0, 2, 0], [4, 2, 1]]), rn(5, 3)], {"padding_idx": 2})])
op("one_hot", lambda x, a: F.one_hot(x[0], a["classes"]), lambda: [S("given", [ints(0, 5, 2, 3)], {"classes": 6}, exact=True)], grad=False)
op("dropout_eval", lambda x, a: F.dropout(x[0], 0.5, False), lambda: [S("block", [rn(3, 4)])])

# --- losses --------------------------------------------------------------------------------------------------------------
RED = ["none", "mean", "sum"]


def loss_samples(make, reductions=RED):
    return lambda: [S(r, make(), {"reduction": r}) for r in reductions]


op("mse_loss", lambda x, a: F.mse_loss(x[0], x[1], reduction=a["reduction"]), loss_samples(lambda: [rn(4, 5), rn(4, 5)]))
op("l1_loss", lambda x, a: F.l1_loss(x[0], x[1], reduction=a["reduction"]), loss_samples(lambda: [rn(4, 5), rn(4, 5)]))
op("smooth_l1_loss", lambda x, a: F.smooth_l1_loss(x[0], x[1], reduction=a["reduction"], beta=0.5), loss_samples(lambda: [rn(4, 5), rn(4, 5)]))
op("huber_loss", lambda x, a: F.huber_loss(x[0], x[1], reduction=a["reduction"], delta=0.7), loss_samples(lambda: [rn(4, 5), rn(4, 5)]))
op("binary_cross_entropy", lambda x, a: F.binary_cross_entropy(x[0], x[1], x[2] if len(x) > 2 else None, reduction=a["reduction"]),
   lambda: [S(r, [un(0.05, 0.95, 4, 5), un(0, 1, 4, 5)], {"reduction": r}) for r in RED] + [S("weighted", [un(0.05, 0.95, 3, 4), un(0, 1, 3, 4), un(0.5, 2, 4)], {"reduction": "mean"}, grad=[0, 1])])
op("binary_cross_entropy_with_logits", lambda x, a: F.binary_cross_entropy_with_logits(x[0], x[1], x[2] if a.get("weight") else None, reduction=a["reduction"],
                                                                                      pos_weight=x[-1] if a.get("pos_weight") else None),
   lambda: [S(r, [rn(4, 5, scale=3.0), un(0, 1, 4, 5)], {"reduction": r}) for r in RED]
   + [S("weighted", [rn(3, 4), un(0, 1, 3, 4), un(0.5, 2, 4), un(0.5, 3, 4)], {"reduction": "mean", "weight": True, "pos_weight": True}, grad=[0, 1])])
op("kl_div", lambda x, a: F.kl_div(x[0], x[1], reduction=a["reduction"], log_target=a["log_target"]),
   lambda: [S(r, [rn(3, 5).log_softmax(1), rn(3, 5).softmax(1)], {"reduction": r, "log_target": False}) for r in RED + ["batchmean"]]
   + [S("log_target", [rn(3, 5).log_softmax(1), rn(3, 5).log_softmax(1)], {"reduction": "sum", "log_target": True})])
op("cross_entropy", lambda x, a: F.cross_entropy(x[0], x[1], x[2] if len(x) > 2 else None, ignore_index=a.get("ignore_index", -100),
                                                 reduction=a["reduction"], label_smoothing=a.get("smoothing", 0.0)),
   lambda: [S(r, [rn(5, 7), ints(0, 7, 5)], {"reduction": r}) for r in RED]
   + [S("weighted_ignore", [rn(6, 4), torch.tensor([0, 3, 1, 3, 2, 1]), un(0.5, 2, 4)], {"reduction": "mean", "ignore_index": 3}, grad=[0]),
      S("smoothing", [rn(5, 6), ints(0, 6, 5)], {"reduction": "mean", "smoothing": 0.1}),
      S("spatial", [rn(2, 4, 3, 3), ints(0, 4, 2, 3, 3)], {"reduction": "mean"}),
      S("probabilities", [rn(4, 5), rn(4, 5).softmax(1)], {"reduction": "mean"}, grad=[0])])
op("nll_loss", lambda x, a: F.nll_loss(x[0], x[1], x[2] if len(x) > 2 else None, ignore_index=a.get("ignore_index", -100), reduction=a["reduction"]),
   lambda: [S(r, [rn(5, 7).log_softmax(1), ints(0, 7, 5)], {"reduction": r}) for r in RED]
   + [S("weighted_ignore", [rn(6, 4).log_softmax(1), torch.tensor([0, 3, 1, 3, 2, 1]), un(0.5, 2, 4)], {"reduction": "mean", "ignore_index": 3}, grad=[0])])
op("cosine_embedding_loss", lambda x, a: F.cosine_embedding_loss(x[0], x[1], x[2], a["margin"], reduction=a["reduction"]),
   lambda: [S(r, [rn(5, 4), rn(5, 4), torch.tensor([1.0, -1.0, 1.0, -1.0, -1.0]).double()], {"margin": 0.1, "reduction": r}, grad=[0, 1]) for r in RED])
op("margin_ranking_loss", lambda x, a: F.margin_ranking_loss(x[0], x[1], x[2], a["margin"], reduction=a["reduction"]),
   lambda: [S(r, [rn(6), rn(6), torch.tensor([1.0, -1, 1, -1, 1, 1]).double()], {"margin": 0.3, "reduction": r}, grad=[0, 1]) for r in RED])
op("triplet_margin_loss", lambda x, a: F.triplet_margin_loss(x[0], x[1], x[2], a["margin"], a["p"], 1e-6, a["swap"], reduction=a["reduction"]),
   lambda: [S("p2", [rn(4, 5), rn(4, 5), rn(4, 5)], {"margin": 1.0, "p": 2.0, "swap": False, "reduction": "mean"}),
            S("p1_swap", [rn(4, 5), rn(4, 5), rn(4, 5)], {"margin": 0.5, "p": 1.0, "swap": True, "reduction": "none"})])

# --- new losses (issue 8) ------------------------------------------------------------------------------------------
op("poisson_nll_loss", lambda x, a: F.poisson_nll_loss(x[0], x[1], a["log_input"], a["full"], reduction=a["reduction"]),
   lambda: [S(f"log_{r}", [rn(4, 5), un(0, 4, 4, 5).round()], {"log_input": True, "full": False, "reduction": r}) for r in RED]
   + [S("rate", [un(0.2, 3, 3, 4), un(0, 5, 3, 4).round()], {"log_input": False, "full": False, "reduction": "mean"}),
      S("full", [rn(3, 4), un(0, 6, 3, 4).round()], {"log_input": True, "full": True, "reduction": "sum"})])
op("gaussian_nll_loss", lambda x, a: F.gaussian_nll_loss(x[0], x[1], x[2], a["full"], a["eps"], a["reduction"]),
   lambda: [S(r, [rn(4, 3), rn(4, 3), un(0.2, 2, 4, 3)], {"full": False, "eps": 1e-6, "reduction": r}) for r in RED]
   + [S("per_sample", [rn(5, 3), rn(5, 3), un(0.2, 2, 5, 1)], {"full": True, "eps": 1e-6, "reduction": "mean"}),
      S("per_sample_flat", [rn(5, 3), rn(5, 3), un(0.2, 2, 5)], {"full": False, "eps": 1e-6, "reduction": "sum"}),
      S("clamped", [rn(2, 4), rn(2, 4), torch.tensor([[0.5, 1e-8, 2.0, 0.0], [1.0, 0.25, 3e-7, 0.7]]).double()], {"full": False, "eps": 1e-6, "reduction": "none"})])
op("hinge_embedding_loss", lambda x, a: F.hinge_embedding_loss(x[0], x[1], a["margin"], reduction=a["reduction"]),
   lambda: [S(r, [un(0, 2, 4, 5), torch.where(torch.rand(4, 5, generator=G) < 0.5, -1.0, 1.0).double()], {"margin": 1.2, "reduction": r}) for r in RED])
op("soft_margin_loss", lambda x, a: F.soft_margin_loss(x[0], x[1], reduction=a["reduction"]),
   lambda: [S(r, [rn(4, 5, scale=2.0), torch.where(torch.rand(4, 5, generator=G) < 0.5, -1.0, 1.0).double()], {"reduction": r}, grad=[0]) for r in RED])
op("multi_margin_loss", lambda x, a: F.multi_margin_loss(x[0], x[1], a["p"], a["margin"], x[2] if len(x) > 2 else None, reduction=a["reduction"]),
   lambda: [S(f"p1_{r}", [rn(5, 4), ints(0, 4, 5)], {"p": 1, "margin": 1.0, "reduction": r}) for r in RED]
   + [S("p2_weighted", [rn(6, 5), ints(0, 5, 6), un(0.5, 2, 5)], {"p": 2, "margin": 0.7, "reduction": "mean"}, grad=[0]),
      S("vector", [rn(4), torch.tensor(2)], {"p": 1, "margin": 1.0, "reduction": "sum"})])


def ctc(x, a):
    return F.ctc_loss(x[0].log_softmax(2), x[1], a["input_lengths"], a["target_lengths"], a["blank"], a["reduction"], a["zero_infinity"])


def ctc_samples():
    T, N, C = 12, 3, 5
    padded = torch.tensor([[1, 2, 2, 3], [4, 1, 0, 0], [3, 3, 3, 1]])
    out = [S(r, [rn(T, N, C), padded], {"input_lengths": [12, 9, 11], "target_lengths": [4, 2, 4], "blank": 0, "reduction": r, "zero_infinity": False})
           for r in RED]
    out.append(S("concatenated", [rn(T, N, C), torch.tensor([1, 2, 2, 3, 4, 1, 3, 3, 3, 1])],
                 {"input_lengths": [12, 9, 11], "target_lengths": [4, 2, 4], "blank": 0, "reduction": "mean", "zero_infinity": False}))
    out.append(S("blank_last_empty", [rn(8, 2, 4), torch.tensor([[0, 1, 0], [2, 2, 2]])],
                 {"input_lengths": [8, 5], "target_lengths": [3, 0], "blank": 3, "reduction": "sum", "zero_infinity": False}))
    out.append(S("zero_infinity", [rn(6, 2, 4), torch.tensor([[1, 1, 1, 1], [2, 3, 0, 0]])],
                 {"input_lengths": [6, 6], "target_lengths": [4, 2], "blank": 0, "reduction": "none", "zero_infinity": True}))
    return out


op("ctc_loss", ctc, ctc_samples)

# --- recurrent ---------------------------------------------------------------------------------------------------------


def recurrent(x, a):
    # torch._VF is what nn.LSTM/GRU/RNN.forward call with their flat weights (functional_call cannot swap those in 1.13).
    cell = a["cell"]
    f = {"lstm": torch._VF.lstm, "gru": torch._VF.gru, "rnn_tanh": torch._VF.rnn_tanh, "rnn_relu": torch._VF.rnn_relu}[cell]
    hx = (x[5].unsqueeze(0), x[6].unsqueeze(0)) if cell == "lstm" else x[5].unsqueeze(0)
    out = f(x[0], hx, x[1:5], True, 1, 0.0, False, False, a["batch_first"])
    return (out[0], out[1][0], out[2][0]) if cell == "lstm" else (out[0], out[1][0])


def recurrent_samples():
    out = []
    for cell, g in [("lstm", 4), ("gru", 3), ("rnn_tanh", 1), ("rnn_relu", 1)]:
        T, B, I, H = 5, 3, 4, 6
        extra = [rn(B, H)] if cell == "lstm" else []
        out.append(S(cell, [rn(T, B, I), rn(g * H, I, scale=0.4), rn(g * H, H, scale=0.4), rn(g * H, scale=0.4), rn(g * H, scale=0.4), rn(B, H)] + extra,
                     {"cell": cell, "batch_first": cell == "gru"}))
    out[1].inputs[0] = out[1].inputs[0].transpose(0, 1).contiguous()
    return out


op("recurrent_layer", recurrent, recurrent_samples)


def main():
    os.makedirs(OUT, exist_ok=True)
    names = sys.argv[1:] or list(OPS)
    for n in names:
        build(n)
    if not sys.argv[1:]:
        stale = {f[:-len(".safetensors")] for f in os.listdir(OUT) if f.endswith(".safetensors")} - set(OPS)
        for n in stale:
            os.remove(os.path.join(OUT, n + ".safetensors"))
    print(f"wrote {len(names)} ops to {OUT}")


if __name__ == "__main__":
    main()
