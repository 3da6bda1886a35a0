"""Where ``nfkg figure keyrate``'s CPU time goes: the study's 36 protocol runs, by part.

Usage::

    .venv/bin/python benchmarks/bench_keyrate_cpu.py                  # the whole study (about a minute)
    .venv/bin/python benchmarks/bench_keyrate_cpu.py --pt 20          # one power (a third)
    .venv/bin/python benchmarks/bench_keyrate_cpu.py --src /tmp/old/src   # another source tree
    NFKG_NO_NUMBA=1 .venv/bin/python benchmarks/bench_keyrate_cpu.py  # without the compiled kernels

Runs :func:`nfkg.studies.keyrate.run_keyrate` in this process with the protocol's parts wrapped by
timers of the process's CPU time (outermost call only, so nothing is counted twice): belief
propagation, the multilevel posteriors, LDPC construction (new codes, extensions, splits), the
quadratures of the model's entropies, Toeplitz hashing, the NIST verdicts, precoding and probing;
the rest is everything else (quantisation, syndromes, the decoder's message bookkeeping,
confirmation, the study's loop). The load average is printed before and after: CPU times on a
shared machine move with it (10-30 % between runs at a load of 1-3 on 2 cores), so compare runs
made back to back. Results go to ``benchmarks/out/keyrate_cpu.json``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: (module, function, part): the functions timed, by the part of the protocol they belong to.
PARTS = (
    ("nfkg.protocol.bp", "_bp_compiled", "belief propagation"),
    ("nfkg.protocol.bp", "_bp_shuffled", "belief propagation"),
    ("nfkg.protocol.bp", "_bp_numpy", "belief propagation"),
    ("nfkg.protocol.posteriors", "_posteriors", "level posteriors"),
    ("nfkg.protocol.multilevel", "level_posteriors", "level posteriors"),      # older trees
    ("nfkg.protocol.ldpc_codes", "make_code", "LDPC construction"),
    ("nfkg.protocol.ldpc_codes", "extend_code", "LDPC construction"),
    ("nfkg.protocol.ldpc_codes", "split_code", "LDPC construction"),
    ("nfkg.protocol.cell_quadrature", "_expect_many", "entropy quadratures"),
    ("nfkg.protocol.cell_quadrature", "_expect", "entropy quadratures"),
    ("nfkg.protocol.amplification", "toeplitz_hash_many", "Toeplitz hashing"),
    ("nfkg.protocol.keygen", "_nist", "NIST verdicts"),
    ("nfkg.schemes.precoding", "evaluate", "precoding"),
    ("nfkg.protocol.probing", "probe", "probing"),
)


def _wrap(parts: tuple) -> Counter:
    """Wrap every function of ``parts`` (and the names other modules imported it under)."""
    import importlib

    acc: Counter = Counter()
    busy = [False]
    wrapped = {}
    for mod_name, name, label in parts:
        try:
            mod = importlib.import_module(mod_name)
        except ImportError:                          # a module an older tree does not have
            continue
        f = getattr(mod, name, None)
        if f is None:
            continue

        def timed(*a, _f=f, _label=label, **k):
            if busy[0]:
                return _f(*a, **k)
            busy[0] = True
            t = time.process_time()
            try:
                return _f(*a, **k)
            finally:
                acc[_label] += time.process_time() - t
                busy[0] = False

        functools.update_wrapper(timed, f)
        wrapped[f] = timed
        setattr(mod, name, timed)
    for mod in list(sys.modules.values()):          # names imported elsewhere (re-exports)
        if mod is None or not getattr(mod, "__name__", "").startswith("nfkg."):
            continue
        for attr, val in list(vars(mod).items()):
            if callable(val) and val in wrapped:
                setattr(mod, attr, wrapped[val])
    return acc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pt", type=float, action="append", help="P_t [dBm] (repeatable; default the study's)")
    ap.add_argument("--src", help="source tree to import nfkg from (e.g. an older commit's src)")
    ap.add_argument("--out", default=str(HERE / "out" / "keyrate_cpu.json"))
    args = ap.parse_args()
    if args.src:
        sys.path.insert(0, str(Path(args.src).resolve()))
    import nfkg.protocol.keygen  # noqa: F401  (load the modules before wrapping)
    from nfkg.studies.keyrate import run_keyrate

    acc = _wrap(PARTS)
    load0 = os.getloadavg()[0]
    t0, w0 = time.process_time(), time.perf_counter()
    run_keyrate({"pt_dbm": args.pt} if args.pt else None)
    total, wall = time.process_time() - t0, time.perf_counter() - w0
    load1 = os.getloadavg()[0]
    rows = dict(acc.most_common())
    rows["rest"] = total - sum(acc.values())
    print(f"keyrate: {total:.1f} s CPU, {wall:.1f} s wall (load {load0:.2f} -> {load1:.2f}, "
          f"numba {'off' if os.environ.get('NFKG_NO_NUMBA') else 'on if installed'})")
    for k, v in rows.items():
        print(f"  {k:22s} {v:6.2f} s  {100 * v / total:5.1f} %")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"cpu_s": total, "wall_s": wall, "load": [load0, load1], "parts_s": rows,
                               "pt_dbm": args.pt, "no_numba": bool(os.environ.get("NFKG_NO_NUMBA"))}, indent=1))


if __name__ == "__main__":
    main()
