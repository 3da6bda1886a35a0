"""The exact split of J(41) (svd-opt, svd-mf): the grid method against the multi-start SLSQP. Not run by the tests.

:func:`nfkg.schemes.optimum.exact_allocation` has two methods: ``'grid'`` (the default: per-user
value functions on a budget grid, their exact or dynamic-programme allocation, golden-section
or one-SLSQP refinement) and ``'multistart'`` (the earlier multi-start SLSQP). Four parts:

(a) ``agreement``: seeded random scenarios, K = 1..6, N uniform in 16..256 (and N = 2K-1),
    users at 6-25 m, each Eve 1 cm to 2 m closer and within +-20 mrad of its user, P_t uniform
    in 0-40 dBm plus some at -50 and 60 dBm, shaping/jamming isotropic/isotropic and
    matched/targeted. Per scenario ``d = (grid - multistart) / max(1, |multistart|)`` and
    ``grid - svd-pa``. Target: ``d >= -1e-9`` and ``grid >= svd-pa`` everywhere.
(b) ``global``: K = 1, 2, 3 small cases (N = 16, 32) against
    ``scipy.optimize.differential_evolution`` (popsize 40, tol 1e-12, polished) on ``y`` in
    [0, 1]^(2K), fractions ``y / max(1, sum y)``, then a Nelder-Mead polish. Target: the grid
    method within 1e-6 (relative, floor 1) of the global search or above it.
(c) ``timing``: B = 200 scenarios, N = 256, K = 2, 4, 6, both shape combinations: seconds per
    scenario of each method (the multi-start method on the first 50 of the batch, extrapolated).
    Target: >= 10x for K = 2.
(d) ``independence``: a batch against each scenario alone, bit for bit, and the same call twice.

``.venv/bin/python benchmarks/bench_exact.py [--quick] [--json PATH]`` (writes ``out/exact.json``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from nfkg.schemes import precoding  # noqa: E402
from nfkg.model.channel import ULA  # noqa: E402
from nfkg.schemes.optimum import exact_allocation, true_skr  # noqa: E402
from nfkg.model.scenario import Scenario  # noqa: E402

COMBOS = (("isotropic", "isotropic"), ("matched", "targeted"))


def scenarios(rng, k, n, b, pt=None):
    r = rng.uniform(6.0, 25.0, (b, k))
    psi = (np.linspace(-0.9, 0.9, k) + rng.uniform(-0.15, 0.15, (b, k))) if k > 1 else rng.uniform(-0.9, 0.9, (b, 1))
    eves = np.stack([r - rng.uniform(0.01, 2.0, (b, k)), psi + rng.uniform(-0.02, 0.02, (b, k))], -1)
    pt = rng.uniform(0.0, 40.0, b) if pt is None else np.broadcast_to(pt, (b,))
    return Scenario.from_dbm(ULA(n, 30e9), users=np.stack([r, psi], -1), eves=eves, pt_dbm=pt)


def problem(scen, shaping, jamming):
    """exact_allocation's arguments for svd-opt on these shapes (the svd-pa split as the extra start)."""
    pa = precoding._svd_pa(scen, shaping, jamming, None)
    sig, jam = pa.views
    shape = (*scen.batch_shape, scen.n_users)
    bs = lambda v: np.array(np.broadcast_to(v, scen.batch_shape), float)  # noqa: E731
    return dict(s={k: np.array(v) for k, v in pa.extra["coefficients"].items()},
                t_s=np.array(np.broadcast_to(sig.trace, shape)), t_n=np.array(np.broadcast_to(jam.trace, shape)),
                p_max=bs(scen.p_max), kappa=bs(scen.sigma2_a / (scen.pilot_length * scen.p_b)),
                var_nb=bs(scen.sigma2_b / scen.pilot_length), var_ne=bs(scen.sigma2_e / scen.pilot_length),
                p_s0=np.array(pa.powers[..., 0]), p_n0=np.array(pa.powers[..., 1]))


def take(pr, idx):
    return {k: ({a: b[idx] for a, b in v.items()} if isinstance(v, dict) else v[idx]) for k, v in pr.items()}


def value(pr, p_s, p_n):
    return true_skr(pr["s"], p_s, p_n, pr["t_s"], pr["t_n"], pr["kappa"][..., None], pr["var_nb"][..., None],
                    pr["var_ne"][..., None]).sum(-1)


def agreement(n_per, seed=1):
    rng = np.random.default_rng(seed)
    rows = []
    t_new = t_old = 0.0
    for k in range(1, 7):
        for combo in COMBOS:
            for kind in ("random", "2K-1", "extreme"):
                b = n_per if kind == "random" else max(2, n_per // 4)
                n = 2 * k - 1 if kind == "2K-1" else int(rng.integers(max(16, 2 * k), 257))
                pt = rng.choice([-50.0, 60.0], b) if kind == "extreme" else None
                pr = problem(scenarios(rng, k, n, b, pt), *combo)
                t = time.perf_counter()
                new = exact_allocation(**pr)
                t_new += time.perf_counter() - t
                t = time.perf_counter()
                old = exact_allocation(**pr, method="multistart")
                t_old += time.perf_counter() - t
                pa = value(pr, pr["p_s0"], pr["p_n0"])
                for i in range(b):
                    rows.append({"K": k, "N": n, "combo": "/".join(combo), "pt_dbm": float(10 * np.log10(pr["p_max"][i]) + 30),
                                 "grid": float(new.fun[i]), "multistart": float(old.fun[i]), "svd_pa": float(pa[i]),
                                 "budget_ok": bool((new.x[i] + new.p_n[i]).sum() <= pr["p_max"][i] * (1 + 1e-12))})
    d = np.array([(r["grid"] - r["multistart"]) / max(1.0, abs(r["multistart"])) for r in rows])
    dpa = np.array([r["grid"] - r["svd_pa"] for r in rows])
    q = np.quantile(d, [0.0, 0.01, 0.5, 0.99, 1.0])
    out = {"scenarios": len(rows), "d_min": q[0], "d_q01": q[1], "d_median": q[2], "d_q99": q[3], "d_max": q[4],
           "n_below_1e-9": int(np.sum(d < -1e-9)), "n_above_1e-9": int(np.sum(d > 1e-9)),
           "n_below_1e-12": int(np.sum(d < -1e-12)), "n_above_1e-12": int(np.sum(d > 1e-12)),
           "min_grid_minus_pa": float(dpa.min()), "budget_ok": all(r["budget_ok"] for r in rows),
           "seconds_grid": t_new, "seconds_multistart": t_old,
           "worst": sorted(rows, key=lambda r: (r["grid"] - r["multistart"]) / max(1.0, abs(r["multistart"])))[:5]}
    print(f"(a) {len(rows)} scenarios: (grid - multistart)/max(1,|ms|) min {q[0]:.3g} q01 {q[1]:.3g} median {q[2]:.3g} "
          f"q99 {q[3]:.3g} max {q[4]:.3g}; below -1e-9: {out['n_below_1e-9']}, above 1e-9: {out['n_above_1e-9']}; "
          f"min(grid - svd-pa) {dpa.min():.3g}; time grid {t_new:.1f} s, multistart {t_old:.1f} s", flush=True)
    return out


def global_search(n_per, seed=2):
    from scipy.optimize import differential_evolution, minimize

    rng = np.random.default_rng(seed)
    rows = []
    for k in (1, 2, 3):
        for j in range(n_per):
            combo = COMBOS[j % 2]
            pr = problem(scenarios(rng, k, (16, 32)[j % 2], 1, rng.uniform(0.0, 40.0, 1)), *combo)
            pr1 = take(pr, 0)
            pm = float(pr1["p_max"])

            def neg(y):
                y = np.clip(y, 0.0, None)
                x = y / max(1.0, y.sum())
                return -float(true_skr(pr1["s"], x[:k] * pm, x[k:] * pm, pr1["t_s"], pr1["t_n"], pr1["kappa"],
                                       pr1["var_nb"], pr1["var_ne"]).sum())

            t = time.perf_counter()
            de = differential_evolution(neg, [(0.0, 1.0)] * (2 * k), popsize=40, tol=1e-12, maxiter=3000,
                                        seed=int(rng.integers(1 << 30)), polish=True)
            nm = minimize(neg, de.x, method="Nelder-Mead", options={"xatol": 1e-13, "fatol": 1e-15, "maxiter": 20000})
            ref = max(-de.fun, -nm.fun)
            secs = time.perf_counter() - t
            got = float(exact_allocation(**pr).fun[0])
            rows.append({"K": k, "combo": "/".join(combo), "grid": got, "global": ref,
                         "d": (got - ref) / max(1.0, abs(ref)), "de_seconds": secs})
    d = np.array([r["d"] for r in rows])
    print(f"(b) {len(rows)} cases vs differential evolution: (grid - global)/max(1,|global|) min {d.min():.3g}, "
          f"max {d.max():.3g}", flush=True)
    return {"cases": rows, "d_min": float(d.min()), "d_max": float(d.max())}


def timing(b, n_old, seed=3):
    rng = np.random.default_rng(seed)
    rows = []
    for k in (2, 4, 6):
        for combo in COMBOS:
            pr = problem(scenarios(rng, k, 256, b), *combo)
            exact_allocation(**take(pr, slice(0, 4)))                  # warm-up
            t = time.perf_counter()
            new = exact_allocation(**pr)
            t_new = (time.perf_counter() - t) / b
            sub = take(pr, slice(0, n_old))
            t = time.perf_counter()
            old = exact_allocation(**sub, method="multistart")
            t_old = (time.perf_counter() - t) / n_old
            d = (new.fun[:n_old] - old.fun) / np.maximum(1.0, np.abs(old.fun))
            rows.append({"K": k, "combo": "/".join(combo), "B": b, "ms_grid": 1e3 * t_new, "ms_multistart": 1e3 * t_old,
                         "speedup": t_old / t_new, "d_min": float(d.min()), "message": new.message})
            print(f"(c) K={k} {'/'.join(combo)}: grid {1e3 * t_new:.2f} ms/scenario, multistart {1e3 * t_old:.1f} "
                  f"ms/scenario: {t_old / t_new:.1f}x (d min {d.min():.2g})", flush=True)
    return rows


def independence(seed=4):
    rng = np.random.default_rng(seed)
    ok = True
    for k in (1, 2, 3):
        for combo in COMBOS:
            pr = problem(scenarios(rng, k, 64, 9), *combo)
            a = exact_allocation(**pr)
            b = exact_allocation(**pr)
            ok &= np.array_equal(a.x, b.x) and np.array_equal(a.p_n, b.p_n) and np.array_equal(a.fun, b.fun)
            for i in range(9):
                one = exact_allocation(**take(pr, slice(i, i + 1)))
                ok &= (np.array_equal(one.x[0], a.x[i]) and np.array_equal(one.p_n[0], a.p_n[i])
                       and np.array_equal(one.fun[0], a.fun[i]))
            rev = exact_allocation(**take(pr, slice(None, None, -1)))
            ok &= np.array_equal(rev.x[::-1], a.x) and np.array_equal(rev.fun[::-1], a.fun)
    print(f"(d) batch == each scenario alone == reversed batch, bit for bit: {ok}", flush=True)
    return bool(ok)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", default=str(HERE / "out" / "exact.json"))
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    out = {"agreement": agreement(8 if a.quick else 24), "global": global_search(2 if a.quick else 7),
           "timing": timing(40 if a.quick else 200, 10 if a.quick else 50), "independence": independence()}
    out["seconds"] = time.perf_counter() - t0
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    Path(a.json).write_text(json.dumps(out, indent=1, default=float))
    print(f"wrote {a.json} ({out['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
