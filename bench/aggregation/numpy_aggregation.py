#!/usr/bin/python3
"""The reference for aggregation_bench --scale: the same reductions in numpy.

    numpy_aggregation.py PARAMS UPDATES RULE [RULE ...]

Builds a global model of PARAMS float32 values in [-0.5, 0.5) and UPDATES
updates within +-0.01 of it, as aggregation_bench does (16 distinct updates,
cycled, as there; the robust rules stack all UPDATES rows), then times each
RULE the way a numpy user would write it: fedavg, fedavgm, fedadam (the
sample-weighted mean of the deltas, then the server step), median,
trimmed_mean (beta 0.2, np.partition), krum (f = 10% of the updates,
distances from the Gram matrix of the deltas, one BLAS call). Prints one JSON
object: {"RULE": best seconds of 2, ...}. Debian's python3-numpy; its
BLAS is the system's (OpenBLAS from install-deps.sh).
"""
import json
import sys
import time

import numpy as np

POOL = 16


def make_inputs(params, updates):
    rng = np.random.default_rng(1)
    glob = rng.random(params, dtype=np.float32) - np.float32(0.5)
    pool = [glob + np.float32(0.02) * (rng.random(params, dtype=np.float32) -
                                       np.float32(0.5)) for _ in range(POOL)]
    samples = 100 + np.arange(updates, dtype=np.float32)
    return glob, pool, samples


def weighted_mean_delta(glob, pool, samples):
    acc = np.zeros_like(glob)
    for k, w in enumerate(samples):
        acc += w * (pool[k % POOL] - glob)
    return acc / samples.sum()


def fedavg(glob, pool, samples, state):
    return glob + weighted_mean_delta(glob, pool, samples)


def fedavgm(glob, pool, samples, state):
    d = weighted_mean_delta(glob, pool, samples)
    v = state.setdefault("v", np.zeros_like(glob))
    v *= np.float32(0.9)
    v += d
    return glob + v


def fedadam(glob, pool, samples, state):
    d = weighted_mean_delta(glob, pool, samples)
    m = state.setdefault("m", np.zeros_like(glob))
    v = state.setdefault("v", np.zeros_like(glob))
    m *= np.float32(0.9)
    m += np.float32(0.1) * d
    v *= np.float32(0.99)
    v += np.float32(0.01) * d * d
    return glob + np.float32(0.1) * m / (np.sqrt(v) + np.float32(1e-9))


def stacked(glob, pool, updates):
    return np.stack([pool[k % POOL] for k in range(updates)])


def median(glob, x, samples, state):
    return np.median(x, axis=0)


def trimmed_mean(glob, x, samples, state):
    n = x.shape[0]
    cut = int(0.2 * n)
    part = np.partition(x, (cut, n - cut - 1), axis=0)
    return part[cut:n - cut].mean(axis=0)


def krum(glob, x, samples, state):
    n = x.shape[0]
    f = n // 10
    d = x - glob
    sq = np.einsum("ij,ij->i", d, d)
    gram = d @ d.T
    dist = sq[:, None] + sq[None, :] - 2 * gram
    np.fill_diagonal(dist, np.inf)
    closest = np.sort(dist, axis=1)[:, :n - f - 2]
    return x[np.argmin(closest.sum(axis=1))]


RULES = {"fedavg": fedavg, "fedavgm": fedavgm, "fedadam": fedadam,
         "median": median, "trimmed_mean": trimmed_mean, "krum": krum}
STACKED = {"median", "trimmed_mean", "krum"}


def main():
    params, updates = int(sys.argv[1]), int(sys.argv[2])
    glob, pool, samples = make_inputs(params, updates)
    x = None
    out = {}
    for rule in sys.argv[3:]:
        fn = RULES[rule]
        if rule in STACKED and x is None:
            x = stacked(glob, pool, updates)
        data = x if rule in STACKED else pool
        best = float("inf")
        for _ in range(2):
            t0 = time.perf_counter()
            fn(glob, data, samples, {})
            best = min(best, time.perf_counter() - t0)
        out[rule] = best
    print(json.dumps(out))


if __name__ == "__main__":
    main()
