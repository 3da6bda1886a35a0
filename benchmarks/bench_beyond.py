"""Beyond the papers: svd-mf and svd-maxmin (SPEC 8). Not run by the tests.

Three parts, one per target:

(a) ``figures``: svd-mf against svd-pa, svd-dlpa and svd-opt on the J4-J8 geometries, through
    :func:`nfkg.studies.experiments.run_figure` with a ``schemes`` override (the papers' schemes with
    their isotropic shaping and jamming; svd-mf with its fixed matched shaping and targeted
    jamming; general engine). J4 and J6 on coarser grids than the presets (dpsi step 5 mrad,
    dr step 5 cm) to keep the run short; J5, J7, J8 (K = 4 and 6) on the preset grids.
    Per figure: the mean of svd-mf / svd-pa over the grid (points where svd-pa > 1e-6 bit),
    the mean gain in bits over svd-pa, svd-dlpa and svd-opt. Target: svd-mf >= 5x svd-pa's sum
    SKR on J5 at every P_t in 20-30 dBm.
(b) ``random``: 200 seeded random scenarios (K = 2, 3, 4 in turn; N = 64, 128 or 256; users
    at 5-25 m with angles spread over [-1, 1] rad; each Eve 1 cm to 2 m closer and within
    +-20 mrad of its user; P_t uniform in 0-30 dBm): how often svd-mf's sum SKR is below
    svd-opt's (isotropic, the papers' subspaces) by more than 1e-9 bit, and where: P_t, the
    Eve offsets, and the signal-power fractions of the two designs. No target (a finding).
(c) ``maxmin``: svd-maxmin (isotropic) against a gradient-free global search of the same
    max-min objective, ``scipy.optimize.differential_evolution`` (vectorised, popsize 30,
    maxiter 3000, polish) on ``y`` in [0, 1]^(2K), fractions ``y / max(1, sum y)``, on 10
    random scenarios for each K = 2, 3, 4. Target: svd-maxmin >= global - 1e-3 everywhere.

``.venv/bin/python benchmarks/bench_beyond.py [--quick] [--json PATH]`` (writes ``out/beyond.json``).
``--quick``: 40 random scenarios, 3 per K in (c), J4/J6 even coarser.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def _ratio_stats(num: np.ndarray, den: np.ndarray) -> float:
    ok = den > 1e-6
    return float(np.mean(num[ok] / den[ok])) if np.any(ok) else float("nan")


def part_figures(quick: bool) -> dict:
    from nfkg.studies.experiments import run_figure, scheme_label

    schemes = ["svd-pa", "svd-dlpa", "svd-opt", "svd-mf"]
    step4, step6 = (0.01, 0.2) if quick else (0.005, 0.05)
    over = {
        "j4": {"dpsi": list(np.round(np.arange(-0.07, 0.07 + 1e-9, step4), 6))},
        "j5": {},
        "j6": {"dr": list(np.round(np.arange(-2.0, 2.0 + 1e-9, step6), 6))},
        "j7": {},
        "j8": {},
    }
    out = {}
    for fid, o in over.items():
        t0 = time.perf_counter()
        d = run_figure(fid, {**o, "schemes": schemes})
        secs = time.perf_counter() - t0
        groups = [""] if fid != "j8" else [", K=4", ", K=6"]
        for g in groups:
            c = {s: np.asarray(d.curves[scheme_label(s) + g]) for s in schemes}
            key = fid + g.replace(", ", " ")
            row = {
                "points": int(d.x.size),
                "mf_over_pa_mean_ratio": _ratio_stats(c["svd-mf"], c["svd-pa"]),
                "mf_minus_pa_mean": float(np.mean(c["svd-mf"] - c["svd-pa"])),
                "mf_minus_dlpa_mean": float(np.mean(c["svd-mf"] - c["svd-dlpa"])),
                "mf_minus_opt_mean": float(np.mean(c["svd-mf"] - c["svd-opt"])),
                "mf_below_opt_points": int(np.sum(c["svd-mf"] < c["svd-opt"] - 1e-9)),
                "mean_sum_skr": {s: float(np.mean(v)) for s, v in c.items()},
                "seconds": secs,
            }
            if fid == "j5":
                row["per_pt"] = {f"{x:g}": {"svd-pa": float(c["svd-pa"][i]), "svd-mf": float(c["svd-mf"][i]),
                                            "ratio": float(c["svd-mf"][i] / c["svd-pa"][i])}
                                 for i, x in enumerate(d.x) if 20 <= x <= 30}
                ratios = [v["ratio"] for v in row["per_pt"].values()]
                row["target_min_ratio_20_30"] = float(min(ratios))
                row["target_met"] = bool(min(ratios) >= 5.0)
            out[key] = row
            print(f"  {key}: svd-mf/svd-pa {row['mf_over_pa_mean_ratio']:.3g}x, "
                  f"+{row['mf_minus_pa_mean']:.3g} bits vs pa, {row['mf_minus_dlpa_mean']:+.3g} vs dlpa, "
                  f"{row['mf_minus_opt_mean']:+.3g} vs opt; mf < opt at {row['mf_below_opt_points']}/{row['points']} "
                  f"({secs:.1f} s)", flush=True)
    return out


def _random_scenario(rng: np.random.Generator, k: int):
    from nfkg.model.channel import ULA
    from nfkg.model.scenario import Scenario

    n = int(rng.choice([64, 128, 256]))
    r = rng.uniform(5.0, 25.0, k)
    psi = np.sort(rng.uniform(-1.0, 1.0, k))
    dr = rng.uniform(0.01, 2.0, k)
    dpsi = rng.uniform(-0.02, 0.02, k)
    users = np.stack([r, psi], -1)
    eves = np.stack([r - dr, psi + dpsi], -1)
    pt = float(rng.uniform(0.0, 30.0))
    return Scenario.from_dbm(ULA(n, 30e9), users=users, eves=eves, pt_dbm=pt), {
        "k": k, "n_ant": n, "pt_dbm": pt, "dr_min": float(dr.min()), "dr_max": float(dr.max()),
        "dpsi_max": float(np.abs(dpsi).max()), "min_user_gap_rad": float(np.min(np.diff(psi))) if k > 1 else None}


def part_random(quick: bool) -> dict:
    from nfkg.schemes.precoding import evaluate

    n_scen = 40 if quick else 200
    rng = np.random.default_rng(2026)
    rows = []
    t0 = time.perf_counter()
    for i in range(n_scen):
        k = (2, 3, 4)[i % 3]
        try:
            scen, info = _random_scenario(rng, k)
        except ValueError:
            continue
        mf = evaluate(scen, "svd-mf")
        opt = evaluate(scen, "svd-opt", "isotropic")
        pa = evaluate(scen, "svd-pa", "isotropic")
        mm = evaluate(scen, "svd-maxmin", "matched", jamming="targeted")
        r = {**info, "mf": float(mf.sum_skr), "opt": float(opt.sum_skr), "pa": float(pa.sum_skr),
             "mf_ps_frac": float(mf.result.p_s.sum() / scen.p_max), "opt_ps_frac": float(opt.result.p_s.sum() / scen.p_max),
             "mf_pa_frac": float(mf.result.p_a.sum() / scen.p_max), "opt_pa_frac": float(opt.result.p_a.sum() / scen.p_max),
             "mf_min": float(mf.skr.min()), "maxmin_mt_min": float(mm.skr.min()),
             "opt_per_user": [float(v) for v in opt.skr], "mf_per_user": [float(v) for v in mf.skr]}
        rows.append(r)
    secs = time.perf_counter() - t0
    below = [r for r in rows if r["mf"] < r["opt"] - 1e-9]
    ratio = np.array([r["mf"] / r["opt"] for r in rows])
    out = {
        "scenarios": len(rows), "seconds": secs,
        "mf_below_opt": len(below),
        "mf_below_opt_share": len(below) / max(len(rows), 1),
        "mf_over_opt_median": float(np.median(ratio)),
        "mf_over_opt_min": float(ratio.min()),
        "mf_over_pa_median": float(np.median([r["mf"] / r["pa"] for r in rows if r["pa"] > 1e-9])),
        "worst_cases": sorted(below, key=lambda r: r["mf"] - r["opt"])[:8],
        "below_by_k": {str(k): sum(r["k"] == k for r in below) for k in (2, 3, 4)},
        "below_pt_dbm": [round(r["pt_dbm"], 1) for r in below],
        "below_deficit_bits": [round(r["opt"] - r["mf"], 4) for r in below],
    }
    if rows:
        pts = np.array([r["pt_dbm"] for r in rows])
        out["pt_median_all"] = float(np.median(pts))
        out["pt_median_below"] = float(np.median([r["pt_dbm"] for r in below])) if below else None
    print(f"  random: svd-mf < svd-opt in {len(below)}/{len(rows)} scenarios; median mf/opt "
          f"{out['mf_over_opt_median']:.3g}, min {out['mf_over_opt_min']:.3g} ({secs:.1f} s)", flush=True)
    for r in out["worst_cases"]:
        print(f"    K={r['k']} N={r['n_ant']} P_t={r['pt_dbm']:.1f} dr {r['dr_min']:.2f}-{r['dr_max']:.2f} "
              f"mf {r['mf']:.4f} opt {r['opt']:.4f} (P_s/P_max mf {r['mf_ps_frac']:.2e}, opt {r['opt_ps_frac']:.2e}; "
              f"P_a mf {r['mf_pa_frac']:.2e}, opt {r['opt_pa_frac']:.2e})", flush=True)
    return out


def _de_maxmin(scen, res, seed: int) -> float:
    from scipy.optimize import differential_evolution

    from nfkg.schemes.optimum import true_skr

    s = res.extra["coefficients"]
    sig, jam = res.views
    k = scen.n_users
    ts, tn = np.broadcast_to(sig.trace, (k,)), np.broadcast_to(jam.trace, (k,))
    kappa = scen.sigma2_a / (scen.pilot_length * scen.p_b)
    pm = float(scen.p_max)

    def neg_min(y):
        x = y / np.maximum(1.0, y.sum(0))
        v = true_skr({a: c[:, None] for a, c in s.items()}, x[:k] * pm, x[k:] * pm, ts[:, None], tn[:, None],
                     kappa, scen.sigma2_b / scen.pilot_length, scen.sigma2_e / scen.pilot_length)
        return -v.min(0)

    r = differential_evolution(neg_min, [(0.0, 1.0)] * (2 * k), seed=seed, vectorized=True, updating="deferred",
                               popsize=30, maxiter=3000, tol=1e-12, polish=True)
    return -float(r.fun)


def part_maxmin(quick: bool) -> dict:
    from nfkg.schemes.precoding import evaluate

    n_each = 3 if quick else 10
    rng = np.random.default_rng(11)
    out = {}
    worst = -np.inf
    for k in (2, 3, 4):
        gaps, t_mm, t_de = [], 0.0, 0.0
        for i in range(n_each):
            scen, _ = _random_scenario(rng, k)
            t0 = time.perf_counter()
            ev = evaluate(scen, "svd-maxmin", "isotropic")
            t_mm += time.perf_counter() - t0
            t0 = time.perf_counter()
            de = _de_maxmin(scen, ev.result, i)
            t_de += time.perf_counter() - t0
            gaps.append(de - float(ev.skr.min()))
        out[str(k)] = {"scenarios": n_each, "worst_gap_global_minus_maxmin": float(max(gaps)),
                       "best_gap": float(min(gaps)), "ms_maxmin": 1e3 * t_mm / n_each, "s_global": t_de / n_each}
        worst = max(worst, max(gaps))
        print(f"  maxmin K={k}: global - maxmin worst {max(gaps):.2e}, best {min(gaps):.2e}; "
              f"{1e3 * t_mm / n_each:.1f} ms vs {t_de / n_each:.2f} s per scenario", flush=True)
    out["worst_gap"] = float(worst)
    out["target_met"] = bool(worst <= 1e-3)
    return out


def run(quick: bool = False) -> dict:
    res = {}
    print("(a) svd-mf on the J4-J8 geometries", flush=True)
    res["figures"] = part_figures(quick)
    print("(b) svd-mf against svd-opt on random scenarios", flush=True)
    res["random"] = part_random(quick)
    print("(c) svd-maxmin against a global search", flush=True)
    res["maxmin"] = part_maxmin(quick)
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", type=Path, default=HERE / "out" / "beyond.json")
    args = ap.parse_args(argv)
    res = run(args.quick)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=1) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
