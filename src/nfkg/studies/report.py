"""Reproduce the papers' figures and the tables in one go, with an HTML and a Markdown report.

:func:`reproduce` runs every figure of :mod:`nfkg.studies.experiments` and every table of
:mod:`nfkg.studies.tables` (or a subset), saves each (PNG, PDF, CSV) and writes
``index.html`` and ``index.md`` beside them (:mod:`nfkg.studies.report_pages`, from the
Jinja2 templates in ``nfkg/studies/templates``): a table of contents of every figure and table, then per
figure the image (click for full size), links to the CSV and PDF, the table of the
papers' claims against what nfkg measured and the parameters. Claims are checked **under
both scoring conventions**: the general engine, which counts the leakage of the other
users' random precoders through the shared pilot, and J(19)'s per-user formula, which
drops it; when both give the same verdict and numbers the table has one column. Each
claim is ``holds``, ``fails`` or ``not checked`` (its scheme is not registered); the
summary counts the three states per convention. Long tables are shown summarised, with
every row in the CSV.

Figures and tables are independent: with ``jobs`` > 1 they run in worker processes
(:mod:`nfkg.studies.pool`), the longest first; the files do not depend on ``jobs``.

Contents
--------
reproduce
    Run, save and report.
format_param, WHY_THEY_DIFFER, ABOUT_ZERO_RULE, MAX_TABLE_ROWS
    Re-exported from :mod:`nfkg.studies.report_pages`.
"""

from __future__ import annotations

import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from ..schemes.precoding import SCORINGS
from .claims import Claim, check_claims, count_status
from .experiments import FigureData, figure_ids, get_preset, monte_carlo_steps, run_figure
from .report_pages import ABOUT_ZERO_RULE, MAX_TABLE_ROWS, WHY_THEY_DIFFER, format_param, write_pages
from .tables import merge_table, run_table, save_table, table_ids, table_parts, table_steps

__all__ = ["reproduce", "format_param", "WHY_THEY_DIFFER", "ABOUT_ZERO_RULE", "MAX_TABLE_ROWS"]

#: Rough relative cost of each item (one 2-core run, keyrate before its speed-up): the longest start first.
_COST = {"keyrate": 100.0, "dlpa": 6.6, "csi": 4.7, "nlos": 4.1, "fairness": 3.0, "j4": 2.0, "t1": 1.5,
         "j9": 1.5, "j8": 1.3, "c5": 1.1, "beyond-j5": 1.0}


def _version() -> str:
    from .. import __version__

    return __version__


# --------------------------------------------------------------------------- one item
@dataclass
class _Entry:
    """A computed figure: as saved (``scoring``) and under both conventions."""

    data: FigureData
    by_scoring: dict[str, FigureData]
    claims: dict[str, list[Claim]]      # {scoring: claims}
    seconds: dict[str, float]           # {scoring: compute time}
    save_seconds: float
    files: list[Path]                   # png, pdf, csv


@dataclass
class _TableEntry:
    """A computed table (or figure beyond the papers) and its files (images, then the CSV)."""

    data: Any
    files: list[Path]
    save_seconds: float


def _figure_item(fid: str, overrides: Mapping[str, Any] | None, scoring: str, out_dir: str,
                 progress: Callable[[int], None] | None = None) -> _Entry:
    """Compute ``fid`` under both conventions (once when it does not depend on them), check its
    claims, save it scored with ``scoring``."""
    from .plotting import save_figure

    order = [scoring, *(sc for sc in SCORINGS if sc != scoring)]
    by_scoring, seconds, claims = {}, {}, {}
    for sc in order:
        if not get_preset(fid).scored and by_scoring:  # Monte Carlo KDR: the same under both
            by_scoring[sc], seconds[sc], claims[sc] = by_scoring[order[0]], 0.0, claims[order[0]]
            continue
        t0 = time.perf_counter()
        by_scoring[sc] = run_figure(fid, overrides, scoring=sc, progress=progress)
        seconds[sc] = time.perf_counter() - t0
        claims[sc] = check_claims(by_scoring[sc])
    t0 = time.perf_counter()
    files = save_figure(by_scoring[scoring], out_dir)
    return _Entry(by_scoring[scoring], by_scoring, claims, seconds, time.perf_counter() - t0, files)


def _table_item(tid: str, overrides: Mapping[str, Any] | None, out_dir: str,
                progress: Callable[[int], None] | None = None) -> _TableEntry:
    from .tables import save_table

    data = run_table(tid, overrides, progress=progress)
    t0 = time.perf_counter()
    files = save_table(data, out_dir)
    return _TableEntry(data, files, time.perf_counter() - t0)


def _run_item(item_id: str, is_table: bool, overrides: Mapping[str, Any] | None, scoring: str, out_dir: str,
              progress: Callable[[int], None] | None = None):
    """One figure or table, computed and saved (the job a worker process runs)."""
    if is_table:
        return _table_item(item_id, overrides, out_dir, progress)
    return _figure_item(item_id, overrides, scoring, out_dir, progress)


def _done_line(item, order: list[str]) -> str:
    """``c5: 0.2 + 0.1 s, saved in 0.8 s (claims hold: general 6/7, per-user 6/7)``."""
    if isinstance(item, _Entry):
        counts = ", ".join(f"{sc} {count_status(item.claims[sc])['holds']}/{len(item.claims[sc])}" for sc in order)
        return (f"{item.data.id}: {' + '.join(f'{item.seconds[sc]:.1f}' for sc in order)} s, saved in "
                f"{item.save_seconds:.1f} s (claims hold: {counts})")
    d = item.data
    held = (f" (claims hold {count_status(d.claims)['holds']}/{len(d.claims)})" if d.claims else "")
    return f"{d.id}: {d.seconds:.1f} s, saved in {item.save_seconds:.1f} s{held}"


# --------------------------------------------------------------------------- progress
class _Progress:
    """One tqdm bar over the items (shown on a terminal) and one line per finished item."""

    def __init__(self, total: int, enabled: bool):
        self.enabled, self.total, self.done = enabled, total, 0
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc="reproduce", unit="item", file=sys.stderr, leave=False,
                            disable=None, dynamic_ncols=True)

    def write(self, line: str) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        tqdm.write(line, file=sys.stderr)

    def item_done(self, line: str) -> None:
        self.done += 1
        self.write(f"[{self.done}/{self.total}] {line}")
        if self.bar is not None:
            self.bar.update(1)

    def steps(self, item_id: str, total: int) -> Callable[[int], None] | None:
        """A callback for an item's own steps (j9's Monte Carlo runs, a table's parts), shown on the bar."""
        if self.bar is None or total <= 0 or getattr(self.bar, "disable", True):
            return None
        done = [0]

        def step(n: int = 1) -> None:
            done[0] += n
            self.bar.set_postfix_str(f"{item_id} {done[0]}/{total}", refresh=True)

        return step

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


# --------------------------------------------------------------------------- entry point
def reproduce(
    out_dir: str | os.PathLike,
    ids: Iterable[str] | None = None,
    progress: bool = True,
    scoring: str = "general",
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
    jobs: int | None = None,
) -> Path:
    """Run figures and tables, save PNG/PDF/CSV for each and write ``index.html`` and ``index.md``.

    Every figure is computed under both scoring conventions (one more
    :func:`~nfkg.studies.experiments.run_figure` per figure): the saved figures use
    ``scoring``, the report lists each claim under both, with the counts of claims
    that hold, fail and were not checked per convention.

    Parameters
    ----------
    out_dir : path
        Output folder (created if missing).
    ids : iterable of str, optional
        Figure and table ids (default: all of :func:`~nfkg.studies.experiments.figure_ids`, then
        :func:`~nfkg.studies.tables.table_ids`, in order). The report lists them in this order.
    progress : bool
        A progress bar on stderr (on a terminal) and one line per finished item, e.g.
        ``[3/16] c5: 0.2 + 0.1 s, saved in 0.8 s (claims hold: general 6/7, per-user 6/7)``.
    scoring : {'general', 'per-user'}
        The convention of the saved figures and CSV files (see
        :func:`nfkg.schemes.precoding.evaluate`).
    overrides : mapping, optional
        ``{id: {key: value}}`` passed to :func:`~nfkg.studies.experiments.run_figure` or
        :func:`~nfkg.studies.tables.run_table` (e.g. smaller sweeps for a quick look).
    jobs : int, optional
        Worker processes (:mod:`nfkg.studies.pool`); 1 runs everything in this process.
        Default: one per usable core, at most 4. The files are the same for any ``jobs``
        > 1 (workers run BLAS on one thread; with ``jobs=1`` a float may differ in its last digit).

    Returns
    -------
    Path
        The written ``index.html``.

    Raises
    ------
    ValueError
        For an unknown id, override, scoring or ``jobs`` (before anything is computed).
    """
    from .pool import default_jobs, run_jobs

    if scoring not in SCORINGS:
        raise ValueError(f"scoring: must be one of {', '.join(SCORINGS)}, got {scoring!r}")
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, (int, np.integer)) or jobs < 1):
        raise ValueError(f"jobs: must be an integer >= 1 (or None for one per core), got {jobs!r}")
    ids = [*figure_ids(), *table_ids()] if ids is None else list(dict.fromkeys(ids))
    overrides = dict(overrides or {})
    known_tables = table_ids()
    for fid in [*ids, *overrides]:
        if fid not in known_tables:
            get_preset(fid)  # fail fast on unknown ids
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    order = [scoring, *(sc for sc in SCORINGS if sc != scoring)]
    n_workers = default_jobs(len(ids)) if jobs is None else min(int(jobs), max(len(ids), 1))
    t_start = time.perf_counter()
    bar = _Progress(len(ids), progress)
    results: dict[str, Any] = {}
    try:
        if n_workers <= 1:
            for fid in ids:
                is_table = fid in known_tables
                steps = table_steps(fid, overrides.get(fid)) if is_table else monte_carlo_steps(fid, overrides.get(fid))
                results[fid] = _run_item(fid, is_table, overrides.get(fid), scoring, str(out), bar.steps(fid, steps))
                bar.item_done(_done_line(results[fid], order))
        else:
            # a table with independent parts (keyrate) is spread over the workers and merged here
            split = {fid: table_parts(fid, overrides.get(fid)) for fid in ids if fid in known_tables}
            split = {fid: parts for fid, parts in split.items() if parts}
            jobs_list = []
            for fid in ids:
                if fid in split:
                    jobs_list += [((fid, i), "nfkg.studies.tables:run_table", (fid, part))
                                  for i, part in enumerate(split[fid])]
                else:
                    jobs_list.append((fid, "nfkg.studies.report:_run_item",
                                      (fid, fid in known_tables, overrides.get(fid), scoring, str(out))))

            def cost(key):                  # longest first; a part costs its share of its table
                return _COST.get(key, 1.0) if isinstance(key, str) else _COST.get(key[0], 1.0) / len(split[key[0]])

            jobs_list.sort(key=lambda job: -cost(job[0]))
            results = run_jobs(jobs_list, n_workers,
                               on_done=lambda key, item: None if isinstance(key, tuple)
                               else bar.item_done(_done_line(item, order)))
            for fid, parts in split.items():
                data = merge_table(fid, [results.pop((fid, i)) for i in range(len(parts))], overrides.get(fid))
                t0 = time.perf_counter()
                results[fid] = _TableEntry(data, save_table(data, str(out)), time.perf_counter() - t0)
                bar.item_done(_done_line(results[fid], order))
    finally:
        bar.close()
    entries = [results[i] for i in ids if i not in known_tables]
    tables = [results[i] for i in ids if i in known_tables]
    total = time.perf_counter() - t_start
    figs = [i for i in ids if i not in known_tables]
    tids = [i for i in ids if i in known_tables]
    computing = sum(sum(e.seconds.values()) for e in entries)
    saving = sum(e.save_seconds for e in [*entries, *tables])
    meta = [
        ("nfkg version", _version()),
        ("figures", ", ".join(figs) + (f"; tables: {', '.join(tids)}" if tids else "")),
        ("scoring of the figures", f"{scoring} (claims: both conventions)"),
        ("run time", f"{total:.1f} s with {n_workers} process{'es' if n_workers > 1 else ''} (summed over them: "
                     f"computing the figures {computing:.1f} s for both conventions, the tables "
                     f"{sum(t.data.seconds for t in tables):.1f} s, drawing and writing {saving:.1f} s)"),
        ("generated", time.strftime("%Y-%m-%d %H:%M:%S")),
        ("python / numpy", f"{platform.python_version()} / {np.__version__}"),
    ]
    index = write_pages(out, entries, tables, scoring, meta)
    if progress:
        print(f"done in {total:.1f} s: {index}", file=sys.stderr, flush=True)
    return index
