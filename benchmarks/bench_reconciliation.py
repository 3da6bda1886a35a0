"""Reconciliation benchmark: efficiency f, failures and time per block of :func:`nfkg.protocol.reconciliation.reconcile`.

Parts (``--part``, several allowed; default ``soft timing``):

``soft``
    Calibrated soft information, as multilevel reconciliation hands it over: the BS's bits
    uniform, per-bit error probabilities :math:`p_i = \\Phi(-c\\,D_i)` with :math:`D_i` the
    distance of the user's sample to the nearest quantiser threshold (uniform in a cell,
    ``--soft-kind uniform``; or half-normal, ``normal``) and the user's bit flipped with
    probability :math:`p_i` (so the :math:`p_i` are exactly calibrated); ``c`` is solved for a
    mean :math:`h = \\overline{h_2(p_i)}`. For each ``--h`` and rate schedule
    (``--schedules``: ``keygen`` = 1.25 / 0.1 / 3.0 with 50 iterations, the protocol's so
    far; ``old`` = 1.1 / 0.05 / 1.6, the former defaults; ``default`` = the function's
    defaults, ``f_start='auto'`` / 0.01 / 2.0; ``fine`` = ``'auto'`` / 0.01 growing by 5 %
    per failure up to 3.0 with 100 iterations, the recommended one; ``fine1`` = ``fine``
    from 1.0; ``split`` = ``fine`` with ``adapt='split'``)
    it reports the mean and median
    :math:`f = \\text{leak} / \\sum_i h_2(p_i)`, the failures (BP did not converge up to
    ``f_max``), the wrong blocks (reported success, bits differ: caught by key confirmation)
    and the mean time per block.
``timing``
    Where the time goes at ``--n`` (default :math:`10^5`) and h = 0.05 / 0.3 / 0.7 (soft):
    code construction (first block and one extension, uncached and cached) and one BP decoding
    at the rate a fine schedule ends at, for the numpy decoder and ``ldpc.BpDecoder``, with
    product-sum and min-sum (scaling 0.75, and 0 = ``ldpc``'s adaptive :math:`1-2^{-t}`).
``grid``
    Robustness: KDR in {0, 1e-5, 1e-4, 2e-4, 1e-3, 1e-2, 0.1, 0.3, 0.5} x n in {1000, 20000}
    x hard / soft ``p_err`` x ``--seeds`` seeds with the protocol's schedule: exceptions (must
    be 0), successes and the median f.
``hard``
    Hard decisions (``p_err`` = the nominal KDR, default schedule), the figure of merit
    :math:`f = \\text{leak} / (n\\,h_2(\\mathrm{KDR}))` against the measured KDR.

Run directly: ``.venv/bin/python benchmarks/bench_reconciliation.py [--part soft timing grid hard]
[--n 100000] [--h 0.02 0.1 0.3 0.5 0.7 0.9] [--seeds 5] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr

from nfkg.protocol.reconciliation import (_Graph, _bp_ldpc, _bp_numpy, _P_FLOOR, binary_entropy, clear_code_cache,
                                 degree_profile, efficiency, extend_code, make_code, reconcile)

#: Rate schedules compared (keywords of reconcile).
SCHEDULES = {
    "keygen": {"f_start": 1.25, "f_step": 0.1, "f_max": 3.0, "max_iter": 50},          # the protocol's so far
    "old": {"f_start": 1.1, "f_step": 0.05, "f_max": 1.6, "max_iter": 100},            # the former defaults
    "default": {},                                                                     # auto / 0.01 / 2.0, 100
    "fine": {"f_step": 0.01, "f_growth": 1.05, "f_max": 3.0, "max_iter": 100},         # recommended
    "fine1": {"f_start": 1.0, "f_step": 0.01, "f_growth": 1.05, "f_max": 3.0, "max_iter": 100},
    "split": {"f_step": 0.01, "f_growth": 1.05, "f_max": 3.0, "max_iter": 100, "adapt": "split"},
}

_GRID_U = (np.arange(20_000) + 0.5) / 20_000


def _distances(kind: str) -> np.ndarray:
    if kind == "uniform":
        return _GRID_U
    from scipy.special import ndtri
    return np.abs(ndtri(0.5 + 0.5 * _GRID_U))


def soft_scale(h: float, kind: str = "uniform") -> float:
    """``c`` with mean h2(Phi(-c D)) = h over the distance distribution ``kind``."""
    d = _distances(kind)
    return brentq(lambda c: float(np.mean(binary_entropy(ndtr(-c * d)))) - h, 1e-6, 1e4)


def soft_pair(n: int, h: float, seed, kind: str = "uniform") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """BS bits, user bits, calibrated per-bit error probabilities with mean entropy ~h."""
    c = soft_scale(h, kind)
    rng = np.random.default_rng(seed)
    dist = rng.random(n) if kind == "uniform" else np.abs(rng.standard_normal(n))
    p = ndtr(-c * dist)
    a = rng.integers(0, 2, n).astype(np.uint8)
    b = a ^ (rng.random(n) < p).astype(np.uint8)
    return a, b, p


def hard_pair(n: int, kdr: float, seed) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, n).astype(np.uint8)
    return a, a ^ (rng.random(n) < kdr).astype(np.uint8)


def part_soft(ns, hs, seeds, schedules, kind) -> list[dict]:
    rows = []
    print(f"\nsoft information ({kind} distances): f = leak / sum h2(p_i)")
    print(f"{'n':>7} {'h':>5} {'schedule':>8} {'f mean':>7} {'f med':>6} {'f max':>6} {'fail':>5} {'wrong':>5} "
          f"{'incr':>5} {'t/block [s]':>11}")
    for n in ns:
        for h in hs:
            for name in schedules:
                fs, ts, fail, wrong, inc = [], [], 0, 0, []
                for s in range(seeds):
                    a, b, p = soft_pair(n, h, [n, int(h * 1e6), s], kind)
                    t0 = time.perf_counter()
                    r = reconcile(a, b, p, seed=1000 + s, **SCHEDULES[name])
                    ts.append(time.perf_counter() - t0)
                    inc.append(r.increments)
                    if not r.success:
                        fail += 1
                    elif not np.array_equal(r.bits, a):
                        wrong += 1
                    else:
                        fs.append(r.leaked_bits / float(np.sum(binary_entropy(p))))
                row = {"n": n, "h": h, "schedule": name, "seeds": seeds, "f_mean": float(np.mean(fs)) if fs else None,
                       "f_median": float(np.median(fs)) if fs else None, "f_max": float(np.max(fs)) if fs else None,
                       "failures": fail, "wrong": wrong, "increments_mean": float(np.mean(inc)),
                       "time_mean_s": float(np.mean(ts)), "f_all": [round(f, 4) for f in fs]}
                rows.append(row)
                fm = "-" if not fs else f"{row['f_mean']:7.3f} {row['f_median']:6.3f} {row['f_max']:6.3f}"
                print(f"{n:>7} {h:>5.2f} {name:>8} {fm:>21} {fail:>5} {wrong:>5} {row['increments_mean']:>5.1f} "
                      f"{row['time_mean_s']:>11.2f}", flush=True)
    return rows


def _timed(fn, *args, **kw):
    t0 = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t0


def part_timing(n: int, hs=(0.05, 0.3, 0.7), kind: str = "uniform", seeds: int = 2) -> list[dict]:
    """Per h: code construction (first block, one extension, cached lookup); one BP decoding
    of a fresh code at f = 1.15 per decoder and BP variant (ms per iteration); and whole
    blocks with the recommended schedule per BP variant (f reached, seconds, attempts), the
    second pass over the same blocks and seeds hitting the code cache."""
    rows = []
    variants = (("product_sum", 0.75), ("minimum_sum", 0.75), ("minimum_sum", 0.0))
    print(f"\ntiming at n = {n} (soft, {kind})")
    for h in hs:
        a, b, p = soft_pair(n, h, [n, int(h * 1e6), 99], kind)
        hh = float(np.mean(binary_entropy(p)))
        prof = degree_profile(hh, soft=True)
        m0 = int(np.ceil(1.03 * n * hh))
        clear_code_cache()
        code, t_make = _timed(make_code, n, m0, 7, prof)
        _, t_ext = _timed(extend_code, code, max(1, int(0.01 * n * hh)))
        _, t_make_cached = _timed(make_code, n, m0, 7, prof)
        res = {"n": n, "h": round(hh, 4), "m0": m0, "nnz": int(code.H.nnz), "make_s": t_make, "extend_s": t_ext,
               "make_cached_s": t_make_cached, "decode": {}, "blocks": {}}
        print(f"h = {hh:.3f}: m0 = {m0}, {code.H.nnz} edges; make_code {t_make:.2f} s, cached {t_make_cached * 1e3:.3f} ms;"
              f" extend_code (1 %) {t_ext:.3f} s")
        dcode = make_code(n, int(np.ceil(1.15 * n * hh)), 8, prof)
        channel = np.clip(p, _P_FLOOR, 0.5)
        llr = np.log1p(-channel) - np.log(channel)
        target = dcode.syndrome(a ^ b)
        graph = _Graph(dcode.H)
        for engine in ("numpy", "ldpc"):
            for method, alpha in variants:
                if engine == "numpy":
                    (e, conv, it, _), t = _timed(_bp_numpy, graph, target, llr, 200, method, alpha)
                else:
                    (e, conv, it), t = _timed(_bp_ldpc, dcode, target, channel, 200, method, alpha, "parallel")
                ok = bool(conv and np.array_equal(e, a ^ b))
                key = f"{engine}/{method}/{alpha}"
                res["decode"][key] = {"seconds": t, "iterations": it, "ms_per_iteration": 1e3 * t / max(it, 1),
                                      "success": ok}
                print(f"    one decoding at f = 1.15, {key:>26}: {t:6.2f} s, {it:3d} it, "
                      f"{1e3 * t / max(it, 1):6.1f} ms/it, {'ok' if ok else 'FAILED'}", flush=True)
        for method, alpha in variants:
            for rep in ("cold", "cached"):
                if rep == "cold":
                    clear_code_cache()
                fs, ts, inc, bad = [], [], [], 0
                for s in range(seeds):
                    a2, b2, p2 = soft_pair(n, h, [n, int(h * 1e6), 50 + s], kind)
                    r, t = _timed(reconcile, a2, b2, p2, 11 + s, bp_method=method, ms_scaling_factor=alpha,
                                  **SCHEDULES["fine"])
                    ts.append(t)
                    inc.append(r.increments)
                    if r.success and np.array_equal(r.bits, a2):
                        fs.append(r.f)
                    else:
                        bad += 1
                key = f"{method}/{alpha}/{rep}"
                res["blocks"][key] = {"f_mean": float(np.mean(fs)) if fs else None, "seconds_mean": float(np.mean(ts)),
                                      "increments_mean": float(np.mean(inc)), "failed": bad}
                print(f"    blocks, recommended schedule, {key:>26}: f {np.mean(fs) if fs else float('nan'):.3f}, "
                      f"{np.mean(ts):5.2f} s/block, {np.mean(inc):4.1f} attempts, {bad} failed", flush=True)
        rows.append(res)
    return rows


def part_grid(seeds: int) -> list[dict]:
    rows = []
    print("\nrobustness grid, protocol schedule (keygen): exceptions / successes / median f")
    for kdr in (0.0, 1e-5, 1e-4, 2e-4, 1e-3, 1e-2, 0.1, 0.3, 0.5):
        for n in (1000, 20_000):
            for soft in (False, True):
                exc, ok, fs, ts = 0, 0, [], []
                for s in range(seeds):
                    rng = np.random.default_rng([n, int(kdr * 1e6), s, soft])
                    a = rng.integers(0, 2, n).astype(np.uint8)
                    p = np.minimum(rng.exponential(kdr, n), 0.5) if soft else np.full(n, kdr)
                    b = a ^ (rng.random(n) < p).astype(np.uint8)
                    t0 = time.perf_counter()
                    try:
                        r = reconcile(a, b, p if soft else kdr, seed=s, **SCHEDULES["keygen"])
                    except Exception:   # noqa: BLE001 - counted, must stay 0
                        exc += 1
                        continue
                    ts.append(time.perf_counter() - t0)
                    if r.success and np.array_equal(r.bits, a):
                        ok += 1
                        fs.append(r.f)
                row = {"kdr": kdr, "n": n, "soft": soft, "seeds": seeds, "exceptions": exc, "success": ok,
                       "f_median": float(np.median(fs)) if fs else None, "time_mean_s": float(np.mean(ts)) if ts else None}
                rows.append(row)
                print(f"KDR {kdr:<7g} n {n:>6} {'soft' if soft else 'hard'}: exceptions {exc}, success {ok}/{seeds}, "
                      f"median f {row['f_median'] if fs else '-'}, {row['time_mean_s'] or 0:.2f} s", flush=True)
    return rows


def part_hard(ns, kdrs, seeds) -> list[dict]:
    rows = []
    print("\nhard decisions, default schedule: f = leak / (n h2(KDR measured))")
    for n in ns:
        for kdr in kdrs:
            fs, ts, ok = [], [], 0
            for s in range(seeds):
                a, b = hard_pair(n, kdr, [n, int(kdr * 1e6), s])
                r, t = _timed(reconcile, a, b, kdr, seed=s)
                ts.append(t)
                good = r.success and bool(np.array_equal(r.bits, a))
                ok += good
                fs.append(float(efficiency(r.leaked_bits, n, float(np.mean(a != b)))) if good else np.inf)
            rows.append({"n": n, "kdr": kdr, "seeds": seeds, "success": ok, "f_median": float(np.median(fs)),
                         "f_all": [round(f, 4) for f in fs], "time_median_s": float(np.median(ts))})
            print(f"n {n:>7} KDR {kdr:.2f}: {ok}/{seeds} ok, median f {np.median(fs):.3f}, {np.median(ts):.2f} s",
                  flush=True)
    return rows


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", nargs="+", default=["soft", "timing"], choices=["soft", "timing", "grid", "hard"])
    ap.add_argument("--n", type=int, nargs="+", default=[100_000])
    ap.add_argument("--h", type=float, nargs="+", default=[0.02, 0.1, 0.3, 0.5, 0.7, 0.9])
    ap.add_argument("--kdr", type=float, nargs="+", default=[0.01, 0.02, 0.05, 0.10])
    ap.add_argument("--schedules", nargs="+", default=["keygen", "fine"], choices=list(SCHEDULES))
    ap.add_argument("--soft-kind", default="uniform", choices=["uniform", "normal"])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    out = {}
    if "soft" in args.part:
        out["soft"] = part_soft(args.n, args.h, args.seeds, args.schedules, args.soft_kind)
    if "timing" in args.part:
        out["timing"] = [r for n in args.n for r in part_timing(n, kind=args.soft_kind)]
    if "grid" in args.part:
        out["grid"] = part_grid(args.seeds)
    if "hard" in args.part:
        out["hard"] = part_hard(args.n, args.kdr, args.seeds)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
