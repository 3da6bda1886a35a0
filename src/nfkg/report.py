"""Reproduce the papers' SKR figures in one go, with an HTML and a Markdown report.

:func:`reproduce` runs every figure of :mod:`nfkg.experiments` (or a subset),
saves each with :func:`nfkg.plotting.save_figure` and writes ``index.html`` and
``index.md`` beside them: per figure the PNG, links to the CSV and PDF, the
parameters and the table of the papers' claims against what nfkg measured.

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

from .claims import Claim, check_claims
from .experiments import FigureData, figure_ids, get_preset, run_figure
from .plotting import save_figure

__all__ = ["reproduce"]


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("nfkg")
    except Exception:  # noqa: BLE001 - not installed (source tree)
        return "unknown"


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
class _Entry:
    data: FigureData
    claims: list[Claim]
    seconds: float
    files: list[Path]


# --------------------------------------------------------------------------- html
_CSS = """
body { font-family: sans-serif; max-width: 60em; margin: 1em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }
th { background: #eee; }
td.yes { color: #075; font-weight: bold; }
td.no { color: #b00; font-weight: bold; }
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


def _claim_rows(claims: list[Claim]) -> list[list[str]]:
    return [[c.text, c.paper_value, c.measured, "yes" if c.holds else "no"] for c in claims]


def _summary(entries: list[_Entry]) -> tuple[int, int]:
    n = sum(len(e.claims) for e in entries)
    return sum(c.holds for e in entries for c in e.claims), n


def _write_html(path: Path, entries: list[_Entry], total: float, header: dict[str, str]) -> None:
    e = html.escape
    held, n = _summary(entries)
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>nfkg: reproduced figures</title>", f"<style>{_CSS}</style></head><body>",
             "<h1>nfkg: reproduced SKR figures</h1>",
             _html_table(["", ""], [[k, v] for k, v in header.items()]),
             f"<p>Claims supported by the computed curves: <b>{held} of {n}</b>. The papers' statements "
             "are compared, not forced; <i>about 0</i> means below 10&nbsp;% of the largest SVD w/ PA "
             "value of the figure.</p>",
             "<h2>Figures</h2><ul>"]
    for en in entries:
        d = en.data
        parts.append(f'<li><a href="#{e(d.id)}">{e(d.id)}: {e(d.paper_ref)}, {e(d.title)}</a></li>')
    parts.append("</ul>")
    for en in entries:
        d = en.data
        png, pdf, csv = (p.name for p in en.files)
        held_i = sum(c.holds for c in en.claims)
        parts += [f'<section id="{e(d.id)}">',
                  f"<h2>{e(d.id)}: {e(d.paper_ref)}</h2>",
                  f'<figure><img src="{e(png)}" alt="{e(d.paper_ref)}">',
                  f"<figcaption>{e(d.paper_ref)} reproduced: {e(d.title)}. "
                  f"Computed in {en.seconds:.2f} s.</figcaption></figure>",
                  f'<p>Data: <a href="{e(csv)}">{e(csv)}</a> &middot; vector: <a href="{e(pdf)}">{e(pdf)}</a></p>',
                  "<h3>Parameters</h3>",
                  _html_table(["parameter", "value"], [[k, format_param(v)] for k, v in d.params.items()]),
                  f"<h3>Claims ({held_i} of {len(en.claims)} hold)</h3>",
                  _html_table(["claim", "paper says", "nfkg measured", "holds"], _claim_rows(en.claims),
                              [["", "", "", "yes" if c.holds else "no"] for c in en.claims]),
                  "</section>"]
    parts.append("</body></html>")
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- markdown
def _md_cell(v: str) -> str:
    return v.replace("|", "\\|").replace("\n", " ")


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(_md_cell(h) for h in header) + " |",
             "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _write_md(path: Path, entries: list[_Entry], total: float, header: dict[str, str]) -> None:
    held, n = _summary(entries)
    parts = ["# nfkg: reproduced SKR figures", "",
             _md_table(["", ""], [[k, v] for k, v in header.items()]), "",
             f"Claims supported by the computed curves: **{held} of {n}**. The papers' statements are "
             "compared, not forced; *about 0* means below 10 % of the largest SVD w/ PA value of the figure.",
             ""]
    for en in entries:
        d = en.data
        png, pdf, csv = (p.name for p in en.files)
        held_i = sum(c.holds for c in en.claims)
        parts += [f"## {d.id}: {d.paper_ref}", "",
                  f"![{d.paper_ref}]({png})", "",
                  f"*{d.paper_ref} reproduced: {d.title}. Computed in {en.seconds:.2f} s.*", "",
                  f"Data: [{csv}]({csv}) · vector: [{pdf}]({pdf})", "",
                  "### Parameters", "",
                  _md_table(["parameter", "value"], [[k, format_param(v)] for k, v in d.params.items()]), "",
                  f"### Claims ({held_i} of {len(en.claims)} hold)", "",
                  _md_table(["claim", "paper says", "nfkg measured", "holds"], _claim_rows(en.claims)), ""]
    path.write_text("\n".join(parts), encoding="utf-8")


# --------------------------------------------------------------------------- entry point
def reproduce(
    out_dir: str | os.PathLike,
    ids: Iterable[str] | None = None,
    progress: bool = True,
    overrides: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """Run figures, save PNG/PDF/CSV for each and write ``index.html`` and ``index.md``.

    Parameters
    ----------
    out_dir : path
        Output folder (created if missing).
    ids : iterable of str, optional
        Figure ids (default: all of :func:`~nfkg.experiments.figure_ids`, in order).
    progress : bool
        Print one line per figure to stderr, e.g. ``[3/8] c5 ... 1.2 s``.
    overrides : mapping, optional
        ``{fig_id: {key: value}}`` passed to :func:`~nfkg.experiments.run_figure`
        (e.g. smaller sweeps for a quick look).

    Returns
    -------
    Path
        The written ``index.html``.

    Raises
    ------
    ValueError
        For an unknown figure id or override (before anything is computed).
    """
    ids = figure_ids() if ids is None else list(ids)
    overrides = dict(overrides or {})
    for fid in [*ids, *overrides]:
        get_preset(fid)  # fail fast on unknown ids
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    entries = []
    for i, fid in enumerate(ids, 1):
        if progress:
            print(f"[{i}/{len(ids)}] {fid} ...", end=" ", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        data = run_figure(fid, overrides.get(fid))
        seconds = time.perf_counter() - t0
        claims = check_claims(data)
        files = save_figure(data, out)
        if progress:
            held = sum(c.holds for c in claims)
            print(f"{seconds:.1f} s (claims {held}/{len(claims)})", file=sys.stderr, flush=True)
        entries.append(_Entry(data, claims, seconds, files))
    total = time.perf_counter() - t_start
    header = {
        "nfkg version": _version(),
        "figures": ", ".join(ids),
        "total run time": f"{total:.1f} s (computing {sum(e.seconds for e in entries):.1f} s, "
                          "the rest plotting and writing)",
        "generated": time.strftime("%Y-%m-%d %H:%M:%S"),
        "python / numpy": f"{platform.python_version()} / {np.__version__}",
    }
    index = out / "index.html"
    _write_html(index, entries, total, header)
    _write_md(out / "index.md", entries, total, header)
    if progress:
        print(f"done in {total:.1f} s: {index}", file=sys.stderr, flush=True)
    return index
