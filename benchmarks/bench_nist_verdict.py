"""How often ``randomness.key_verdict`` calls random keys "failed" (its false-failure rate).

For each key length n (1,000, 5,000 and 20,000 bits by default) it draws ``--keys`` keys
(200) of fair bits, ``numpy.random.default_rng(SeedSequence(seed, spawn_key=(n,))).integers(0, 2, n)``
one after the other, and counts the keys whose verdict is "failed". Target: at most 2 % at
every length (SP 800-22's nominal rate is alpha = 1 %). For comparison it also counts, on the
same keys, the rule ``keygen`` used before issue 18 ("before"): every applicable test at
alpha, the proportion rule for the tests with many P-values, and the non-overlapping template
test applied without its least mean (``NON_OVERLAPPING_MIN_MEAN = 0``, i.e. whenever SP 800-22
2.7.7 allows it). Per test it lists how many keys that test alone failed under each rule.

``.venv/bin/python benchmarks/bench_nist_verdict.py [--keys 200] [--sizes 1000,5000,20000]
[--seed 0] [--json PATH]`` (about 10 s for the defaults).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from nfkg import randomness
from nfkg.randomness import _templates

TARGET = 0.02  # at most 2 % of random keys "failed"


def _before(bits: np.ndarray, alpha: float) -> list[str]:
    """Tests failed under the pre-issue-18 rule: each applicable test at alpha, templates whenever 2.7.7 allows."""
    saved = _templates.NON_OVERLAPPING_MIN_MEAN  # read there by non_overlapping_template_matching
    _templates.NON_OVERLAPPING_MIN_MEAN = 0
    try:
        suite = randomness.run_all(bits, alpha=alpha)
    finally:
        _templates.NON_OVERLAPPING_MIN_MEAN = saved
    out = []
    for r in suite.results:
        if not r.applicable:
            continue
        ok = np.asarray(r.passed(alpha), bool)
        m = ok.size
        bad = (not ok.all()) if m <= 2 else ok.mean() < 1 - alpha - 3 * math.sqrt(alpha * (1 - alpha) / m)
        if bad:
            out.append(r.name)
    return out


def run(sizes=(1000, 5000, 20000), keys: int = 200, seed: int = 0, alpha: float = 0.01) -> dict:
    rows = []
    for n in sizes:
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(int(n),)))
        now, before = Counter(), Counter()
        failed_now = failed_before = 0
        applicable = None
        t0 = time.perf_counter()
        for _ in range(keys):
            bits = rng.integers(0, 2, int(n), dtype=np.uint8)
            verdict, details = randomness.key_verdict(bits, alpha)
            applicable = [t["name"] for t in details["tests"] if t["applicable"]]
            failed_now += verdict == "failed"
            now.update(details["failed"])
            old = _before(bits, alpha)
            failed_before += bool(old)
            before.update(old)
        seconds = time.perf_counter() - t0
        rows.append({"n": int(n), "keys": keys, "failed": failed_now, "rate": failed_now / keys,
                     "failed_before": failed_before, "rate_before": failed_before / keys,
                     "applicable": applicable, "per_test": dict(now), "per_test_before": dict(before),
                     "seconds": seconds, "met": failed_now / keys <= TARGET})
    return {"alpha": alpha, "seed": seed, "target": TARGET, "rule": randomness.VERDICT_RULE, "rows": rows}


def markdown(res: dict) -> str:
    lines = ["| key bits | keys | failed now | rate now | failed before | rate before | applicable tests "
             "| target <= 2 % |", "|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in res["rows"]:
        lines.append(f"| {r['n']:,} | {r['keys']} | {r['failed']} | {r['rate']:.1%} | {r['failed_before']} | "
                     f"{r['rate_before']:.1%} | {len(r['applicable'])} | {'met' if r['met'] else 'NOT met'} |")
    for r in res["rows"]:
        lines.append(f"\n{r['n']:,} bits, keys failed per test: now {r['per_test'] or 'none'}; "
                     f"before {r['per_test_before']} ({r['seconds']:.1f} s)")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keys", type=int, default=200)
    ap.add_argument("--sizes", default="1000,5000,20000")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    res = run(tuple(int(s) for s in args.sizes.split(",")), args.keys, args.seed)
    print(markdown(res))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, indent=1))
    return 0 if all(r["met"] for r in res["rows"]) else 1


if __name__ == "__main__":
    sys.exit(main())
