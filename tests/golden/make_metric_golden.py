#!/usr/bin/python3
"""Golden values for Loom's classification metrics, from scikit-learn (Debian python3-sklearn).

Run by hand:  /usr/bin/python3 tests/golden/make_metric_golden.py
Writes tests/golden/metrics.json (committed; CI needs no Python). Everything is float64, so Loom can match to 1e-12.

roc_auc: each case holds predictions [N, C] (logits, or probabilities when "probabilities" is true), integer
targets [N], and scikit-learn's roc_auc_score of the class probabilities (softmax of the logits) for one-vs-rest and
one-vs-one, macro and weighted. scikit-learn refuses multi-class targets that miss a class; for such a case the
expected values are built from its binary roc_auc_score, class by class (OvR) and pair by pair (OvO), over the
classes present, which is what Loom computes.
"""
import itertools, json, os
import numpy as np
from sklearn.metrics import roc_auc_score

rng = np.random.default_rng(7)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def expected(p, y):
    c = p.shape[1]
    if c == 2:
        v = roc_auc_score(y, p[:, 1])
        return {"ovr_macro": v, "ovr_weighted": v, "ovo_macro": v, "ovo_weighted": v}
    present = sorted(set(y.tolist()))
    if len(present) == c:
        return {f"{m}_{a}": roc_auc_score(y, p, multi_class=m, average=a) for m in ("ovr", "ovo") for a in ("macro", "weighted")}
    ovr = [roc_auc_score(y == k, p[:, k]) for k in present]
    support = [np.sum(y == k) for k in present]
    pairs, prevalence = [], []
    for a, b in itertools.combinations(present, 2):
        ab = (y == a) | (y == b)
        pairs.append((roc_auc_score(y[ab] == a, p[ab, a]) + roc_auc_score(y[ab] == b, p[ab, b])) / 2)
        prevalence.append(np.mean(ab))
    return {"ovr_macro": np.mean(ovr), "ovr_weighted": np.average(ovr, weights=support),
            "ovo_macro": np.mean(pairs), "ovo_weighted": np.average(pairs, weights=prevalence)}


def case(name, scores, y, probabilities):
    p = scores if probabilities else softmax(scores)
    return {"name": name, "probabilities": probabilities, "classes": scores.shape[1],
            "predictions": scores.tolist(), "targets": y.tolist(),
            "expected": {k: float(v) for k, v in expected(p, y).items()}}


cases = []
# Logits, as a classifier outputs them: ranking by a raw logit is not ranking by its probability. Imbalanced, as
# with balanced classes OvO macro equals OvR macro and weighted equals macro.
y = rng.choice(4, size=60, p=[0.4, 0.3, 0.2, 0.1])
cases.append(case("logits_4_classes_imbalanced", rng.normal(size=(60, 4)) * 2 + np.eye(4)[y] * 1.5, y, False))
# Probabilities from small counts, so that many scores tie.
y = rng.choice(3, size=45, p=[0.5, 0.3, 0.2])
counts = rng.integers(0, 4, size=(45, 3)) + np.eye(3, dtype=int)[y] * 2
counts[counts.sum(axis=1) == 0, 0] = 1
cases.append(case("tied_probabilities_3_classes_imbalanced", counts / counts.sum(axis=1, keepdims=True), y, True))
# Two classes from two logits: the AUC of P(class 1), which ranks by z1 - z0, not by z1.
y = rng.integers(0, 2, size=30)
cases.append(case("logits_2_classes", rng.normal(size=(30, 2)) + np.stack([np.zeros(30), y * 1.5], axis=1), y, False))
# Five classes of which one never occurs in the targets.
y = rng.choice([0, 1, 2, 4], size=50)
cases.append(case("logits_5_classes_one_absent", rng.normal(size=(50, 5)) + np.eye(5)[y], y, False))

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "metrics.json")
with open(path, "w") as f:
    json.dump({"roc_auc": cases}, f, indent=1)
print("wrote", path)
