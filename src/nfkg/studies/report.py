"""Reproduce the papers' SKR figures in one go, with an HTML and a Markdown report.

:func:`reproduce` runs every figure of :mod:`nfkg.studies.experiments` (or a subset),
saves each with :func:`nfkg.studies.plotting.save_figure` (scored with the chosen
``scoring``) and writes ``index.html`` and ``index.md`` beside them: per figure the
PNG, links to the CSV and PDF, the parameters and the table of the papers' claims
against what nfkg measured, **under both scoring conventions** (SPEC 3): the general
engine, which counts the leakage of the other users' random precoders through the
shared pilot, and J(19)'s per-user formula, which drops it. Each claim is ``holds``,
``fails`` or ``not checked`` (its scheme is not registered);
the summary counts the three states per convention.

Contents
--------
reproduce
    Run, save and report.
"""

from __future__ import annotations

import html
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from .claims import ABOUT_ZERO, FLOOR_TOL, STATUSES, Claim, check_claims, count_status
from .experiments import FigureData, figure_ids, get_preset, run_figure
from .plotting import save_figure
from ..schemes.precoding import SCORINGS
from .tables import TableData, run_table, save_table, table_ids

__all__ = ["reproduce", "format_param", "WHY_THEY_DIFFER"]

#: One sentence on why the two scoring conventions give different numbers.
WHY_THEY_DIFFER = (
    "The two conventions differ only through the other users' random precoders: the general "
    "engine (SPEC 3, the default) counts their leakage through the shared non-orthogonal pilot, "
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
_HOLDS_WORD = {"holds": "yes", "fails": "no", "not checked": "not checked"}
_HOLDS_CLASS = {"holds": "yes", "fails": "no", "not checked": "na"}


def _version() -> str:
    from .. import __version__

    return __version__


def _fmt_num(v: Any) -> str:
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return format(float(v), ".6g")


def format_param(value: Any) -> str:
    """A parameter value as short text: grids as ``first, second, ..., last (n points)``."""
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


@dataclass
class _TableEntry:
    data: "TableData"
    files: list[Path]                   # images, then the CSV


@dataclass
class _Entry:
    data: FigureData                    # the figure as saved (scored with ``scoring``)
    by_scoring: dict[str, FigureData]   # both conventions
    claims: dict[str, list[Claim]]      # {scoring: claims}
    seconds: dict[str, float]           # {scoring: compute time}
    files: list[Path]


def _paired(claims: Mapping[str, list[Claim]]) -> list[tuple[str, str, dict[str, Claim | None]]]:
    """``(text, paper, {scoring: claim})`` per claim, in order of first appearance."""
    order: dict[str, tuple[str, dict[str, Claim | None]]] = {}
    for sc in SCORINGS:
        for c in claims.get(sc, []):
            if c.text not in order:
                order[c.text] = (c.paper_value, dict.fromkeys(SCORINGS))
            order[c.text][1][sc] = c
    return [(text, paper, by) for text, (paper, by) in order.items()]


_CLAIM_HEADER = ["claim", "paper", "measured (general)", "holds (general)",
                 "measured (per-user)", "holds (per-user)"]


def _claim_rows(claims: Mapping[str, list[Claim]]) -> tuple[list[list[str]], list[list[str]]]:
    rows, classes = [], []
    for text, paper, by in _paired(claims):
        row, cls = [text, paper], ["", ""]
        for sc in SCORINGS:
            c = by[sc]
            row += ["-", "-"] if c is None else [c.measured, _HOLDS_WORD[c.status]]
            cls += ["", "" if c is None else _HOLDS_CLASS[c.status]]
        rows.append(row)
        classes.append(cls)
    return rows, classes


def _counts(claims: Iterable[Claim]) -> str:
    n = count_status(claims)
    return f"{n['holds']} hold, {n['fails']} fail, {n['not checked']} not checked"


def _summary_rows(entries: list[_Entry], tables: list[_TableEntry] = ()) -> list[list[str]]:
    rows = []
    for sc in SCORINGS:
        n = count_status([*(c for e in entries for c in e.claims[sc]), *(c for t in tables for c in t.data.claims)])
        rows.append([sc, *(str(n[s]) for s in STATUSES), str(sum(n.values()))])
    return rows


_SUMMARY_HEADER = ["scoring", *STATUSES, "total"]


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
            "tables show every claim under both. " + _why(entries) + " The papers' statements are "
            "compared, not forced; a claim is *not checked* when its scheme is not registered. "
            + ABOUT_ZERO_RULE)


# --------------------------------------------------------------------------- html
_CSS = """
body { font-family: sans-serif; max-width: 72em; margin: 1em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }
th { background: #eee; }
td.yes { color: #075; font-weight: bold; }
td.no { color: #b00; font-weight: bold; }
td.na { color: #777; font-style: italic; }
img { max-width: 100%; width: 36em; border: 1px solid #ddd; }
section { border-top: 2px solid #ccc; margin-top: 1.5em; }
code { background: #f4f4f4; }
"""


def _html_table(header: list[str], rows: list[list[str]], classes: list[list[str]] | None = None) -> str:
    e = html.escape
    out = ["<table>", "<tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>"]
    for i, row in enumerate(rows):
        cls = classes[i] if classes else [""] * len(row)
        out.append("<tr>" + "".join(f'<td class="{c}">{e(v)}</td>' if c else f"<td>{e(v)}</td>"
                                    for v, c in zip(row, cls)) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _html_text(md: str) -> str:
    """Escape, then turn the intro's ``*x*`` into ``<i>x</i>``."""
    import re

    return re.sub(r"\*([^*]+)\*", r"<i>\1</i>", html.escape(md))


def _write_html(path: Path, entries: list[_Entry], scoring: str, header: dict[str, str],
                tables: list[_TableEntry] = ()) -> None:
    e = html.escape
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>nfkg: reproduced figures</title>", f"<style>{_CSS}</style></head><body>",
             "<h1>nfkg: reproduced SKR figures</h1>",
             _html_table(["", ""], [[k, v] for k, v in header.items()]),
             "<h2>Claims</h2>",
             _html_table(_SUMMARY_HEADER, _summary_rows(entries, tables)),
             f"<p>{_html_text(_intro(entries, scoring))}</p>",
             "<h2>Figures</h2><ul>"]
    for en in entries:
        d = en.data
        parts.append(f'<li><a href="#{e(d.id)}">{e(d.id)}: {e(d.paper_ref)}, {e(d.title)}</a> '
                     f"({e(_counts(en.claims[scoring]))}, {e(scoring)})</li>")
    parts.append("</ul>")
    for en in entries:
        d = en.data
        png, pdf, csv = (p.name for p in en.files)
        rows, classes = _claim_rows(en.claims)
        parts += [f'<section id="{e(d.id)}">',
                  f"<h2>{e(d.id)}: {e(d.paper_ref)}</h2>",
                  f'<figure><img src="{e(png)}" alt="{e(d.paper_ref)}">',
                  f"<figcaption>{e(d.paper_ref)} reproduced: {e(d.title)}. Scored with the "
                  f"{e(scoring)} convention. {e(_timing(en, scoring))}</figcaption></figure>",
                  f'<p>Data: <a href="{e(csv)}">{e(csv)}</a> &middot; vector: <a href="{e(pdf)}">{e(pdf)}</a></p>',
                  "<h3>Parameters</h3>",
                  _html_table(["parameter", "value"], [[k, format_param(v)] for k, v in d.params.items()]),
                  f"<h3>Claims ({e(_section_counts(en))})</h3>",
                  _html_table(_CLAIM_HEADER, rows, classes),
                  "</section>"]
    for te in tables:
        t, csv = te.data, te.files[-1].name
        claims = ([] if not t.claims else
                  ["<h3>Claims</h3>", _html_table(["claim", "paper", "measured", "holds"],
                                                    [[c.text, c.paper_value, c.measured, _HOLDS_WORD[c.status]]
                                                     for c in t.claims])])
        parts += [f'<section id="{e(t.id)}">', f"<h2>{e(t.id)}: {e(t.paper_ref)}, {e(t.title)}</h2>",
                  f'<figure><img src="{e(te.files[0].name)}" alt="{e(t.title)}"></figure>',
                  _html_table(t.header, t.formatted_rows()), f"<p>{_html_text(t.text)}</p>", *claims,
                  f'<p>Data: <a href="{e(csv)}">{e(csv)}</a> &middot; image: <a href="{e(te.files[0].name)}">'
                  f"{e(te.files[0].name)}</a> &middot; computed in {t.seconds:.1f} s.</p>", "</section>"]
    parts.append("</body></html>")
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")


def _timing(en: _Entry, scoring: str) -> str:
    other = [sc for sc in SCORINGS if sc != scoring and sc in en.seconds]
    text = f"Computed in {en.seconds[scoring]:.2f} s"
    if other:
        text += f" ({other[0]}: {en.seconds[other[0]]:.2f} s)"
    return text + "."


def _section_counts(en: _Entry) -> str:
    return "; ".join(f"{sc}: {_counts(en.claims[sc])}" for sc in SCORINGS if sc in en.claims)


# --------------------------------------------------------------------------- markdown
def _md_cell(v: str) -> str:
    return v.replace("|", "\\|").replace("\n", " ")


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(_md_cell(h) for h in header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _write_md(path: Path, entries: list[_Entry], scoring: str, header: dict[str, str],
              tables: list[_TableEntry] = ()) -> None:
    parts = ["# nfkg: reproduced SKR figures", "",
             _md_table(["", ""], [[k, v] for k, v in header.items()]), "",
             "## Claims", "",
             _md_table(_SUMMARY_HEADER, _summary_rows(entries, tables)), "",
             _intro(entries, scoring), ""]
    for en in entries:
        d = en.data
        png, pdf, csv = (p.name for p in en.files)
        rows, _ = _claim_rows(en.claims)
        parts += [f"## {d.id}: {d.paper_ref}", "",
                  f"![{d.paper_ref}]({png})", "",
                  f"*{d.paper_ref} reproduced: {d.title}. Scored with the {scoring} convention. "
                  f"{_timing(en, scoring)}*", "",
                  f"Data: [{csv}]({csv}) · vector: [{pdf}]({pdf})", "",
                  "### Parameters", "",
                  _md_table(["parameter", "value"], [[k, format_param(v)] for k, v in d.params.items()]), "",
                  f"### Claims ({_section_counts(en)})", "",
                  _md_table(_CLAIM_HEADER, rows), ""]
    for te in tables:
        t, csv = te.data, te.files[-1].name
        parts += [f"## {t.id}: {t.paper_ref}, {t.title}", "", f"![{t.title}]({te.files[0].name})", "",
                  _md_table(t.header, t.formatted_rows()), "", t.text, ""]
        if t.claims:
            parts += ["### Claims", "", _md_table(["claim", "paper", "measured", "holds"],
                                                  [[c.text, c.paper_value, c.measured, _HOLDS_WORD[c.status]]
                                                   for c in t.claims]), ""]
        parts += [f"Data: [{csv}]({csv}) · image: [{te.files[0].name}]({te.files[0].name}) · computed in "
                  f"{t.seconds:.1f} s.", ""]
    path.write_text("\n".join(parts), encoding="utf-8")


# --------------------------------------------------------------------------- entry point
def reproduce(
    out_dir: str | os.PathLike,
    ids: Iterable[str] | None = None,
    progress: bool = True,
    scoring: str = "general",
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """Run figures, save PNG/PDF/CSV for each and write ``index.html`` and ``index.md``.

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
        :func:`table_ids`, in order).
    progress : bool
        Print one line per figure to stderr, e.g. ``[3/8] c5 ... 0.5 s + 0.5 s``.
    scoring : {'general', 'per-user'}
        The convention of the saved figures and CSV files (SPEC 3; see
        :func:`nfkg.schemes.precoding.evaluate`).
    overrides : mapping, optional
        ``{fig_id: {key: value}}`` passed to :func:`~nfkg.studies.experiments.run_figure`
        (e.g. smaller sweeps for a quick look).

    Returns
    -------
    Path
        The written ``index.html``.

    Raises
    ------
    ValueError
        For an unknown figure id, override or scoring (before anything is computed).
    """
    if scoring not in SCORINGS:
        raise ValueError(f"scoring: must be one of {', '.join(SCORINGS)}, got {scoring!r}")
    ids = [*figure_ids(), *table_ids()] if ids is None else list(ids)
    overrides = dict(overrides or {})
    known_tables = table_ids()
    for fid in [*ids, *overrides]:
        if fid not in known_tables:
            get_preset(fid)  # fail fast on unknown ids
    tids = [i for i in ids if i in known_tables]
    ids = [i for i in ids if i not in known_tables]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    order = [scoring, *(sc for sc in SCORINGS if sc != scoring)]
    t_start = time.perf_counter()
    entries = []
    for i, fid in enumerate(ids, 1):
        if progress:
            print(f"[{i}/{len(ids)}] {fid} ...", end=" ", file=sys.stderr, flush=True)
        by_scoring, seconds, claims = {}, {}, {}
        for sc in order:
            if not get_preset(fid).scored and by_scoring:  # Monte Carlo KDR: the same under both
                first = order[0]
                by_scoring[sc], seconds[sc], claims[sc] = by_scoring[first], 0.0, claims[first]
                continue
            t0 = time.perf_counter()
            by_scoring[sc] = run_figure(fid, overrides.get(fid), scoring=sc)
            seconds[sc] = time.perf_counter() - t0
            claims[sc] = check_claims(by_scoring[sc])
        data = by_scoring[scoring]
        files = save_figure(data, out)
        if progress:
            counts = ", ".join(f"{sc} {count_status(claims[sc])['holds']}/{len(claims[sc])}" for sc in order)
            print(f"{' + '.join(f'{seconds[sc]:.1f}' for sc in order)} s (claims hold: {counts})",
                  file=sys.stderr, flush=True)
        entries.append(_Entry(data, by_scoring, claims, seconds, files))
    tables = []
    for j, tid in enumerate(tids, len(ids) + 1):
        if progress:
            print(f"[{j}/{len(ids) + len(tids)}] {tid} ...", end=" ", file=sys.stderr, flush=True)
        data = run_table(tid, overrides.get(tid))
        tables.append(_TableEntry(data, save_table(data, out)))
        if progress:
            held = ", ".join(f"claims hold {count_status(data.claims)['holds']}/{len(data.claims)}"
                             for _ in [0] if data.claims)
            print(f"{data.seconds:.1f} s{f' ({held})' if held else ''}", file=sys.stderr, flush=True)
    total = time.perf_counter() - t_start
    header = {
        "nfkg version": _version(),
        "figures": ", ".join(ids) + (f"; tables: {', '.join(tids)}" if tids else ""),
        "scoring of the figures": f"{scoring} (claims: both conventions)",
        "total run time": f"{total:.1f} s (computing {sum(sum(e.seconds.values()) for e in entries):.1f} s "
                          f"for both conventions, {sum(t.data.seconds for t in tables):.1f} s for the tables, "
                          "the rest plotting and writing)",
        "generated": time.strftime("%Y-%m-%d %H:%M:%S"),
        "python / numpy": f"{platform.python_version()} / {np.__version__}",
    }
    index = out / "index.html"
    _write_html(index, entries, scoring, header, tables)
    _write_md(out / "index.md", entries, scoring, header, tables)
    if progress:
        print(f"done in {total:.1f} s: {index}", file=sys.stderr, flush=True)
    return index
