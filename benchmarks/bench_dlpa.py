"""SVD w/ DLPA (KGSVD-Net) and svd-opt: quality, optimality, inference speed, training time.

Four parts, one per target of the DLPA issue:

(1) ``assess``: :func:`nfkg.schemes.training.assess` on the held-out close-Eve stream
    (``part='close'``, every Eve 1-5 cm from her user) and on the held-out test mixture
    (``part='test'``), K = 2 and 4, seed 0, n = 512 scenarios per K per set (64 with
    ``--quick``): mean sum SKR of svd-pa, svd-dlpa, the full-power optimum (J(41) with the
    total fixed at P_max) and svd-opt (total at most P_max); gap closed =
    (dlpa - pa) / (full power - pa) on the means; the share of scenarios where svd-dlpa
    beats svd-pa; the mean of svd-dlpa / svd-opt. Targets (close set): gap closed >= 0.5,
    beats svd-pa in more than half of the scenarios.
(2) ``optimum``: svd-opt (``precode(scen, 'svd-opt')``, its defaults: total at most P_max,
    multi-start SLSQP) against an independent global search of the same objective (the sum
    of :func:`nfkg.schemes.optimum.true_skr` over the power fractions in the simplex with slack) on
    random K = 1 and K = 2 scenarios of the test and close streams. The search never uses
    SLSQP or a gradient: ``scipy.optimize.differential_evolution`` (vectorised, 3 seeds) on
    ``y`` in [0, 1]^(2K+1), fractions ``y[:2K] / sum(y)`` (``y[2K]`` is the slack), and for
    K = 1 also a dense grid over (total, share), 600 x 400 points (400 linear and 200
    logarithmic totals down to 1e-8 P_max); the best points are polished by bounded
    Nelder-Mead in ``y``. Target: svd-opt >= global * (1 - 1e-4) everywhere.
(3) ``speed``: one batched Scenario of B = 1000 random scenarios, K = 2, N = 256,
    f_c = 30 GHz (users at 5-25 m, |psi| <= 1.5, half the Eves 1-5 cm from their user, the
    others up to 2 m / 0.07 rad away, P_t 0-30 dBm, noise -105 dBm). ``precode`` of svd-dlpa
    and svd-pa on all of it, svd-opt on its first 50 scenarios; the Scenario's channel cache
    is cleared before every call, so channels and views are recomputed each time; one
    warm-up call of each scheme comes first (torch import and model load are not timed), the
    garbage collector runs once before each series and is off during every call.
    Median of 7 calls (3 with ``--quick``; svd-opt: 3 / 1). One-scenario latency of
    svd-dlpa and svd-pa: median of 31 calls (11). Targets: svd-dlpa per scenario >= 100x
    faster than svd-opt, and faster than svd-pa.
(4) ``training``: ``training.train(6, 0, tmpdir)`` with its defaults (K = 6, the largest
    shipped model), once; wall time, the torch threads it trained on (the model's metadata:
    nfkg sets them inside the call) and ``torch.get_num_threads()`` outside it, and whether
    the weights equal the shipped K = 6 model's (SHA-256). Target: < 600 s on the 2-core
    machine. Skipped with ``--quick``.

Every timing block also records the share of the machine's CPU that other processes used
(``bench_core.CpuMeter``); blocks are not repeated for it here (the parts are long), only
reported.

Run through ``benchmarks/run_all.py`` or directly:
``.venv/bin/python benchmarks/bench_dlpa.py [--quick] [--json PATH]`` (writes ``out/dlpa.json``
and ``out/dlpa_assess.csv``).
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import bench_core  # noqa: E402

from nfkg.model.channel import ULA  # noqa: E402
from nfkg.schemes.optimum import true_skr  # noqa: E402
from nfkg.schemes.precoding import precode, true_objective  # noqa: E402
from nfkg.model.scenario import Scenario  # noqa: E402
from nfkg.model.units import dbm_2_watt  # noqa: E402

TARGET_GAP_CLOSED = 0.5
TARGET_BEATS_PA = 0.5
TARGET_OPT_REL = 1e-4
TARGET_SPEEDUP_OPT = 100.0
TARGET_TRAIN_S = 600.0
SPEED_SEED = 20241124


# --------------------------------------------------------------------------- (1) held-out assessment
def assess_part(quick: bool) -> list[dict]:
    from nfkg.schemes import training

    n = 64 if quick else 512
    rows = []
    for k in (2, 4):
        for part in ("close", "test"):
            t0 = time.perf_counter()
            with bench_core.CpuMeter() as m:
                a = training.assess(k, n, seed=0, part=part)
            v = a.pop("per_scenario")
            a["wall_s"] = time.perf_counter() - t0
            a["foreign_cpu"] = m.foreign
            a["min_dlpa_over_opt"] = float(np.min(v["dlpa"] / np.maximum(v["opt"], 1e-300)))
            a["dlpa_minus_pa_median"] = float(np.median(v["dlpa"] - v["pa"]))
            a["opt_minus_fp_mean"] = float(np.mean(v["opt"] - v["fp"]))
            rows.append(a)
            print(f"  K={k} {part:5s} n={n}: pa {a['svd_pa']:.4f}  dlpa {a['svd_dlpa']:.4f}  "
                  f"full-power {a['full_power_opt']:.4f}  opt {a['svd_opt']:.4f}  gap closed {a['gap_closed']:.3f}  "
                  f"beats pa {a['beats_pa']:.1%}  dlpa/opt {a['dlpa_over_opt']:.4f}  ({a['wall_s']:.0f} s)",
                  flush=True)
    return rows


# --------------------------------------------------------------------------- (2) svd-opt vs a global search
def _objective(sb: dict, ts, tn, kappa, nb, ne, pm):
    """Sum SKR of fractions ``x`` (..., 2K) of P_max (vectorised over leading axes)."""
    k = ts.size

    def f(x):
        x = np.asarray(x, float)
        return true_skr(sb, x[..., :k] * pm, x[..., k:] * pm, ts, tn, kappa, nb, ne).sum(-1)
    return f


def _y_to_x(y, k):
    y = np.clip(np.asarray(y, float), 0.0, 1.0)
    tot = y.sum(-1, keepdims=True)
    return np.where(tot > 0, y[..., :2 * k] / np.where(tot > 0, tot, 1.0), 0.0)


def global_search(f, k: int, quick: bool) -> tuple[float, np.ndarray, dict]:
    """Gradient-free global maximum of ``f`` over the simplex with slack; returns (value, x, info)."""
    from scipy.optimize import differential_evolution, minimize

    d = 2 * k + 1
    cand: list[tuple[float, np.ndarray, str]] = []
    g = lambda y: -float(f(_y_to_x(y, k)))  # noqa: E731
    for seed in ((0,) if quick else (0, 1, 2)):
        res = differential_evolution(lambda Y: -f(_y_to_x(Y.T, k)), [(0.0, 1.0)] * d, seed=seed,
                                     popsize=20 if quick else 40, maxiter=300 if quick else 1500, tol=1e-12,
                                     atol=0.0, mutation=(0.5, 1.0), recombination=0.9, polish=False,
                                     vectorized=True, updating="deferred", init="sobol")
        cand.append((-res.fun, res.x, f"de{seed}"))
    if k == 1:
        tot = np.unique(np.concatenate([np.linspace(0.0, 1.0, 400)[1:], np.logspace(-8, 0, 200)]))
        share = np.linspace(0.0, 1.0, 400)
        T, A = np.meshgrid(tot, share, indexing="ij")
        X = np.stack([T * A, T * (1 - A)], -1)
        vals = f(X)
        for idx in np.argsort(vals.ravel())[::-1][:5]:
            x = X.reshape(-1, 2)[idx]
            # y with the same fractions: y = (x_s, x_n, 1 - sum) (sum(y) = 1)
            cand.append((float(vals.ravel()[idx]), np.array([x[0], x[1], max(1.0 - x.sum(), 0.0)]), "grid"))
    cand.sort(key=lambda c: -c[0])
    best_v, best_y, best_src = cand[0]
    for v0, y0, src in cand[:4]:
        res = minimize(g, y0, method="Nelder-Mead", bounds=[(0.0, 1.0)] * d,
                       options={"xatol": 1e-13, "fatol": 1e-16, "maxiter": 20000 * d, "maxfev": 20000 * d,
                                "adaptive": True})
        v = max(-res.fun, v0)
        if v > best_v:
            best_v, best_y, best_src = v, (res.x if -res.fun >= v0 else y0), src + "+nm"
    return best_v, _y_to_x(best_y, k), {"source": best_src, "de": [c[0] for c in cand if c[2].startswith("de")]}


def optimum_part(quick: bool) -> dict:
    from nfkg.schemes import training

    sets = [("test", 5 if quick else 20), ("close", 3 if quick else 10)]
    rows = []
    t0 = time.perf_counter()
    for k in (1, 2):
        for part, n in sets:
            for scen in training.sample_scenarios(k, n, seed=5, part=part):
                r = precode(scen, "svd-opt", "isotropic")
                sig, jam = r.views
                s = r.extra["coefficients"]
                bshape = scen.batch_shape
                shape = (*bshape, k)
                opt = true_objective(scen, s, sig, jam, r.powers[..., 0], r.powers[..., 1]).sum(-1)
                ts = np.broadcast_to(sig.trace, shape)
                tn = np.broadcast_to(jam.trace, shape)
                kappa = np.broadcast_to(scen.sigma2_a / (scen.pilot_length * scen.p_b), bshape)
                nb = np.broadcast_to(scen.var_nb, bshape)
                ne = np.broadcast_to(scen.var_ne, bshape)
                pm = np.broadcast_to(scen.p_max, bshape)
                for b in range(bshape[0]):
                    sb = {key: np.asarray(v)[b] for key, v in s.items()}
                    f = _objective(sb, ts[b], tn[b], float(kappa[b]), float(nb[b]), float(ne[b]), float(pm[b]))
                    # svd-opt's own value under the same function (must equal the engine's)
                    x_opt = np.concatenate([r.powers[b, :, 0], r.powers[b, :, 1]]) / pm[b]
                    v_opt = float(f(x_opt))
                    v_glob, x_glob, info = global_search(f, k, quick)
                    short = (v_glob - v_opt) / v_glob if v_glob > 0 else 0.0
                    rows.append({"K": k, "set": part, "index": b, "n_ant": scen.n_ant, "svd_opt": float(opt[b]),
                                 "svd_opt_f": v_opt, "global": v_glob, "rel_shortfall": short,
                                 "abs_shortfall": v_glob - v_opt, "x_opt": x_opt.tolist(), "x_global": x_glob.tolist(),
                                 "unused_opt": float(1.0 - x_opt.sum()), "unused_global": float(1.0 - x_glob.sum()),
                                 "source": info["source"], "de": info["de"]})
            worst = max(r["rel_shortfall"] for r in rows if r["K"] == k and r["set"] == part)
            print(f"  K={k} {part:5s} x {n}: worst relative shortfall of svd-opt vs global {worst:.2e}", flush=True)
    return {"rows": rows, "wall_s": time.perf_counter() - t0,
            "max_rel_shortfall": max(r["rel_shortfall"] for r in rows),
            "min_rel_shortfall": min(r["rel_shortfall"] for r in rows)}


# --------------------------------------------------------------------------- (3) inference speed
def speed_scenario(batch: int | None, n_users: int = 2, n_ant: int = 256, seed: int = SPEED_SEED) -> Scenario:
    """B random scenarios (``batch=None``: one, batch shape ``()``) at fixed N and 30 GHz."""
    rng = np.random.default_rng(seed)
    shape = (batch or 1, n_users)
    r_b = rng.uniform(5.0, 25.0, shape)
    psi_b = rng.uniform(-1.5, 1.5, shape)
    close = rng.random(shape) < 0.5
    sign = rng.choice([-1.0, 1.0], shape)
    dr = np.where(close, sign * rng.uniform(0.01, 0.05, shape), rng.uniform(-2.0, 2.0, shape))
    dpsi = np.where(close, rng.uniform(-1.0, 1.0, shape) * 0.05 / r_b, rng.uniform(-0.07, 0.07, shape))
    r_e = r_b + dr
    psi_e = np.clip(psi_b + dpsi, -np.pi / 2, np.pi / 2)
    pt = dbm_2_watt(rng.uniform(0.0, 30.0, shape[0]))
    noise = dbm_2_watt(-105.0)
    if batch is None:
        r_b, psi_b, r_e, psi_e, pt = r_b[0], psi_b[0], r_e[0], psi_e[0], pt[0]
    return Scenario(ULA(n_ant, 30e9), r_b, psi_b, r_e, psi_e, pt, pt, noise, noise, noise, 1)


def subset(scen: Scenario, n: int) -> Scenario:
    """The first ``n`` scenarios of a batch of shape ``(B,)``."""
    bs = scen.batch_shape
    cut = lambda a: np.broadcast_to(a, bs)[:n]  # noqa: E731
    return Scenario(scen.ula, scen.r_b[:n], scen.psi_b[:n], scen.r_e[:n], scen.psi_e[:n], cut(scen.p_max),
                    cut(scen.p_b), cut(scen.sigma2_a), cut(scen.sigma2_b), cut(scen.sigma2_e), scen.pilot_length)


def _median_time(scen: Scenario, scheme: str, repeats: int) -> tuple[float, list[float], float | None]:
    times = []
    gc.collect()  # once: a collection before every call would leave the CPU caches cold (~1 ms here)
    with bench_core.CpuMeter() as m:
        for _ in range(repeats):
            scen._cache.clear()
            gc.disable()
            try:
                t0 = time.perf_counter()
                precode(scen, scheme, "isotropic")
                times.append(time.perf_counter() - t0)
            finally:
                gc.enable()
    return float(np.median(times)), times, m.foreign


def speed_part(quick: bool) -> dict:
    import torch

    batch, n_opt = 1000, 50
    reps, reps_opt, reps_one = (3, 1, 11) if quick else (7, 3, 31)
    big = speed_scenario(batch)
    small = subset(big, n_opt)
    one = speed_scenario(None, seed=SPEED_SEED + 1)
    for sc in (one, small):  # warm-up: torch import, model load, first-call costs
        for s in ("svd-dlpa", "svd-pa", "svd-opt"):
            if s == "svd-opt" and sc is small:
                continue
            precode(sc, s, "isotropic")
    out = {"B": batch, "K": 2, "N": 256, "carrier_hz": 30e9, "opt_subset": n_opt, "repeats": reps,
           "repeats_opt": reps_opt, "repeats_one": reps_one, "torch_threads": torch.get_num_threads(),
           "warm_up": "one call of each scheme before timing (torch import and model load excluded)"}
    for s in ("svd-dlpa", "svd-pa"):
        med, ts, fc = _median_time(big, s, reps)
        out[s] = {"batch_s": med, "per_scenario_ms": 1e3 * med / batch, "times_s": ts, "foreign_cpu": fc}
        print(f"  {s:8s} B={batch}: {med:.3f} s per call, {1e3 * med / batch:.4f} ms per scenario", flush=True)
    med, ts, fc = _median_time(small, "svd-opt", reps_opt)
    out["svd-opt"] = {"batch_s": med, "per_scenario_ms": 1e3 * med / n_opt, "times_s": ts, "foreign_cpu": fc}
    print(f"  svd-opt  B={n_opt}: {med:.3f} s per call, {1e3 * med / n_opt:.2f} ms per scenario", flush=True)
    out["one"] = {}
    for s in ("svd-dlpa", "svd-pa"):
        med, ts, fc = _median_time(one, s, reps_one)
        out["one"][s] = {"ms": 1e3 * med, "min_ms": 1e3 * min(ts), "foreign_cpu": fc}
        print(f"  {s:8s} one scenario: {1e3 * med:.3f} ms (min {1e3 * min(ts):.3f} ms)", flush=True)
    out["speedup_vs_opt"] = out["svd-opt"]["per_scenario_ms"] / out["svd-dlpa"]["per_scenario_ms"]
    out["speedup_vs_pa"] = out["svd-pa"]["per_scenario_ms"] / out["svd-dlpa"]["per_scenario_ms"]
    out["speedup_vs_pa_one"] = out["one"]["svd-pa"]["ms"] / out["one"]["svd-dlpa"]["ms"]
    return out


# --------------------------------------------------------------------------- (4) training time
def training_part(quick: bool) -> dict:
    import torch

    from nfkg.schemes import training

    if quick:
        return {"status": "skipped", "detail": "--quick", "torch_threads": torch.get_num_threads()}
    with tempfile.TemporaryDirectory(prefix="bench-dlpa-") as tmp:
        t0 = time.perf_counter()
        with bench_core.CpuMeter() as m:
            res = training.train(6, 0, tmp)
        wall = time.perf_counter() - t0
    best = training.kept_epoch(res.history)
    shipped = Path(training.__file__).resolve().parent / "models" / "k6" / "kgsvd-net.json"
    # threads: what train() ran on (its metadata; nfkg sets it inside the call), and torch's
    # process default outside it
    out = {"status": "ok", "K": 6, "seed": 0, "wall_s": wall, "train_seconds": res.seconds,
           "epochs_run": len(res.history), "best_epoch": int(best["epoch"]), "val_skr": float(best["val_skr"]),
           "train_threads": res.model.meta.get("threads"), "torch_threads": torch.get_num_threads(),
           "weights_sha256": res.model.meta.get("weights_sha256"), "foreign_cpu": m.foreign,
           "shipped_sha256": json.loads(shipped.read_text()).get("weights_sha256", "") if shipped.exists() else ""}
    print(f"  train(6, 0): {wall:.1f} s, {out['epochs_run']} epochs (kept {out['best_epoch']}), "
          f"{out['train_threads']} training thread(s); torch.get_num_threads() = {out['torch_threads']}", flush=True)
    return out


# --------------------------------------------------------------------------- driver
def run(quick: bool = False) -> dict:
    t0 = time.perf_counter()
    res: dict = {"quick": quick}
    print("(1) held-out assessment: training.assess(K, n, seed=0, part)", flush=True)
    res["assess"] = assess_part(quick)
    print("(2) svd-opt vs a global search (K = 1, 2)", flush=True)
    res["optimum"] = optimum_part(quick)
    print("(3) inference speed (B = 1000, K = 2, N = 256)", flush=True)
    res["speed"] = speed_part(quick)
    print("(4) training time (train(6, 0) with defaults)", flush=True)
    res["training"] = training_part(quick)
    res["wall_s"] = time.perf_counter() - t0
    return res


def targets(res: dict) -> list[dict]:
    out = []
    for a in res["assess"]:
        if a["set"] != "close":
            continue
        out.append({"id": f"gap_k{a['users']}", "target": f"K = {a['users']}, close Eves: gap closed "
                    f"(dlpa - pa)/(full power - pa) >= {TARGET_GAP_CLOSED}",
                    "measured": f"{a['gap_closed']:.3f} (n = {a['scenarios']})", "value": a["gap_closed"],
                    "met": bool(a["gap_closed"] >= TARGET_GAP_CLOSED)})
        out.append({"id": f"beats_k{a['users']}", "target": f"K = {a['users']}, close Eves: svd-dlpa beats svd-pa in "
                    f"more than {TARGET_BEATS_PA:.0%} of the scenarios",
                    "measured": f"{a['beats_pa']:.1%} (n = {a['scenarios']})", "value": a["beats_pa"],
                    "met": bool(a["beats_pa"] > TARGET_BEATS_PA)})
    o = res["optimum"]
    out.append({"id": "opt", "target": f"svd-opt >= global search x (1 - {TARGET_OPT_REL:g}), K = 1 and 2",
                "measured": f"max relative shortfall {o['max_rel_shortfall']:.1e} over {len(o['rows'])} scenarios",
                "value": o["max_rel_shortfall"], "met": bool(o["max_rel_shortfall"] <= TARGET_OPT_REL)})
    sp = res["speed"]
    out.append({"id": "speed_opt", "target": f"svd-dlpa per scenario >= {TARGET_SPEEDUP_OPT:.0f}x faster than svd-opt "
                "(K = 2, N = 256)", "measured": f"{sp['speedup_vs_opt']:,.0f}x "
                f"({sp['svd-dlpa']['per_scenario_ms']:.4f} vs {sp['svd-opt']['per_scenario_ms']:.1f} ms)",
                "value": sp["speedup_vs_opt"], "met": bool(sp["speedup_vs_opt"] >= TARGET_SPEEDUP_OPT)})
    out.append({"id": "speed_pa", "target": "svd-dlpa per scenario faster than svd-pa (B = 1000, K = 2, N = 256)",
                "measured": f"{sp['speedup_vs_pa']:.2f}x ({sp['svd-dlpa']['per_scenario_ms']:.4f} vs "
                            f"{sp['svd-pa']['per_scenario_ms']:.4f} ms); one scenario {sp['speedup_vs_pa_one']:.2f}x",
                "value": sp["speedup_vs_pa"], "met": bool(sp["speedup_vs_pa"] > 1.0)})
    tr = res["training"]
    if tr["status"] == "ok":
        out.append({"id": "train", "target": f"train(6, 0) with defaults < {TARGET_TRAIN_S:.0f} s (2 cores)",
                    "measured": f"{tr['wall_s']:.0f} s ({tr['epochs_run']} epochs, "
                                f"{tr['train_threads']} training thread(s))",
                    "value": tr["wall_s"], "met": bool(tr["wall_s"] < TARGET_TRAIN_S)})
    return out


def _fc(v) -> str:
    return "n/a" if v is None else f"{v:.0%}"


def markdown(res: dict) -> str:
    n = res["assess"][0]["scenarios"]
    out = [f"### (1) Held-out scenarios, `training.assess(K, {n}, seed=0, part)` (mean sum SKR, bits)\n",
           "| K | set | n | svd-pa | svd-dlpa | full-power opt | svd-opt | gap closed | dlpa beats pa "
           "| mean dlpa / opt | min dlpa / opt | ms/scen dlpa / pa / opt | other CPU |",
           "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for a in res["assess"]:
        out.append(f"| {a['users']} | {a['set']} | {a['scenarios']} | {a['svd_pa']:.4f} | {a['svd_dlpa']:.4f} | "
                   f"{a['full_power_opt']:.4f} | {a['svd_opt']:.4f} | {a['gap_closed']:.3f} | {a['beats_pa']:.1%} | "
                   f"{a['dlpa_over_opt']:.4f} | {a['min_dlpa_over_opt']:.3f} | {a['ms_dlpa']:.3f} / {a['ms_pa']:.3f} / "
                   f"{a['ms_opt']:.1f} | {_fc(a['foreign_cpu'])} |")
    o = res["optimum"]
    out += ["\n### (2) svd-opt against a gradient-free global search\n",
            "| K | set | scenarios | max relative shortfall of svd-opt | min (negative: svd-opt higher) "
            "| max absolute shortfall [bits] | mean sum SKR | optimum leaves > 1e-6 P_max unused (search / svd-opt) |",
            "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for k in (1, 2):
        for part in ("test", "close"):
            rs = [r for r in o["rows"] if r["K"] == k and r["set"] == part]
            if not rs:
                continue
            out.append(f"| {k} | {part} | {len(rs)} | {max(r['rel_shortfall'] for r in rs):.1e} | "
                       f"{min(r['rel_shortfall'] for r in rs):.1e} | {max(r['abs_shortfall'] for r in rs):.1e} | "
                       f"{np.mean([r['global'] for r in rs]):.4f} | {sum(r['unused_global'] > 1e-6 for r in rs)} / "
                       f"{sum(r['unused_opt'] > 1e-6 for r in rs)} |")
    sp = res["speed"]
    out += [f"\n### (3) Inference speed, K = {sp['K']}, N = {sp['N']}, 30 GHz (median; channel cache cleared "
            "before every call; warm-up call first, so torch import and model load are not timed)\n",
            "| scheme | batch | per call | per scenario | svd-dlpa speed-up | other CPU |",
            "|---|---:|---:|---:|---:|---:|"]
    for s, b in (("svd-dlpa", sp["B"]), ("svd-pa", sp["B"]), ("svd-opt", sp["opt_subset"])):
        v = sp[s]
        up = "-" if s == "svd-dlpa" else f"{v['per_scenario_ms'] / sp['svd-dlpa']['per_scenario_ms']:,.1f}x"
        out.append(f"| {s} | {b} | {v['batch_s'] * 1e3:.1f} ms | {v['per_scenario_ms']:.4f} ms | {up} | "
                   f"{_fc(v['foreign_cpu'])} |")
    for s in ("svd-dlpa", "svd-pa"):
        v = sp["one"][s]
        up = "-" if s == "svd-dlpa" else f"{sp['speedup_vs_pa_one']:.2f}x"
        out.append(f"| {s} | 1 | {v['ms']:.3f} ms (min {v['min_ms']:.3f}) | {v['ms']:.3f} ms | {up} | "
                   f"{_fc(v['foreign_cpu'])} |")
    tr = res["training"]
    out.append("\n### (4) Training time\n")
    if tr["status"] == "ok":
        out.append(f"`training.train(6, 0, tmpdir)` with defaults: **{tr['wall_s']:.0f} s** wall, "
                   f"{tr['epochs_run']} epochs (kept epoch {tr['best_epoch']}, validation mean sum SKR "
                   f"{tr['val_skr']:.4f} bits), trained on {tr['train_threads']} torch thread(s) (model metadata; "
                   f"torch.get_num_threads() outside the call = {tr['torch_threads']}), other CPU "
                   f"{_fc(tr['foreign_cpu'])}. Weights SHA-256 {str(tr['weights_sha256'])[:12]}... "
                   f"(shipped k6: {tr.get('shipped_sha256', '?')[:12]}...).")
    else:
        out.append(f"skipped ({tr.get('detail')}); torch.get_num_threads() = {tr['torch_threads']}.")
    return "\n".join(out)


def write_csv(res: dict, path: Path) -> None:
    from nfkg.schemes.training import ASSESS_COLUMNS

    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow([*ASSESS_COLUMNS, "min_dlpa_over_opt"])
        for a in res["assess"]:
            w.writerow([a[c] for c in ASSESS_COLUMNS] + [a["min_dlpa_over_opt"]])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="64 scenarios per set, fewer repeats, no training")
    ap.add_argument("--json", type=Path, default=HERE / "out" / "dlpa.json")
    args = ap.parse_args(argv)
    res = run(args.quick)
    res["targets"] = targets(res)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=1))
    write_csv(res, args.json.with_name(args.json.stem + "_assess.csv"))
    print(markdown(res))
    for t in res["targets"]:
        print(f"- {t['target']}: {t['measured']} -> {'met' if t['met'] else 'NOT met'}")
    print(f"(wall {res['wall_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
