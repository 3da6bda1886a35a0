r"""Figure ``rt-street``: the schemes on ray-traced street channels, with and without the LoS assumption.

The papers design and score every scheme on the line-of-sight (LoS) near-field channel
C(2)/J(1). Here the same nodes stand in a street: nfkg ships the channels of the J5 geometry
(J Fig. 5: N = 256 half-wavelength ULA at 30 GHz, users at (12 m, -0.6 rad) and (13 m, 0.6 rad),
each Eve 2 cm closer on her user's ray) traced with Sionna RT in its ``simple_street_canyon``
scene (specular reflections up to depth 2; :mod:`nfkg.model.rt`, the script
``benchmarks/rt/trace_street.py``). For every registered scheme the figure shows the sum SKR
versus :math:`P_t` in three panels:

1. *LoS model*: designed and scored on the LoS channels (what the papers compute);
2. *traced, full CSI*: designed and scored on the traced channels
   (:meth:`nfkg.model.scenario.Scenario.from_channels`);
3. *traced, designed on LoS*: the precoders of panel 1 scored with the traced channels as the
   truth (:func:`nfkg.engine.mismatch.score_mismatched`: J(18)'s SKR with the true channels in
   every observation, C(13)).

Panel 2 against panel 3 is what the LoS assumption costs in a street. The powers and noise are
J5's (noise -105 dBm at the BS, users and Eves, pilot length 1, users transmitting at
:math:`P_t`), the scoring the general engine, SVD schemes with isotropic shaping (J).

A scheme that fails on these channels, or that has no N-space realisation of its precoders
(needed to score a design on other channels), is listed in the table with the reason and left
out of the affected panels. Overrides: ``pt_dbm`` (list, dBm), ``schemes`` (default: every
registered scheme), ``channels`` (a channel file written by ``nfkg rt``, whose metadata gives the
array and the node positions of the LoS model; default: the shipped street).

The figure reads the ``.npz`` file only: it needs neither Sionna nor a GPU.

Contents
--------
RtStreetData, run_rt_street, rt_street_steps, save_rt_street, street_channels, RT_STREET_DEFAULTS
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .beyond import BeyondData
from .tables import merge_overrides, write_figure

__all__ = ["RtStreetData", "run_rt_street", "rt_street_steps", "save_rt_street", "street_channels",
           "RT_STREET_DEFAULTS"]

#: Overrides of ``rt-street`` and their defaults (``schemes=None``: every registered scheme;
#: ``channels=None``: the shipped street-canyon channels).
RT_STREET_DEFAULTS: dict[str, Any] = {
    "pt_dbm": tuple(float(v) for v in range(0, 31, 2)),
    "schemes": None,
    "channels": None,
}
#: The three panels (keys of :attr:`RtStreetData.curves`).
PANELS = ("LoS model (designed and scored on it, as in the papers)",
          "Traced street, full CSI (designed and scored on it)",
          "Traced street, designed on the LoS model")
_SHIPPED = "rt_street.npz"


@dataclass(frozen=True)
class RtStreetData(BeyondData):
    """The computed ``rt-street`` figure: a :class:`~nfkg.studies.beyond.BeyondData` whose
    ``curves`` hold the three panels; rows of skipped schemes (``pt_dbm = 'all'``) are always shown."""

    def formatted_rows(self) -> list[list[str]]:
        """Cells as text (rows at ``shown_pt`` and the skipped schemes' notes)."""
        keep = [r for r in self.rows if self.shown_pt is None or r[0] in self.shown_pt or r[0] == "all"]
        return [[f"{float(v):.4g}" if isinstance(v, (float, np.floating)) else str(v) for v in row] for row in keep]


def street_channels(path: str | os.PathLike | None = None) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Traced channels ``f, h`` ``(K, N)`` (complex128) and the array and nodes of their trace.

    Parameters
    ----------
    path : path-like, optional
        A channel file of ``nfkg rt`` (or :func:`nfkg.model.rt.save_channels` with the metadata
        ``frequency``, ``spacing``, ``users``, ``eves`` and optionally ``rows``); the shipped
        street-canyon channels by default.

    Returns
    -------
    f, h : ndarray, ``(K, N)``
    geometry : dict
        ``frequency`` [Hz], ``spacing`` [m], ``rows``, ``users`` and ``eves`` ``(K, 2|3)``
        (``(r, psi[, el])`` in the array frame) and ``source`` (the file's name).

    Raises
    ------
    ValueError
        One line naming ``rt-street.channels``: a missing file or metadata, or arrays that do
        not match the nodes.
    """
    from ..model.rt import load_channels

    name = "rt-street.channels"
    try:
        if path is None:
            with resources.as_file(resources.files("nfkg") / "data" / _SHIPPED) as p:
                f, h, meta = load_channels(p)
            source = f"nfkg/data/{_SHIPPED}"
        else:
            f, h, meta = load_channels(path)
            source = Path(path).name
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"{name}: cannot read {os.fspath(path) if path else _SHIPPED!r} as a channel file "
                         f"with arrays f and h ({type(exc).__name__}: {exc})".splitlines()[0]) from None
    missing = [k for k in ("frequency", "spacing", "users", "eves") if k not in meta]
    if missing:
        raise ValueError(f"{name}: {source} lacks the metadata {', '.join(missing)} (the array and node positions "
                         "of the line-of-sight model); write it with `nfkg rt`")
    users, eves = (np.atleast_2d(np.asarray(meta[k], dtype=float)) for k in ("users", "eves"))
    f, h = np.asarray(f), np.asarray(h)
    if f.ndim != 2 or h.shape != f.shape or users.shape[0] != f.shape[0] or eves.shape != users.shape \
            or users.shape[1] not in (2, 3):
        raise ValueError(f"{name}: {source}: f and h must be (K, N) with K = the number of users and Eves in "
                         f"its metadata, got f {f.shape}, h {h.shape}, users {users.shape}, eves {eves.shape}")
    geometry = {"frequency": float(meta["frequency"]), "spacing": float(meta["spacing"]),
                "rows": int(meta["rows"]) if "rows" in meta else 1, "users": users, "eves": eves,
                "source": source, "scene": str(meta.get("scene", "?")),
                "max_depth": int(meta["max_depth"]) if "max_depth" in meta else None}
    return f.astype(complex), h.astype(complex), geometry


def _params(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    from ..model.limits import LIMITS
    from ..schemes.precoding import get_scheme, scheme_names

    p = merge_overrides(RT_STREET_DEFAULTS, overrides, "rt-street")
    pt = np.atleast_1d(np.asarray(p["pt_dbm"], dtype=float)) if not isinstance(p["pt_dbm"], str) else np.zeros(0)
    if pt.ndim != 1 or pt.size == 0 or np.any(LIMITS["pt_dbm"].reasons(pt)):
        raise ValueError(f"rt-street.pt_dbm: must be a list of numbers in {LIMITS['pt_dbm'].range_text()}, "
                         f"got {p['pt_dbm']!r}")
    p["pt_dbm"] = tuple(float(v) for v in pt)
    schemes = scheme_names() if p["schemes"] is None else p["schemes"]
    p["schemes"] = tuple([schemes] if isinstance(schemes, str) else schemes)
    if not p["schemes"]:
        raise ValueError("rt-street.schemes: give at least one scheme")
    for s in p["schemes"]:
        try:
            get_scheme(s)
        except ValueError as e:
            raise ValueError(f"rt-street.schemes: {str(e).removeprefix('scheme: ')}") from None
    if p["channels"] is not None and not isinstance(p["channels"], (str, os.PathLike)):
        raise ValueError(f"rt-street.channels: must be the path of a channel file, got {p['channels']!r}")
    return p


def rt_street_steps(overrides: Mapping[str, Any] | None = None) -> int:
    """Progress steps (one per scheme)."""
    schemes = dict(overrides or {}).get("schemes")
    if schemes is None:
        from ..schemes.precoding import scheme_names

        return len(scheme_names())
    return 1 if isinstance(schemes, str) else len(schemes)


def _scenarios(f, h, geo, pt: np.ndarray):
    """The LoS scenario of the trace's nodes and the scenario on the traced channels, batch ``(len(pt),)``."""
    from ..model.channel import ULA
    from ..model.scenario import Scenario
    from ..model.units import SPEED_OF_LIGHT
    from .experiments import resolve_params

    j5 = resolve_params("j5", {})
    k, n = f.shape
    lam = SPEED_OF_LIGHT / geo["frequency"]
    ula = ULA(n, geo["frequency"], geo["spacing"] / lam, float(j5["pathloss_exponent"]), rows=geo["rows"])
    b = pt.size
    common = dict(pt_dbm=pt, noise_dbm=float(j5["noise_dbm"]), pilot_length=int(j5["pilot_length"]))
    los = Scenario.from_dbm(ula, users=np.broadcast_to(geo["users"], (b, *geo["users"].shape)),
                            eves=np.broadcast_to(geo["eves"], (b, *geo["eves"].shape)), **common)
    traced = Scenario.from_channels(np.broadcast_to(f, (b, k, n)), np.broadcast_to(h, (b, k, n)), array=ula,
                                    **common)
    return los, traced, j5


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def run_rt_street(overrides: Mapping[str, Any] | None = None,
                  progress: Callable[[int], None] | None = None) -> RtStreetData:
    """Sum SKR versus P_t of every scheme: LoS model, traced with full CSI, traced designed on LoS."""
    from ..engine.mismatch import score_mismatched
    from ..schemes.precoding import evaluate, get_scheme, precode, score
    from .beyond import _label

    p = _params(overrides)
    t0 = time.perf_counter()
    f, h, geo = street_channels(p["channels"])
    x = np.asarray(p["pt_dbm"])
    los, traced, j5 = _scenarios(f, h, geo, x)
    sums: dict[str, dict[str, np.ndarray]] = {panel: {} for panel in PANELS}
    notes: dict[str, str] = {}
    for s in p["schemes"]:
        shaping = "isotropic" if get_scheme(s).uses_shaping else None
        try:
            sums[PANELS[1]][s] = np.asarray(evaluate(traced, s, shaping).sum_skr, dtype=float)
        except Exception as exc:  # noqa: BLE001 - any scheme (plug-ins too): a note, not a crash
            notes[s] = f"fails on the traced channels ({_one_line(exc)})"
        try:
            res = precode(los, s, shaping)
            sums[PANELS[0]][s] = np.asarray(score(los, res.views, res.powers)[0].sum(-1), dtype=float)
        except Exception as exc:  # noqa: BLE001
            notes[s] = "; ".join([*filter(None, [notes.get(s)]), f"fails on the LoS model ({_one_line(exc)})"])
            res = None
        if res is not None:
            try:
                sums[PANELS[2]][s] = np.asarray(score_mismatched(res, f, h, traced).sum_skr, dtype=float)
            except Exception as exc:  # noqa: BLE001 - e.g. no N-space realisation of the design
                why = str(exc) if "realisation" in str(exc) else _one_line(exc)
                notes[s] = "; ".join([*filter(None, [notes.get(s)]),
                                      f"cannot be scored on channels other than its design's ({why})"])
        for panel in PANELS:
            y = sums[panel].get(s)
            if y is not None and not np.all(np.isfinite(y)):
                del sums[panel][s]
                notes[s] = "; ".join([*filter(None, [notes.get(s)]), f"non-finite SKR in panel '{panel}'"])
        if progress is not None:
            progress(1)
    seconds = time.perf_counter() - t0

    header = ["pt_dbm", "scheme", "LoS model", "traced, full CSI", "traced, designed on LoS",
              "designed on LoS / full CSI", "note"]
    rows: list[list[Any]] = []
    for i, pt in enumerate(x):
        for s in p["schemes"]:
            if not any(s in sums[panel] for panel in PANELS):
                continue
            vals = [float(sums[panel][s][i]) if s in sums[panel] else float("nan") for panel in PANELS]
            ratio = vals[2] / vals[1] if vals[1] > 0 and np.isfinite(vals[2]) else float("nan")
            rows.append([float(pt), s, *vals, ratio, "partly skipped, see the note row" if s in notes else ""])
    for s, why in notes.items():
        rows.append(["all", s, float("nan"), float("nan"), float("nan"), float("nan"), f"skipped: {why}"])

    text = _summary(x, sums, notes, geo, traced, los)
    text += f" Computed in {seconds:.1f} s."
    tens = tuple(float(v) for v in x if float(v) % 10 == 0)
    shown = tens if 0 < len(tens) < x.size else None
    if shown is not None:
        text += f" The table lists P_t = {', '.join(f'{v:g}' for v in shown)} dBm; the CSV has every P_t."
    params = {"channels": geo["source"], "scene": geo["scene"], "max_depth": geo["max_depth"],
              "n_ant": int(f.shape[1]), "rows": geo["rows"], "n_users": int(f.shape[0]),
              "pt_dbm": p["pt_dbm"], "schemes": p["schemes"], "noise_dbm": float(j5["noise_dbm"]),
              "pilot_length": int(j5["pilot_length"]), "shaping": "isotropic (svd-mf: matched, targeted jamming)",
              "scoring": "general"}
    curves = {panel: {_label(s): y for s, y in sums[panel].items()} for panel in PANELS}
    return RtStreetData("rt-street", "Sum SKR versus P_t on ray-traced street channels: full CSI against "
                        "the LoS design", f"Sionna RT, {geo['scene']}", header, rows, params, text, seconds,
                        [], x, curves, "Sum SKR (bits/probing)", shown)


def _corr(f: np.ndarray, h: np.ndarray) -> list[float]:
    """|corr(f_k, h_k)| of each user and its Eve."""
    return [float(np.abs(np.vdot(a, b)) / np.linalg.norm(a) / np.linalg.norm(b)) for a, b in zip(f, h)]


def _summary(x: np.ndarray, sums, notes: Mapping[str, str], geo: Mapping[str, Any], traced, los_scen) -> str:
    """What the figure shows, with the numbers at the largest P_t."""
    k, n = traced.n_users, traced.n_ant
    corr = _corr(*(np.asarray(v)[0] for v in traced.channels()))
    corr_los = _corr(*(np.asarray(v)[0] for v in los_scen.channels()))
    text = (f"Sum SKR (bits/probing, general engine) versus P_t of K = {k} users and their Eves ({geo['source']}: "
            f"{geo['scene']}, N = {n}, reflections up to depth {geo['max_depth']}), in three panels: the "
            "line-of-sight model of the papers, the traced channels with full CSI, and the traced channels "
            "with the precoders designed on the LoS model. In the street each user's and Eve's channels "
            f"decorrelate (|corr(f_k, h_k)| = {', '.join(f'{c:.3f}' for c in corr)}, against "
            f"{', '.join(f'{c:.5f}' for c in corr_los)} in line of sight), so a BS that knows the "
            "traced channels gets far more key than the LoS model promises")
    top = int(np.argmax(x))
    los, full, mis = (sums[p] for p in PANELS)
    both = [s for s in full if s in mis]
    if both:
        best_full = max(both, key=lambda s: full[s][top])
        best_mis = max(both, key=lambda s: mis[s][top])
        best_los = max(los, key=lambda s: los[s][top]) if los else None
        text += (f": at {x[top]:g} dBm {best_full} reaches {full[best_full][top]:.3g} bits with full CSI")
        if best_los is not None:
            text += f" ({best_los} {los[best_los][top]:.3g} on the LoS model)"
        text += (f". Designed on the LoS model, the best is {best_mis} with {mis[best_mis][top]:.3g} bits"
                 + (f" ({best_full}: {mis[best_full][top]:.3g})" if best_mis != best_full else "")
                 + f": the LoS assumption costs {full[best_full][top] - mis[best_mis][top]:.3g} bits at "
                 f"{x[top]:g} dBm")
        short = [s for s in both if s in los and mis[s][top] < los[s][top] - 1e-9]
        if short:
            text += (f", and {', '.join(short)} get(s) less than the LoS model itself promises (e.g. "
                     f"{short[-1]} {mis[short[-1]][top]:.3g} against {los[short[-1]][top]:.3g} bits)")
        below = [s for s in both if np.any(mis[s] > full[s] + 1e-9)]
        if below:
            text += (f"; a scheme's own full-CSI design is not optimal over all designs, and "
                     f"{', '.join(below)} score(s) higher designed on LoS at some P_t")
        text += "."
    else:
        text += "."
    if notes:
        text += f" Skipped (see the table): {', '.join(notes)}."
    return text


def save_rt_street(data: RtStreetData, out_dir: str | os.PathLike,
                   formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    """Draw the three panels on one y scale with one legend below; write ``rt-street.<fmt>`` and
    ``rt-street.csv`` (images first)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .beyond import _BASELINE_STYLES, _PALETTE
    from .plotting import _SCHEME_STYLE

    panels = list(data.curves)
    fig = Figure(figsize=(4.0 * len(panels), 4.1))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(panels), squeeze=False, sharex=True, sharey=True)[0]
    labels: list[str] = list(dict.fromkeys(lab for panel in panels for lab in data.curves[panel]))
    for ax, panel in zip(axes, panels):
        for label, y in data.curves[panel].items():
            i = labels.index(label)
            if label in _BASELINE_STYLES:
                style = dict(_BASELINE_STYLES[label])
            elif label in _SCHEME_STYLE:
                color, marker, ls = _SCHEME_STYLE[label]
                style = {"color": color, "marker": marker, "linestyle": ls}
            else:  # plug-ins
                style = {"color": _PALETTE[i % len(_PALETTE)], "marker": "os^DPx*"[i % 7], "linestyle": "-"}
            ax.plot(data.x, y, label=label, markerfacecolor="none", markersize=4, **style)
        ax.set_title(panel, fontsize=8.5)
        ax.grid(True, alpha=0.3)
        ax.set_xlabel(r"Transmit power $P_t$ (dBm)")
    axes[0].set_ylabel(data.y_label)
    handles = {}
    for ax in axes:
        for hdl, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, hdl)
    fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=min(5, max(len(handles), 1)),
               fontsize=7.5, frameon=False)
    fig.suptitle(f"{data.paper_ref}: {data.title}", fontsize=9)
    fig.tight_layout(rect=(0, 0.05 + 0.035 * (-(-len(handles) // 5)), 1, 1))
    return write_figure(fig, data, out_dir, formats)
