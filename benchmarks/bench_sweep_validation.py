"""How long a sweep of 10^5 points takes to validate before any work (and again on every resume).

The sweep: the base of ``examples/two_users.toml`` (K = 2), schemes svd and svd-pa, chunk 64,
and five swept keys of ten values each, ``pt_dbm``, ``antennas`` (3 ... 1024), ``eves[0].r``,
``eves[1].r`` and ``users[0].psi``: 10^5 points. Timed (median of ``--repeat`` 3):

* ``parse_sweep``: the bulk validation of :func:`nfkg.scale.sweep._expand` and the points, from the
  parsed TOML content (reading the file is not timed);
* ``point by point``: :func:`nfkg.scale.sweep._expand_pointwise`, the full validation of every point
  one by one (the implementation before issue 18), once, on the 10^4 points of the first
  ``pt_dbm`` value, scaled to 10^5;
* ``resume check``: what a rerun adds before any work, reading the identity (Parquet metadata)
  of all 1,563 chunk files of a finished run (tiny stand-in chunk files with the right rows).

Target: ``parse_sweep`` within 5 s for 10^5 points.

``.venv/bin/python benchmarks/bench_sweep_validation.py [--repeat 3] [--json PATH]`` (about 20 s)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from nfkg.scale import sweep as sw

HERE = Path(__file__).resolve().parent
TARGET_S = 5.0


def config() -> dict:
    base = tomllib.loads((HERE.parent / "examples" / "two_users.toml").read_text())
    return {"base": base, "schemes": ["svd", "svd-pa"], "chunk": 64,
            "sweep": {"pt_dbm": [float(v) for v in range(0, 30, 3)],
                      "antennas": [3, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
                      "eves[0].r": [11.0 + 0.1 * i for i in range(10)],
                      "eves[1].r": [12.0 + 0.1 * i for i in range(10)],
                      "users[0].psi": [-0.6 + 0.1 * i for i in range(10)]}}


def _median(fn, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def run(repeat: int = 3) -> dict:
    cfg = config()
    bulk_s, sweep = _median(lambda: sw.parse_sweep(cfg), repeat)
    n = len(sweep.points)
    small = dict(cfg, sweep=dict(cfg["sweep"]))
    small["sweep"]["pt_dbm"] = cfg["sweep"]["pt_dbm"][:1]  # the first 10^4 points
    parsed = sw.SweepConfig.model_validate(small)
    ref_s, ref = _median(lambda: sw._expand_pointwise(parsed, cfg["base"]), 1)
    per_point = ref_s / len(ref)
    with tempfile.TemporaryDirectory() as d:
        out = Path(d)
        chunks = sweep.chunks()
        for c, pts in enumerate(chunks):
            rows = [{"point": p.index, "scheme": s} for p in pts for s in sweep.config.schemes]
            sw._write_rows(rows, sw._chunk_path(out, c), sw._chunk_identity(sweep, c, pts))
        check_s, ok = _median(lambda: all(sw._chunk_belongs(sw._chunk_path(out, c), sw._chunk_identity(sweep, c, pts))
                                          for c, pts in enumerate(chunks)), repeat)
        assert ok
    return {"points": n, "chunks": len(sweep.chunks()), "parse_sweep_s": bulk_s,
            "pointwise_sample_points": len(ref), "pointwise_s_per_point": per_point,
            "pointwise_s_scaled": per_point * n, "resume_check_s": check_s, "target_s": TARGET_S,
            "met": bulk_s <= TARGET_S}


def markdown(r: dict) -> str:
    return "\n".join([
        "| points | parse_sweep (bulk) | point by point (scaled from a sample) | resume: chunk identities | target |",
        "|---:|---:|---:|---:|---|",
        f"| {r['points']:,} | {r['parse_sweep_s']:.2f} s | {r['pointwise_s_scaled']:.0f} s "
        f"({r['pointwise_s_per_point'] * 1e3:.2f} ms x {r['points']:,}; {r['pointwise_sample_points']:,} timed) | "
        f"{r['resume_check_s']:.2f} s ({r['chunks']:,} files) | <= {r['target_s']:g} s: "
        f"{'met' if r['met'] else 'NOT met'} |"])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    res = run(args.repeat)
    print(markdown(res))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, indent=1))
    return 0 if res["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
