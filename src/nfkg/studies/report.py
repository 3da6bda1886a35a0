"""Reproduce the papers' figures and the tables in one go, with an HTML and a Markdown report.

:func:`reproduce` runs every figure of :mod:`nfkg.studies.experiments` and every table of
:mod:`nfkg.studies.tables` (or a subset), saves each (PNG, PDF, CSV) and writes
``index.html`` and ``index.md`` beside them from the Jinja2 templates in
``nfkg/studies/templates``: a table of contents of every figure and table, then per
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
format_param
    A parameter value as short text.
WHY_THEY_DIFFER, ABOUT_ZERO_RULE, MAX_TABLE_ROWS
    The report's fixed sentences and the longest table shown in full.
"""

from __future__ import annotations

import os
import platform
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from ..schemes.precoding import SCORINGS
from .claims import ABOUT_ZERO, FLOOR_TOL, STATUSES, Claim, check_claims, count_status
from .experiments import FigureData, figure_ids, get_preset, monte_carlo_steps, run_figure
from .tables import run_table, table_ids, table_steps

__all__ = ["reproduce", "format_param", "WHY_THEY_DIFFER", "ABOUT_ZERO_RULE", "MAX_TABLE_ROWS"]

#: One sentence on why the two scoring conventions give different numbers.
WHY_THEY_DIFFER = (
    "The two conventions differ only through the other users' random precoders: the general "
    "engine (the default) counts their leakage through the shared non-orthogonal pilot, "
    "J(19)'s per-user formula drops it; for the SVD schemes both agree, since their precoders "
    "null the other users, while for MRC and RAS w/o P the other users' random precoders act as "
    "free jamming on Eve in the general engine{example}."
)
#: How "about 0" is judged (nfkg.studies.claims).
ABOUT_ZERO_RULE = (
    "*About 0* means at most the floor that Eve exactly on the user leaves, "
    "log2(2(1+t)/(1+2t)) bit per user at high SNR with t = P_a/P_b (log2(4/3) = 0.415 bit for one "
    f"user, log2(3/2) = 0.585 bit per user for two users sharing P_max equally), plus {FLOOR_TOL} bit "
    f"per user, or below {ABOUT_ZERO:.0%} of the largest SVD w/ PA value of the figure, whichever "
    "is larger."
)
#: Tables longer than this are shown summarised (or cut) in the report; the CSV has every row.
MAX_TABLE_ROWS = 40
#: Display scale of the report's images [em per inch of the saved figure]: 3.5 in -> 40 em.
_EM_PER_INCH = 40.0 / 3.5
#: Images at least this wide [em] are shown at the page's full width (multi-panel figures, tables).
_WIDE_EM = 64.0
_HOLDS_WORD = {"holds": "yes", "fails": "no", "not checked": "not checked"}
_HOLDS_CLASS = {"holds": "yes", "fails": "no", "not checked": "na"}
#: Rough relative cost of each item (one 2-core run, keyrate before its speed-up): the longest start first.
_COST = {"keyrate": 100.0, "dlpa": 6.6, "csi": 4.7, "nlos": 4.1, "fairness": 3.0, "j4": 2.0, "t1": 1.5,
         "j9": 1.5, "j8": 1.3, "c5": 1.1, "beyond-j5": 1.0}


def _version() -> str:
    from .. import __version__

    return __version__


def _fmt_num(v: Any) -> str:
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return format(float(v), ".6g")


def format_param(value: Any) -> str:
    """A parameter value as short text: grids as ``first, second, ..., last (n points)``.

    >>> format_param(np.arange(0.0, 41.0))
    '0, 1, ..., 40 (41 points)'
    >>> format_param(("mrc", "svd"))
    'mrc, svd'
    """
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.size > 6:
        head = ", ".join(_fmt_num(v) for v in value[:2])
        return f"{head}, ..., {_fmt_num(value[-1])} ({value.size} points)"
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.size == 1:
        return _fmt_num(value[0])
    if isinstance(value, (tuple, list, np.ndarray)):
        items = [v if isinstance(v, str) else _fmt_num(v) for v in np.asarray(value, dtype=object).ravel()]
        return ", ".join(items)
    if isinstance(value, (int, float, np.number)):
        return _fmt_num(value)
    return str(value)


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


# --------------------------------------------------------------------------- the report's content
def _paired(claims: Mapping[str, list[Claim]]) -> list[tuple[str, str, dict[str, Claim | None]]]:
    """``(text, paper, {scoring: claim})`` per claim, in order of first appearance."""
    order: dict[str, tuple[str, dict[str, Claim | None]]] = {}
    for sc in SCORINGS:
        for c in claims.get(sc, []):
            if c.text not in order:
                order[c.text] = (c.paper_value, dict.fromkeys(SCORINGS))
            order[c.text][1][sc] = c
    return [(text, paper, by) for text, (paper, by) in order.items()]


def _claims_view(claims: Mapping[str, list[Claim]]) -> dict[str, Any]:
    """Rows of a figure's claims table; ``merged`` when every claim has the same measured text and
    verdict under both conventions (one column), ``agree`` per row otherwise."""
    rows = []
    for text, paper, by in _paired(claims):
        cells = [{"measured": "-", "word": "-", "cls": ""} if c is None else
                 {"measured": c.measured, "word": _HOLDS_WORD[c.status], "cls": _HOLDS_CLASS[c.status]}
                 for c in by.values()]
        agree = all(c is not None for c in by.values()) and len({(c.measured, c.status) for c in by.values()}) == 1
        rows.append({"text": text, "paper": paper, "cells": cells, "agree": agree})
    return {"merged": bool(rows) and all(r["agree"] for r in rows), "rows": rows}


def _counts(claims: Iterable[Claim]) -> str:
    n = count_status(claims)
    return f"{n['holds']} hold, {n['fails']} fail, {n['not checked']} not checked"


def _claim_counts(en: _Entry, merged: bool) -> str:
    if merged:
        return f"both scorings: {_counts(next(iter(en.claims.values())))}"
    return "; ".join(f"{sc}: {_counts(en.claims[sc])}" for sc in SCORINGS if sc in en.claims)


def _held(claims: list[Claim]) -> str:
    return f"{count_status(claims)['holds']}/{len(claims)}"


def _toc_counts(en: _Entry, merged: bool) -> str:
    if merged:
        return f"claims hold: {_held(next(iter(en.claims.values())))} under both scorings"
    return "claims hold: " + ", ".join(f"{sc} {_held(en.claims[sc])}" for sc in SCORINGS if sc in en.claims)


def _summary(entries: list[_Entry], tables: list[_TableEntry]) -> dict[str, Any]:
    rows = []
    for sc in SCORINGS:
        n = count_status([*(c for e in entries for c in e.claims[sc]), *(c for t in tables for c in t.data.claims)])
        rows.append([sc, *(str(n[s]) for s in STATUSES), str(sum(n.values()))])
    return {"header": ["scoring", *STATUSES, "total"], "rows": rows}


def _why(entries: list[_Entry]) -> str:
    """:data:`WHY_THEY_DIFFER`, with J Fig. 4's MRC peak as the example when it was computed."""
    example = ""
    for e in entries:
        g, p = e.by_scoring.get("general"), e.by_scoring.get("per-user")
        if e.data.id == "j4" and g is not None and p is not None and "MRC" in g.curves:
            example = (f" (e.g. J Fig. 4: MRC peaks at {float(np.max(g.curves['MRC'])):.1f} bits general "
                       f"vs {float(np.max(p.curves['MRC'])):.1f} bits per-user)")
    return WHY_THEY_DIFFER.format(example=example)


def _intro(entries: list[_Entry], scoring: str) -> str:
    return (f"The figures and their CSV files are scored with the {scoring} convention; the claim "
            "tables show every claim under both (one column where both agree). " + _why(entries)
            + " The papers' statements are compared, not forced; a claim is *not checked* when its scheme "
            "is not registered. " + ABOUT_ZERO_RULE)


def _png_size(path: Path) -> tuple[int, float | None]:
    """Width [px] and resolution [dpi] from a PNG's IHDR and pHYs chunks (``(0, None)`` if not a PNG)."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return 0, None
    width, dpi, i = int.from_bytes(head[16:20], "big"), None, 8
    while i + 8 <= len(head):
        n, kind = int.from_bytes(head[i:i + 4], "big"), head[i + 4:i + 8]
        if kind == b"pHYs" and i + 17 <= len(head) and head[i + 16] == 1:   # unit: metre
            dpi = int.from_bytes(head[i + 8:i + 12], "big") * 0.0254
        if kind == b"IDAT":
            break
        i += 12 + n
    return width, dpi


def _png_width(path: Path) -> int:
    """Width [px] of a PNG (0 if it is not one)."""
    return _png_size(path)[0]


def _image(path: Path) -> dict[str, Any]:
    """Name and display width: every image at the same scale (a 3.5 in single-column figure is 40 em
    wide, so all fonts read alike), at most the page width (``wide``)."""
    width, dpi = _png_size(path)
    em = round(width / (dpi or 100.0) * _EM_PER_INCH, 1)
    return {"name": path.name, "em": em, "wide": em >= _WIDE_EM or width == 0}


def _table_view(data: Any, csv: str) -> dict[str, Any]:
    """The table as shown: ``data.summary_table()`` when it has one, else its rows (cut at
    :data:`MAX_TABLE_ROWS`), with a note pointing to the CSV when rows were left out."""
    summary = getattr(data, "summary_table", None)
    if callable(summary):
        header, rows, note = summary()
        return {"header": list(header), "rows": rows, "note": f"{note} Every row is in"}
    header, rows = list(data.header), data.formatted_rows()
    note = ""
    if len(rows) > MAX_TABLE_ROWS:
        note = f"The first {MAX_TABLE_ROWS} of {len(rows)} rows; every row is in"
        rows = rows[:MAX_TABLE_ROWS]
    return {"header": header, "rows": rows, "note": note}


def _context(entries: list[_Entry], tables: list[_TableEntry], scoring: str,
             meta: list[tuple[str, str]]) -> dict[str, Any]:
    """Everything the templates show, as plain text (the templates escape it)."""
    figures, paper_items = [], []
    for en in entries:
        d = en.data
        png, pdf, csv = en.files
        view = _claims_view(en.claims)
        other = [sc for sc in SCORINGS if sc != scoring and sc in en.seconds]
        timing = f"Computed in {en.seconds[scoring]:.2f} s"
        if other:
            timing += f" ({other[0]}: {en.seconds[other[0]]:.2f} s)"
        figures.append({"id": d.id, "ref": d.paper_ref, "title": d.title, "image": _image(png), "pdf": pdf.name,
                        "csv": csv.name, "timing": timing + f", drawn and written in {en.save_seconds:.2f} s.",
                        "claims": view, "claim_counts": _claim_counts(en, view["merged"]),
                        "params": [[k, format_param(v)] for k, v in d.params.items()]})
        paper_items.append({"id": d.id, "ref": d.paper_ref, "title": d.title,
                            "counts": _toc_counts(en, view["merged"])})
    shown, table_items = [], []
    for te in tables:
        t, csv = te.data, te.files[-1].name
        images = [{"kind": "vector" if p.suffix == ".pdf" else "image", "name": p.name} for p in te.files[:-1]]
        shown.append({"id": t.id, "ref": t.paper_ref, "title": t.title, "text": t.text, "csv": csv,
                      "image": _image(te.files[0]), "images": images, "table": _table_view(t, csv),
                      "claims": [[c.text, c.paper_value, c.measured, _HOLDS_WORD[c.status]] for c in t.claims],
                      "timing": f"computed in {t.seconds:.1f} s, drawn and written in {te.save_seconds:.1f} s."})
        table_items.append({"id": t.id, "ref": t.paper_ref, "title": t.title,
                            "counts": f"claims hold: {_held(t.claims)}" if t.claims else ""})
    groups = [g for g in ({"title": "The papers' SKR figures", "entries": paper_items},
                          {"title": "Tables and figures beyond the SKR curves", "entries": table_items}) if g["entries"]]
    return {"meta": meta, "summary": _summary(entries, tables), "intro": _intro(entries, scoring),
            "groups": groups, "figures": figures, "tables": shown, "scoring": scoring}


# --------------------------------------------------------------------------- rendering
def _md_cell(v: Any) -> str:
    return str(v).replace("|", "\\|").replace("\n", " ")


def _emph_html(text: str):
    """Escape, then turn ``*x*`` into ``<i>x</i>``."""
    from markupsafe import Markup, escape

    return Markup(re.sub(r"\*([^*]+)\*", r"<i>\1</i>", str(escape(text))))


def _render(name: str, context: Mapping[str, Any], html: bool) -> str:
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
                             autoescape=html, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["emph"] = _emph_html if html else (lambda s: s)
    env.filters["cell"] = _md_cell
    return env.get_template(name).render(**context)


def _write_reports(out: Path, context: Mapping[str, Any]) -> Path:
    index = out / "index.html"
    index.write_text(_render("report.html.j2", context, html=True), encoding="utf-8")
    (out / "index.md").write_text(_render("report.md.j2", context, html=False), encoding="utf-8")
    return index


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
        Default: one per usable core, at most 4. The files are the same for any ``jobs``.

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
            jobs_list = [(fid, "nfkg.studies.report:_run_item",
                          (fid, fid in known_tables, overrides.get(fid), scoring, str(out)))
                         for fid in sorted(ids, key=lambda i: -_COST.get(i, 1.0))]
            results = run_jobs(jobs_list, n_workers,
                               on_done=lambda fid, item: bar.item_done(_done_line(item, order)))
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
    index = _write_reports(out, _context(entries, tables, scoring, meta))
    if progress:
        print(f"done in {total:.1f} s: {index}", file=sys.stderr, flush=True)
    return index
