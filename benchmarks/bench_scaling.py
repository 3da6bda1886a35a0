"""Scaling benchmark: cost per scenario of every scheme against N and against K.

Two sweeps, every registered scheme (``nfkg.schemes.precoding.scheme_names()``, picked up at run
time, so schemes added later are measured too):

* **vs N**: K = 2, N = 64, 256, 1024, 4096, 16384;
* **vs K**: N = 256, K = 1, 2, 4, 8, 16 (N >= 2K - 1 always; the point N = 256, K = 2 is
  shared with the N sweep).

``--quick`` (about 25 s): N = 64, 256, 1024, 16384 and K = 1, 2, 4, 8, shorter measurements and
so smaller batches: a smoke check (svd-pa, whose batched iterations cost about 20 ms per call,
then shows many times the floor), not a source of numbers.

A scheme that raises on a point (svd-dlpa ships KGSVD-Net models for K = 2, 4, 6 only) is
skipped there, and the reason goes into the table and the CSV.

What is timed, per point (N, K)
-------------------------------
* **nfkg**: ``evaluate(Scenario.from_dbm(ULA(N, 30e9), users, eves, pt_dbm=20), scheme)`` on a
  batch of B random scenarios, end to end (``bench_engine.nfkg_fn``). The scenarios are
  ``bench_engine.draw``'s: users at r ~ U[8, 20] m, psi ~ U[-1, 1] rad, Eve k 2 cm closer
  than user k. B is chosen per scheme and point: after a warm-up call on one scenario the
  batch grows in powers of 4 until one call takes at least half of ``target_s`` (0.2 s; 0.04 s
  with ``--quick``), capped so that the batch's channels (``2 B K N`` complex128) stay under
  32 MiB and B <= 4096. Slow schemes (svd-opt, svd-mf) so get small batches, down to one
  scenario.
* **channel floor**: ``ULA.channel`` for the 2K users and Eves of the same B scenarios
  (``bench_engine.floor_fn``), once per distinct B of the point. ``x floor`` is the scheme's
  time over the floor's on the same batch.
* **Statistic**: the floors and the schemes of a point are measured in interleaved rounds
  (5; 3 with ``--quick``) in a new random order per round, with the garbage collector off
  (and the objects of the imports frozen, so no collection is ever slow). A measurement
  repeats the call until it lasts about ``target_s``. A scheme whose single call takes longer
  than ``target_s`` is measured in 3 rounds (1 with ``--quick``), one over 1 s in one round.
  Reported: the **median** over rounds of the time per scenario; ratios are median / median.
  The share of the CPU used by other processes during the point is recorded
  (``bench_core.CpuMeter``), not acted on.
* **Too slow**: along a sweep, a scheme whose time per scenario, extrapolated from its last two
  points (log-log; slope capped at 1 in N and 3 in K), exceeds 5 s (1 s with ``--quick``) is
  not run; the table says so.
* **BLAS threads**: the run sets OpenBLAS to one thread (and restores it after). On this shared
  2-core machine a second BLAS thread spinning while the other core is busy made single small
  calls up to 100x slower (ras, K = 16, N = 256: 116 ms against 1.2 ms).
* **naive** (``benchmarks/naive.py``, ras, mrc, svd, svd-pa): ``naive_evaluate`` (explicit
  N x N matrices) and ``naive_matvec_evaluate`` (matrix-vector products), one scenario at a
  time, on up to 3 scenarios of the batch (while their total stays under 3 s; 0.5 s with
  ``--quick``), the minimum over them (one run each; a naive run's time varied up to 10x with
  the load of this shared machine, the scenarios' costs do not). Its ratio is to nfkg on its
  batch timed right before and after the naive runs (the faster of the two), not to the median
  of the rounds. The N x N form runs
  only where N <= 4096, its matrices (``(2K + 3) N^2`` complex128 for the SVD schemes,
  ``(K + 2) N^2`` for ras and mrc) fit in 1 GiB, and its time predicted from the previous point
  (N^2 to N^3 for the SVD schemes, N^2 for ras and mrc; K^2 along the K sweep) is under 15 s
  (0.5 s with ``--quick``; the prediction from small N overshoots: N = 1024, svd-pa, about 2 s
  on a quiet machine, can be predicted at 15 s); otherwise the reason is given. Their SKRs are
  compared with nfkg's on the same scenarios.

Fitted slopes: least squares of log(time per scenario) on log N (log K), over all points and
over the upper part (N >= 1024; K >= 4), where a scheme has at least two points.

Outputs: ``benchmarks/out/scaling.csv`` (one row per point and scheme, and the floors),
``scaling.json`` (every raw timing), ``scaling.png`` and ``scaling.pdf`` (log-log, cost per
scenario vs N and vs K, the channel floor dashed), markdown tables on stdout.

Run through ``benchmarks/run_all.py`` (``--no-scaling`` skips it) or directly:
``.venv/bin/python benchmarks/bench_scaling.py [--quick] [--out DIR] [--update-md]``.
``--update-md`` rewrites the generated tables between the ``scaling:begin``/``scaling:end``
markers of docs/benchmarks/scaling.md.
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import bench_core  # noqa: E402
import bench_engine  # noqa: E402
import naive  # noqa: E402
from bench_probing import _openblas  # noqa: E402

from nfkg.schemes.precoding import scheme_names  # noqa: E402

N_SWEEP = (64, 256, 1024, 4096, 16384)
K_SWEEP = (1, 2, 4, 8, 16)
K_FOR_N = 2
N_FOR_K = 256
N_SWEEP_QUICK = (64, 256, 1024, 16384)
K_SWEEP_QUICK = (1, 2, 4, 8)
NAIVE_SCHEMES = ("ras", "mrc", "svd", "svd-pa")
MAX_CHANNEL_BYTES = 32 * 2**20
MAX_BATCH = 4096
NAIVE_MAX_N = 4096
NAIVE_MAX_BYTES = 2**30
NAIVE_SCENARIOS = 3
SEED = 20241125
FLOOR = "floor"


# --------------------------------------------------------------------------- helpers
def _timed(fn):
    gc.disable()
    try:
        t0 = time.perf_counter()
        out = fn()
        return time.perf_counter() - t0, out
    finally:
        gc.enable()


def _repeat(fn, number: int) -> float:
    gc.disable()
    try:
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        return (time.perf_counter() - t0) / number
    finally:
        gc.enable()


def _reason(exc: BaseException) -> str:
    msg = str(exc).split("\n")[0]
    return f"{type(exc).__name__}: {msg[:110]}{'...' if len(msg) > 110 else ''}"


def max_batch(n_ant: int, n_users: int) -> int:
    return int(max(1, min(MAX_BATCH, MAX_CHANNEL_BYTES // (2 * n_users * n_ant * 16))))


def _pow2_floor(x: float) -> int:
    return 1 if x < 2 else 2 ** int(math.floor(math.log2(x)))


def naive_bytes(n_ant: int, n_users: int, scheme: str) -> int:
    """Rough peak of the N x N naive form: its N x N complex128 matrices alive at once."""
    mats = n_users + 2 if scheme in ("ras", "mrc") else 2 * n_users + 3
    return mats * n_ant * n_ant * 16


def rel_diff(a, b) -> float:
    return bench_engine.rel_diff(a, b)


# --------------------------------------------------------------------------- one point
def _choose_batch(t_per: float, target_s: float, bmax: int) -> int:
    """The power of 4 nearest (in log) to ``target_s / t_per``, in ``[1, bmax]``."""
    b = 4 ** max(0, int(round(math.log(max(target_s / max(t_per, 1e-9), 1.0), 4))))
    return int(min(bmax, b))


def calibrate(fn_of_batch, bmax: int, target_s: float):
    """The batch size and the per-scenario estimate: ``(B, t_per, result of the last call)``.

    A first call on one scenario warms the point up (caches at a new N, K); a scheme slower than
    ``target_s`` there is timed from it, otherwise from a second one. Then the batch grows (at
    least 4x a step, powers of 4) until a call takes at least ``target_s / 2``: the per-scenario
    cost of the batched schemes falls with B (svd-pa's iterations cost the same for 4 scenarios
    as for 64), so one small probe call would choose batches that are too small.
    """
    t, out = _timed(lambda: fn_of_batch(1))
    if t < target_s:
        t, out = _timed(lambda: fn_of_batch(1))
    b = 1
    while t < target_s / 2 and b < bmax:
        b = int(min(bmax, max(4 * b, _choose_batch(t / b, target_s, bmax))))
        t, out = _timed(lambda: fn_of_batch(b))
    return b, t / b, out


def run_point(n_ant: int, n_users: int, schemes, rounds: int = 5, target_s: float = 0.2,
              naive_max_s: float = 10.0, prev_naive: dict | None = None, naive_on: bool = True,
              verbose: bool = True, slow_rounds: int = 3, max_scenario_s: float = 10.0,
              history: dict | None = None, x: float | None = None, sweep: str = "N",
              naive_budget_s: float = 4.0) -> dict:
    """Floors and every scheme at (N, K).

    ``prev_naive`` maps (scheme, form) -> (N, K, s) of the last naive run, for the time prediction;
    ``history`` maps a scheme to its ``[(x, s per scenario), ...]`` along the sweep so far (``x``
    is this point's N or K; both updated in place). A scheme whose single-scenario call takes
    longer than ``target_s`` is measured in ``slow_rounds`` rounds only. A scheme whose time per
    scenario, extrapolated from its last two points (log-log, slope at least 1 with one point),
    exceeds ``max_scenario_s`` is not run here.
    """
    assert n_ant >= 2 * n_users - 1
    history = {} if history is None else history
    prev_naive = {} if prev_naive is None else prev_naive
    t_point = time.perf_counter()
    bmax = max_batch(n_ant, n_users)
    seed = SEED + 10_007 * n_users + n_ant
    users, eves = bench_engine.draw(bmax, n_users, seed)

    def nfkg_of(scheme):
        return lambda b: bench_engine.nfkg_fn(n_ant, users[:b], eves[:b], scheme)()

    point = {"N": n_ant, "K": n_users, "seed": seed, "bmax": bmax, "schemes": {}, "floors": {}}
    fns, calls = {}, {}
    probe = {}
    for s in schemes:
        pred = predict(history.get(s, []), x, 1.0 if sweep == "N" else 3.0)
        if pred is not None and pred > max_scenario_s:
            point["schemes"][s] = {"status": "skipped", "predicted_s": pred,
                                   "reason": f"not run: predicted {pred:.1f} s per scenario (cap {max_scenario_s:g} s)"}
            continue
        try:
            b, t_per, ev = calibrate(nfkg_of(s), bmax, target_s)
        except Exception as exc:  # noqa: BLE001 - a scheme that cannot run here is skipped with its reason
            point["schemes"][s] = {"status": "skipped", "reason": _reason(exc)}
            continue
        slow = t_per >= target_s  # one scenario takes longer than a measurement should
        point["schemes"][s] = {"status": "ok", "B": b, "calib_us": t_per * 1e6, "slow": slow,
                               "rounds": (1 if t_per * b > 1.0 else slow_rounds) if slow else rounds}
        probe[s] = (ev, b)
        fns[s] = (lambda s=s, b=b: bench_engine.nfkg_fn(n_ant, users[:b], eves[:b], s)())
        calls[s] = max(1, int(round(target_s / max(t_per * b, 1e-9))))
    for b in sorted({v["B"] for v in point["schemes"].values() if v["status"] == "ok"}):
        fl = bench_engine.floor_fn(n_ant, users[:b], eves[:b])
        t, _ = _timed(fl)
        fns[(FLOOR, b)] = fl
        calls[(FLOOR, b)] = max(1, min(100_000, int(round(target_s / max(t, 1e-9)))))
    names = list(fns)
    times = {name: [] for name in names}
    order = np.random.default_rng(seed)
    gc.collect()
    with bench_core.CpuMeter() as meter:
        for r in range(rounds):
            for i in order.permutation(len(names)):
                name = names[i]
                if name in point["schemes"] and r >= point["schemes"][name]["rounds"]:
                    continue
                times[name].append(_repeat(fns[name], calls[name]))
    point["foreign_cpu"] = meter.foreign
    for b in sorted({v["B"] for v in point["schemes"].values() if v["status"] == "ok"}):
        ts = times[(FLOOR, b)]
        point["floors"][b] = {"us": float(np.median(ts)) / b * 1e6, "min_us": min(ts) / b * 1e6,
                              "times_s": ts, "number": calls[(FLOOR, b)]}
    for s, row in point["schemes"].items():
        if row["status"] != "ok":
            continue
        ts, b = times[s], row["B"]
        fl = point["floors"][b]
        if x is not None:
            history.setdefault(s, []).append((x, float(np.median(ts)) / b))
        row.update({"us": float(np.median(ts)) / b * 1e6, "min_us": min(ts) / b * 1e6, "times_s": ts,
                    "number": calls[s], "floor_us": fl["us"], "ratio_floor": float(np.median(ts))
                    / (fl["us"] * b * 1e-6)})
        if naive_on and s in NAIVE_SCHEMES:
            # nfkg is timed again right before and after the naive runs, and the ratio taken to
            # the faster of the two: the naive runs are not in the interleaved rounds, and on a
            # shared machine the load can change several-fold between the rounds and them.
            ev, b0 = probe[s]
            row["naive"] = {}
            for form in ("nxn", "matvec"):
                t_before = _repeat(fns[s], calls[s])
                nv = run_naive(form, n_ant, n_users, s, users, eves, ev.skr, b0, naive_max_s, prev_naive,
                               naive_budget_s)
                if nv.get("us") is not None:
                    adjacent = min(t_before, _repeat(fns[s], calls[s])) / b * 1e6
                    nv.update({"nfkg_adjacent_us": adjacent, "ratio": nv["us"] / adjacent})
                row["naive"][form] = nv
    if verbose:
        parts = []
        for s, row in point["schemes"].items():
            if row["status"] != "ok":
                parts.append(f"{s} skipped")
                continue
            txt = f"{s} {_fmt_us(row['us'])} ({row['ratio_floor']:.2f}x, B={row['B']})"
            nv = row.get("naive", {}).get("nxn")
            if nv and nv.get("ratio"):
                txt += f" naive {nv['ratio']:,.0f}x"
            parts.append(txt)
        point["wall_s"] = time.perf_counter() - t_point
        fl = point["floors"][max(point["floors"])] if point["floors"] else None
        other = "n/a" if meter.foreign is None else f"{meter.foreign:.0%}"
        print(f"  N={n_ant:5d} K={n_users:2d}  floor {_fmt_us(fl['us']) if fl else '-'}  " + "; ".join(parts)
              + f"  [other CPU {other}; {point['wall_s']:.1f} s]", flush=True)
    point["wall_s"] = time.perf_counter() - t_point
    return point


def predict(hist, x, max_slope: float) -> float | None:
    """Time per scenario at ``x`` extrapolated from the last two ``(x, t)`` (log-log, slope in
    ``[0, max_slope]``; ``max_slope`` with one point)."""
    if not hist or x is None:
        return None
    x1, t1 = hist[-1]
    slope = max_slope
    if len(hist) > 1 and hist[-2][0] != x1:
        x0, t0 = hist[-2]
        slope = min(max_slope, max(0.0, math.log(t1 / t0) / math.log(x1 / x0)))
    return t1 * (x / x1) ** slope


def run_naive(form: str, n_ant: int, n_users: int, scheme: str, users, eves, skr_nfkg, n_have: int,
              naive_max_s: float, prev: dict, budget_s: float) -> dict:
    """Time per scenario of one naive form (minimum over up to ``NAIVE_SCENARIOS`` scenarios), or why not.

    Not run where its predicted time per scenario exceeds ``naive_max_s``; further scenarios are
    run while the total stays under ``budget_s``.
    """
    if form == "nxn":
        if n_ant > NAIVE_MAX_N:
            return {"us": None, "reason": f"not run: N > {NAIVE_MAX_N}", "short": f"N > {NAIVE_MAX_N}"}
        nb = naive_bytes(n_ant, n_users, scheme)
        if nb > NAIVE_MAX_BYTES:
            return {"us": None, "reason": f"not run: its N x N matrices need {nb / 2**30:.1f} GiB",
                    "short": f"{nb / 2**30:.1f} GiB"}
    last = prev.get((scheme, form))
    predicted = None
    if last is not None:
        n0, k0, t0 = last[:3]
        if form == "nxn":  # O(N^3) asymptotically (O(N^2) for ras, mrc): the exponent seen so far, in [2, 3]
            hi = 2.0 if scheme in ("ras", "mrc") else 3.0
            exp_n = 2.0
            if len(last) > 3 and n_ant > n0:
                n00, t00 = last[3], last[4]
                exp_n = min(hi, max(2.0, math.log(t0 / t00) / math.log(n0 / n00))) if n0 > n00 else 2.0
            predicted = t0 * max(1.0, n_ant / n0) ** exp_n * max(1.0, n_users / k0) ** 2
        else:
            predicted = t0 * max(1.0, n_ant / n0) * max(1.0, n_users / k0) ** 3
        if predicted > naive_max_s:
            return {"us": None, "reason": f"not run: predicted {predicted:.0f} s per scenario",
                    "predicted_s": predicted, "short": f"pred. {predicted:.0f} s"}
    fn = naive.naive_evaluate if form == "nxn" else naive.naive_matvec_evaluate
    ts, diffs = [], []
    t_all = time.perf_counter()
    for i in range(min(NAIVE_SCENARIOS, n_have)):
        sc = naive.NaiveScenario(n_ant, [tuple(x) for x in users[i]], [tuple(x) for x in eves[i]],
                                 pt_dbm=bench_engine.PT_DBM, carrier_hz=bench_engine.CARRIER)
        try:
            t, res = _timed(lambda: fn(sc, scheme))
        except Exception as exc:  # noqa: BLE001
            return {"us": None, "reason": f"failed: {_reason(exc)}", "short": "failed"}
        ts.append(t)
        diffs.append(rel_diff(skr_nfkg[i], res.skr))
        if time.perf_counter() - t_all + t > budget_s:
            break
    best = min(ts)  # the scenarios cost about the same; the minimum is the least disturbed run
    prev[(scheme, form)] = (n_ant, n_users, best) + (tuple(last[:3:2]) if last and last[1] == n_users else ())
    return {"us": best * 1e6, "mean_us": float(np.mean(ts)) * 1e6, "scenarios": len(ts), "times_s": ts,
            "rel_diff": max(diffs),
            "predicted_s": predicted}


# --------------------------------------------------------------------------- the sweeps
def run(quick: bool = False, n_sweep=None, k_sweep=None, schemes=None, rounds: int | None = None,
        target_s: float | None = None, naive_max_s: float | None = None, naive_on: bool = True,
        verbose: bool = True, blas_threads: int | None = 1) -> dict:
    """Both sweeps; returns every point with its raw timings, the slopes and the settings.

    ``blas_threads``: OpenBLAS threads during the run (restored after; None: leave as is). One
    by default: on a shared 2-core machine a second BLAS thread that spins while the other core
    is busy made single small calls up to 100x slower (ras, K = 16, N = 256: 116 ms against
    1.2 ms), which would measure the neighbours, not the scaling.
    """
    blas = _openblas()
    before = int(blas[0]()) if blas else None
    if blas and blas_threads:
        blas[1](int(blas_threads))
    try:
        res = _run(quick, n_sweep, k_sweep, schemes, rounds, target_s, naive_max_s, naive_on, verbose)
    finally:
        gc.unfreeze()
        if blas and blas_threads:
            blas[1](before)
    res["blas_threads"] = blas_threads if blas and blas_threads else before
    return res


def _run(quick, n_sweep, k_sweep, schemes, rounds, target_s, naive_max_s, naive_on, verbose) -> dict:
    t_start = time.perf_counter()
    n_sweep = tuple(n_sweep or (N_SWEEP_QUICK if quick else N_SWEEP))
    k_sweep = tuple(k_sweep or (K_SWEEP_QUICK if quick else K_SWEEP))
    schemes = list(schemes or scheme_names())
    cfg = {"rounds": rounds or (3 if quick else 5), "target_s": target_s or (0.04 if quick else 0.2),
           "naive_max_s": naive_max_s if naive_max_s is not None else (0.5 if quick else 15.0),
           "naive_budget_s": 0.5 if quick else 3.0, "slow_rounds": 1 if quick else 3,
           "max_scenario_s": 1.0 if quick else 5.0}
    # Warm-up: imports (torch for svd-dlpa), models and caches outside every timing.
    warm = {}
    for s in schemes:
        users, eves = bench_engine.draw(2, K_FOR_N, SEED)
        try:
            bench_engine.nfkg_fn(64, users, eves, s)()
            warm[s] = "ok"
        except Exception as exc:  # noqa: BLE001
            warm[s] = _reason(exc)
    # torch and SciPy leave ~10^6 objects: a full collection then costs ~0.15 s. Frozen, the
    # collector skips them (one gc.collect per point, none inside a measurement).
    gc.collect()
    gc.freeze()
    res = {"quick": quick, "schemes": schemes, "warmup": warm, **cfg, "n_sweep": list(n_sweep),
           "k_sweep": list(k_sweep), "k_for_n": K_FOR_N, "n_for_k": N_FOR_K, "points": []}
    kw = {k: cfg[k] for k in ("rounds", "target_s", "naive_max_s", "naive_budget_s", "slow_rounds",
                              "max_scenario_s")}
    done = {}
    if verbose:
        print(f"  vs N (K = {K_FOR_N}); {cfg['rounds']} rounds, ~{cfg['target_s']:.2f} s per measurement",
              flush=True)
    prev_naive, history = {}, {}
    for n in n_sweep:
        done[(n, K_FOR_N)] = run_point(n, K_FOR_N, schemes, prev_naive=prev_naive, naive_on=naive_on,
                                       verbose=verbose, history=history, x=n, sweep="N", **kw)
    if verbose:
        print(f"  vs K (N = {N_FOR_K})", flush=True)
    prev_naive, history = {}, {}
    for k in k_sweep:
        if (N_FOR_K, k) in done:
            pt = done[(N_FOR_K, k)]
            for s, row in pt["schemes"].items():  # the K sweep's predictions go on from here
                if row["status"] == "ok":
                    history.setdefault(s, []).append((k, row["us"] * 1e-6))
                for form, nv in row.get("naive", {}).items():
                    if nv.get("us") is not None:
                        prev_naive[(s, form)] = (N_FOR_K, k, nv["us"] * 1e-6)
            if verbose:
                print(f"  N={N_FOR_K:5d} K={k:2d}  (shared with the N sweep)", flush=True)
            continue
        done[(N_FOR_K, k)] = run_point(N_FOR_K, k, schemes, prev_naive=prev_naive, naive_on=naive_on,
                                       verbose=verbose, history=history, x=k, sweep="K", **kw)
    res["points"] = [{**p, "floors": {str(b): v for b, v in p["floors"].items()}} for p in done.values()]
    res["slopes"] = slopes(res)
    res["wall_s"] = time.perf_counter() - t_start
    res["date"] = time.strftime("%Y-%m-%d %H:%M:%S")
    res["commit"] = _git("rev-parse", "--short", "HEAD")
    res["src_modified"] = [ln[3:] for ln in _git("status", "--porcelain", "--", "src").splitlines() if ln.strip()]
    return res


def _git(*args) -> str:
    import subprocess

    try:
        return subprocess.run(["git", *args], cwd=HERE.parent, capture_output=True, text=True,
                              timeout=30).stdout.rstrip()  # not lstrip: porcelain lines start with a space
    except Exception:  # noqa: BLE001 - informational only
        return ""


def _points(res: dict, sweep: str):
    if sweep == "N":
        return sorted((p for p in res["points"] if p["K"] == res["k_for_n"] and p["N"] in res["n_sweep"]),
                      key=lambda p: p["N"])
    return sorted((p for p in res["points"] if p["N"] == res["n_for_k"] and p["K"] in res["k_sweep"]),
                  key=lambda p: p["K"])


def floor_us(point: dict) -> float | None:
    """The point's channel floor per scenario, on its largest batch."""
    if not point["floors"]:
        return None
    return point["floors"][max(point["floors"], key=int)]["us"]


def _fit(xs, ys) -> float | None:
    if len(xs) < 2:
        return None
    return float(np.polyfit(np.log(xs), np.log(ys), 1)[0])


def series(res: dict, sweep: str, name: str):
    """``(x, us)`` of one scheme (or ``FLOOR``) along a sweep, where it ran."""
    xs, ys = [], []
    for p in _points(res, sweep):
        x = p["N"] if sweep == "N" else p["K"]
        if name == FLOOR:
            v = floor_us(p)
        else:
            row = p["schemes"].get(name, {})
            v = row.get("us") if row.get("status") == "ok" else None
        if v is not None:
            xs.append(x)
            ys.append(v)
    return xs, ys


def slopes(res: dict) -> dict:
    out = {}
    upper = {"N": 1024, "K": 4}
    for name in [FLOOR, *res["schemes"]]:
        out[name] = {}
        for sweep in ("N", "K"):
            xs, ys = series(res, sweep, name)
            hi = [(x, y) for x, y in zip(xs, ys) if x >= upper[sweep]]
            out[name][sweep] = {"all": _fit(xs, ys), "upper": _fit(*zip(*hi)) if len(hi) >= 2 else None,
                                "points": len(xs), "upper_points": len(hi)}
    return out


# --------------------------------------------------------------------------- output
def _fmt_us(us: float) -> str:
    if us >= 1e6:
        return f"{us / 1e6:.2f} s"
    if us >= 1e3:
        return f"{us / 1e3:.3g} ms"
    return f"{us:.3g} us"


def _fmt_slope(v) -> str:
    return "-" if v is None else f"{v:.2f}"


def write_csv(res: dict, path: Path) -> None:
    cols = ["sweep", "N", "K", "scheme", "status", "B", "us_per_scenario", "min_us_per_scenario",
            "floor_us_per_scenario", "ratio_to_floor", "naive_nxn_us", "naive_nxn_over_nfkg", "naive_nxn_rel_diff",
            "naive_nxn_note", "nfkg_adjacent_us", "naive_matvec_us", "naive_matvec_over_nfkg", "naive_matvec_rel_diff",
            "rounds", "foreign_cpu", "reason"]
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        for sweep in ("N", "K"):
            for p in _points(res, sweep):
                base = {"sweep": sweep, "N": p["N"], "K": p["K"], "rounds": res["rounds"],
                        "foreign_cpu": "" if p["foreign_cpu"] is None else f"{p['foreign_cpu']:.3f}"}
                for b, fl in sorted(p["floors"].items(), key=lambda kv: int(kv[0])):
                    w.writerow([{**base, "scheme": FLOOR, "status": "ok", "B": b,
                                 "us_per_scenario": f"{fl['us']:.4g}", "min_us_per_scenario": f"{fl['min_us']:.4g}",
                                 "floor_us_per_scenario": f"{fl['us']:.4g}", "ratio_to_floor": "1"}.get(c, "")
                                for c in cols])
                for s, row in p["schemes"].items():
                    d = {**base, "scheme": s, "status": row["status"], "reason": row.get("reason", ""),
                         "rounds": row.get("rounds", "")}
                    if row["status"] == "ok":
                        d.update({"B": row["B"], "us_per_scenario": f"{row['us']:.4g}",
                                  "min_us_per_scenario": f"{row['min_us']:.4g}",
                                  "floor_us_per_scenario": f"{row['floor_us']:.4g}",
                                  "ratio_to_floor": f"{row['ratio_floor']:.4g}"})
                        for form, key in (("nxn", "naive_nxn"), ("matvec", "naive_matvec")):
                            nv = row.get("naive", {}).get(form)
                            if not nv:
                                continue
                            if nv.get("us") is not None:
                                if form == "nxn" or "nfkg_adjacent_us" not in d:
                                    d["nfkg_adjacent_us"] = f"{nv['nfkg_adjacent_us']:.4g}"
                                d.update({f"{key}_us": f"{nv['us']:.4g}", f"{key}_over_nfkg": f"{nv['ratio']:.4g}",
                                          f"{key}_rel_diff": f"{nv['rel_diff']:.2e}"})
                            elif form == "nxn":
                                d["naive_nxn_note"] = nv["reason"]
                    w.writerow([d.get(c, "") for c in cols])


def plot(res: dict, stem: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
    cmap = plt.get_cmap("tab10")
    for ax, sweep in zip(axes, ("N", "K")):
        for i, s in enumerate(res["schemes"]):
            xs, ys = series(res, sweep, s)
            if xs:
                ax.loglog(xs, ys, "o-", color=cmap(i % 10), label=s, lw=1.4, ms=4)
        xs, ys = series(res, sweep, FLOOR)
        if xs:
            ax.loglog(xs, ys, "k--", label="channel floor", lw=1.6)
        if sweep == "N":
            ax.set_xlabel("N (antennas)")
            ax.set_title(f"cost per scenario vs N (K = {res['k_for_n']})")
        else:
            ax.set_xlabel("K (users)")
            ax.set_title(f"cost per scenario vs K (N = {res['n_for_k']})")
        ax.set_xticks(res["n_sweep"] if sweep == "N" else res["k_sweep"])
        ax.set_xticklabels([str(x) for x in (res["n_sweep"] if sweep == "N" else res["k_sweep"])])
        ax.minorticks_off()
        ax.set_ylabel("time per scenario [us] (batched, median)")
        ax.grid(True, which="major", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, loc="center right")
    fig.tight_layout(rect=(0, 0, 0.87, 1))
    paths = [stem.with_suffix(".png"), stem.with_suffix(".pdf")]
    fig.savefig(paths[0], dpi=130)
    fig.savefig(paths[1])
    plt.close(fig)
    return paths


def markdown(res: dict) -> str:
    sl = res["slopes"]
    out = []
    for sweep, label, xkey in (("N", f"vs N (K = {res['k_for_n']})", "N"), ("K", f"vs K (N = {res['n_for_k']})", "K")):
        pts = _points(res, sweep)
        up = "N >= 1024" if sweep == "N" else "K >= 4"
        out.append(f"#### Cost per scenario {label}: time per scenario (median, batched) and its ratio to the "
                   "channel floor on the same batch\n")
        out.append("| scheme | " + " | ".join(f"{xkey} = {p[xkey]}" for p in pts)
                   + f" | slope (all) | slope ({up}) |")
        out.append("|---|" + "---:|" * (len(pts) + 2))
        fl = [floor_us(p) for p in pts]
        out.append("| channel floor | " + " | ".join("-" if v is None else _fmt_us(v) for v in fl)
                   + f" | {_fmt_slope(sl[FLOOR][sweep]['all'])} | {_fmt_slope(sl[FLOOR][sweep]['upper'])} |")
        for s in res["schemes"]:
            cells = []
            for p in pts:
                row = p["schemes"].get(s, {})
                if row.get("status") == "ok":
                    cells.append(f"{_fmt_us(row['us'])} ({row['ratio_floor']:.2f}x)")
                else:
                    cells.append("skipped")
            out.append(f"| {s} | " + " | ".join(cells)
                       + f" | {_fmt_slope(sl[s][sweep]['all'])} | {_fmt_slope(sl[s][sweep]['upper'])} |")
        out.append("\nBatch sizes B: " + "; ".join(
            f"{xkey} = {p[xkey]}: " + ", ".join(f"{s} {r['B']}" for s, r in p["schemes"].items() if r["status"] == "ok")
            for p in pts) + ".")
        other = [p["foreign_cpu"] for p in pts if p["foreign_cpu"] is not None]
        if other:
            span = f"{min(other):.0%}" + (f" to {max(other):.0%}" if f"{min(other):.0%}" != f"{max(other):.0%}" else "")
            out.append(f"Other processes used {span} of the CPU during these points.")
        out.append("")
    skipped = {}
    for p in res["points"]:
        for s, row in p["schemes"].items():
            if row["status"] != "ok":
                skipped.setdefault((s, row["reason"]), []).append(f"N = {p['N']}, K = {p['K']}")
    if skipped:
        out.append("Skipped: " + "; ".join(f"**{s}** at {', '.join(w)} ({r})" for (s, r), w in skipped.items()) + ".\n")
    # naive table
    out.append("#### Against the naive forms of `benchmarks/naive.py` (one scenario at a time): naive time per "
               "scenario / nfkg batched time per scenario (timed next to the naive runs), N x N form; "
               "matrix-vector form\n")
    cols = _points(res, "N") + [p for p in _points(res, "K") if p["K"] != res["k_for_n"]]
    out.append("| scheme | " + " | ".join(f"N = {p['N']}, K = {p['K']}" for p in cols) + " |")
    out.append("|---|" + "---:|" * len(cols))
    for s in NAIVE_SCHEMES:
        if s not in res["schemes"]:
            continue
        cells = []
        for p in cols:
            row = p["schemes"].get(s, {})
            nv = row.get("naive") if row.get("status") == "ok" else None
            if not nv:
                cells.append("-")
                continue
            a, b = nv["nxn"], nv["matvec"]
            if a.get("us") is not None:
                left = f"{a['ratio']:,.0f}x" if a["ratio"] >= 10 else f"{a['ratio']:.1f}x"
            else:
                left = f"n/r ({a['short']})"
            right = f"{b['ratio']:,.1f}x" if b.get("us") is not None else f"n/r ({b.get('short')})"
            cells.append(f"{left}; {right}")
        out.append(f"| {s} | " + " | ".join(cells) + " |")
    out.append("\nn/r: not run; N > 4096: the N x N form is capped at N = 4096; pred.: its time per scenario, "
               f"predicted from the previous point, is over {res['naive_max_s']:.1f} s; GiB: its N x N "
               "matrices would need more than 1 GiB.")
    worst = {}
    for p in res["points"]:
        for sc, r in p["schemes"].items():
            for nv in r.get("naive", {}).values():
                if nv.get("rel_diff") is not None:
                    worst[sc] = max(worst.get(sc, 0.0), nv["rel_diff"])
    if worst:
        out.append("\nLargest relative SKR difference between nfkg and the naive forms on the scenarios they ran: "
                   + ", ".join(f"{sc} {v:.1e}" for sc, v in worst.items()) + ".")
    return "\n".join(out)


MD_BEGIN = "<!-- scaling:begin (generated by benchmarks/bench_scaling.py --update-md) -->"
MD_END = "<!-- scaling:end -->"


def update_md(md: str, path: Path) -> bool:
    """Replace the generated block of the scaling page; False if its markers are not there."""
    text = path.read_text()
    i, j = text.find(MD_BEGIN), text.find(MD_END)
    if i < 0 or j < i:
        return False
    path.write_text(text[:i + len(MD_BEGIN)] + "\n" + md.strip() + "\n" + text[j:])
    return True


def save(res: dict, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "scaling.json").write_text(json.dumps(res, indent=1))
    write_csv(res, out_dir / "scaling.csv")
    paths = [out_dir / "scaling.json", out_dir / "scaling.csv"]
    try:
        paths += plot(res, out_dir / "scaling")
    except Exception as exc:  # noqa: BLE001 - no matplotlib: the numbers still count
        print(f"  (no plot: {_reason(exc)})")
    return paths


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="N = 64, 256, 1024, 16384 and K = 1, 2, 4, 8; 3 short rounds")
    ap.add_argument("--no-naive", action="store_true", help="do not run the naive forms")
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("--update-md", action="store_true", help="rewrite the generated tables in docs/benchmarks/scaling.md")
    args = ap.parse_args(argv)
    res = run(quick=args.quick, naive_on=not args.no_naive)
    paths = save(res, args.out)
    md = markdown(res)
    print()
    print(md)
    print(f"\n(wrote {', '.join(p.name for p in paths)} in {args.out}; {res['wall_s']:.0f} s; commit {res['commit']}"
          f"{', src/ modified: ' + ', '.join(res['src_modified']) if res['src_modified'] else ', src/ clean'}; "
          f"BLAS threads {res['blas_threads']})")
    if args.update_md:
        page = HERE.parent / "docs" / "benchmarks" / "scaling.md"
        ok = update_md(md, page)
        print(f"{page} updated" if ok else f"{page} has no scaling markers; not updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
