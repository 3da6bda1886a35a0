"""The key at capacity: what `nfkg keygen` keeps of the model's rates, and how fast.

Targets (issue "The key at capacity"; 10^6 probings, K = 2, N = 256, J5 at 20 dBm):
- svd-mf: a verified key of at least 80 % of each user's Gaussian one-way bound, finite-size
  terms included; svd-opt at least 45 %; svd-pa a positive key for every user;
- reconciliation efficiency per coded level f <= 1.1 at blocks of 10^5 bits or more;
- the whole pipeline (probing, reconciliation, Eve, amplification, NIST on the final keys) within
  60 s on 2 cores;
- on the keyrate figure's points (`nfkg figure keyrate`, 20,000 probings): the achieved key
  without finite-size terms at least 85 % of the bound of the quantiser used wherever that bound
  is at least 0.1 bit per probing; keys always match; Eve's agreement 0.5 +- 0.02.

Run: ``.venv/bin/python benchmarks/bench_capacity.py [--rounds R] [--no-figure] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import json
import time

from nfkg.model.channel import ULA
from nfkg.protocol.keygen import keygen
from nfkg.model.scenario import Scenario

USERS = [(12.0, -0.6), (13.0, 0.6)]
EVES = [(11.98, -0.6), (12.98, 0.6)]
TARGET = {"svd-mf": 0.80, "svd-opt": 0.45, "svd-pa": 0.0}


def run_j5(rounds: int, schemes=tuple(TARGET)) -> list[dict]:
    s = Scenario.from_dbm(ULA(256, 30e9), users=USERS, eves=EVES, pt_dbm=20.0)
    rows = []
    for scheme in schemes:
        t0, c0 = time.perf_counter(), time.process_time()
        res = keygen(s, scheme, rounds=rounds, seed=1)
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        for k, u in enumerate(res.users, start=1):
            best = max(u.gaussian_one_way_bs, u.gaussian_one_way_user)
            coded = [lv for lv in u.levels if lv["coded"]]
            rows.append({"scheme": scheme, "user": k, "seconds": dt, "cpu_seconds": cpu, "direction": u.direction,
                         "bits_per_sample": u.bits_per_sample, "rate": u.bits_per_probing,
                         "asymptotic_rate": u.asymptotic_key_bits / rounds, "aep_rate": u.aep_key_bits / rounds,
                         "gaussian_one_way": best, "bound": u.one_way_bound, "skr": u.analytic_skr,
                         "fraction": u.bits_per_probing / best if best > 0 else None,
                         "keys_match": u.keys_match, "eve_agreement": u.eve_agreement, "nist": u.nist_passed,
                         "blocks": u.blocks, "failed_blocks": u.failed_blocks,
                         "levels": [{k2: lv.get(k2) for k2 in ("level", "h_model", "h_soft", "h_ce", "f", "f_soft", "f_ce",
                                                              "leaked", "coded", "robust_blocks")}
                                    for lv in coded]})
            r = rows[-1]
            print(f"{scheme:8s} user {k}: {r['rate']:.3f} of {best:.3f} b/p ({r['fraction']:.1%}), "
                  f"direction {r['direction']}, asymptotic {r['asymptotic_rate']:.3f}, AEP {r['aep_rate']:.3f}, "
                  f"match {r['keys_match']}, Eve {r['eve_agreement']}, NIST {r['nist']}, failed "
                  f"{r['failed_blocks']}/{r['blocks']}, levels f "
                  + ", ".join(f"{lv['level']}: {lv['f']:.3f} / soft {lv['f_soft']:.3f} / ce {lv['f_ce']:.3f} "
                              f"(h {lv['h_model']:.3g}, soft {lv['h_soft']:.3g}, ce {lv['h_ce']:.3g}, robust "
                              f"{lv['robust_blocks']}/{lv['coded']})" for lv in r["levels"] if lv["f"] is not None)
                  + f"  [{dt:.1f} s wall, {cpu:.1f} s CPU]", flush=True)
    return rows


def run_figure() -> list[dict]:
    from nfkg.studies.keyrate import run_keyrate

    t0 = time.perf_counter()
    data = run_keyrate()
    print(f"keyrate figure: {time.perf_counter() - t0:.1f} s")
    return data.rows


def targets(j5: list[dict], fig: list[dict] | None) -> list[dict]:
    out = []
    for scheme, frac in TARGET.items():
        rows = [r for r in j5 if r["scheme"] == scheme]
        if not rows:
            continue
        worst = min(rows, key=lambda r: r["rate"])
        measured = ", ".join(f"user {r['user']} {r['rate']:.3f} of {r['gaussian_one_way']:.3f} ({r['fraction']:.1%})"
                             for r in rows)
        met = all(r["rate"] > 0 and (r["fraction"] or 0) >= frac for r in rows)
        out.append({"target": f"J5 {scheme}: key >= {frac:.0%} of the Gaussian one-way bound" if frac else
                    f"J5 {scheme}: a positive key for every user", "measured": measured, "met": met,
                    "worst": worst["rate"]})
    for key, what in (("f", "model's level entropy"), ("f_soft", "decoder's soft entropy"),
                      ("f_ce", "cross-entropy of the true bits")):
        for lo, hi, band in ((0.01, 1.0, "h >= 0.01"), (1e-4, 0.01, "1e-4 <= h < 0.01")):
            fs = [lv[key] for r in j5 for lv in r["levels"] if lv[key] is not None and lo <= lv["h_model"] < hi]
            out.append({"target": f"f <= 1.1 per coded level ({band}), against the {what}, blocks of 10^5",
                        "measured": f"{min(fs):.3f}-{max(fs):.3f}" if fs else "-", "met": bool(fs) and max(fs) <= 1.1})
    # below h = 1e-4 a 10^5-sample block holds under 10 bits of entropy: a leak of a few bits makes f
    # meaningless (thousands), so these levels are reported by their leak in bits per coded block
    tiny = [(lv["leaked"] / lv["coded"], lv["h_model"]) for r in j5 for lv in r["levels"]
            if lv["coded"] and lv["h_model"] < 1e-4]
    if tiny:
        out.append({"target": "levels with h < 1e-4 (< 10 bits of entropy per block): leak per coded block",
                    "measured": f"{min(b for b, _ in tiny):.0f}-{max(b for b, _ in tiny):.0f} bits "
                                f"(h {min(h for _, h in tiny):.2g}-{max(h for _, h in tiny):.2g})",
                    "met": None})
    slow = max(r["seconds"] for r in j5)
    cpu = max(r["cpu_seconds"] for r in j5)
    out.append({"target": "10^6 probings, K = 2, N = 256, incl. NIST, <= 60 s",
                "measured": f"{slow:.1f} s wall, {cpu:.1f} s CPU (slowest scheme)", "met": slow <= 60.0})
    out.append({"target": "keys always match", "measured": f"{sum(r['keys_match'] for r in j5)}/{len(j5)}",
                "met": all(r["keys_match"] for r in j5)})
    if fig:
        d = [r for r in fig if r["config"] == "default" and r["bound"] >= 0.1]
        ratios = [r["asymptotic"] / r["bound"] for r in d]
        worst = min(d, key=lambda r: r["asymptotic"] / r["bound"])
        out.append({"target": "keyrate points: asymptotic key >= 85 % of the quantiser bound (bound >= 0.1)",
                    "measured": f"{min(ratios):.1%}-{max(ratios):.1%} (worst {worst['scheme']}, {worst['geometry']}, "
                                f"{worst['pt_dbm']:g} dBm)", "met": min(ratios) >= 0.85})
        out.append({"target": "keyrate points: keys match", "measured": f"{sum(r['keys_match'] for r in fig)}/{len(fig)}",
                    "met": all(r["keys_match"] for r in fig)})
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=1_000_000)
    ap.add_argument("--no-figure", action="store_true", help="skip the keyrate figure's points")
    ap.add_argument("--json", default=None)
    ap.add_argument("--schemes", nargs="+", default=list(TARGET), choices=list(TARGET))
    args = ap.parse_args(argv)
    j5 = run_j5(args.rounds, tuple(args.schemes))
    fig = None if args.no_figure else run_figure()
    res = {"rounds": args.rounds, "j5": j5, "figure": fig, "targets": targets(j5, fig)}
    for t in res["targets"]:
        print(f"- {t['target']}: {t['measured']}" + ("" if t['met'] is None else f" -> {'met' if t['met'] else 'NOT met'}"))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(res, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
