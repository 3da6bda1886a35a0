r"""The ``csi`` and ``nlos`` figures: designs scored against imperfect Eve CSI and NLoS truths.

Built on :mod:`nfkg.studies.robustness` (the truths, the robust design) and registered in
:mod:`nfkg.studies.tables` (``nfkg figure csi``, ``nfkg figure nlos``, ``nfkg reproduce``).

Geometry of the figures: J5 (N = 256, users at (12 m, -0.6), (13 m, 0.6), each Eve
2 cm closer at the user's angle) at :math:`P_t` = 20 dBm, noise -105 dBm, V = 1.

Contents
--------
CSI_DEFAULTS, NLOS_DEFAULTS, RobustnessData, run_csi, run_nlos, csi_steps, nlos_steps, save_robustness
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .eve_csi import CsiResult, _nonneg, csi_errors
from .nlos import _rician_linear, nlos_skr, nlos_truth
from .robust_design import robust_csi_error
from .tables import DictRows, merge_overrides, write_figure

__all__ = ["CSI_DEFAULTS", "NLOS_DEFAULTS", "RobustnessData", "run_csi", "run_nlos", "csi_steps", "nlos_steps",
           "save_robustness"]

#: Defaults of ``nfkg figure csi`` (J5 geometry at 20 dBm; ``sigma_r_mm`` is the x-axis).
CSI_DEFAULTS: dict[str, Any] = {
    "sigma_r_mm": (0.0, 1.0, 3.0, 10.0, 30.0, 100.0),
    "draws": 12,
    "seed": 0,
    "schemes": None,          # None: every registered scheme (nfkg.schemes.precoding.scheme_names())
    "robust": True,           # also the robust SVD designs and their non-robust counterparts
    "spread": 2.0,
    "pt_dbm": 20.0,
    "n_ant": 256,
}
#: Defaults of ``nfkg figure nlos`` (J5 geometry at 20 dBm; ``rician_db`` is the x-axis).
NLOS_DEFAULTS: dict[str, Any] = {
    "rician_db": (-10.0, -5.0, 0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, float("inf")),
    "draws": 64,
    "seed": 0,
    "schemes": None,
    "paths": 3,
    "eve_correlation": (0.0, 1.0),
    "pt_dbm": 20.0,
    "n_ant": 256,
}
_J5_USERS = ((12.0, -0.6), (13.0, 0.6))
_J5_EVES = ((11.98, -0.6), (12.98, 0.6))
_ROBUST_CURVES = (("svd", "isotropic", False), ("svd", "isotropic", True),
                  ("svd", "targeted", False), ("svd", "targeted", True))


def _robust_label(jamming: str, robust: bool) -> str:
    base = "SVD w/o PA" + ("" if jamming == "isotropic" else " targeted")
    return f"robust {base} (region)" if robust else base


@dataclass
class RobustnessData(DictRows):
    """Rows of the ``csi`` or ``nlos`` figure (one dict per scheme and x value).

    Attributes mirror :class:`nfkg.studies.tables.TableData`: ``id``, ``title``, ``paper_ref``,
    ``header``, ``formatted_rows()``, ``text``, ``claims``, ``seconds``, ``params``.
    """

    id: str
    params: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    claims: list = field(default_factory=list)
    title: str = ""
    paper_ref: str = "beyond C/J"
    summary: str = ""

    @property
    def text(self) -> str:
        return self.summary

    def summary_table(self) -> tuple[list[str], list[list[str]], str]:
        """The report's short form: one row per curve (``nlos``: per Eve correlation and curve), its
        nominal value and its mean at each x value; returns ``(header, rows, note)``."""
        csi = self.id == "csi"
        x_key = "sigma_r_mm" if csi else "rician_db"
        group = ("curve",) if csi else ("eve_correlation", "curve")
        xs = list(dict.fromkeys(r[x_key] for r in self.rows))
        by: dict[tuple, dict[float, dict[str, Any]]] = {}
        for r in self.rows:
            by.setdefault(tuple(r[g] for g in group), {})[r[x_key]] = r
        if csi:
            header = ["curve", "nominal", *(f"{x:g} mm" for x in xs)]
        else:
            header = ["rho", "curve", "nominal (LoS)", *("LoS" if np.isinf(x) else f"{x:g} dB" for x in xs)]
        rows = []
        for key, at in by.items():
            first = next(iter(at.values()))
            cells = [f"{key[0]:g}", key[1]] if not csi else [key[0]]
            rows.append([*cells, f"{first['nominal']:.4g}",
                         *(f"{at[x]['mean']:.4g}" if x in at else "-" for x in xs)])
        what = "Eve position error sigma_r" if csi else "Rician factor K_R"
        note = (f"Mean sum SKR (bits/probing) of each curve at each {what} ({len(self.rows)} rows in all, "
                "with the 10th percentiles).")
        return header, rows, note


def _options(over: Mapping[str, Any] | None, defaults: Mapping[str, Any], fig: str) -> dict[str, Any]:
    p = merge_overrides(defaults, over, fig)
    from ..schemes.precoding import get_scheme, scheme_names

    p["schemes"] = tuple(scheme_names() if p["schemes"] is None else
                         ([p["schemes"]] if isinstance(p["schemes"], str) else p["schemes"]))
    for s in p["schemes"]:
        get_scheme(s)
    p["draws"], p["seed"], p["n_ant"] = int(p["draws"]), int(p["seed"]), int(p["n_ant"])
    if p["draws"] < 1:
        raise ValueError(f"{fig}.draws: must be at least 1, got {p['draws']}")
    p["pt_dbm"] = float(p["pt_dbm"])
    return p


def _j5(p: Mapping[str, Any]):
    from ..model.channel import ULA
    from ..model.scenario import Scenario

    return Scenario.from_dbm(ULA(int(p["n_ant"]), 30e9), users=_J5_USERS, eves=_J5_EVES, pt_dbm=p["pt_dbm"])


def csi_steps(overrides: Mapping[str, Any] | None = None) -> int:
    """Progress steps of ``csi``: one per scheme (and robust curve)."""
    p = _options(overrides, CSI_DEFAULTS, "csi")
    return len(p["schemes"]) + (len(_ROBUST_CURVES) if p["robust"] else 0)


def run_csi(overrides: Mapping[str, Any] | None = None,
            progress: Callable[[int], None] | None = None) -> RobustnessData:
    r"""``nfkg figure csi``: sum SKR versus the error of the Eves' positions, every scheme.

    J5 geometry at 20 dBm. For each :math:`\sigma_r` (x-axis, mm) the Eves' distances get
    errors of deviation :math:`\sigma_r` and their angles :math:`\sigma_\psi = \sigma_r/r_{e_k}`
    (the same error across as along the range); ``draws`` seeded estimates per point, the
    same estimates for every scheme (:func:`~nfkg.studies.robustness.csi_error`). Mean and 10th percentile of the sum
    SKR at the true positions; ``robust`` adds :func:`~nfkg.studies.robustness.robust_csi_error` (isotropic and
    targeted jamming) and SVD w/o PA with targeted jamming, the non-robust counterpart.
    """
    from .claims import Claim
    from .experiments import scheme_label

    p = _options(overrides, CSI_DEFAULTS, "csi")
    sig_mm = tuple(float(v) for v in np.atleast_1d(p["sigma_r_mm"]))
    for v in sig_mm:
        _nonneg("sigma_r_mm", v)
    p["sigma_r_mm"] = sig_mm
    t0 = time.perf_counter()
    scen = _j5(p)
    psi_per_m = 1.0 / scen.r_e
    data = RobustnessData("csi", {**p, "geometry": "J5", "sigma_psi_rad_per_m": tuple(np.round(psi_per_m, 6))},
                          title="Sum SKR versus the error of the Eves' positions (imperfect Eve CSI)")

    def add(label, kind, res: CsiResult, s_mm):
        data.rows.append({"curve": label, "kind": kind, "sigma_r_mm": s_mm,
                          "sigma_psi_mrad": float(np.mean(s_mm * psi_per_m)),
                          "mean": res.mean, "p10": res.p10, "nominal": res.nominal})

    levels_r = [s_mm * 1e-3 for s_mm in sig_mm]
    levels_psi = [sr * psi_per_m for sr in levels_r]
    for s in p["schemes"]:   # every error level of a scheme designed in one batch
        results = csi_errors(scen, s, levels_r, levels_psi, p["draws"], p["seed"],
                             "isotropic" if _uses_shaping(s) else None)
        for s_mm, res in zip(sig_mm, results):
            add(scheme_label(s), "scheme", res, s_mm)
        if progress is not None:
            progress(1)
    if p["robust"]:
        for base, jam, rob in _ROBUST_CURVES:
            if rob:
                results = [robust_csi_error(scen, sr, sp, p["draws"], p["seed"], jam, p["spread"])
                           for sr, sp in zip(levels_r, levels_psi)]
            else:
                results = csi_errors(scen, base, levels_r, levels_psi, p["draws"], p["seed"], "isotropic",
                                     jamming=jam)
            for s_mm, res in zip(sig_mm, results):
                add(_robust_label(jam, rob), "robust" if rob else "counterpart", res, s_mm)
            if progress is not None:
                progress(1)
    data.seconds = time.perf_counter() - t0
    zero = [r for r in data.rows if r["sigma_r_mm"] == 0.0]
    if zero:
        # every draw is the nominal design's value exactly; their mean may differ in the last digit
        worst = max((abs(r["mean"] - r["nominal"]) / max(abs(r["nominal"]), 1e-300)
                     for r in zero if r["kind"] == "scheme"), default=0.0)
        data.claims.append(Claim("With exact Eve positions every scheme scores its nominal sum SKR",
                                 "(consistency)", f"largest relative |mean - nominal| at sigma_r = 0: {worst:.3g} "
                                 "(the mean of identical draws, to round-off 1e-12)", bool(worst <= 1e-12)))
    data.summary = _csi_text(data)
    return data


def _uses_shaping(scheme: str) -> bool:
    """Whether a registered scheme takes a shaping (the SVD family)."""
    from ..schemes.precoding import get_scheme

    return get_scheme(scheme).uses_shaping


def _at(rows, curve, x_key, x):
    for r in rows:
        if r["curve"] == curve and r[x_key] == x:
            return r
    return None


def _csi_text(data: RobustnessData) -> str:
    """One sentence: nominal -> mean at the smallest and largest error, per scheme; robust gains."""
    rows = data.rows
    if not rows:
        return "No points."
    xs = sorted({r["sigma_r_mm"] for r in rows})
    x1 = min((x for x in xs if x > 0), default=xs[-1])
    xl = xs[-1]
    parts = []
    for r in (r for r in rows if r["kind"] == "scheme" and r["sigma_r_mm"] == xl):
        r1 = _at(rows, r["curve"], "sigma_r_mm", x1)
        parts.append(f"{r['curve']} {r['nominal']:.3g} -> {r1['mean']:.3g} -> {r['mean']:.3g}")
    text = (f"Sum SKR (bits/probing; J5, {data.params['pt_dbm']:g} dBm, {data.params['draws']} seeded draws) of "
            f"designs made with Eve positions off by sigma_r in range and sigma_r/r_e in angle, scored at the true "
            f"positions (nominal -> mean at {x1:g} mm -> at {xl:g} mm): " + ", ".join(parts))
    rob = [r for r in rows if r["kind"] == "robust" and r["sigma_r_mm"] > 0]
    gains = []
    for r in rob:
        base = r["curve"].replace("robust ", "").replace(" (region)", "")
        c = _at(rows, base, "sigma_r_mm", r["sigma_r_mm"])
        if c is not None:
            gains.append((base, r["sigma_r_mm"], r["mean"] - c["mean"]))
    if gains:
        per = {}
        for base, x, g in gains:
            per.setdefault(base, []).append((g, x))
        text += "; the robust region design minus its non-robust counterpart (mean): " + ", ".join(
            f"{base} {min(v)[0]:+.2g} ({min(v)[1]:g} mm) to {max(v)[0]:+.2g} ({max(v)[1]:g} mm)"
            for base, v in per.items())
    return text + "."


def nlos_steps(overrides: Mapping[str, Any] | None = None) -> int:
    """Progress steps of ``nlos``: one per scheme and Eve correlation."""
    p = _options(overrides, NLOS_DEFAULTS, "nlos")
    return len(p["schemes"]) * len(np.atleast_1d(p["eve_correlation"]))


def run_nlos(overrides: Mapping[str, Any] | None = None,
             progress: Callable[[int], None] | None = None) -> RobustnessData:
    r"""``nfkg figure nlos``: sum SKR versus the Rician factor, schemes designed on LoS.

    J5 geometry at 20 dBm. The true channels of users and Eves are J VIII-B's
    (:func:`~nfkg.studies.robustness.nlos_truth`: LoS plus ``paths`` scattered near-field paths, Rician factor
    :math:`K_R` on the x-axis, ``inf`` = LoS); the schemes design on the LoS channels and are
    scored with the true ones (:func:`~nfkg.studies.robustness.nlos_skr`). One curve set per Eve gain correlation
    :math:`\rho` (0: Eve's scattering independent of her user's; 1: the same). Mean over
    ``draws`` seeded draws, the same draws for every scheme.
    """
    from .claims import Claim
    from .experiments import scheme_label

    p = _options(overrides, NLOS_DEFAULTS, "nlos")
    k_db = tuple(float(v) for v in np.atleast_1d(p["rician_db"]))
    _rician_linear(k_db)
    p["rician_db"] = k_db
    rhos = tuple(float(v) for v in np.atleast_1d(p["eve_correlation"]))
    p["eve_correlation"] = rhos
    t0 = time.perf_counter()
    scen = _j5(p)
    data = RobustnessData("nlos", {**p, "geometry": "J5", "scatter_r_m": (5.0, 25.0),
                                   "scatter_psi_rad": (round(-np.pi / 3, 6), round(np.pi / 3, 6))},
                          title="Sum SKR versus the Rician factor (NLoS truth, LoS design)")
    for rho in rhos:
        truth = nlos_truth(scen, np.asarray(k_db), p["draws"], p["seed"], paths=int(p["paths"]),
                           eve_correlation=rho)
        for s in p["schemes"]:
            res = nlos_skr(scen, s, k_db, truth=truth, shaping="isotropic" if _uses_shaping(s) else None)
            for i, k in enumerate(k_db):
                data.rows.append({"curve": scheme_label(s), "eve_correlation": rho, "rician_db": k,
                                  "mean": float(res.mean[i]), "p10": float(res.p10[i]), "nominal": res.nominal})
            if progress is not None:
                progress(1)
    data.seconds = time.perf_counter() - t0
    inf_rows = [r for r in data.rows if np.isinf(r["rician_db"])]
    if inf_rows:
        worst = max(abs(r["mean"] / r["nominal"] - 1.0) if r["nominal"] else abs(r["mean"]) for r in inf_rows)
        data.claims.append(Claim("With an infinite Rician factor (LoS only) every scheme scores its nominal "
                                 "sum SKR", "(consistency)", f"largest relative deviation {worst:.2g}",
                                 bool(worst < 1e-9)))
    data.summary = _nlos_text(data)
    return data


def _nlos_text(data: RobustnessData) -> str:
    """One sentence: per rho and scheme the LoS value and the mean at 20, 10 and 0 dB (where computed)."""
    rows = data.rows
    if not rows:
        return "No points."
    finite = sorted({r["rician_db"] for r in rows if np.isfinite(r["rician_db"])}, reverse=True)
    pts = [k for k in (20.0, 10.0, 0.0) if k in finite] or finite[:3]
    parts = []
    for rho in data.params["eve_correlation"]:
        sub = [r for r in rows if r["eve_correlation"] == rho]
        desc = []
        for c in dict.fromkeys(r["curve"] for r in sub):
            vals = [_at(sub, c, "rician_db", k) for k in pts]
            nominal = next(r["nominal"] for r in sub if r["curve"] == c)
            desc.append(f"{c} {nominal:.3g} -> " + "/".join(f"{v['mean']:.3g}" for v in vals if v))
        parts.append(f"with Eve's path gains {'independent of' if rho == 0 else f'correlated (rho = {rho:g}) with'} "
                     "her user's: " + ", ".join(desc))
    return (f"Mean sum SKR (bits/probing; J5, {data.params['pt_dbm']:g} dBm, {data.params['draws']} seeded draws, "
            f"{data.params['paths']} scattered paths per user) of schemes designed on the LoS channels and scored on "
            f"J VIII-B's NLoS channels (LoS value -> mean at K_R = {'/'.join(f'{k:g}' for k in pts)} dB) "
            + "; ".join(parts) + ".")


def save_robustness(data: RobustnessData, out_dir: str | os.PathLike,
                    formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    """Draw ``csi`` (two panels: schemes; robust designs) or ``nlos`` (a panel per rho); write ``<id>.csv``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from .plotting import curve_style

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if data.id == "csi":
        panels = [("scheme", "Registered schemes"), ("robust", "Robust region designs vs non-robust")]
        panels = [(k, t) for k, t in panels if any(r["kind"] == k or (k == "robust" and r["kind"] == "counterpart")
                                                   for r in data.rows)]
        x_key, x_label = "sigma_r_mm", r"Eve position error $\sigma_r$ (mm), $\sigma_\psi = \sigma_r/r_e$"
    else:
        rhos = list(dict.fromkeys(r["eve_correlation"] for r in data.rows))
        panels = [(rho, f"Eve's path gains correlation rho = {rho:g}") for rho in rhos]
        x_key, x_label = "rician_db", r"Rician factor $K_R$ (dB)"
    fig = Figure(figsize=(5.2 * max(len(panels), 1), 5.0))
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, max(len(panels), 1), squeeze=False)[0]
    for ax, (key, title) in zip(axes, panels):
        if data.id == "csi":
            rows = [r for r in data.rows if r["kind"] == key or (key == "robust" and r["kind"] == "counterpart")]
        else:
            rows = [r for r in data.rows if r["eve_correlation"] == key]
        finite = [r[x_key] for r in rows if np.isfinite(r[x_key])]
        x_inf = (max(finite) + 10.0) if finite else 0.0
        for i, c in enumerate(dict.fromkeys(r["curve"] for r in rows)):
            cr = [r for r in rows if r["curve"] == c]
            x = [x_inf if np.isinf(r[x_key]) else r[x_key] for r in cr]
            style = curve_style(c, [])
            color = style["color"] if data.id == "nlos" or key == "scheme" else f"C{i}"
            marker = style.get("marker", "o")
            ax.plot(x, [max(r["mean"], 1e-4) for r in cr], "-", marker=marker, color=color, markerfacecolor="none",
                    label=c, ms=4)
            ax.plot(x, [max(r["p10"], 1e-4) for r in cr], "--", color=color, lw=0.9)
        if data.id == "csi":
            ax.set_xscale("symlog", linthresh=1.0)
        elif any(np.isinf(r[x_key]) for r in rows):
            ticks = [t for t in ax.get_xticks() if finite and min(finite) <= t <= max(finite)]
            ax.set_xticks([*ticks, x_inf])
            ax.set_xticklabels([f"{t:g}" for t in ticks] + ["LoS"])
        ax.set_yscale("log")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(x_label)
        ax.set_ylabel("Sum SKR (bits/probing)")
        ax.grid(True, alpha=0.3)
        handles = ax.get_legend_handles_labels()[0]
        handles += [Line2D([], [], color="k", ls="-", label="mean"),
                    Line2D([], [], color="k", ls="--", label="10th percentile")]
        # below the panel, so that no curve hides behind it
        ax.legend(handles=handles, fontsize=7, ncol=3, frameon=False, loc="upper center",
                  bbox_to_anchor=(0.5, -0.14), handlelength=2.2, columnspacing=1.0)
    fig.suptitle(data.title, fontsize=10)
    fig.tight_layout()
    return write_figure(fig, data, out_dir, formats)
