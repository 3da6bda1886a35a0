r"""Sweeps: any scenario keys, schemes and seeds, in chunks, resumable, on any executor.

A sweep is a TOML file: a base scenario (a scenario file's keys), lists of values for any
of its keys, and the schemes and seeds to run. Its points are the cartesian product of the
lists and the seeds (in file order, the last key fastest, seeds slowest); every point is
scored by every scheme with the exact engine, and, with ``rounds > 0``, probed by Monte
Carlo for the one-bit KDR J(46). The result is one tidy table, one row per point and scheme.

.. code-block:: toml

    base = "scenario.toml"            # a scenario file (relative to this file), or a [base] table
    schemes = ["svd", "svd-pa"]
    seeds = [0, 1]                    # default [0]
    rounds = 0                        # Monte Carlo probings per point (0: SKR only)
    chunk = 64                        # points per chunk (the unit of work and of resumption)
    # shaping = "matched"             # optional, for the SVD schemes
    # jamming = "targeted"            # optional, for the SVD schemes

    [sweep]
    pt_dbm = [0, 10, 20, 30]
    antennas = [128, 256]
    "eves[0].r" = [11.9, 11.98]       # one coordinate of one node
    # "users, eves" = [[[{r = 12, psi = 0}], [{r = 11.98, psi = 0}]],     # linked keys: swept together,
    #                  [[{r = 12, psi = 0}, {r = 13, psi = 0.6}],       # one list of values per step
    #                   [{r = 11.98, psi = 0}, {r = 12.98, psi = 0.6}]]]  # (here K = 1, then K = 2)

The work is split in three modules of one job each: :mod:`nfkg.scale.sweep_spec` reads and
validates the file and expands its points (in bulk: about 1 s for 10^5 points),
:mod:`nfkg.scale.sweep_store` reads and writes the chunk files and the results table
(Parquet: the ``scale`` extra), and this module runs the chunks.

Seeds. Each point's generator is ``SeedSequence(seed, spawn_key=(h,))`` with ``h`` a hash
of the point's resolved scenario: it depends on nothing but the point, so results do
not depend on the order of the lists, on the chunk size, on the executor or on the
number of workers. A scheme with a ``seed`` option (``svd-opt``) gets the point's seed.
The closed-form schemes (:data:`BATCHED`: ras, mrc, svd) run as one batch per chunk,
the iterative ones point by point, so that every value is the same, bit for bit, whatever
the chunk size (a batched AO or network would differ in the last digits, up to the
solver's tolerance).

Resumption. Results are written chunk by chunk (``OUT/chunks/chunk-NNNNNN.parquet``,
each written to a temporary name and renamed, so a chunk file is complete or absent),
each carrying in its Parquet metadata the sweep's hash, its chunk number and its points;
``OUT/sweep.json`` records the sweep's hash. Rerunning the same sweep computes only the
missing chunks, and again any chunk file that is not this chunk of this sweep (copied from
another sweep or chunk, or written by an older nfkg); a different sweep in the same folder
is refused. When every chunk is there, their rows are checked (each exactly its points x
schemes, the table exactly one row per point and scheme) and ``OUT/results.parquet`` (and
``results.csv`` with ``csv=True``) is written.

svd-dlpa uses the KGSVD-Net shipped for each point's K, or the model of
:meth:`~nfkg.scale.sweep_spec.Sweep.with_model` (``nfkg sweep --model DIR``), which is part of the sweep's hash.

Contents
--------
SweepConfig, Sweep, SweepError, load_sweep, parse_sweep (from :mod:`nfkg.scale.sweep_spec`),
run_sweep, run_chunk, read_results
"""

from __future__ import annotations

import inspect
import os
import time
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from ..model.scenario_file import ScenarioConfig
from .sweep_spec import FORMAT, Point, Sweep, SweepConfig, SweepError, _canon, _expand_pointwise, load_sweep, \
    parse_sweep
from .sweep_store import chunk_belongs as _chunk_belongs
from .sweep_store import chunk_identity as _chunk_identity
from .sweep_store import chunk_path as _chunk_path
from .sweep_store import write_rows as _write_rows
from .sweep_store import concat_checked, manifest, read_chunk, read_results, rows_belong, write_results

__all__ = ["SweepConfig", "Sweep", "SweepError", "load_sweep", "parse_sweep", "run_sweep", "run_chunk",
           "read_results", "FORMAT", "BATCHED"]

# Re-exported for the tests and benchmarks that reach into the pieces: _expand_pointwise (the
# reference of the bulk validation), _chunk_path, _chunk_identity, _chunk_belongs, _write_rows.
_REEXPORTED = (_expand_pointwise, _chunk_path, _chunk_identity, _chunk_belongs, _write_rows, Point)


# --------------------------------------------------------------------------- one chunk
#: Closed-form schemes, run as one batch per chunk: their values do not depend on the batch,
#: bit for bit. The iterative ones (AO, SLSQP, the network) run point by point, so that a
#: point's value never depends on which other points share its chunk.
BATCHED: frozenset[str] = frozenset({"ras", "mrc", "svd"})


def _seed_option(scheme: str, point: Point) -> dict[str, int]:
    """``{'seed': point seed}`` for a scheme with a ``seed`` option (e.g. svd-opt's random starts)."""
    from ..schemes.precoding import get_scheme

    takes = "seed" in inspect.signature(get_scheme(scheme).func).parameters
    return {"seed": point.point_seed()} if takes else {}


def _stack(scenarios: list) -> Any:
    from ..model.scenario import Scenario

    s0 = scenarios[0]
    own = None  # one's own channels (a channels file) travel as channels; planar arrays keep the elevations
    if any(s.own_channels is not None for s in scenarios):
        own = tuple(np.stack([s.channels()[i] for s in scenarios]) for i in (0, 1))
    el = {a: np.stack([np.broadcast_to(getattr(s, a), s.r_b.shape) for s in scenarios]) for a in ("el_b", "el_e")}
    return Scenario(s0.ula, *(np.stack([getattr(s, a) for s in scenarios])
                              for a in ("r_b", "psi_b", "r_e", "psi_e", "p_max", "p_b", "sigma2_a", "sigma2_b",
                                        "sigma2_e")), s0.pilot_length, own_channels=own, **el, checked=True)


def _cell(v: Any) -> Any:
    return v if isinstance(v, (int, float, str, bool)) else _canon(v)


def run_chunk(task: tuple) -> list[dict[str, Any]]:
    """Rows of one chunk: every point of it scored by every scheme (a pure function).

    ``task`` is ``(points, schemes, shaping, jamming, rounds[, options])``, ``options`` a
    mapping scheme -> extra options (e.g. ``{"svd-dlpa": {"model": model}}``). Points with the
    same array, K and pilot length run as one batch per scheme (schemes with a ``seed``
    option run point by point with the point's seed).
    """
    from ..schemes.precoding import evaluate

    points, schemes, shaping, jamming, rounds, *more = task
    extra: Mapping[str, Mapping[str, Any]] = more[0] if more else {}
    scen = [ScenarioConfig.model_validate(p.config).to_scenario() for p in points]
    groups: dict[Any, list[int]] = {}
    for i, s in enumerate(scen):
        groups.setdefault((s.ula, s.n_users, s.pilot_length), []).append(i)
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    for members in groups.values():
        for scheme in schemes:
            opts = {} if jamming is None or not scheme.startswith("svd") else {"jamming": jamming}
            opts.update(extra.get(scheme, {}))
            if scheme not in BATCHED:
                evs = [evaluate(scen[i], scheme, shaping, **opts, **_seed_option(scheme, points[i]))
                       for i in members]
                per = [(ev.result, ev.skr, ()) for ev in evs]
                shapes = [ev.skr.shape for ev in evs]
            else:
                ev = evaluate(_stack([scen[i] for i in members]), scheme, shaping, **opts)
                per = [(ev.result, ev.skr[j], (j,)) for j in range(len(members))]
                shapes = [ev.skr.shape] * len(members)
            for i, (res, skr, idx), shape in zip(members, per, shapes):
                p_a, p_s, p_n = (np.broadcast_to(v, shape)[idx] for v in (res.p_a, res.p_s, res.p_n))
                skr = np.asarray(skr, dtype=float)
                row = {"point": points[i].index, **{k: _cell(v) for k, v in points[i].values.items()},
                       "seed": points[i].seed, "scheme": scheme, "shaping": res.shaping or "",
                       "jamming": res.jamming or "", "K": int(skr.size),
                       "sum_skr": float(skr.sum()), "min_skr": float(skr.min()),
                       "skr": [float(v) for v in skr], "p_a": [float(v) for v in np.ravel(p_a)],
                       "p_s": [float(v) for v in np.ravel(p_s)], "p_n": [float(v) for v in np.ravel(p_n)]}
                if rounds:
                    row.update(_kdr(scen[i], scheme, shaping, opts, rounds, points[i]))
                rows[(points[i].index, scheme)] = row
    return [rows[(p.index, s)] for p in points for s in schemes]


def _kdr(scenario, scheme: str, shaping, opts, rounds: int, point: Point) -> dict[str, Any]:
    from ..protocol.probing import probe
    from ..protocol.quantization import kdr, one_bit

    from ..schemes.precoding import precode

    result = precode(scenario, scheme, shaping, **opts, **_seed_option(scheme, point))
    p = probe(scenario, result, rounds=rounds, seed=point.point_seed())
    ka, kb, ke = one_bit(p.z_a), one_bit(p.z_b), one_bit(p.z_e)
    k = scenario.n_users
    return {"kdr": [float(kdr(ka[:, i], kb[:, i])) for i in range(k)],
            "kdr_eve": [float(kdr(ka[:, i], ke[:, i])) for i in range(k)]}


# --------------------------------------------------------------------------- the run
def run_sweep(sweep: Sweep, out_dir: str | os.PathLike, executor=None, csv: bool = False,
              progress: Callable[[int], None] | None = None, max_chunks: int | None = None) -> dict[str, Any]:
    """Run the missing chunks of a sweep and, once all are there, write the results table.

    Each chunk file carries the sweep's hash, its chunk number and its points (Parquet
    metadata). On a rerun a chunk file is reused only when it says it is this chunk of this
    sweep; any other (copied from another sweep or another chunk, from an older nfkg,
    unreadable) is computed again. Before the table is written every chunk's rows are
    checked to be exactly its points x schemes (a chunk that is not is computed again), and
    the table to hold exactly one row per point and scheme.

    Parameters
    ----------
    sweep : Sweep
        With its KGSVD-Net model for svd-dlpa, if any (:meth:`~nfkg.scale.sweep_spec.Sweep.with_model`).
    out_dir : path
    executor : nfkg.scale.executor.Executor, optional
        Where the chunks run (default: in process).
    csv : bool
        Also write ``results.csv`` (list columns as JSON).
    progress : callable, optional
        Called with the number of points of each chunk as it is written (including, at
        the start, those already on disk).
    max_chunks : int, optional
        Stop after computing this many chunks (the results table is then not written).

    Returns
    -------
    dict
        ``points``, ``chunks``, ``computed`` (chunks computed now), ``reused``, ``replaced``
        (chunk files found that did not belong, computed again), ``complete``, ``seconds``
        and ``results`` (the table's path or None).
    """
    from .executor import InProcess

    t0 = time.perf_counter()
    out = Path(out_dir)
    manifest(sweep, out)
    chunks = sweep.chunks()
    identity = [_chunk_identity(sweep, c, pts) for c, pts in enumerate(chunks)]
    present = [c for c in range(len(chunks)) if _chunk_path(out, c).exists()]
    foreign = {c for c in present if not _chunk_belongs(_chunk_path(out, c), identity[c])}
    done = set(present) - foreign
    missing = [c for c in range(len(chunks)) if c not in done]
    if progress is not None and done:
        progress(sum(len(chunks[c]) for c in done))
    todo = missing if max_chunks is None else missing[:max_chunks]
    ex = InProcess() if executor is None else executor
    computed = _compute(sweep, out, chunks, identity, todo, ex, progress)
    complete = len(todo) == len(missing)
    result = None
    if complete:
        result, again = _merge(sweep, out, chunks, identity, csv, ex)
        computed += again
    return {"points": len(sweep.points), "chunks": len(chunks), "computed": computed, "reused": len(done),
            "replaced": len(foreign & set(todo)), "complete": complete, "seconds": time.perf_counter() - t0,
            "results": result}


def _compute(sweep: Sweep, out: Path, chunks, identity, todo: list[int], ex, progress=None) -> int:
    c = sweep.config
    extra = {} if sweep.model is None else {"svd-dlpa": {"model": sweep.model}}
    tasks = [(chunks[i], tuple(c.schemes), c.shaping, c.jamming, c.rounds, extra) for i in todo]
    for j, rows in ex.run(run_chunk, tasks):
        _write_rows(rows, _chunk_path(out, todo[j]), identity[todo[j]])
        if progress is not None:
            progress(len(chunks[todo[j]]))
    return len(todo)


def _merge(sweep: Sweep, out: Path, chunks, identity, csv: bool, ex) -> tuple[Path, int]:
    """Check every chunk's rows (recompute those that are wrong, once), then write the table."""
    schemes = list(sweep.config.schemes)
    tables = [read_chunk(out, c) for c in range(len(chunks))]
    wrong = [c for c, t in enumerate(tables) if not rows_belong(t, chunks[c], schemes)]
    again = _compute(sweep, out, chunks, identity, wrong, ex) if wrong else 0
    for c in wrong:
        tables[c] = read_chunk(out, c)
        if not rows_belong(tables[c], chunks[c], schemes):
            raise SweepError(f"out: {_chunk_path(out, c)} does not hold the rows of chunk {c} even after "
                             "computing it again; is another process writing to this folder?")
    table = concat_checked(tables, sweep, out)  # exactly one row per point and scheme, before anything is written
    return write_results(table, out, csv), again
