"""Time ``nfkg reproduce``: the whole command, per item, and j9's Monte Carlo against its random numbers.

Usage::

    .venv/bin/python benchmarks/bench_reproduce.py                 # jobs 2 and 1, every item (a few minutes)
    .venv/bin/python benchmarks/bench_reproduce.py --jobs 2        # one run
    .venv/bin/python benchmarks/bench_reproduce.py --skip keyrate  # every item but keyrate
    .venv/bin/python benchmarks/bench_reproduce.py --j9-only       # j9 against drawing its random numbers

Each run is ``nfkg reproduce --out TMP --jobs J`` in a fresh process (imports included, as a user
runs it); the script records its wall time, the CPU time of the process and its workers (user +
sys), the load average before and after, and the per-item lines the command prints
(``[k/n] id: general + per-user s, saved in s``). ``--src DIR`` runs another source tree (e.g. an
older commit unpacked with ``git archive``) with the same interpreter.

j9 (J Fig. 9: 16 P_t points x 5 schemes x 10,000 probing rounds) is timed in this process three
ways: ``run_figure('j9')``; its probing alone (precoding included); and the floor, drawing exactly
the random numbers of its exact reduced-coordinate simulation (the same generator calls, block
by block, for every point and scheme) and nothing else. Results go to ``benchmarks/out/reproduce.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
_LINE = re.compile(r"^\[(\d+)/(\d+)\] (\S+): (.*)$")


def _cpu_children() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_reproduce(jobs: int, only: list[str] | None, src: Path | None) -> dict:
    """One ``nfkg reproduce`` in a fresh interpreter: wall, CPU, load and the per-item lines."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    with tempfile.TemporaryDirectory(prefix="nfkg_bench_reproduce_") as out:
        cmd = [sys.executable, "-m", "nfkg.cli", "reproduce", "--out", out]
        if only:
            cmd += ["--only", ",".join(only)]
        if src is None or "--jobs" in subprocess.run([sys.executable, "-m", "nfkg.cli", "reproduce", "--help"],
                                                      capture_output=True, text=True, env=env).stdout:
            cmd += ["--jobs", str(jobs)]
        load0 = os.getloadavg()
        cpu0, t0 = _cpu_children(), time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        wall, cpu = time.perf_counter() - t0, _cpu_children() - cpu0
        load1 = os.getloadavg()
    if proc.returncode != 0:
        raise RuntimeError(f"nfkg reproduce failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    items = {}
    for line in proc.stderr.splitlines():
        m = _LINE.match(line.strip())
        if m:
            items[m.group(3)] = m.group(4)
    return {"jobs": jobs, "wall_s": wall, "cpu_s": cpu, "load_before": load0, "load_after": load1,
            "items": items, "src": str(src) if src else "working tree"}


def _j9_points():
    import numpy as np

    from nfkg.model.scenario import Scenario
    from nfkg.studies.experiments import _point_seed, _scenario, resolve_params

    params = resolve_params("j9")
    out = []
    for xv in np.asarray(params["pt_dbm"]):
        s = _scenario(params, "pt_dbm", np.asarray([xv]), params["n_ant"])
        one = Scenario(s.ula, s.r_b[0], s.psi_b[0], s.r_e[0], s.psi_e[0], s.p_max[0], s.p_b[0], s.sigma2_a,
                       s.sigma2_b, s.sigma2_e, s.pilot_length, checked=True)
        for scheme in params["schemes"]:
            out.append((one, scheme, _point_seed(int(params["seed"]), scheme, xv)))
    return params, out


def bench_j9(repeats: int = 3) -> dict:
    """``run_figure('j9')`` against its probing and against drawing its random numbers."""
    import numpy as np

    from nfkg.protocol import probing
    from nfkg.schemes.precoding import precode
    from nfkg.studies.experiments import run_figure

    params, points = _j9_points()
    rounds = int(params["rounds"])
    run_figure("j9", {"pt_dbm": [0.0], "rounds": 100})      # imports, model weights

    def figure():
        run_figure("j9")

    def probing_only():
        for one, scheme, seed in points:
            probing.probe(one, scheme, rounds=rounds, seed=seed, shaping=params["shaping"])

    reduced = []
    for one, scheme, seed in points:
        res = precode(one, scheme, params["shaping"])
        f, h = one.channels()
        red = res.covariance.reduce(np.concatenate([f, h]).T)
        reduced.append((red, seed))
    v = int(params["pilot_length"])

    def floor():
        """The random numbers of the reduced simulation, block by block, and nothing else."""
        for red, seed in reduced:
            k, d, r = red.factors.shape
            perp = red.perp_dim > 0 and bool(np.any(red.perp_var > 0))
            for b in range(-(-rounds // probing.BLOCK)):
                n = min(probing.BLOCK, rounds - b * probing.BLOCK)
                rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(b,)))
                rng.standard_normal((n, k * r, 2))
                rng.standard_normal((n, k, v, 2))
                rng.standard_normal((n, k, v, 2))
                rng.standard_normal((n, d, v, 2))
                if perp:
                    rng.standard_gamma(red.perp_dim, n)
                    rng.standard_normal((n, k, 2))

    def best(fn):
        times = []
        for _ in range(repeats):
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0, time.process_time() - c0))
        return min(times)

    fig, probe_t, floor_t = best(figure), best(probing_only), best(floor)
    return {"points": len(points), "rounds": rounds, "figure_s": fig, "probing_s": probe_t, "draws_s": floor_t,
            "figure_over_draws_cpu": fig[1] / floor_t[1], "probing_over_draws_cpu": probe_t[1] / floor_t[1]}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, action="append", help="jobs of a run (repeatable; default: 2 then 1)")
    ap.add_argument("--skip", default="", help="ids left out, comma separated (e.g. keyrate)")
    ap.add_argument("--src", type=Path, default=None, help="another source tree (its src/ folder)")
    ap.add_argument("--j9-only", action="store_true", help="only j9 against its random numbers")
    ap.add_argument("--out", type=Path, default=HERE / "out" / "reproduce.json")
    args = ap.parse_args(argv)
    result: dict = {"nproc": os.cpu_count()}
    if not args.j9_only:
        only = None
        if args.skip:
            sys.path.insert(0, str(args.src or ROOT / "src"))
            from nfkg.studies.experiments import figure_ids
            from nfkg.studies.tables import table_ids

            skip = set(args.skip.split(","))
            only = [i for i in [*figure_ids(), *table_ids()] if i not in skip]
        result["runs"] = []
        for jobs in args.jobs or [2, 1]:
            run = run_reproduce(jobs, only, args.src)
            result["runs"].append(run)
            print(f"jobs {jobs}: {run['wall_s']:.1f} s wall, {run['cpu_s']:.1f} s CPU, load "
                  f"{run['load_before'][0]:.2f} -> {run['load_after'][0]:.2f}", flush=True)
            for item, line in run["items"].items():
                print(f"    {item:10s} {line}")
    if args.src is None:
        result["j9"] = j9 = bench_j9()
        print(f"j9 ({j9['points']} runs x {j9['rounds']:,} rounds): figure {j9['figure_s'][0]:.2f} s "
              f"(CPU {j9['figure_s'][1]:.2f}), probing {j9['probing_s'][1]:.2f} s CPU, drawing its random "
              f"numbers {j9['draws_s'][1]:.2f} s CPU: figure / draws = {j9['figure_over_draws_cpu']:.2f}, "
              f"probing / draws = {j9['probing_over_draws_cpu']:.2f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
