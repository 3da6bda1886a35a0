r"""Figures beyond the papers: ``nfkg figure beyond-j5`` and ``nfkg figure fairness``.

``beyond-j5``
    Sum SKR versus :math:`P_t` on the J5 geometry (J Fig. 5: N = 256, users at (12 m, -0.6) and
    (13 m, 0.6), Eves 2 cm closer) for the papers' schemes (isotropic shaping, J), two baselines
    of the literature (``zf``: zero-forcing beam focusing without artificial noise, KTH 2024;
    ``rbf``: isotropic random beamforming, Madiseh et al., IEEE TIFS 2012;
    :mod:`nfkg.schemes.baselines`) and the schemes beyond the papers: ``svd-opt`` (the exact split
    of J(41) on the papers' subspaces), ``svd-mf`` (matched shaping, targeted jamming, exact split)
    and ``svd-maxmin`` (the max-min split, papers' subspaces). The table lists each scheme's sum
    SKR and svd-mf over svd-pa.
``fairness``
    Per-user SKR versus :math:`P_t` on the J8 geometry (K = 4 by default): the sum-SKR
    allocations (svd-pa, svd-opt on the papers' subspaces; svd-mf on the matched/targeted ones)
    against svd-maxmin on the same subspaces, with each allocation's smallest user SKR. The
    table lists per-user SKRs at each :math:`P_t`.

Both are registered with :func:`nfkg.studies.tables.register_table`, so ``nfkg figure ID`` and
``nfkg reproduce`` compute them and the report shows them. Overrides: ``pt_dbm`` (list, dBm),
``n_ant``, ``schemes`` (beyond-j5), ``n_users`` (fairness: 1..6, the first K users of J8).

Contents
--------
BeyondData, run_beyond_j5, run_fairness, beyond_steps, save_beyond, BEYOND_J5_DEFAULTS, FAIRNESS_DEFAULTS
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .tables import TableData, merge_overrides, write_figure

__all__ = ["BeyondData", "run_beyond_j5", "run_fairness", "beyond_steps", "save_beyond",
           "BEYOND_J5_DEFAULTS", "FAIRNESS_DEFAULTS"]

BEYOND_J5_DEFAULTS: dict[str, Any] = {
    "pt_dbm": tuple(float(v) for v in range(0, 31, 2)),
    "n_ant": 256,
    "schemes": ("ras", "mrc", "zf", "rbf", "svd", "svd-pa", "svd-dlpa", "svd-opt", "svd-mf", "svd-maxmin"),
}
FAIRNESS_DEFAULTS: dict[str, Any] = {
    "pt_dbm": tuple(float(v) for v in range(0, 31, 2)),
    "n_ant": 256,
    "n_users": 4,
}
_J8_USERS = 6
#: Curve labels of the literature's baselines (the papers' schemes keep theirs).
_BASELINE_LABELS = {"zf": "ZF (no AN)", "rbf": "RBF (isotropic)"}
#: Their line styles (colours the papers' and svd-* curves do not use).
_BASELINE_STYLES = {"ZF (no AN)": {"color": "tab:brown", "marker": "X", "linestyle": (0, (5, 2))},
                    "RBF (isotropic)": {"color": "tab:pink", "marker": "v", "linestyle": (0, (1, 2))}}
#: (label, scheme, options) of the fairness figure: papers' subspaces, then svd-mf's (matched, targeted).
_FAIR_ALLOC = (
    ("svd-pa", "svd-pa", {"shaping": "isotropic"}),
    ("svd-opt", "svd-opt", {"shaping": "isotropic"}),
    ("svd-maxmin", "svd-maxmin", {"shaping": "isotropic"}),
    ("svd-mf", "svd-mf", {}),
    ("svd-maxmin (matched, targeted)", "svd-maxmin", {"shaping": "matched", "jamming": "targeted"}),
)


@dataclass(frozen=True)
class BeyondData(TableData):
    """A computed beyond-the-papers figure: a :class:`~nfkg.studies.tables.TableData` (the table, its
    text and claims, which are empty here: no paper claims to check) plus its curves.

    Attributes
    ----------
    x : ndarray
        :math:`P_t` [dBm].
    curves : dict
        ``{panel: {label: y}}`` with ``y`` of shape ``x.shape`` [bits/probing].
    y_label : str
    shown_pt : tuple of float or None
        The P_t values listed in the report's table (the CSV has every P_t).
    """

    x: np.ndarray = field(default_factory=lambda: np.zeros(0))
    curves: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    y_label: str = "Sum SKR (bits/probing)"
    shown_pt: tuple[float, ...] | None = None

    def formatted_rows(self) -> list[list[str]]:
        """Cells as text, numbers with 4 significant digits (only the rows at ``shown_pt``, if set;
        the CSV has them all)."""
        rows = self.rows if self.shown_pt is None else [r for r in self.rows if r[0] in self.shown_pt]
        return [[f"{float(v):.4g}" if isinstance(v, (float, np.floating)) else str(v) for v in row]
                for row in rows]


def _params(defaults: Mapping[str, Any], overrides: Mapping[str, Any] | None, fig_id: str) -> dict[str, Any]:
    from ..model.limits import LIMITS

    p = merge_overrides(defaults, overrides, fig_id)
    pt = np.atleast_1d(np.asarray(p["pt_dbm"], dtype=float))
    if pt.ndim != 1 or pt.size == 0 or np.any(LIMITS["pt_dbm"].reasons(pt)):
        raise ValueError(f"{fig_id}.pt_dbm: must be a list of numbers in {LIMITS['pt_dbm'].range_text()}, "
                         f"got {p['pt_dbm']!r}")
    p["pt_dbm"] = tuple(float(v) for v in pt)
    n_ant = p["n_ant"]
    if isinstance(n_ant, bool) or not isinstance(n_ant, (int, np.integer)) or np.any(LIMITS["antennas"].reasons(
            np.asarray([n_ant]))):
        raise ValueError(f"{fig_id}.n_ant: must be an integer in {LIMITS['antennas'].range_text()}, got {n_ant!r}")
    p["n_ant"] = int(n_ant)
    if "n_users" in p:
        k = p["n_users"]
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= _J8_USERS:
            raise ValueError(f"{fig_id}.n_users: must be an integer in 1..{_J8_USERS} (the users of J8), got {k!r}")
        p["n_users"] = int(k)
    if "schemes" in p:
        from ..schemes.precoding import get_scheme

        p["schemes"] = tuple([p["schemes"]] if isinstance(p["schemes"], str) else p["schemes"])
        for s in p["schemes"]:
            try:
                get_scheme(s)
            except ValueError as e:
                raise ValueError(f"{fig_id}.schemes: {str(e).removeprefix('scheme: ')}") from None
    return p


def beyond_steps(overrides: Mapping[str, Any] | None = None) -> int:
    """Progress steps (one per scheme or allocation)."""
    return len(dict(overrides or {}).get("schemes", BEYOND_J5_DEFAULTS["schemes"]))


def _fairness_steps(overrides: Mapping[str, Any] | None = None) -> int:
    return len(_FAIR_ALLOC)


def _j_scenario(fig_id: str, pt: Sequence[float], n_ant: int, n_users: int | None = None):
    from .experiments import _scenario, resolve_params

    params = resolve_params(fig_id, {"pt_dbm": list(pt), "n_ant": n_ant})
    return _scenario(params, "pt_dbm", np.asarray(params["pt_dbm"]), params["n_ant"], n_users=n_users)


def _label(scheme: str) -> str:
    """Curve label: the papers' label, a baseline's, or the registry name (plug-ins)."""
    from .experiments import scheme_label

    label = scheme_label(scheme)
    return _BASELINE_LABELS.get(scheme, label) if label == scheme else label


def _ratio_text(r: float) -> str:
    return f"{r:.3g}x" if np.isfinite(r) else "n/a"


def run_beyond_j5(overrides: Mapping[str, Any] | None = None,
                  progress: Callable[[int], None] | None = None) -> BeyondData:
    """Sum SKR versus P_t on the J5 geometry for every scheme (see the module docstring)."""
    from ..schemes.precoding import evaluate, get_scheme

    p = _params(BEYOND_J5_DEFAULTS, overrides, "beyond-j5")
    t0 = time.perf_counter()
    scen = _j_scenario("j5", p["pt_dbm"], p["n_ant"])
    x = np.asarray(p["pt_dbm"])
    sums: dict[str, np.ndarray] = {}
    mins: dict[str, np.ndarray] = {}
    for s in p["schemes"]:
        shaping = "isotropic" if get_scheme(s).uses_shaping else None
        ev = evaluate(scen, s, shaping)
        sums[s] = np.asarray(ev.sum_skr, dtype=float)
        mins[s] = np.asarray(ev.skr.min(-1), dtype=float)
        if progress is not None:
            progress(1)
    seconds = time.perf_counter() - t0
    header = ["pt_dbm", *(_label(s) for s in p["schemes"])]
    has_ratio = "svd-mf" in sums and "svd-pa" in sums
    if has_ratio:
        header.append("svd-mf / svd-pa")
    rows = []
    for i, pt in enumerate(x):
        row = [float(pt), *(float(sums[s][i]) for s in p["schemes"])]
        if has_ratio:
            row.append(float(sums["svd-mf"][i] / sums["svd-pa"][i]) if sums["svd-pa"][i] > 0 else float("nan"))
        rows.append(row)
    text = (f"Sum SKR (bits/probing, general engine, true BS noise) versus P_t on the J5 geometry "
            f"(N = {p['n_ant']}, Eves 2 cm closer than their users); the papers' schemes with isotropic "
            "shaping and jamming (J), svd-opt and svd-maxmin on the same subspaces, svd-mf with matched "
            "shaping and targeted jamming.")
    if has_ratio:
        sel = (x >= 20) & (x <= 30)
        ratio = sums["svd-mf"] / np.where(sums["svd-pa"] > 0, sums["svd-pa"], np.nan)
        text += (f" svd-mf over svd-pa: {_ratio_text(float(np.nanmean(ratio)))} on average over the grid"
                 + (f", {_ratio_text(float(np.nanmin(ratio[sel])))} to {_ratio_text(float(np.nanmax(ratio[sel])))}"
                    " at 20-30 dBm" if np.any(sel) else "") + ".")
    if "svd-opt" in sums and "svd-pa" in sums:
        text += (f" The exact split alone (svd-opt) adds {float(np.mean(sums['svd-opt'] - sums['svd-pa'])):+.3g} "
                 "bits on average to svd-pa; the subspaces (svd-mf) make the difference.")
    if "svd-maxmin" in mins and "svd-opt" in mins:
        text += (f" svd-maxmin trades sum for fairness: its smallest user SKR is at least svd-opt's "
                 f"(largest gain {float(np.max(mins['svd-maxmin'] - mins['svd-opt'])):+.3g} bits) at a sum "
                 f"{float(np.mean(sums['svd-opt'] - sums['svd-maxmin'])):.3g} bits lower on average.")
    text += _baselines_text(x, sums)
    text += f" Computed in {seconds:.1f} s."
    params = {"geometry": "J5", "n_ant": p["n_ant"], "pt_dbm": p["pt_dbm"], "schemes": p["schemes"],
              "shaping": "isotropic (svd-mf: matched, targeted jamming)", "scoring": "general"}
    return BeyondData("beyond-j5", "Sum SKR versus P_t, schemes beyond the papers",
                      "J5 geometry", header, rows, params, text, seconds, [], x,
                      {"": {_label(s): sums[s] for s in p["schemes"]}})


def _baselines_text(x: np.ndarray, sums: Mapping[str, np.ndarray]) -> str:
    """The sentence on the literature's baselines zf and rbf (whichever are shown)."""
    text = ""
    top = int(np.argmax(x))
    if "zf" in sums:
        text += (f" zf (zero-forcing beam focusing, no artificial noise) nulls every Eve, so its key needs "
                 f"the beam to keep gain once the close Eve's channel is projected out: "
                 f"{float(sums['zf'][int(np.argmin(x))]):.3g} bits at {float(x.min()):g} dBm, "
                 f"{float(sums['zf'][top]):.3g} at {float(x.max()):g} dBm")
        if "svd-mf" in sums:
            diff = sums["zf"] - sums["svd-mf"]
            i = int(np.argmax(diff))
            text += (f" (svd-mf {float(sums['svd-mf'][top]):.3g}; zf is ahead by at most {float(diff[i]):+.2g} bits"
                     f", at {float(x[i]):g} dBm: its coherent beam lies outside svd-mf's family of independent "
                     "signal and jamming beams)" if diff[i] > 0 else
                     f" (svd-mf {float(sums['svd-mf'][top]):.3g}, never below zf)")
        text += "."
    if "rbf" in sums:
        text += (f" rbf (isotropic random beamforming) gives at most {float(np.max(sums['rbf'])):.2g} bits: "
                 "an Eve 2 cm from her user observes almost what the user does.")
    return text


def run_fairness(overrides: Mapping[str, Any] | None = None,
                 progress: Callable[[int], None] | None = None) -> BeyondData:
    """Per-user SKR of the sum-SKR allocations against svd-maxmin on the J8 geometry."""
    from ..schemes.precoding import evaluate

    p = _params(FAIRNESS_DEFAULTS, overrides, "fairness")
    t0 = time.perf_counter()
    k = p["n_users"]
    scen = _j_scenario("j8", p["pt_dbm"], p["n_ant"], n_users=k)
    x = np.asarray(p["pt_dbm"])
    skr: dict[str, np.ndarray] = {}
    for label, s, opts in _FAIR_ALLOC:
        skr[label] = np.asarray(evaluate(scen, s, **opts).skr, dtype=float)   # (n_pt, K)
        if progress is not None:
            progress(1)
    seconds = time.perf_counter() - t0
    header = ["pt_dbm", "allocation", *(f"user {i + 1}" for i in range(k)), "smallest", "sum"]
    rows = [[float(pt), label, *(float(v) for v in skr[label][i]), float(skr[label][i].min()),
             float(skr[label][i].sum())] for i, pt in enumerate(x) for label, _, _ in _FAIR_ALLOC]
    curves = {label: {f"user {i + 1}": skr[label][:, i] for i in range(k)} for label, _, _ in _FAIR_ALLOC}
    curves["smallest user SKR"] = {label: skr[label].min(-1) for label, _, _ in _FAIR_ALLOC}
    mins = {label: skr[label].min(-1) for label in skr}


    mm_mt = "svd-maxmin (matched, targeted)"
    from .experiments import get_preset

    j8 = get_preset("j8").params
    psi = np.asarray(j8["psi_b"][:k], dtype=float)
    where = ", ".join(f"user {i + 1} at ({j8['r_b'][i]:g} m, {j8['psi_b'][i]:g})" for i in range(k))
    gain_mf = mins[mm_mt] - mins["svd-mf"]
    i = int(np.argmax(gain_mf))
    u = int(np.argmin(skr["svd-mf"][i]))
    others = np.delete(skr["svd-mf"][i], u)
    gap = float(np.min(np.abs(np.delete(psi, u) - psi[u]))) if k > 1 else float("nan")
    n_close = int(np.sum(np.abs(np.delete(psi, u) - psi[u]) <= gap + 1e-9)) if k > 1 else 0
    text = (f"Per-user SKR (bits/probing) versus P_t on the J8 geometry, K = {k} ({where}; every Eve 2 cm "
            f"closer at its user's angle), N = {p['n_ant']}, general engine. The sum-SKR allocations serve "
            f"the users unequally: at {x[i]:g} dBm svd-mf gives user {u + 1} {float(skr['svd-mf'][i, u]):.3g} bits "
            f"(the others {float(others.min()) if others.size else float('nan'):.3g} to "
            f"{float(others.max()) if others.size else float('nan'):.3g}) while svd-maxmin on the same "
            f"(matched, targeted) subspaces gives every user {float(mins[mm_mt][i]):.3g} bits, "
            f"{float(gain_mf[i]):+.3g} bits for the worst-served user. Since all Eves are equally close "
            f"here, the starved user is set by the users' geometry: user {u + 1} (at {j8['r_b'][u]:g} m) has "
            f"{n_close} other user(s) {gap:.2g} rad away in angle. With the papers' (isotropic) subspaces every user is pinned near "
            f"1 bit by its close Eve and svd-opt is already nearly fair (svd-maxmin gains at most "
            f"{float(np.max(mins['svd-maxmin'] - mins['svd-opt'])):.2g} bits over it; "
            f"{float(np.max(mins['svd-maxmin'] - mins['svd-pa'])):.3g} over svd-pa). The price of fairness: "
            f"svd-maxmin's sum SKR is at most {float(np.max(skr['svd-mf'].sum(-1) - skr[mm_mt].sum(-1))):.3g} "
            f"bits below svd-mf's. Computed in {seconds:.1f} s.")
    tens = tuple(float(v) for v in x if float(v) % 10 == 0)
    shown = tens if 0 < len(tens) < x.size else None
    if shown is not None:
        text += f" The table lists P_t = {', '.join(f'{v:g}' for v in shown)} dBm; the CSV has every P_t."
    params = {"geometry": f"J8, K = {k}", "n_ant": p["n_ant"], "pt_dbm": p["pt_dbm"],
              "allocations": tuple(label for label, _, _ in _FAIR_ALLOC), "scoring": "general"}
    return BeyondData("fairness", "Per-user SKR, sum-SKR allocations against max-min",
                      "J8 geometry", header, rows, params, text, seconds, [], x, curves,
                      "SKR (bits/probing)", shown)


_PALETTE = ("tab:red", "black", "tab:cyan", "tab:orange", "tab:purple", "tab:green", "tab:gray")


def save_beyond(data: BeyondData, out_dir: str | os.PathLike, formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    """Draw one panel per entry of ``data.curves``; write ``<id>.<fmt>`` and ``<id>.csv`` (images first)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .plotting import _SCHEME_STYLE as _STYLED

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    panels = list(data.curves)
    n = len(panels)
    cols = min(n, 3)
    rows = -(-n // cols)
    fig = Figure(figsize=(6.0 if n == 1 else 4.0 * cols, 4.2 if n == 1 else 3.3 * rows))
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False, sharex=True)
    user_colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]
    for j, panel in enumerate(panels):
        ax = axes[j // cols][j % cols]
        for i, (label, y) in enumerate(data.curves[panel].items()):
            if label.startswith("user "):
                style = {"color": user_colors[i % len(user_colors)], "marker": "o", "linestyle": "-"}
            elif label in _BASELINE_STYLES:
                style = _BASELINE_STYLES[label]
            elif label in _STYLED:  # whole label (curve_style would split 'SVD MF (matched, ...' at ', ')
                color, marker, ls = _STYLED[label]
                style = {"color": color, "marker": marker, "linestyle": ls}
            else:
                style = {"color": _PALETTE[i % len(_PALETTE)], "marker": "os^DPx*"[i % 7], "linestyle": "-"}
            ax.plot(data.x, y, label=label, markerfacecolor="none", markersize=4, **style)
        if panel:
            ax.set_title(panel, fontsize=9)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
        ax.set_xlabel(r"Transmit power $P_t$ (dBm)")
        ax.set_ylabel(data.y_label)
    for j in range(n, rows * cols):
        axes[j // cols][j % cols].axis("off")
    fig.suptitle(f"{data.paper_ref}: {data.title}", fontsize=9)
    fig.tight_layout()
    return write_figure(fig, data, out_dir, formats)
