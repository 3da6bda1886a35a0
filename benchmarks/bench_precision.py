"""Precision benchmark: the float64 engine against the mpmath reference (``tests/mpref.py``).

A larger sweep than ``tests/test_precision.py``: a few hundred cases over the
documented range (P_t -50..60 dBm, noise -200..-60 dBm, V = 1..10^6, K = 1..4,
every scheme / shaping / jamming / scoring, Eves 1 mm to metres from their users),
N up to 32 with explicit mp matrices, plus N = 256 on the reference's inner-product
path for ras and mrc. For every user SKR it records

* ``err``: |engine - reference| (the reference computed from the geometry);
* ``floor``: |reference(channels rounded to complex128) - reference|, the error that
  any engine starting from correctly rounded float64 channels must tolerate;
* ``chan``: |reference(the engine's own float64 channels) - reference|, the part of
  ``err`` that comes from the engine's channel generation alone.

It prints markdown tables (per scheme configuration, and per SNR regime) of the max
relative error where the reference SKR >= 0.01 bit and the max absolute error where
it is below, with the number of cases and of failures of the test tolerance
(relative <= 1e-8, or absolute <= 1e-10 bits below 0.01 bit), and writes every number
to ``benchmarks/out/precision.json``.

Run: ``.venv/bin/python benchmarks/bench_precision.py [--quick] [--jobs 2]`` (a few minutes).
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mpr
import platform
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "tests"))

from mpmath import mp, mpf  # noqa: E402

import mpref  # noqa: E402

CARRIER_GHZ = 30.0
REL_TOL, ABS_TOL, SMALL = 1e-8, 1e-10, 0.01
CONFIGS = [("ras", None, None), ("mrc", None, None)] + [
    (s, sh, jm) for s in ("svd", "svd-pa") for sh in ("matched", "isotropic") for jm in ("isotropic", "targeted")]


def config_name(scheme, shaping, jamming):
    return scheme if shaping is None else f"{scheme}/{shaping}/{jamming}"


def _case(n, users, eves, pt, noise, v, cfg, scoring, method="matrix", tag="random"):
    return dict(n_ant=int(n), users=[(float(r), float(p)) for r, p in users],
                eves=[(float(r), float(p)) for r, p in eves], pt=float(pt), noise=float(noise), v=int(v),
                scheme=cfg[0], shaping=cfg[1], jamming=cfg[2], scoring=scoring, method=method, tag=tag)


def _eves_near(rng, users):
    out = []
    for r, psi in users:
        off = 10 ** rng.uniform(-3, math.log10(3.0)) * rng.choice([-1, 1])
        if rng.random() < 0.5:
            out.append((max(r + off, 1.0), psi))
        else:
            out.append((r, float(np.clip(psi + off / r, -1.5, 1.5))))
    return out


def build_cases(seed: int, n_random: int, n_offset_sets: int, n_big: int) -> list[dict]:
    rng = np.random.default_rng(seed)
    cases = []
    # random sweep, N <= 32, explicit matrices
    for _ in range(n_random):
        k = int(rng.integers(1, 5))
        n = int(rng.integers(max(4, 2 * k - 1), 33))
        cfg = CONFIGS[int(rng.integers(len(CONFIGS)))]
        users = list(zip(rng.uniform(3, 20, k), rng.uniform(-1.2, 1.2, k)))
        cases.append(_case(n, users, _eves_near(rng, users), rng.uniform(-50, 60), rng.uniform(-200, -60),
                           round(10 ** rng.uniform(0, 6)), cfg, ("general", "per-user")[int(rng.integers(2))]))
    # Eve offsets on the J5 geometry: 1 mm .. 3 m, radial and angular, at moderate and extreme SNR
    users = [(12.0, -0.6), (13.0, 0.6)]
    offsets = [("radial", s * d) for d in (1e-3, 1e-2, 1e-1, 1.0, 3.0) for s in (-1, 1)] + \
              [("arc", s * d) for d in (1e-3, 1e-2, 1e-1, 1.0) for s in (-1, 1)]
    points = [(20.0, -105.0, 1), (40.0, -200.0, 1), (60.0, -200.0, 10**6)][:n_offset_sets]
    for pt, noise, v in points:
        for kind, off in offsets:
            eves = [(r + off, p) if kind == "radial" else (r, p + off / r) for r, p in users]
            for cfg in (("mrc", None, None), ("svd", "isotropic", "isotropic"), ("svd-pa", "matched", "targeted")):
                cases.append(_case(16, users, eves, pt, noise, v, cfg, "general", tag=f"{kind}-offset"))
    # N = 256, ras / mrc, inner-product reference
    for i in range(n_big):
        k = int(rng.integers(1, 5))
        users = list(zip(rng.uniform(5, 20, k), rng.uniform(-1.0, 1.0, k)))
        if i == 0:  # the case
            users, eves, pt, noise, v = [(12.0, -0.6), (13.0, 0.6)], [(11.98, -0.6), (12.98, 0.6)], 40.0, -200.0, 1
        else:
            eves = _eves_near(rng, users)
            pt, noise, v = rng.uniform(-50, 60), rng.uniform(-200, -60), round(10 ** rng.uniform(0, 6))
        cfg = CONFIGS[i % 2]
        cases.append(_case(256, users, eves, pt, noise, v, cfg, ("general", "per-user")[(i // 2) % 2],
                           method="inner", tag="N256"))
    return cases


def _rel(a, b):
    return float(abs(a - b) / max(abs(b), mpf(10) ** -300))


def run_one(c: dict) -> dict:
    from nfkg.model.channel import ULA
    from nfkg.schemes.precoding import evaluate
    from nfkg.model.scenario import Scenario

    s = Scenario.from_dbm(ULA(c["n_ant"], CARRIER_GHZ * 1e9), users=c["users"], eves=c["eves"],
                          pt_dbm=c["pt"], noise_dbm=c["noise"], pilot_length=c["v"])
    opts = {} if c["jamming"] is None else {"jamming": c["jamming"]}
    t0 = time.perf_counter()
    try:
        ev = evaluate(s, c["scheme"], shaping=c["shaping"], scoring=c["scoring"], **opts)
        engine_error = None
    except Exception as exc:  # report, do not stop the sweep
        return dict(case=c, engine_error=f"{type(exc).__name__}: {exc}")
    t_engine = time.perf_counter() - t0
    skr = np.asarray(ev.skr, float).reshape(-1)
    p_s = np.asarray(ev.result.p_s, float).reshape(-1).tolist()
    p_n = np.asarray(ev.result.p_n, float).reshape(-1).tolist()
    shaping = c["shaping"] or "isotropic"
    jamming = c["jamming"] or "isotropic"
    t0 = time.perf_counter()
    ref = mpref.skr_reference(c["n_ant"], CARRIER_GHZ, c["users"], c["eves"], c["pt"], c["noise"], c["v"],
                              c["scheme"], p_s, p_n, shaping=shaping, jamming=jamming, scoring=c["scoring"],
                              method=c["method"])
    t_ref = time.perf_counter() - t0
    # floor and channel attribution: same mp pipeline from float64 channels
    lam_f = mpref.C_LIGHT / (CARRIER_GHZ * 1e9)
    dps = mpref.auto_dps(c["n_ant"], lam_f, lam_f / 2, c["users"] + c["eves"], c["pt"], c["pt"], c["noise"],
                         c["v"], 2.0, len(c["users"]))
    with mp.workdps(dps):
        lam = mpf(mpref.C_LIGHT) / (mpf(CARRIER_GHZ) * 10**9)
        rounded = [[[complex(x) for x in mpref.channel(r, p, c["n_ant"], lam, lam / 2)] for r, p in nodes]
                   for nodes in (c["users"], c["eves"])]
        p_max, s2 = mpref.dbm_to_watt(c["pt"]), mpref.dbm_to_watt(c["noise"])
    args = (c["scheme"], p_s, p_n, p_max, p_max, s2, c["v"])
    kw = dict(shaping=shaping, jamming=jamming, scoring=c["scoring"], method=c["method"], dps=dps)
    floor = mpref.skr_reference_channels(*rounded, *args, **kw)
    try:
        f, h = s.channels()
        chan = mpref.skr_reference_channels(np.asarray(f).tolist(), np.asarray(h).tolist(), *args, **kw)
    except Exception:  # the engine may no longer expose float channels
        chan = None
    users = []
    for k, b in enumerate(ref):
        bf = float(b)
        a = float(skr[k])
        err = abs(a - bf) if math.isfinite(a) else math.inf
        users.append(dict(
            ref=bf, engine=a, abs_err=err, rel_err=err / max(abs(bf), 1e-300),
            ok=bool(err <= REL_TOL * abs(bf) or (bf < SMALL and err <= ABS_TOL)),
            floor_abs=float(abs(floor[k] - b)), floor_rel=_rel(floor[k], b),
            chan_abs=None if chan is None else float(abs(chan[k] - b)),
            chan_rel=None if chan is None else _rel(chan[k], b)))
    return dict(case=c, engine_error=engine_error, users=users, t_engine=t_engine, t_ref=t_ref, dps=dps)


def _snr_db(c):
    return c["pt"] - c["noise"] + 10 * math.log10(c["v"])


def summarise(results, key) -> dict:
    groups: dict = {}
    for res in results:
        g = groups.setdefault(key(res["case"]), dict(cases=0, users=0, failures=0, engine_errors=0,
                                                   max_rel=0.0, max_abs=0.0, n_big=0, n_small=0,
                                                   floor_rel=0.0, floor_abs=0.0, chan_rel=0.0, chan_abs=0.0,
                                                   worst=None))
        g["cases"] += 1
        if res.get("engine_error"):
            g["engine_errors"] += 1
            g["failures"] += 1
            continue
        for u in res["users"]:
            g["users"] += 1
            g["failures"] += not u["ok"]
            big = u["ref"] >= SMALL
            g["n_big" if big else "n_small"] += 1
            m, fl, ch = ("max_rel", "floor_rel", "chan_rel") if big else ("max_abs", "floor_abs", "chan_abs")
            v = u["rel_err"] if big else u["abs_err"]
            if v > g[m] or (math.isnan(v) and not math.isnan(g[m])):
                g[m] = v
                if big:
                    g["worst"] = res["case"]
            g[fl] = max(g[fl], u["floor_rel"] if big else u["floor_abs"])
            if u["chan_rel"] is not None:
                g[ch] = max(g[ch], u["chan_rel"] if big else u["chan_abs"])
    return groups


def table(groups, title) -> str:
    lines = [f"### {title}", "",
             "| group | cases | SKRs (>=0.01 / <0.01) | max rel err (SKR >= 0.01) | max abs err (SKR < 0.01) "
             "| fails | floor rel / abs | channel-gen rel / abs |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, g in groups.items():
        lines.append(f"| {name} | {g['cases']} | {g['n_big']} / {g['n_small']} | {g['max_rel']:.2e} | "
                     f"{g['max_abs']:.2e} | {g['failures']} | {g['floor_rel']:.1e} / {g['floor_abs']:.1e} | "
                     f"{g['chan_rel']:.1e} / {g['chan_abs']:.1e} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a small sweep (about 40 cases)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=20240602)
    ap.add_argument("--out", type=Path, default=HERE / "out" / "precision.json")
    a = ap.parse_args(argv)
    cases = build_cases(a.seed, 24, 1, 4) if a.quick else build_cases(a.seed, 240, 3, 40)
    t0 = time.perf_counter()
    if a.jobs > 1:
        with mpr.Pool(a.jobs) as pool:
            results = pool.map(run_one, cases, chunksize=1)
    else:
        results = [run_one(c) for c in cases]
    wall = time.perf_counter() - t0

    by_scheme = summarise(results, lambda c: config_name(c["scheme"], c["shaping"], c["jamming"]))
    by_scheme_coarse = summarise(results, lambda c: c["scheme"])
    by_regime = summarise(results, lambda c: ("moderate (SNR <= 145 dB)" if _snr_db(c) <= 145
                                              else "extreme (SNR > 145 dB)") + f", {c['tag']}")
    overall = summarise(results, lambda c: "all")
    print(f"## Precision of the engine against the mp reference ({len(cases)} cases, {wall:.0f} s)\n")
    print(table(by_scheme_coarse, "Per scheme") + "\n")
    print(table(by_scheme, "Per scheme configuration") + "\n")
    print(table(by_regime, "Per regime (SNR = P_t - noise + 10 log10 V) and case family") + "\n")
    print(table(overall, "Overall"))
    print("\nfloor: the same reference from correctly rounded complex128 channels (unavoidable for a "
          "float64-channel engine); channel-gen: from the engine's own float64 channels.")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(dict(
        tolerance=dict(rel=REL_TOL, abs=ABS_TOL, small=SMALL), seed=a.seed, n_cases=len(cases), wall_s=wall,
        python=platform.python_version(), per_scheme=by_scheme_coarse, per_config=by_scheme,
        per_regime=by_regime, overall=overall["all"], results=results), indent=1, default=str))
    print(f"\nwrote {a.out.relative_to(ROOT) if a.out.is_relative_to(ROOT) else a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
