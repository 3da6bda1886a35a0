"""Reconciliation benchmark: efficiency f = leak / (n h2(KDR)) and time per block.

For each block length n and KDR it draws ``--seeds`` independent pairs (uniform BS bits, the
user's bits with i.i.d. flips at the KDR), runs :func:`nfkg.reconciliation.reconcile` with hard
decisions (``p_err`` = the nominal KDR, default rate schedule) and reports the median
efficiency against the *measured* disagreement rate, the success count (success and every bit
equal to the BS's) and the median wall time per block (code construction, syndromes and BP).

Run directly: ``.venv/bin/python benchmarks/bench_reconciliation.py [--n 10000 100000]
[--kdr 0.01 0.02 0.05 0.1] [--seeds 5] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from nfkg.reconciliation import efficiency, reconcile


def run(n: int, kdr: float, seeds: int) -> dict:
    fs, ts, ok, inc = [], [], 0, []
    for s in range(seeds):
        rng = np.random.default_rng([n, int(kdr * 1e6), s])
        a = rng.integers(0, 2, n).astype(np.uint8)
        b = a ^ (rng.random(n) < kdr).astype(np.uint8)
        t0 = time.perf_counter()
        r = reconcile(a, b, kdr, seed=s)
        ts.append(time.perf_counter() - t0)
        good = r.success and bool(np.array_equal(r.bits, a))
        ok += good
        inc.append(r.increments)
        fs.append(float(efficiency(r.leaked_bits, n, float(np.mean(a != b)))) if good else np.inf)
    return {"n": n, "kdr": kdr, "seeds": seeds, "success": ok, "f_median": float(np.median(fs)),
            "f_all": [round(f, 4) for f in fs], "increments": inc,
            "time_median_s": float(np.median(ts)), "time_max_s": float(np.max(ts))}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--kdr", type=float, nargs="+", default=[0.01, 0.02, 0.05, 0.10])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    rows = []
    print(f"{'n':>7} {'KDR':>5} {'ok':>4} {'f median':>9} {'f per seed':<40} {'t median [s]':>12}")
    for n in args.n:
        for kdr in args.kdr:
            r = run(n, kdr, args.seeds)
            rows.append(r)
            print(f"{n:>7} {kdr:>5.2f} {r['success']:>2}/{r['seeds']} {r['f_median']:>9.3f} "
                  f"{str(r['f_all']):<40} {r['time_median_s']:>12.2f}", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
