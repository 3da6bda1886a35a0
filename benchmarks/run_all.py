"""Run every nfkg benchmark, write ``benchmarks/out/*.json`` and print markdown tables.

``make bench`` runs ``.venv/bin/python benchmarks/run_all.py``. In one run, in this order:

1. ``bench_core.py``: single scenarios (C geometry, J5, J8) against the two naive forms
   (explicit N x N matrices; matrix-vector products) -> ``out/core.json``;
2. ``bench_engine.py``: Engine v2, every scheme as a ratio to the channel floor (batches
   and single scenarios), peak memory, nfkg batches vs the matrix-vector naive, three-way
   SKR agreement -> ``out/engine.json``;
3. ``bench_dlpa.py``: SVD w/ DLPA (KGSVD-Net) and svd-opt: held-out SKRs against svd-pa and
   the optimum, svd-opt against a global search, inference speed, training time (K = 6)
   -> ``out/dlpa.json``, ``out/dlpa_assess.csv``;
4. ``bench_probing.py``: Monte Carlo probing against drawing its precoders (K = 2, N = 256),
   peak memory of 10^5 rounds, chunk independence, ``nfkg nist`` against NIST's C code
   (sp80022suite) on 10^6 bits -> ``out/probing.json``;
5. ``bench_scaling.py``: cost per scenario of every registered scheme vs N (K = 2, N = 64 to
   16384) and vs K (N = 256, K = 1 to 16), against the channel floor and the naive forms,
   fitted log-log slopes -> ``out/scaling.csv``, ``out/scaling.json``, ``out/scaling.png``/``.pdf``;
6. ``bench_maps.py``: a 400 x 400 secrecy map against generating its Eve channels, the svd-pa
   map's time, the peak memory of an N = 1024 map, a 10^4-point sweep on 1 and 2 Dask workers
   -> ``out/maps.json``;
7. ``bench_precision.py`` (another engineer's; run as a subprocess, last, because it uses
   both cores): float64 engine vs the mpmath reference -> ``out/precision.json``;
8. the targets of all issues -> ``out/results.json`` (machine, load, targets, wall time).

Options: ``--quick`` (about 3 minutes: no N = 4096, fewer rounds, 64 DLPA scenarios per set and
no training run, T = 4,096 probing rounds, a small precision sweep), ``--naive-full`` (run the
N x N naive form even where it is predicted to take more than a minute), ``--no-dlpa``,
``--no-probing``, ``--no-scaling``, ``--no-maps``, ``--no-precision``, ``--out DIR``.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import scipy

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import bench_core  # noqa: E402
import bench_dlpa  # noqa: E402
import bench_engine  # noqa: E402
import bench_probing  # noqa: E402
import bench_maps  # noqa: E402
import bench_scaling  # noqa: E402

# Targets of the first issue (per scenario, on the benchmark machine), still tracked.
TARGET_SVDPA_4096_MS = 10.0
TARGET_RATIO_1024 = 1000.0
TARGET_K6_1024_MS = 50.0
AGREEMENT = bench_engine.TARGET_AGREEMENT


def blas_threads() -> int | None:
    """Threads of the OpenBLAS that numpy loaded (None if it cannot be asked)."""
    try:
        for line in Path("/proc/self/maps").read_text().splitlines():
            if "openblas" in line and line.endswith(".so"):
                lib = ctypes.CDLL(line.split()[-1])
                for name in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads64_",
                             "openblas_get_num_threads"):
                    if hasattr(lib, name):
                        return int(getattr(lib, name)())
    except OSError:
        pass
    return None


def machine_info() -> dict:
    cpu = "unknown"
    mem = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    blas = "unknown"
    try:
        cfg = np.show_config(mode="dicts")
        b = cfg["Build Dependencies"]["blas"]
        blas = f"{b.get('name')} {b.get('version')}"
    except Exception:  # noqa: BLE001 - informational only
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_bytes": mem,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "blas": blas,
        "blas_threads": blas_threads(),
        "platform": platform.platform(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
    }


def git_state() -> dict:
    """The commit the run measured, and the files under src/ that differ from it."""
    root = HERE.parent

    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=30).stdout.strip()
        except Exception:  # noqa: BLE001 - informational only
            return ""
    return {"commit": git("rev-parse", "--short", "HEAD"), "subject": git("log", "-1", "--format=%s")[:100],
            "src_modified": [ln[3:] for ln in git("status", "--porcelain", "--", "src").splitlines()]}


def load() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def _fmt_ms(v: float) -> str:
    if v >= 1000:
        return f"{v / 1000:.2f} s"
    if v >= 10:
        return f"{v:.1f} ms"
    return f"{v:.3f} ms"


def _fmt_rel(v) -> str:
    return "n/a (not run)" if v is None else f"{v:.1e}"


def _foreign(r: dict) -> str:
    f = r.get("foreign_cpu")
    txt = "n/a" if f is None else f"{f:.0%}"
    return txt + (f" ({r['attempts']} tries)" if r.get("attempts", 1) > 1 else "")


# --------------------------------------------------------------------------- core markdown
def core_markdown(res: dict) -> str:
    rows = res["rows"]
    out = ["### Single user (C geometry: user (12.2 m, 0.2), Eve (12.0 m, 0.2), P_t = 30 dBm)\n",
           "Min of repeats, per call, end to end. Speed-ups are naive time / nfkg time (below 1: nfkg is "
           "slower). Other CPU: share of the machine used by other processes while nfkg, the channels and "
           "the matvec naive were timed.\n",
           "| N | scheme | nfkg | channels alone | nfkg / channels | naive (N x N) | naive / nfkg "
           "| naive matvec | matvec / nfkg | SKR nfkg [bits] | rel. diff vs N x N | vs matvec | other CPU |",
           "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if r["case"] != "C":
            continue
        est = " (est.)" if r["naive_estimated"] else ""
        out.append(f"| {r['N']} | {r['scheme']} | {_fmt_ms(r['nfkg_ms'])} | {_fmt_ms(r['channels_ms'])} | "
                   f"{r['nfkg_ms'] / r['channels_ms']:.1f}x | {_fmt_ms(r['naive_ms'])}{est} | "
                   f"{r['ratio_naive_nfkg']:,.0f}x{est} | {_fmt_ms(r['naive_mv_ms'])} | "
                   f"{r['ratio_naive_mv_nfkg']:,.1f}x | {r['sum_skr_nfkg']:.6f} | {_fmt_rel(r.get('rel_diff'))} | "
                   f"{r['rel_diff_mv']:.1e} | {_foreign(r)} |")
    out += ["\n### SVD w/ PA, K users (P_t = 20 dBm; J5: users (12, -0.6), (13, 0.6); "
            "J8: SPEC 7 six users; Eves 2 cm closer)\n",
            "| case | K | N | nfkg | channels alone | naive (N x N) | naive / nfkg | naive matvec | matvec / nfkg "
            "| sum SKR nfkg [bits] | rel. diff vs N x N | vs matvec | AO iterations nfkg / N x N / matvec "
            "| other CPU |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if r["case"] == "C":
            continue
        est = " (est.)" if r["naive_estimated"] else ""
        out.append(f"| {r['case']} | {r['K']} | {r['N']} | {_fmt_ms(r['nfkg_ms'])} | {_fmt_ms(r['channels_ms'])} | "
                   f"{_fmt_ms(r['naive_ms'])}{est} | {r['ratio_naive_nfkg']:,.0f}x{est} | "
                   f"{_fmt_ms(r['naive_mv_ms'])} | {r['ratio_naive_mv_nfkg']:,.1f}x | {r['sum_skr_nfkg']:.6f} | "
                   f"{_fmt_rel(r.get('rel_diff'))} | {r['rel_diff_mv']:.1e} | "
                   f"{r['nfkg_nit']} / {r.get('naive_ao_iterations', '-')} / {r['naive_mv_ao_iterations']} | "
                   f"{_foreign(r)} |")
    notes = [r for r in rows if r.get("note")]
    if notes:
        out.append("")
        for r in notes:
            out.append(f"- N={r['N']} {r['scheme']} ({r['case']}): {r['note']}")
    out += ["\n### Peak memory of one nfkg evaluation (tracemalloc) vs one N x N complex matrix\n",
            "| K | N | scheme | peak allocated | one N x N complex128 | ratio |",
            "|---:|---:|---|---:|---:|---:|"]
    for m in res["memory"]:
        out.append(f"| {m['K']} | {m['N']} | {m['scheme']} | {m['peak_bytes'] / 1024:.0f} KiB | "
                   f"{m['nxn_bytes'] / 2**20:.0f} MiB | {m['peak_over_nxn']:.4f} |")
    out.append("\nSource scan of src/nfkg for N x N constructions (np.eye/identity/outer, full SVD, "
               "null_space, X^H-X products): " + (", ".join(res["source_scan"]) or "no hits") + ".")
    if res.get("source_scan_allowed"):
        out.append("Matched but reviewed (not N x N): " + "; ".join(f"`{a}`" for a in res["source_scan_allowed"])
                   + ".")
    return "\n".join(out)


# --------------------------------------------------------------------------- targets
def agreement_summary(core: dict, engine: dict) -> dict:
    """Every SKR comparison of the run: max relative difference per pair, and the cases above 1e-6."""
    pairs: dict[str, list] = {"nfkg vs naive N x N": [], "nfkg vs naive matvec": [], "naive N x N vs naive matvec": []}
    flagged = []
    for r in core["rows"]:
        where = f"core {r['case']} N={r['N']} {r['scheme']}"
        if r.get("rel_diff") is not None:
            pairs["nfkg vs naive N x N"].append(r["rel_diff"])
            pairs["naive N x N vs naive matvec"].append(r["rel_diff_naive_mv"])
        pairs["nfkg vs naive matvec"].append(r["rel_diff_mv"])
        worst = max(r.get("rel_diff") or 0.0, r["rel_diff_mv"], r.get("rel_diff_naive_mv") or 0.0)
        if worst > AGREEMENT:
            flagged.append({"where": where, "rel_diff": worst, "min_skr": min(r["skr_nfkg"]), "mp": None})
    for c in engine["naive_matvec"]:
        for s, v in c["schemes"].items():
            pairs["nfkg vs naive matvec"].append(v["rel_diff"])
            for f in v["flagged"]:
                flagged.append({"where": f"engine (d) N={c['N']} K={c['K']} {s} scenario {f['index']}",
                                "rel_diff": f["rel_diff"], "min_skr": min(f["skr_matvec"]), "mp": f["mp"]})
    for r in engine["agreement"]["rows"]:
        pairs["nfkg vs naive N x N"].append(r["nfkg_vs_naive"])
        pairs["nfkg vs naive matvec"].append(r["nfkg_vs_matvec"])
        pairs["naive N x N vs naive matvec"].append(r["naive_vs_matvec"])
        worst = max(r["nfkg_vs_naive"], r["nfkg_vs_matvec"], r["naive_vs_matvec"])
        if worst > AGREEMENT:
            flagged.append({"where": f"engine (e) N={r['N']} K={r['K']} {r['scheme']} draw {r['draw']}",
                            "rel_diff": worst, "min_skr": r["min_skr"], "mp": r.get("mp")})
    return {"pairs": {k: {"n": len(v), "max": max(v) if v else None} for k, v in pairs.items()},
            "flagged": flagged}


def targets(core: dict, engine: dict, agree: dict) -> list[dict]:
    out = []
    for t in bench_engine.targets(engine):
        out.append({**t, "issue": "Engine v2"})
    n_cmp = sum(p["n"] for p in agree["pairs"].values())
    worst = max(p["max"] for p in agree["pairs"].values() if p["max"] is not None)
    fl = agree["flagged"]
    if not fl:
        measured = f"max {worst:.1e} over {n_cmp} comparisons"
        met = True
    else:
        mp_ok = [f for f in fl if f["mp"] and f["mp"].get("nfkg", 1.0) <= 1e-10]
        measured = (f"max {worst:.1e} over {n_cmp} comparisons; {len(fl)} above 1e-6 (smallest SKR there "
                    f"{min(f['min_skr'] for f in fl):.1e} bits); mp reference: nfkg within 1e-10 in "
                    f"{len(mp_ok)} of them, the naive forms off by up to "
                    f"{max((max(v for k, v in f['mp'].items() if k not in ('nfkg', 'reference')) for f in mp_ok), default=0):.1e}")
        met = False
    out.append({"id": "agreement", "issue": "Engine v2",
                "target": "SKR agreement nfkg / naive N x N / naive matvec, relative <= 1e-6",
                "measured": measured, "met": met})

    rows = core["rows"]

    def find(case, n, scheme):
        for r in rows:
            if r["case"] == case and r["N"] == n and r["scheme"] == scheme:
                return r
        return None

    r = find("C", 4096, "svd-pa")
    if r:
        out.append({"id": "c4096", "issue": "first", "target": f"SVD w/ PA, N = 4096, one scenario < "
                    f"{TARGET_SVDPA_4096_MS:.0f} ms", "measured": _fmt_ms(r["nfkg_ms"]),
                    "met": r["nfkg_ms"] < TARGET_SVDPA_4096_MS})
    r = find("C", 1024, "svd-pa")
    if r and not r["naive_estimated"]:
        out.append({"id": "ratio1024", "issue": "first", "target": f"naive (N x N) / nfkg > {TARGET_RATIO_1024:.0f}x "
                    "at N = 1024 (SVD w/ PA)", "measured": f"{r['ratio_naive_nfkg']:,.0f}x",
                    "met": r["ratio_naive_nfkg"] > TARGET_RATIO_1024})
    r = find("J8", 1024, "svd-pa")
    if r:
        out.append({"id": "j8", "issue": "first", "target": f"SVD w/ PA, K = 6, N = 1024 < {TARGET_K6_1024_MS:.0f} ms",
                    "measured": _fmt_ms(r["nfkg_ms"]), "met": r["nfkg_ms"] < TARGET_K6_1024_MS})
    mem = core["memory"]
    largest = [m for m in mem if m["N"] == max(x["N"] for x in mem)]
    ok = all(m["peak_over_nxn"] < 1.0 for m in largest) and not core["source_scan"]
    out.append({"id": "nxn", "issue": "first", "target": "no N x N matrix in the library",
                "measured": f"at N = {largest[0]['N']} peak <= {max(m['peak_over_nxn'] for m in largest):.3f} x one "
                            f"N x N matrix; source scan: {len(core['source_scan'])} hits", "met": ok})
    return out


# --------------------------------------------------------------------------- precision (another engineer's)
def run_precision(quick: bool, out_dir: Path) -> dict:
    script = HERE / "bench_precision.py"
    if not script.exists():
        return {"status": "missing", "detail": f"{script.name} is not there"}
    cmd = [sys.executable, str(script), "--jobs", "2", "--out", str(out_dir / "precision.json")]
    if quick:
        cmd.append("--quick")
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    except Exception as exc:  # noqa: BLE001 - reported, not fatal
        return {"status": "failed", "detail": f"{type(exc).__name__}: {exc}", "wall_s": time.perf_counter() - t0}
    res = {"status": "ok" if p.returncode == 0 else "failed", "returncode": p.returncode,
           "wall_s": time.perf_counter() - t0, "stdout": p.stdout, "stderr_tail": p.stderr[-4000:],
           "command": " ".join(Path(c).name if i < 2 else c for i, c in enumerate(cmd))}
    if p.returncode == 0:
        try:
            data = json.loads((out_dir / "precision.json").read_text())
            res["overall"] = data.get("overall")
            res["n_cases"] = data.get("n_cases")
        except Exception as exc:  # noqa: BLE001
            res["status"] = "failed"
            res["detail"] = f"no readable precision.json: {exc}"
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="about 3 minutes: no N = 4096, fewer rounds, no DLPA training")
    ap.add_argument("--naive-full", action="store_true", help="never skip a slow N x N naive run")
    ap.add_argument("--no-dlpa", action="store_true", help="do not run bench_dlpa.py")
    ap.add_argument("--no-probing", action="store_true", help="do not run bench_probing.py")
    ap.add_argument("--no-scaling", action="store_true", help="do not run bench_scaling.py")
    ap.add_argument("--no-maps", action="store_true", help="do not run bench_maps.py")
    ap.add_argument("--no-precision", action="store_true", help="do not run bench_precision.py")
    ap.add_argument("--out", type=Path, default=HERE / "out", help="output directory")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    info = machine_info()
    info["git"] = git_state()
    info["load_start"] = load()
    print(f"machine: {info['nproc']} cores, {info['cpu']}; numpy {info['numpy']}, scipy {info['scipy']}, "
          f"BLAS {info['blas']} ({info['blas_threads']} threads); load average {info['load_start']}", flush=True)
    t0 = time.perf_counter()
    print("\n== bench_core", flush=True)
    core = bench_core.run(quick=args.quick, naive_full=args.naive_full)
    (args.out / "core.json").write_text(json.dumps(core, indent=1))
    info["load_after_core"] = load()
    print("\n== bench_engine", flush=True)
    engine = bench_engine.run(quick=args.quick)
    engine["targets"] = bench_engine.targets(engine)
    (args.out / "engine.json").write_text(json.dumps(engine, indent=1))
    info["load_after_engine"] = load()
    if args.no_dlpa:
        dlpa = {"status": "skipped", "detail": "--no-dlpa"}
    else:
        print("\n== bench_dlpa", flush=True)
        try:
            dlpa = bench_dlpa.run(quick=args.quick)
            dlpa["targets"] = bench_dlpa.targets(dlpa)
            dlpa["status"] = "ok"
            bench_dlpa.write_csv(dlpa, args.out / "dlpa_assess.csv")
        except Exception as exc:  # noqa: BLE001 - reported, not fatal (e.g. no torch, no model)
            dlpa = {"status": "failed", "detail": f"{type(exc).__name__}: {exc}"}
        (args.out / "dlpa.json").write_text(json.dumps(dlpa, indent=1))
    info["load_after_dlpa"] = load()
    if args.no_probing:
        probe_res = {"status": "skipped", "detail": "--no-probing"}
    else:
        print("\n== bench_probing", flush=True)
        try:
            probe_res = bench_probing.run(quick=args.quick)
            probe_res["targets"] = bench_probing.targets(probe_res)
            probe_res["status"] = "ok"
        except Exception as exc:  # noqa: BLE001 - reported, not fatal (e.g. a chunk-dependence assertion)
            probe_res = {"status": "failed", "detail": f"{type(exc).__name__}: {exc}"}
        (args.out / "probing.json").write_text(json.dumps(probe_res, indent=1))
    info["load_after_probing"] = load()
    if args.no_scaling:
        scaling = {"status": "skipped", "detail": "--no-scaling"}
    else:
        print("\n== bench_scaling", flush=True)
        try:
            scaling = bench_scaling.run(quick=args.quick)
            scaling["status"] = "ok"
            bench_scaling.save(scaling, args.out)
        except Exception as exc:  # noqa: BLE001 - reported, not fatal
            scaling = {"status": "failed", "detail": f"{type(exc).__name__}: {exc}"}
    info["load_after_scaling"] = load()
    if args.no_maps:
        maps_res = {"status": "skipped", "detail": "--no-maps"}
    else:
        print("\n== bench_maps", flush=True)
        try:
            maps_res = bench_maps.run(quick=args.quick)
            maps_res["targets"] = bench_maps.targets(maps_res)
            maps_res["status"] = "ok"
        except Exception as exc:  # noqa: BLE001 - reported, not fatal
            maps_res = {"status": "failed", "detail": f"{type(exc).__name__}: {exc}"}
        (args.out / "maps.json").write_text(json.dumps(maps_res, indent=1))
    info["load_after_maps"] = load()
    t_timing = time.perf_counter() - t0
    if args.no_precision:
        prec = {"status": "skipped", "detail": "--no-precision"}
    else:
        print("\n== bench_precision (subprocess)", flush=True)
        prec = run_precision(args.quick, args.out)
    agree = agreement_summary(core, engine)
    all_targets = targets(core, engine, agree)
    all_targets += [{**t, "issue": "DLPA"} for t in dlpa.get("targets", [])]
    all_targets += [{**t, "issue": "Probing"} for t in probe_res.get("targets", [])]
    all_targets += [{**t, "issue": "Scale"} for t in maps_res.get("targets", [])]
    summary = {"machine": info, "quick": args.quick, "targets": all_targets, "agreement": agree,
               "dlpa": {"status": dlpa["status"], "detail": dlpa.get("detail"), "wall_s": dlpa.get("wall_s")},
               "probing": {"status": probe_res["status"], "detail": probe_res.get("detail"),
                           "wall_s": probe_res.get("wall_s")},
               "scaling": {"status": scaling["status"], "detail": scaling.get("detail"),
                           "wall_s": scaling.get("wall_s"), "slopes": scaling.get("slopes")},
               "maps": {"status": maps_res["status"], "detail": maps_res.get("detail"),
                        "wall_s": maps_res.get("wall_s")},
               "precision": {k: v for k, v in prec.items() if k != "stdout"},
               "timing_wall_s": t_timing, "wall_s": time.perf_counter() - t0}
    (args.out / "results.json").write_text(json.dumps(summary, indent=1))

    print("\n## Machine\n")
    print(f"{info['cpu']}, {info['nproc']} cores, {(info['memory_bytes'] or 0) / 2**30:.0f} GiB; Python "
          f"{info['python']}, NumPy {info['numpy']}, SciPy {info['scipy']}, {info['blas']} "
          f"({info['blas_threads']} BLAS threads); load average (1, 5, 15 min) at start {info['load_start']}, "
          f"after core {info['load_after_core']}, after engine {info['load_after_engine']}, after dlpa "
          f"{info['load_after_dlpa']}, after probing {info['load_after_probing']}, after scaling "
          f"{info['load_after_scaling']}; {info['date']}; "
          f"commit {info['git']['commit']} ({info['git']['subject']})"
          + (f", src/ modified: {', '.join(info['git']['src_modified'])}" if info['git']['src_modified'] else
             ", src/ clean") + ".")
    print("\n## Engine v2\n")
    print(bench_engine.markdown(engine))
    print("\n## Single scenarios against the naive forms\n")
    print(core_markdown(core))
    print("\n## SKR agreement (every comparison of this run)\n")
    print("| pair | comparisons | max relative difference |")
    print("|---|---:|---:|")
    for k, v in agree["pairs"].items():
        print(f"| {k} | {v['n']} | {_fmt_rel(v['max'])} |")
    if agree["flagged"]:
        print("\nAbove 1e-6:\n")
        for f in agree["flagged"]:
            mp = f["mp"]
            verdict = "no mp reference (SVD scheme)" if not mp else \
                "mp reference: " + ", ".join(f"{k} {v:.1e}" for k, v in mp.items() if k != "reference")
            print(f"- {f['where']}: rel. diff {f['rel_diff']:.1e}, smallest SKR {f['min_skr']:.2e} bits; {verdict}")
    print("\n## SVD w/ DLPA (KGSVD-Net) and svd-opt (bench_dlpa.py)\n")
    if dlpa["status"] == "ok":
        print(bench_dlpa.markdown(dlpa))
    else:
        print(f"bench_dlpa.py: {dlpa['status']} ({dlpa.get('detail')})")
    print("\n## Monte Carlo probing and the NIST suite (bench_probing.py)\n")
    if probe_res["status"] == "ok":
        print(bench_probing.markdown(probe_res))
    else:
        print(f"bench_probing.py: {probe_res['status']} ({probe_res.get('detail')})")
    print("\n## Scaling with N and K (bench_scaling.py)\n")
    if scaling["status"] == "ok":
        print(bench_scaling.markdown(scaling))
    else:
        print(f"bench_scaling.py: {scaling['status']} ({scaling.get('detail')})")
    print("\n## Maps and distributed sweeps (bench_maps.py)\n")
    if maps_res["status"] == "ok":
        print(bench_maps.markdown(maps_res))
    else:
        print(f"bench_maps.py: {maps_res['status']} ({maps_res.get('detail')})")
    print("\n## Precision (bench_precision.py)\n")
    if prec["status"] == "ok":
        print(prec["stdout"].strip())
    else:
        print(f"bench_precision.py: {prec['status']} ({prec.get('detail') or 'rc ' + str(prec.get('returncode'))})")
        if prec.get("stderr_tail"):
            print("\n```\n" + prec["stderr_tail"].strip()[-1500:] + "\n```")
    print("\n## Targets\n")
    print("| issue | target | measured | met |")
    print("|---|---|---|---|")
    for t in summary["targets"]:
        print(f"| {t['issue']} | {t['target']} | {t['measured']} | {'yes' if t['met'] else 'NO'} |")
    print(f"\n(wrote {args.out}/core.json, engine.json, results.json"
          f"{', dlpa.json, dlpa_assess.csv' if dlpa['status'] == 'ok' else ''}"
          f"{', probing.json' if probe_res['status'] != 'skipped' else ''}"
          f"{', scaling.csv, scaling.json, scaling.png, scaling.pdf' if scaling['status'] == 'ok' else ''}"
          f"{', maps.json' if maps_res['status'] != 'skipped' else ''}"
          f"{', precision.json' if prec['status'] == 'ok' else ''}; timing {t_timing:.0f} s, "
          f"total {summary['wall_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
