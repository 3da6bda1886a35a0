"""Secrecy maps and distributed sweeps: the targets of the "Scale" issue.

1. A 400 x 400 map (N = 256, K = 2, J5-like users, Eve 1 moving) for ``svd``, against the
   floor of generating its 160,000 Eve channels (``ULA.channel`` on the same points, the
   same chunks); median of interleaved repeats. Target: within 3x.
2. The same map for ``svd-pa`` (AO per grid point, batched). Target: under 60 s on 2 cores.
3. Peak memory of a 400 x 400 map at N = 1024 (``svd`` and ``svd-pa``), each in a fresh
   process (``ru_maxrss``). Target: under 2 GiB.
4. A sweep of 10^4 points (pt_dbm x Eve distance x Eve angle, ``svd`` and ``svd-pa``, N = 256)
   on a local Dask cluster with 1 worker and with 2 workers (same chunks), each cluster
   started before the clock. Target: 2 workers at least 1.6x faster than one.

Run: ``python benchmarks/bench_maps.py [--quick] [--out DIR]`` -> ``out/maps.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

TARGET_SVD_RATIO = 3.0
TARGET_SVDPA_S = 60.0
TARGET_MEMORY_GIB = 2.0
TARGET_SPEEDUP = 1.6

SCEN = {"antennas": 256, "pt_dbm": 20,
        "users": [{"r": 12.0, "psi": -0.6}, {"r": 13.0, "psi": 0.6}],
        "eves": [{"r": 11.98, "psi": -0.6}, {"r": 12.98, "psi": 0.6}]}
EXTENT = (-16.0, 16.0, 0.2, 16.0)


def _scenario(n_ant: int = 256):
    from nfkg import parse_scenario

    return parse_scenario({**SCEN, "antennas": n_ant})


def map_vs_floor(side: int, repeats: int) -> dict:
    from nfkg.scale.maps import MapSpec, _chunk_points, map_grid, secrecy_map

    s = _scenario()
    x, y = map_grid(EXTENT, (side, side))
    xx, yy = np.meshgrid(x, y)
    r, psi = np.hypot(xx, yy).ravel(), np.arctan2(xx, yy).ravel()
    step = _chunk_points(s.n_users, s.n_ant, None)

    def floor():
        for lo in range(0, r.size, step):
            s.ula.channel(r[lo:lo + step], psi[lo:lo + step])

    spec = MapSpec(s, ("svd",))
    secrecy_map(spec, x[:8], y[:8])  # warm-up
    t_floor, t_map = [], []
    for _ in range(repeats):
        t0 = time.perf_counter(); floor(); t_floor.append(time.perf_counter() - t0)
        t0 = time.perf_counter(); secrecy_map(spec, x, y); t_map.append(time.perf_counter() - t0)
    f, m = float(np.median(t_floor)), float(np.median(t_map))
    return {"points": int(r.size), "chunk_points": step, "floor_s": f, "svd_s": m, "ratio": m / f,
            "floor_runs": t_floor, "svd_runs": t_map, "target": TARGET_SVD_RATIO, "met": m / f <= TARGET_SVD_RATIO}


def map_svdpa(side: int) -> dict:
    from nfkg.scale.maps import MapSpec, map_grid, secrecy_map

    x, y = map_grid(EXTENT, (side, side))
    t0 = time.perf_counter()
    res = secrecy_map(MapSpec(_scenario(), ("svd-pa",)), x, y)
    sec = time.perf_counter() - t0
    v = res.user_skr("svd-pa")
    return {"points": side * side, "seconds": sec, "target_s": TARGET_SVDPA_S, "met": sec < TARGET_SVDPA_S,
            "skr_min": float(v.min()), "skr_max": float(v.max())}


_MEM_CHILD = """
import json, resource, sys, time
import numpy as np
sys.path.insert(0, {here!r})
from bench_maps import _scenario, EXTENT
from nfkg.scale.maps import MapSpec, map_grid, secrecy_map
def hwm():  # VmHWM: this process's peak RSS (ru_maxrss would carry the parent's across exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
base = hwm()
s = _scenario({n})
x, y = map_grid(EXTENT, ({side}, {side}))
t0 = time.perf_counter()
secrecy_map(MapSpec(s, ({scheme!r},)), x, y)
print(json.dumps({{"seconds": time.perf_counter() - t0, "peak_mib": hwm(), "before_mib": base}}))
"""


def map_memory(n_ant: int, side: int, scheme: str) -> dict:
    code = _MEM_CHILD.format(here=str(HERE), n=n_ant, side=side, scheme=scheme)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    d = json.loads(p.stdout.strip().splitlines()[-1])
    d.update({"antennas": n_ant, "points": side * side, "scheme": scheme, "target_gib": TARGET_MEMORY_GIB,
              "met": d["peak_mib"] / 1024 < TARGET_MEMORY_GIB})
    return d


def _sweep_config(n_points: int) -> dict:
    n_pt = 10
    n_r = 25
    n_psi = max(n_points // (n_pt * n_r), 1)
    return {"base": SCEN, "schemes": ["svd", "svd-pa"], "chunk": 100,
            "sweep": {"pt_dbm": [float(v) for v in np.linspace(0, 30, n_pt)],
                      "eves[0].r": [float(v) for v in np.linspace(11.0, 11.99, n_r)],
                      "eves[0].psi": [float(v) for v in np.linspace(-0.65, -0.55, n_psi)]}}


def dask_speedup(n_points: int) -> dict:
    import logging

    import distributed

    from nfkg.scale.executor import DaskExecutor
    from nfkg.scale.sweep import parse_sweep, read_results, run_sweep

    sw = parse_sweep(_sweep_config(n_points))
    out: dict = {"points": len(sw.points), "chunks": len(sw.chunks()), "schemes": sw.config.schemes}
    tables = {}
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, 2):
            cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                               host="127.0.0.1", dashboard_address=None,
                                               silence_logs=logging.ERROR)
            client = distributed.Client(cluster)
            client.run(lambda: __import__("nfkg.scale.sweep"))  # import nfkg in the workers before the clock
            t0 = time.perf_counter()
            with DaskExecutor(client=client) as ex:
                run_sweep(sw, Path(tmp) / f"w{workers}", executor=ex)
            out[f"workers_{workers}_s"] = time.perf_counter() - t0
            tables[workers] = read_results(Path(tmp) / f"w{workers}")
            client.close()
            cluster.close()
        t0 = time.perf_counter()
        run_sweep(sw, Path(tmp) / "inproc")
        out["in_process_s"] = time.perf_counter() - t0
        out["identical"] = bool(tables[1].equals(tables[2]) and tables[1].equals(read_results(Path(tmp) / "inproc")))
    out["speedup"] = out["workers_1_s"] / out["workers_2_s"]
    out["target"] = TARGET_SPEEDUP
    out["met"] = out["speedup"] >= TARGET_SPEEDUP
    out["cores"] = os.cpu_count()
    return out


def run(quick: bool = False, dask: bool = True) -> dict:
    """Every measurement of this file (``quick``: 200 x 200 maps, 2,000 sweep points, one repeat)."""
    t0 = time.perf_counter()
    side = 200 if quick else 400
    res: dict = {"quick": quick, "side": side, "load_before": os.getloadavg()}
    print(f"map {side}x{side} svd vs its Eve channels ...", flush=True)
    res["svd_map"] = map_vs_floor(side, 1 if quick else 3)
    print(f"map {side}x{side} svd-pa ...", flush=True)
    res["svdpa_map"] = map_svdpa(side)
    res["memory"] = []
    for scheme in ("svd", "svd-pa"):
        print(f"memory: {side}x{side} map at N = 1024, {scheme} ...", flush=True)
        res["memory"].append(map_memory(1024, side, scheme))
    if dask:
        n = 2000 if quick else 10_000
        print(f"dask: sweep of {n} points on 1 and 2 workers ...", flush=True)
        res["dask"] = dask_speedup(n)
    res["load_after"] = os.getloadavg()
    res["wall_s"] = time.perf_counter() - t0
    return res


def targets(res: dict) -> list[dict]:
    """The issue's targets, measured (``quick`` runs measure 200 x 200 maps: not the targets' size)."""
    side = res["side"]
    m, pa = res["svd_map"], res["svdpa_map"]
    out = [
        {"target": f"{side} x {side} svd map (N = 256, K = 2) within 3x of generating its Eve channels",
         "measured": f"{m['ratio']:.2f}x ({m['svd_s']:.2f} s vs {m['floor_s']:.2f} s, median of "
                     f"{len(m['svd_runs'])})", "met": m["met"]},
        {"target": f"{side} x {side} svd-pa map under 60 s on 2 cores", "measured": f"{pa['seconds']:.1f} s",
         "met": pa["met"]},
        {"target": f"{side} x {side} map at N = 1024 under 2 GiB",
         "measured": ", ".join(f"{d['scheme']} {d['peak_mib']:.0f} MiB peak" for d in res["memory"]),
         "met": all(d["met"] for d in res["memory"])},
    ]
    if "dask" in res:
        d = res["dask"]
        out.append({"target": f"2-worker local cluster >= 1.6x one worker, sweep of {d['points']} points",
                    "measured": f"{d['speedup']:.2f}x ({d['workers_1_s']:.1f} s vs {d['workers_2_s']:.1f} s; "
                                f"in process {d['in_process_s']:.1f} s; identical tables: {d['identical']})",
                    "met": d["met"]})
    return out


def markdown(res: dict) -> str:
    rows = ["| target | measured | met |", "|---|---|---|"]
    rows += [f"| {t['target']} | {t['measured']} | {'yes' if t['met'] else 'NO'} |" for t in targets(res)]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="200 x 200 maps, 2,000 sweep points, one repeat")
    ap.add_argument("--out", type=Path, default=HERE / "out")
    ap.add_argument("--skip-dask", action="store_true")
    args = ap.parse_args(argv)
    res = run(args.quick, not args.skip_dask)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "maps.json").write_text(json.dumps(res, indent=1))
    print(markdown(res))
    return res


if __name__ == "__main__":
    main()
