"""The report's pages: what ``index.html`` and ``index.md`` show, rendered from Jinja2 templates.

The templates (``nfkg/studies/templates/report.html.j2`` and ``report.md.j2``, package data)
only lay out what :func:`write_pages` prepares here as plain text: the metadata, the summary
of the claims, a table of contents of every figure and table, per figure its image, claims
(one column where both scoring conventions give the same verdict and numbers) and
parameters, per table its image, text, rows (summarised or cut when long: every row is in
the CSV) and claims. HTML is escaped by the template engine; Markdown cells escape ``|``.

Images are shown at one scale, 40 em for the 3.5 in of a single-column figure (read from the
PNG's size and resolution), so every figure's fonts read alike; wider ones take the page's
width, and each links to its full-size file.

Contents
--------
write_pages
    Render both pages.
format_param
    A parameter value as short text.
WHY_THEY_DIFFER, ABOUT_ZERO_RULE, MAX_TABLE_ROWS
    The fixed sentences and the longest table shown in full.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np

from ..schemes.precoding import SCORINGS
from .claims import ABOUT_ZERO, FLOOR_TOL, STATUSES, Claim, count_status

__all__ = ["write_pages", "format_param", "WHY_THEY_DIFFER", "ABOUT_ZERO_RULE", "MAX_TABLE_ROWS"]

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


def _claim_counts(en, merged: bool) -> str:
    if merged:
        return f"both scorings: {_counts(next(iter(en.claims.values())))}"
    return "; ".join(f"{sc}: {_counts(en.claims[sc])}" for sc in SCORINGS if sc in en.claims)


def _held(claims: list[Claim]) -> str:
    return f"{count_status(claims)['holds']}/{len(claims)}"


def _toc_counts(en, merged: bool) -> str:
    if merged:
        return f"claims hold: {_held(next(iter(en.claims.values())))} under both scorings"
    return "claims hold: " + ", ".join(f"{sc} {_held(en.claims[sc])}" for sc in SCORINGS if sc in en.claims)


def _summary(entries: list, tables: list) -> dict[str, Any]:
    rows = []
    for sc in SCORINGS:
        n = count_status([*(c for e in entries for c in e.claims[sc]), *(c for t in tables for c in t.data.claims)])
        rows.append([sc, *(str(n[s]) for s in STATUSES), str(sum(n.values()))])
    return {"header": ["scoring", *STATUSES, "total"], "rows": rows}


def _why(entries: list) -> str:
    """:data:`WHY_THEY_DIFFER`, with J Fig. 4's MRC peak as the example when it was computed."""
    example = ""
    for e in entries:
        g, p = e.by_scoring.get("general"), e.by_scoring.get("per-user")
        if e.data.id == "j4" and g is not None and p is not None and "MRC" in g.curves:
            example = (f" (e.g. J Fig. 4: MRC peaks at {float(np.max(g.curves['MRC'])):.1f} bits general "
                       f"vs {float(np.max(p.curves['MRC'])):.1f} bits per-user)")
    return WHY_THEY_DIFFER.format(example=example)


def _intro(entries: list, scoring: str) -> str:
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


def _context(entries: list, tables: list, scoring: str,
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


def write_pages(out: Path, entries: list, tables: list, scoring: str, meta: list[tuple[str, str]]) -> Path:
    """Write ``index.html`` and ``index.md`` into ``out``; return the path of ``index.html``.

    ``entries`` are the computed figures (``data``, ``by_scoring``, ``claims``, ``seconds``,
    ``save_seconds``, ``files``), ``tables`` the computed tables (``data``, ``files``,
    ``save_seconds``), ``meta`` the ``(key, value)`` lines at the top.
    """
    context = _context(entries, tables, scoring, meta)
    index = out / "index.html"
    index.write_text(_render("report.html.j2", context, html=True), encoding="utf-8")
    (out / "index.md").write_text(_render("report.md.j2", context, html=False), encoding="utf-8")
    return index
