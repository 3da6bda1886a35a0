"""Monte Carlo channel probing and the NIST suite: cost against their floors, memory, reproducibility.

Five parts:

(1) ``floor``: K = 2, N = 256, 30 GHz, J5 geometry (users (12 m, -0.6), (13 m, 0.6), Eves 2 cm
    closer, P_t = 15 dBm, V = 1 so ``pilots='auto'`` builds the pilots explicitly), schemes
    mrc, svd, svd-pa. The N-antenna reference simulation
    ``probe(s, result, rounds=T, seed=0, method='explicit')`` is timed with a
    :class:`~nfkg.schemes.precoding.PrecodingResult` whose ``.covariance`` was already built (precoding
    is not timed) against the **floor**: drawing the same precoders and nothing else, i.e. for
    each seed block b of ``probing.BLOCK`` rounds
    ``cov.sample(default_rng(SeedSequence(seed, spawn_key=(b,))), BLOCK)``. A third series,
    **all draws**, adds to the floor the pilot-noise normals that ``probe`` also draws in each
    block (user, Eve: ``(BLOCK, K, V)``, BS: ``(BLOCK, N, V)`` complex), to show where the rest
    of the time goes. T = 20,480 (4,096 with ``--quick``). The three series of the three schemes
    are measured in interleaved rounds, shuffled each round, garbage collector off during a
    measurement; 9 rounds (3). A round during which other processes used more than 20 % of the
    machine is measured again after 10 s, up to 3 times (2), as in ``bench_core.guarded``, and
    then kept. The statistic is the median over the rounds that stayed at or below 20 % when
    there are at least 3 of them (else over all rounds), ratio = median / median; the
    all-rounds ratio is reported beside it. A fourth series times ``probe`` with OpenBLAS set to one
    thread (when it has more), because on this 2-core machine the BLAS threads of probe's small
    products cost far more than they save when another process holds a core. Target: probe
    within 3x of the floor for every scheme.
(1b) ``allocator``: part (1) again, 5 rounds (3), in one subprocess per glibc allocator regime
    (:data:`ALLOCATOR_REGIMES`): ``MALLOC_MMAP_THRESHOLD_`` fixed at 128 KiB, so every array
    lands on freshly mapped pages, or at 1 GiB with no trimming, so memory is reused. mrc's floor
    is cheap arithmetic on large arrays, and the page faults of fresh memory change it by up to
    2x; which regime a process is in depends on glibc's dynamic mmap threshold, i.e. on what it
    allocated before (``run_all.py`` runs this benchmark after the others). The target is
    judged on the worst of part (1) and both regimes. Minor page faults per call are recorded.
(2) ``memory``: peak memory of ``probe(s, 'svd-pa' result, rounds=10**5)`` at K = 2, N = 256, in
    a fresh subprocess per measure: ``ru_maxrss`` before (after the imports, the scenario,
    precoding and the covariance) and after the call, and in a second subprocess the
    ``tracemalloc`` peak of the call over what was allocated before it (NumPy's buffers are
    traced). ``--quick``: 20,480 rounds. Target: the increase under 1 GB.
(3) ``chunk``: not a timing. For each scheme and both simulations (``method='reduced'``, the
    default, and ``'explicit'``), the same seed with ``chunk=1024`` and ``chunk=8192`` over
    T = 18,949 rounds (8,709 with ``--quick``: several chunks and a partial last block) must give
    identical ``z_a, z_b, z_e`` (``np.array_equal``; asserted).
(4) ``nist``: 10^6 bits (``default_rng(1).integers(0, 2, 10**6)``, packed MSB first into
    ``bits.bin``; a seed whose walk has J >= 500 cycles, so all fifteen tests run), as whole
    processes, wall time, interleaved, median of 3: (a) ``nfkg nist bits.bin --packed`` (the
    venv's console script), (b) a small script (written next to the bits) that reads and unpacks
    the same file and runs all fifteen tests of ``sp80022suite`` (NIST's sts-2.1.2 C code) with
    the parameters ``run_all`` uses at 10^6 bits (block frequency M = 128, templates m = 9,
    linear complexity M = 500, serial m = 16, approximate entropy m = 10), its templates in
    ``./templates/template9`` as ``tests/test_randomness.py`` writes them. Also in-process:
    ``randomness.run_all`` (median of 5) and the sum of the C calls inside script (b), with a
    per-test breakdown of both. Target: (a) at most 2x (b). Skipped (b) if sp80022suite is
    not installed (it is a dev extra).

(5) ``reduced``: 10^6 probing rounds of the J5 scenario at P_t = 20 dBm, K = 2, N = 256, V = 1,
    svd-mf and svd-pa (precoding not timed), with the exact reduced simulation
    (``method='reduced'``, the default) and the N-antenna reference (``method='explicit'``, the
    default before). Reduced: median of 5 (3) interleaved rounds, guarded against other
    processes as in (1), beside its **draws**: the random numbers it draws per seed block and
    nothing else. Explicit: one call of 10^6 rounds (``--quick``: 10^5 rounds, times 10), run
    with one OpenBLAS thread and with the default threads, not repeated (other processes' share
    of the CPU is recorded). Target: reduced at most
    :data:`TARGET_REDUCED_S` s per 10^6 rounds for both schemes.

Run through ``benchmarks/run_all.py`` or directly:
``.venv/bin/python benchmarks/bench_probing.py [--quick] [--json PATH]`` (writes
``out/probing.json``).
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import bench_core  # noqa: E402

from nfkg import randomness  # noqa: E402
from nfkg.protocol import probing  # noqa: E402
from nfkg.model.channel import ULA  # noqa: E402
from nfkg.schemes.precoding import precode  # noqa: E402
from nfkg.model.scenario import Scenario  # noqa: E402

TARGET_FLOOR_RATIO = 3.0
TARGET_PEAK_BYTES = 1e9
TARGET_NIST_RATIO = 2.0
TARGET_REDUCED_S = 5.0
SCHEMES = ("mrc", "svd", "svd-pa")
GEOM = dict(users=[(12.0, -0.6), (13.0, 0.6)], eves=[(11.98, -0.6), (12.98, 0.6)], pt_dbm=15.0)
REDUCED_SCHEMES = ("svd-mf", "svd-pa")
REDUCED_ROUNDS = 10**6
N_ANT = 256
CARRIER = 30e9
NIST_BITS = 10**6
NIST_SEED = 1


def scenario() -> Scenario:
    return Scenario.from_dbm(ULA(N_ANT, CARRIER), **GEOM)


def _timed(fn) -> float:
    gc.disable()
    try:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0
    finally:
        gc.enable()


# --------------------------------------------------------------------------- (1) probe vs the precoder floor
def _openblas():
    """(get, set) of the thread count of the OpenBLAS that NumPy loaded, or None."""
    import ctypes

    try:
        for line in Path("/proc/self/maps").read_text().splitlines():
            if "openblas" in line and line.endswith(".so"):
                lib = ctypes.CDLL(line.split()[-1])
                for suffix in ("scipy_openblas_{}_num_threads64_", "openblas_{}_num_threads64_",
                               "openblas_{}_num_threads"):
                    get, put = suffix.format("get"), suffix.format("set")
                    if hasattr(lib, get) and hasattr(lib, put):
                        setter = getattr(lib, put)
                        setter.argtypes = [ctypes.c_int]
                        return getattr(lib, get), setter
    except OSError:
        pass
    return None


def _minflt() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def floor_part(quick: bool, repeats: int | None = None, verbose: bool = True) -> dict:
    rounds = 4096 if quick else 20_480
    repeats = repeats or (3 if quick else 9)
    s = scenario()
    k, n_ant, v = s.n_users, s.n_ant, int(s.pilot_length)
    block = probing.BLOCK
    sizes = [min(block, rounds - b * block) for b in range(-(-rounds // block))]
    blas = _openblas()
    threads = int(blas[0]()) if blas else None
    kinds = ("probe", "floor", "draws") + (("probe_1t",) if blas and threads > 1 else ())
    results, series = {}, {}
    for name in SCHEMES:
        res = precode(s, name)
        res.covariance  # built here, outside the timings
        results[name] = res
        # warm-up, and which pilot path
        pilots = probing.probe(s, res, rounds=block, seed=0, method="explicit").pilots
        v_eff = v if pilots == "explicit" else 1

        def run_probe(res=res):
            probing.probe(s, res, rounds=rounds, seed=0, method="explicit")

        def run_probe_1t(res=res):
            blas[1](1)
            try:
                probing.probe(s, res, rounds=rounds, seed=0, method="explicit")
            finally:
                blas[1](threads)

        def run_floor(cov=res.covariance):
            for b, n in enumerate(sizes):
                cov.sample(np.random.default_rng(np.random.SeedSequence(0, spawn_key=(b,))), n)

        def run_draws(cov=res.covariance, v_eff=v_eff):
            for b, n in enumerate(sizes):
                rng = np.random.default_rng(np.random.SeedSequence(0, spawn_key=(b,)))
                cov.sample(rng, n)
                rng.standard_normal((n, k, v_eff, 2))
                rng.standard_normal((n, k, v_eff, 2))
                rng.standard_normal((n, n_ant, v_eff, 2))

        fns = {"probe": run_probe, "floor": run_floor, "draws": run_draws, "probe_1t": run_probe_1t}
        series[name] = {"pilots": pilots, "fns": fns}
    times = {name: {kind: [] for kind in kinds} for name in SCHEMES}
    faults = {name: {kind: [] for kind in kinds} for name in SCHEMES}
    foreign, attempts = [], []
    order = [(name, kind) for name in SCHEMES for kind in kinds]
    rnd = random.Random(20241124)
    gc.collect()

    def one_round():
        rnd.shuffle(order)
        got = {}
        for name, kind in order:
            f0 = _minflt()
            dt = _timed(series[name]["fns"][kind])
            got[name, kind] = (dt, _minflt() - f0)
        return got

    for i in range(repeats):
        got, fc, tries = bench_core.guarded(one_round, f"round {i + 1}", verbose=verbose,
                                            attempts=2 if quick else 3)
        for (name, kind), (dt, nf) in got.items():
            times[name][kind].append(dt)
            faults[name][kind].append(nf)
        foreign.append(fc)
        attempts.append(tries)
        if verbose:
            print(f"    round {i + 1}/{repeats} (other CPU {fc:.0%}): " + ", ".join(
                f"{n} {times[n]['probe'][-1] / times[n]['floor'][-1]:.2f}x" for n in SCHEMES), flush=True)
    # the statistic: the median over the rounds other processes left alone (<= FOREIGN_MAX of the
    # CPU), when there are at least 3 of them; otherwise over every round
    quiet = [i for i, f in enumerate(foreign) if f is None or f <= bench_core.FOREIGN_MAX]
    use = quiet if len(quiet) >= 3 else list(range(repeats))
    rows = []
    for name in SCHEMES:
        t = times[name]
        med = {kind: float(np.median([v[i] for i in use])) for kind, v in t.items()}
        med_all = {kind: float(np.median(v)) for kind, v in t.items()}
        row = {"scheme": name, "pilots": series[name]["pilots"],
               "ratio_all_rounds": med_all["probe"] / med_all["floor"],
               "shapes": [f"{'complement' if sh.complement else 'span'} m={sh.basis.shape[-1]}"
                          for sh in results[name].covariance.shapes],
               "probe_s": med["probe"], "floor_s": med["floor"], "draws_s": med["draws"],
               "ratio": med["probe"] / med["floor"], "ratio_draws": med["probe"] / med["draws"],
               "ratio_min": min(t["probe"][i] for i in use) / min(t["floor"][i] for i in use),
               "ratio_per_round": [p / f for p, f in zip(t["probe"], t["floor"])],
               "minor_faults": {kind: int(np.median(v)) for kind, v in faults[name].items()},
               "raw": t}
        if "probe_1t" in med:
            row["probe_1t_s"] = med["probe_1t"]
            row["ratio_1t"] = med["probe_1t"] / med["floor"]
            row["ratio_1t_all_rounds"] = med_all["probe_1t"] / med_all["floor"]
        rows.append(row)
    fc = [f for f in foreign if f is not None]
    return {"K": k, "N": n_ant, "V": v, "rounds": rounds, "block": block, "repeats": repeats, "rows": rows,
            "blas_threads": threads, "foreign_cpu": max(fc) if fc else None, "foreign_cpu_rounds": foreign,
            "attempts": attempts, "rounds_used": use, "quiet_only": len(quiet) >= 3}


#: glibc malloc settings for the allocator regimes of part (1b): every array above 128 KiB freshly
#: mapped (and page-faulted) at each allocation, or the heap never returned to the system.
ALLOCATOR_REGIMES = {
    "fresh pages": {"MALLOC_MMAP_THRESHOLD_": str(128 * 1024)},
    "reused memory": {"MALLOC_MMAP_THRESHOLD_": str(2**30), "MALLOC_TRIM_THRESHOLD_": str(2**32)},
}


def allocator_part(quick: bool) -> dict:
    """Part (1) again in a subprocess per glibc allocator regime (fewer rounds).

    The floor of a beam scheme is cheap arithmetic on large arrays, so whether its arrays land on
    fresh pages (a minor fault per 4 KiB page) or on reused memory changes it by up to 2x, and
    which one happens inside one process depends on glibc's dynamic mmap threshold, i.e. on what
    the process allocated before.
    """
    out = {}
    for regime, env in ALLOCATOR_REGIMES.items():
        with tempfile.TemporaryDirectory(prefix="nfkg-bench-alloc-") as tmp:
            js = Path(tmp) / "floor.json"
            cmd = [sys.executable, str(Path(__file__).resolve()), "--floor-only", "--repeats",
                   "3" if quick else "5", "--json", str(js)] + (["--quick"] if quick else [])
            p = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True, timeout=1800)
            if p.returncode != 0:
                raise RuntimeError(f"allocator regime {regime!r} failed: {p.stderr[-2000:]}")
            fl = json.loads(js.read_text())["floor"]
        out[regime] = {"env": env, "repeats": fl["repeats"], "rounds_used": fl["rounds_used"],
                       "foreign_cpu_rounds": fl["foreign_cpu_rounds"],
                       "rows": [{k: r[k] for k in ("scheme", "probe_s", "floor_s", "draws_s", "ratio", "ratio_min",
                                                   "ratio_1t", "minor_faults") if k in r} for r in fl["rows"]]}
    return out


# --------------------------------------------------------------------------- (2) peak memory (subprocess)
_MEMORY_SCRIPT = r"""
import json, resource, sys
mode, rounds = sys.argv[1], int(sys.argv[2])
sys.path.insert(0, sys.argv[3])
import numpy as np
from bench_probing import scenario
from nfkg.protocol import probing
from nfkg.schemes.precoding import precode
s = scenario()
res = precode(s, "svd-pa")
res.covariance
def status(key):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
out = {"mode": mode, "rounds": rounds}
if mode == "rss":
    out["maxrss_before"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    try:  # reset the peak (VmHWM) to the current RSS, Linux >= 4.0
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        out["hwm_reset"] = True
    except OSError:
        out["hwm_reset"] = False
    out["rss_before"] = status("VmRSS")
    out["hwm_before"] = status("VmHWM")
    p = probing.probe(s, res, rounds=rounds, seed=0)
    out["maxrss_after"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out["hwm_after"] = status("VmHWM")
    out["rss_after"] = status("VmRSS")
else:
    import tracemalloc
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    p = probing.probe(s, res, rounds=rounds, seed=0)
    cur, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out.update(traced_before=base, traced_after=cur, traced_peak=peak)
out["result_bytes"] = p.z_a.nbytes + p.z_b.nbytes + p.z_e.nbytes
print(json.dumps(out))
"""


def memory_part(quick: bool) -> dict:
    rounds = 20_480 if quick else 10**5
    out: dict = {"scheme": "svd-pa", "K": 2, "N": N_ANT, "rounds": rounds}
    for mode in ("rss", "tracemalloc"):
        t0 = time.perf_counter()
        p = subprocess.run([sys.executable, "-c", _MEMORY_SCRIPT, mode, str(rounds), str(HERE)],
                           capture_output=True, text=True, timeout=1800)
        if p.returncode != 0:
            raise RuntimeError(f"memory subprocess ({mode}) failed: {p.stderr[-2000:]}")
        d = json.loads(p.stdout.strip().splitlines()[-1])
        d.pop("mode")
        out.update(d)
        out[f"{mode}_wall_s"] = time.perf_counter() - t0
    out["maxrss_increase"] = out["maxrss_after"] - out["maxrss_before"]
    out["hwm_increase"] = out["hwm_after"] - out["hwm_before"]
    out["traced_increase"] = out["traced_peak"] - out["traced_before"]
    return out


# --------------------------------------------------------------------------- (3) chunk independence
def chunk_part(quick: bool) -> dict:
    rounds = 8192 + 517 if quick else 2 * 8192 + 2 * 1024 + 517
    s = scenario()
    rows = []
    for name in SCHEMES:
        res = precode(s, name)
        for method in ("reduced", "explicit"):
            a = probing.probe(s, res, rounds=rounds, seed=0, chunk=1024, method=method)
            b = probing.probe(s, res, rounds=rounds, seed=0, chunk=8192, method=method)
            same = {z: bool(np.array_equal(getattr(a, z), getattr(b, z))) for z in ("z_a", "z_b", "z_e")}
            rows.append({"scheme": name, "method": method, "identical": all(same.values()), **same})
    out = {"rounds": rounds, "chunks": [1024, 8192], "seed": 0, "rows": rows,
           "identical": all(r["identical"] for r in rows)}
    assert out["identical"], f"probe depends on chunk: {rows}"
    return out


# --------------------------------------------------------------------------- (4) nfkg nist vs NIST's C code
_STS_SCRIPT = r'''"""All fifteen SP 800-22 tests of NIST's sts-2.1.2 C code (sp80022suite) on a packed bit file."""
import json
import sys
import time

import numpy as np
import sp80022suite as sp

raw = np.unpackbits(np.fromfile(sys.argv[1], dtype=np.uint8)).tobytes()  # one byte (0/1) per bit
calls = [
    ("frequency", lambda: sp.frequency(raw)),
    ("block_frequency", lambda: sp.block_frequency(128, raw)),
    ("runs", lambda: sp.runs(raw)),
    ("longest_run_of_ones", lambda: sp.longest_run_of_ones(raw)),
    ("binary_matrix_rank", lambda: sp.rank(raw)),
    ("discrete_fourier_transform", lambda: sp.discrete_fourier_transform(raw)),
    # reads its templates from ./templates/template9
    ("non_overlapping_template_matching", lambda: sp.non_overlapping_template_matchings(9, raw)),
    ("overlapping_template_matching", lambda: sp.overlapping_template_matchings(9, raw)),
    ("universal", lambda: sp.universal(raw)),
    ("linear_complexity", lambda: sp.linear_complexity(500, raw)),
    ("serial", lambda: sp.serial(16, raw)),
    ("approximate_entropy", lambda: sp.approximate_entropy(10, raw)),
    ("cumulative_sums", lambda: sp.cumulative_sums(raw)),
    ("random_excursions", lambda: sp.random_excursions(raw)),
    ("random_excursions_variant", lambda: sp.random_excursions_variant(raw)),
]
out = {}
for name, call in calls:
    t0 = time.perf_counter()
    try:
        p = call()
    except ValueError:  # random excursions: too few cycles
        p = None
    out[name] = {"p": p, "s": time.perf_counter() - t0}
print(json.dumps(out))
'''


class ChildCpuMeter(bench_core.CpuMeter):
    """:class:`bench_core.CpuMeter` that counts the CPU of this process's waited-for children as its own."""

    def __enter__(self):
        self._c0 = os.times()
        return super().__enter__()

    def __exit__(self, *exc):
        c1 = os.times()
        wall = time.perf_counter() - self._t0
        super().__exit__(*exc)
        if self.foreign is not None and wall > 0:
            child = (c1.children_user - self._c0.children_user) + (c1.children_system - self._c0.children_system)
            self.foreign = max(0.0, self.foreign - child / (wall * (os.cpu_count() or 1)))
        return False


def _nfkg_command() -> list[str]:
    exe = Path(sys.executable).parent / "nfkg"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("nfkg")
    return [found] if found else [sys.executable, "-c", "import sys; from nfkg.cli import main; sys.exit(main())"]


def _per_test_nfkg(bits: np.ndarray) -> dict:
    """Each test as run_all calls it (same options), timed once."""
    m = randomness.length_defaults(bits.size)
    opts = {"serial": {"m": m["serial_m"]}, "approximate_entropy": {"m": m["approximate_entropy_m"]}}
    out = {}
    for name in randomness.TEST_NAMES:
        fn = getattr(randomness, name)
        out[name] = _timed(lambda fn=fn, name=name: fn(bits, **opts.get(name, {})))
    return out


def nist_part(quick: bool) -> dict:
    have_c = importlib.util.find_spec("sp80022suite") is not None
    repeats = 3
    bits = np.random.default_rng(NIST_SEED).integers(0, 2, NIST_BITS, dtype=np.uint8)
    out: dict = {"bits": NIST_BITS, "seed": NIST_SEED, "repeats": repeats, "have_c": have_c}
    with tempfile.TemporaryDirectory(prefix="nfkg-bench-nist-") as tmp:
        tmp = Path(tmp)
        np.packbits(bits).tofile(tmp / "bits.bin")
        (tmp / "templates").mkdir()
        (tmp / "templates" / "template9").write_text(
            "".join(" ".join(map(str, t)) + "\n" for t in randomness.aperiodic_templates(9)))
        (tmp / "sts_all.py").write_text(_STS_SCRIPT)
        cmds = {"nfkg": [*_nfkg_command(), "nist", "bits.bin", "--packed"]}
        if have_c:
            cmds["c"] = [sys.executable, "sts_all.py", "bits.bin"]
        walls: dict = {k: [] for k in cmds}
        c_inner: list = []
        c_tests: list = []
        nfkg_stdout = ""
        with ChildCpuMeter() as m:
            for _ in range(repeats):
                for key, cmd in cmds.items():
                    t0 = time.perf_counter()
                    p = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=600)
                    walls[key].append(time.perf_counter() - t0)
                    if p.returncode != 0:
                        raise RuntimeError(f"{' '.join(cmd)} failed (rc {p.returncode}): {p.stderr[-2000:]}")
                    if key == "c":
                        d = json.loads(p.stdout.strip().splitlines()[-1])
                        c_inner.append(sum(v["s"] for v in d.values()))
                        c_tests.append(d)
                    else:
                        nfkg_stdout = p.stdout
        out["foreign_cpu"] = m.foreign
        out["commands"] = {k: " ".join(Path(c).name if i == 0 else c for i, c in enumerate(v))
                           for k, v in cmds.items()}
        out["nfkg_summary"] = nfkg_stdout.strip().splitlines()[-1] if nfkg_stdout else None
    out["nfkg_wall"] = walls["nfkg"]
    out["nfkg_s"] = float(np.median(walls["nfkg"]))
    loaded = randomness.unpack(np.packbits(bits).tobytes())
    randomness.run_all(loaded)  # warm-up (template tables, caches)
    gc.collect()
    inproc = [_timed(lambda: randomness.run_all(loaded)) for _ in range(5)]
    out["run_all_all"] = inproc
    out["run_all_s"] = float(np.median(inproc))
    out["nfkg_per_test_s"] = _per_test_nfkg(loaded)
    if have_c:
        out["c_wall"] = walls["c"]
        out["c_s"] = float(np.median(walls["c"]))
        out["c_inner_s"] = float(np.median(c_inner))
        out["c_per_test_s"] = {name: float(np.median([d[name]["s"] for d in c_tests])) for name in c_tests[0]}
        out["c_p_values"] = {name: c_tests[0][name]["p"] for name in c_tests[0]}
        out["ratio"] = out["nfkg_s"] / out["c_s"]
        out["ratio_inner"] = out["run_all_s"] / out["c_inner_s"]
    return out


# --------------------------------------------------------------------------- (5) reduced vs explicit, 10^6 rounds
def j5_20dbm() -> Scenario:
    """The J5 scenario of the probing issue: GEOM at P_t = 20 dBm."""
    return Scenario.from_dbm(ULA(N_ANT, CARRIER), **{**GEOM, "pt_dbm": 20.0})


def _reduced_draws(s: Scenario, res, rounds: int) -> None:
    """The random numbers ``probe(method='reduced', pilots='ls'/V = 1)`` draws per seed block, nothing else."""
    f, h = s.channels()
    red = res.covariance.reduce(np.concatenate([f, h]).T)
    k, d, r = red.factors.shape
    comp = red.perp_dim > 0 and bool(np.any(red.perp_var > 0))
    for b in range(-(-rounds // probing.BLOCK)):
        n = min(probing.BLOCK, rounds - b * probing.BLOCK)
        rng = np.random.default_rng(np.random.SeedSequence(0, spawn_key=(b,)))
        rng.standard_normal((n, k * r, 2))
        rng.standard_normal((n, k, 1, 2))
        rng.standard_normal((n, k, 1, 2))
        rng.standard_normal((n, d, 1, 2))
        if comp:
            rng.standard_gamma(red.perp_dim, n)
            rng.standard_normal((n, k, 2))


def reduced_part(quick: bool, verbose: bool = True) -> dict:
    s = j5_20dbm()
    rounds = REDUCED_ROUNDS
    repeats = 3 if quick else 5
    explicit_rounds = rounds // 10 if quick else rounds
    blas = _openblas()
    threads = int(blas[0]()) if blas else None
    f, h = s.channels()
    results, rows = {}, []
    for name in REDUCED_SCHEMES:
        res = precode(s, name)
        res.covariance
        results[name] = res
        probing.probe(s, res, rounds=probing.BLOCK, seed=0)                   # warm-up
    fns = {(name, kind): fn for name in REDUCED_SCHEMES for kind, fn in (
        ("reduced", lambda res=results[name]: probing.probe(s, res, rounds=rounds, seed=0, method="reduced")),
        ("draws", lambda res=results[name]: _reduced_draws(s, res, rounds)))}
    times = {key: [] for key in fns}
    foreign = []
    order = list(fns)
    rnd = random.Random(20261203)
    for i in range(repeats):
        def one_round():
            rnd.shuffle(order)
            return {key: _timed(fns[key]) for key in order}

        got, fc, _ = bench_core.guarded(one_round, f"reduced round {i + 1}", verbose=verbose,
                                        attempts=2 if quick else 3)
        for key, dt in got.items():
            times[key].append(dt)
        foreign.append(fc)
        if verbose:
            print(f"    round {i + 1}/{repeats} (other CPU {_fc(fc)}): " + ", ".join(
                f"{n} {times[n, 'reduced'][-1]:.2f} s" for n in REDUCED_SCHEMES), flush=True)
    for name in REDUCED_SCHEMES:
        res = results[name]
        red = res.covariance.reduce(np.concatenate([f, h]).T)
        ex = {}
        for label, nthreads in (("1 thread", 1), ("default threads", threads)):
            if label == "1 thread" and not blas:
                continue
            if blas:
                blas[1](nthreads)
            try:
                (dt, p), fc, _ = bench_core.guarded(lambda res=res: _explicit_timed(s, res, explicit_rounds),
                                                    f"explicit {name}", verbose=verbose, attempts=1)
            finally:
                if blas:
                    blas[1](threads)
            ex[label] = {"s": dt * rounds / explicit_rounds, "measured_s": dt, "foreign_cpu": fc, "pilots": p}
            if verbose:
                print(f"    explicit {name} ({label}): {dt:.1f} s for {explicit_rounds:,} rounds "
                      f"(other CPU {_fc(fc)})", flush=True)
        med = {kind: float(np.median(times[name, kind])) for kind in ("reduced", "draws")}
        rows.append({"scheme": name,
                     "shapes": [f"{'complement' if sh.complement else 'span'} m={sh.basis.shape[-1]}"
                                for sh in res.covariance.shapes],
                     "D": red.dim, "R": red.factors.shape[-1], "complement": bool(np.any(red.perp_var > 0)),
                     "reduced_s": med["reduced"], "draws_s": med["draws"], "ratio_draws": med["reduced"] / med["draws"],
                     "reduced_all": times[name, "reduced"], "draws_all": times[name, "draws"],
                     "explicit": ex,
                     "speedup": min(v["s"] for v in ex.values()) / med["reduced"]})
    fc = [x for x in foreign if x is not None]
    return {"K": s.n_users, "N": s.n_ant, "V": int(s.pilot_length), "pt_dbm": 20.0, "rounds": rounds,
            "explicit_rounds": explicit_rounds, "repeats": repeats, "blas_threads": threads,
            "foreign_cpu_rounds": foreign, "foreign_cpu": max(fc) if fc else None, "rows": rows}


def _explicit_timed(s, res, rounds):
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        p = probing.probe(s, res, rounds=rounds, seed=0, method="explicit")
        return time.perf_counter() - t0, p.pilots
    finally:
        gc.enable()


# --------------------------------------------------------------------------- driver
def run(quick: bool = False) -> dict:
    t0 = time.perf_counter()
    res: dict = {"quick": quick}
    print("(1) probe vs the precoder draws (K = 2, N = 256; mrc, svd, svd-pa)", flush=True)
    res["floor"] = floor_part(quick)
    print("(1b) the same per glibc allocator regime (subprocesses)", flush=True)
    res["allocator"] = allocator_part(quick)
    print("(2) peak memory of probe (fresh subprocesses)", flush=True)
    res["memory"] = memory_part(quick)
    print("(3) chunk independence", flush=True)
    res["chunk"] = chunk_part(quick)
    print("(4) nfkg nist vs NIST's C code (sp80022suite), 10^6 bits", flush=True)
    res["nist"] = nist_part(quick)
    print("(5) reduced vs explicit simulation, 10^6 rounds, J5 at 20 dBm (svd-mf, svd-pa)", flush=True)
    res["reduced"] = reduced_part(quick)
    res["wall_s"] = time.perf_counter() - t0
    return res


def _mb(b: float) -> str:
    return f"{b / 1e6:.1f} MB"


def targets(res: dict) -> list[dict]:
    out = []
    fl = res["floor"]
    alloc = res.get("allocator", {})
    for r in fl["rows"]:
        regimes = {g: next(x["ratio"] for x in a["rows"] if x["scheme"] == r["scheme"]) for g, a in alloc.items()}
        worst = max([r["ratio"], *regimes.values()])
        out.append({"id": f"floor_{r['scheme']}", "target": f"probe {r['scheme']} within {TARGET_FLOOR_RATIO:.0f}x of "
                    f"drawing its precoders (K = {fl['K']}, N = {fl['N']}, T = {fl['rounds']:,}; in this process and "
                    "in each allocator regime)",
                    "measured": f"{r['ratio']:.2f}x ({r['probe_s'] * 1e3:.0f} vs {r['floor_s'] * 1e3:.0f} ms)"
                                + "".join(f"; {g} {v:.2f}x" for g, v in regimes.items()),
                    "value": worst, "met": bool(worst <= TARGET_FLOOR_RATIO)})
    me = res["memory"]
    rss_inc = me["hwm_increase"] if me["hwm_reset"] else me["maxrss_increase"]
    rss_base = me["hwm_before"] if me["hwm_reset"] else me["maxrss_before"]
    worst = max(rss_inc, me["traced_increase"])
    out.append({"id": "probe_memory", "target": f"peak memory of probe, {me['rounds']:,} rounds, K = 2, N = 256 "
                f"(svd-pa) < {TARGET_PEAK_BYTES / 1e9:.0f} GB",
                "measured": f"peak RSS +{_mb(rss_inc)} over {_mb(rss_base)}"
                            f"; tracemalloc peak +{_mb(me['traced_increase'])}",
                "value": worst, "met": bool(worst < TARGET_PEAK_BYTES)})
    ch = res["chunk"]
    out.append({"id": "chunk", "target": "same seed, chunk = 1024 vs 8192: identical z_a, z_b, z_e",
                "measured": f"{'identical' if ch['identical'] else 'DIFFERENT'} ({len(ch['rows'])} scheme and method pairs, "
                            f"T = {ch['rounds']:,})", "value": ch["identical"], "met": bool(ch["identical"])})
    rd = res.get("reduced")
    if rd:
        for r in rd["rows"]:
            out.append({"id": f"reduced_{r['scheme']}", "target": f"probe {r['scheme']}, {rd['rounds']:,} rounds, J5 at "
                        f"20 dBm (K = {rd['K']}, N = {rd['N']}), at most {TARGET_REDUCED_S:.0f} s",
                        "measured": f"{r['reduced_s']:.2f} s (reduced; its draws alone {r['draws_s']:.2f} s; explicit "
                                    + ", ".join(f"{v['s']:.1f} s ({k})" for k, v in r["explicit"].items()) + ")",
                        "value": r["reduced_s"], "met": bool(r["reduced_s"] <= TARGET_REDUCED_S)})
    ni = res["nist"]
    if ni["have_c"]:
        out.append({"id": "nist", "target": f"nfkg nist on 10^6 bits at most {TARGET_NIST_RATIO:.0f}x NIST's C code "
                    "(whole processes)", "measured": f"{ni['ratio']:.2f}x ({ni['nfkg_s']:.2f} vs {ni['c_s']:.2f} s)",
                    "value": ni["ratio"], "met": bool(ni["ratio"] <= TARGET_NIST_RATIO)})
    return out


def _fc(v) -> str:
    return "n/a" if v is None else f"{v:.0%}"


def markdown_reduced(res: dict) -> str:
    """Part (5) as Markdown."""
    rd = res["reduced"]
    out = []
    scaled = "" if rd["explicit_rounds"] == rd["rounds"] else f" ({rd['explicit_rounds']:,} rounds, times " \
        f"{rd['rounds'] // rd['explicit_rounds']})"
    out += [f"### (5) Reduced vs explicit simulation, {rd['rounds']:,} rounds, J5 at {rd['pt_dbm']:.0f} dBm, "
            f"K = {rd['K']}, N = {rd['N']}, V = {rd['V']}\n",
            f"| scheme | shapes | D, R | reduced (median of {rd['repeats']}) | its draws alone | reduced / draws "
            f"| explicit{scaled}, 1 BLAS thread | explicit, {rd['blas_threads']} threads | speed-up |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rd["rows"]:
        e1 = r["explicit"].get("1 thread", {}).get("s")
        ed = r["explicit"]["default threads"]["s"]
        out.append(f"| {r['scheme']} | {', '.join(r['shapes'])} | {r['D']}, {r['R']} | **{r['reduced_s']:.2f} s** | "
                   f"{r['draws_s']:.2f} s | {r['ratio_draws']:.2f}x | {'-' if e1 is None else f'{e1:.1f} s'} | "
                   f"{ed:.1f} s | {r['speedup']:.0f}x |")
    out.append("\nOther CPU per reduced round: " + ", ".join(_fc(f) for f in rd["foreign_cpu_rounds"]) + "; explicit: "
               + "; ".join(f"{r['scheme']} " + ", ".join(f"{k} {_fc(v['foreign_cpu'])}" for k, v in r["explicit"].items())
                           for r in rd["rows"]) + ".")
    return "\n".join(out)


def markdown(res: dict) -> str:
    fl = res["floor"]
    which = (f"median of the {len(fl['rounds_used'])} rounds with other CPU <= {bench_core.FOREIGN_MAX:.0%}, "
             f"of {fl['repeats']} interleaved" if fl["quiet_only"] else f"median of {fl['repeats']} interleaved rounds")
    out = [f"### (1) probe vs drawing the precoders, K = {fl['K']}, N = {fl['N']}, V = {fl['V']}, "
           f"T = {fl['rounds']:,} ({which})\n",
           "| scheme | shapes | pilots | probe | floor: precoders | all draws (+ pilot noise) | probe / floor "
           "| (min / min) | probe / all draws | probe, 1 BLAS thread | its / floor | probe / floor, all rounds "
           "| 1 thread / floor, all rounds |",
           "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in fl["rows"]:
        one = (f"{r['probe_1t_s'] * 1e3:.0f} ms | {r['ratio_1t']:.2f}x" if "probe_1t_s" in r else "- | -")
        one_all = f"{r['ratio_1t_all_rounds']:.2f}x" if "probe_1t_s" in r else "-"
        out.append(f"| {r['scheme']} | {', '.join(r['shapes'])} | {r['pilots']} | {r['probe_s'] * 1e3:.0f} ms | "
                   f"{r['floor_s'] * 1e3:.0f} ms | {r['draws_s'] * 1e3:.0f} ms | **{r['ratio']:.2f}x** | "
                   f"{r['ratio_min']:.2f}x | {r['ratio_draws']:.2f}x | {one} | {r['ratio_all_rounds']:.2f}x | "
                   f"{one_all} |")
    out.append("\nMinor page faults per call (median): " + "; ".join(
        f"{r['scheme']} probe {r['minor_faults']['probe']:,}, floor {r['minor_faults']['floor']:,}" for r in fl["rows"])
        + ".")
    out.append(f"\nBLAS threads: {fl['blas_threads']}. Other CPU per round: "
               + ", ".join(_fc(f) for f in fl["foreign_cpu_rounds"])
               + (f" (rounds measured again: {sum(a - 1 for a in fl['attempts'])})" if max(fl["attempts"]) > 1 else "")
               + ".")
    if res.get("allocator"):
        out += ["\n### (1b) The same in a subprocess per glibc allocator regime\n",
                "| regime | malloc environment | scheme | probe | floor | all draws | probe / floor | min / min "
                "| 1 BLAS thread / floor | minor faults per call: probe / floor |",
                "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for g, a in res["allocator"].items():
            envs = " ".join(f"`{k}={v}`" for k, v in a["env"].items())
            for r in a["rows"]:
                one = f"{r['ratio_1t']:.2f}x" if "ratio_1t" in r else "-"
                out.append(f"| {g} | {envs} | {r['scheme']} | {r['probe_s'] * 1e3:.0f} ms | {r['floor_s'] * 1e3:.0f} ms | "
                           f"{r['draws_s'] * 1e3:.0f} ms | **{r['ratio']:.2f}x** | {r['ratio_min']:.2f}x | {one} | "
                           f"{r['minor_faults']['probe']:,} / {r['minor_faults']['floor']:,} |")
        out.append("\nOther CPU per round: " + "; ".join(
            f"{g}: " + ", ".join(_fc(f) for f in a["foreign_cpu_rounds"]) for g, a in res["allocator"].items()) + ".")
    me = res["memory"]
    out += [f"\n### (2) Peak memory of probe (svd-pa), {me['rounds']:,} rounds, K = 2, N = 256 (fresh subprocesses)\n",
            "| measure | before the call | after / peak | increase |", "|---|---:|---:|---:|",
            f"| peak RSS of the call (VmHWM, reset before it{'' if me['hwm_reset'] else ': reset FAILED'}) | "
            f"{_mb(me['hwm_before'])} | {_mb(me['hwm_after'])} | **{_mb(me['hwm_increase'])}** |",
            f"| peak RSS of the process (`ru_maxrss`) | {_mb(me['maxrss_before'])} | {_mb(me['maxrss_after'])} | "
            f"{_mb(me['maxrss_increase'])} |",
            f"| RSS (VmRSS) | {_mb(me['rss_before'])} | {_mb(me['rss_after'])} | "
            f"{_mb(me['rss_after'] - me['rss_before'])} |",
            f"| tracemalloc (NumPy buffers) | {_mb(me['traced_before'])} | {_mb(me['traced_peak'])} | "
            f"**{_mb(me['traced_increase'])}** |",
            f"\nThe results alone (z_a, z_b, z_e): {_mb(me['result_bytes'])}."]
    ch = res["chunk"]
    out.append(f"\n### (3) Chunk independence\n\nT = {ch['rounds']:,}, seed 0, chunk 1024 vs 8192: " + ", ".join(
        f"{r['scheme']} ({r.get('method', 'explicit')}) {'identical' if r['identical'] else 'DIFFERENT'}"
        for r in ch["rows"]) + ".")
    ni = res["nist"]
    out.append(f"\n### (4) nfkg nist vs NIST's C code, {ni['bits']:,} bits (median of {ni['repeats']}, wall time)\n")
    out += ["| what | nfkg | C (sp80022suite) | nfkg / C |", "|---|---:|---:|---:|"]
    if ni["have_c"]:
        out.append(f"| whole process | {ni['nfkg_s']:.3f} s | {ni['c_s']:.3f} s | **{ni['ratio']:.2f}x** |")
        out.append(f"| the fifteen tests in-process | {ni['run_all_s']:.3f} s (`run_all`) | {ni['c_inner_s']:.3f} s "
                   f"(sum of calls) | {ni['ratio_inner']:.2f}x |")
        out += ["\n| test | nfkg | C |", "|---|---:|---:|"]
        for name in randomness.TEST_NAMES:
            out.append(f"| {name} | {ni['nfkg_per_test_s'][name] * 1e3:.1f} ms | "
                       f"{ni['c_per_test_s'][name] * 1e3:.1f} ms |")
    else:
        out.append(f"| whole process | {ni['nfkg_s']:.3f} s | not installed | - |")
        out.append(f"| in-process | {ni['run_all_s']:.3f} s | - | - |")
    out.append(f"\nOther CPU: {_fc(ni['foreign_cpu'])}. nfkg's last line: `{ni['nfkg_summary']}`.")
    if res.get("reduced"):
        out.append("\n" + markdown_reduced(res))
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="about 35 s: T = 4,096, 3 rounds, 20,480 rounds for the memory")
    ap.add_argument("--json", type=Path, default=HERE / "out" / "probing.json")
    ap.add_argument("--floor-only", action="store_true", help="part (1) only (used by part (1b))")
    ap.add_argument("--reduced-only", action="store_true", help="part (5) only: reduced vs explicit, 10^6 rounds")
    ap.add_argument("--repeats", type=int, default=None, help="rounds of part (1) (default 9, --quick 3)")
    args = ap.parse_args(argv)
    if args.floor_only:
        res = {"floor": floor_part(args.quick, args.repeats, verbose=False)}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, indent=1))
        return 0
    if args.reduced_only:
        res = {"reduced": reduced_part(args.quick)}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, indent=1))
        print(markdown_reduced(res))
        return 0
    res = run(args.quick)
    res["targets"] = targets(res)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=1))
    print(markdown(res))
    for t in res["targets"]:
        print(f"- {t['target']}: {t['measured']} -> {'met' if t['met'] else 'NOT met'}")
    print(f"(wall {res['wall_s']:.0f} s; os.cpu_count() = {os.cpu_count()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
