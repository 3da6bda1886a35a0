"""Paper-style plots of :class:`~nfkg.studies.experiments.FigureData`.

A thin layer over :mod:`nfkg.studies.experiments`: the data carries the curves and labels,
this module only draws them in IEEE single-column style (3.5 in x 2.6 in, 8 pt
fonts, one marker and line style per scheme, grid, legend, no title: the caption
belongs to the report).

Two cases are drawn differently from a plain line:

* a curve that oscillates faster than the figure can show (C Fig. 5's MRC: 3,001 points,
  hundreds of sidelobes, which a line renders as a solid block) is drawn as its
  running min-max envelope (:func:`envelope`): a light band between the two, the lower
  envelope (the worst case for the key) in the scheme's style with markers, labelled
  ``'MRC (min-max envelope)'``; every point is still in the CSV;
* curves in variants (J Fig. 8: ``'MRC, K=4'``, ``'MRC, K=6'``) get a compact legend above
  the axes: one entry per scheme (colour and marker) and one per variant (line style).

Linear axes get 10 % headroom above the highest curve, so no curve runs along the frame.

matplotlib is imported inside the functions, so ``import nfkg`` stays light, and
no global state is changed: figures are built with :class:`matplotlib.figure.Figure`
(no pyplot, no backend switch), rendered by the Agg (PNG) and PDF canvases, and the
style is applied through :func:`matplotlib.rc_context`.

Contents
--------
STYLE_RC
    The rcParams used (8 pt fonts, TrueType fonts embedded in PDF).
curve_style
    Colour, marker and line style of a curve label.
plot_figure
    Draw one figure on an axes.
envelope
    Running minimum and maximum of a curve that oscillates faster than it can be drawn.
save_figure
    Write ``<id>.png`` (300 dpi), ``<id>.pdf`` (Type 42 fonts) and ``<id>.csv``
    (other formats of :data:`FORMATS` on request).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .experiments import FigureData

__all__ = ["STYLE_RC", "FIGSIZE", "FORMATS", "curve_style", "envelope", "plot_figure", "save_figure"]

#: IEEE single-column figure size [in].
FIGSIZE = (3.5, 2.6)

#: rcParams applied while drawing and saving.
STYLE_RC: dict[str, Any] = {
    "font.size": 8,
    "axes.labelsize": 8,
    "axes.titlesize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "legend.framealpha": 1.0,  # opaque: PS/EPS have no transparency
    "lines.linewidth": 1.1,
    "lines.markersize": 4,
    "axes.grid": True,
    "grid.linewidth": 0.4,
    "grid.color": "#d0d0d0",
    "pdf.fonttype": 42,  # embed TrueType (Type 42), not Type 3: IEEE PDF eXpress
    "ps.fonttype": 42,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.02,
}

# Per scheme: colour, marker, line style (fixed, so a scheme looks the same in every figure).
_SCHEME_STYLE: dict[str, tuple[str, str, Any]] = {
    "RAS w/o P": ("tab:gray", "v", ":"),
    "MRC": ("tab:green", "s", "-."),
    "SVD w/o PA": ("tab:blue", "o", "--"),
    "SVD w/ PA": ("tab:red", "^", "-"),
    "SVD w/ DLPA": ("tab:purple", "D", (0, (5, 1, 1, 1))),
    "SVD opt (exact)": ("black", "x", (0, (1, 1))),
    "SVD MF (matched, targeted, exact)": ("tab:orange", "P", "-"),
    "SVD max-min": ("tab:cyan", "*", (0, (3, 1))),
    "ZF (no AN)": ("tab:brown", "X", (0, (5, 2))),
    "RBF (isotropic)": ("tab:pink", "v", (0, (1, 2))),
}
_FALLBACK = [("tab:orange", "P", (0, (3, 1))), ("tab:brown", "X", (0, (1, 1))),
             ("tab:pink", "*", (0, (4, 2, 1, 2))), ("tab:olive", "h", (0, (6, 2)))]
# Variants after ", " in a label (J Fig. 8: K=4 solid, K=6 dashed, as in the paper).
_VARIANT_LINESTYLES: list[Any] = ["-", "--", ":", "-."]

_N_MARKERS = 9  # markers per curve


def _split_variant(label: str) -> tuple[str, str]:
    """``('MRC', 'K=6')`` for ``'MRC, K=6'`` (the variant after the last comma); a known label is kept whole (``'SVD MF (matched,
    targeted, exact)'`` has commas but no variant)."""
    if label in _SCHEME_STYLE or ", " not in label:
        return label, ""
    base, _, variant = label.rpartition(", ")
    return base, variant


def curve_style(label: str, variants: list[str] | None = None) -> dict[str, Any]:
    """Matplotlib keywords (colour, marker, line style) of a curve label.

    ``'SVD w/ PA'`` gets its scheme's style; ``'SVD w/ PA, K=6'`` gets the scheme's
    colour and marker and a line style per variant (solid for the first, dashed
    for the second, ...), ``variants`` listing the variants of the figure in order.

    >>> curve_style("SVD w/ PA")["marker"]
    '^'
    >>> curve_style("MRC, K=6", ["K=4", "K=6"])["linestyle"]
    '--'
    >>> curve_style("SVD MF (matched, targeted, exact)")["marker"]
    'P'
    """
    base, variant = _split_variant(label)
    if base in _SCHEME_STYLE:
        color, marker, ls = _SCHEME_STYLE[base]
    else:
        color, marker, ls = _FALLBACK[sum(map(ord, base)) % len(_FALLBACK)]
    if variant:
        i = (variants or [variant]).index(variant) if variant in (variants or [variant]) else 0
        ls = _VARIANT_LINESTYLES[i % len(_VARIANT_LINESTYLES)]
    return {"color": color, "marker": marker, "linestyle": ls}


def _markevery(n: int, i: int, n_curves: int) -> Any:
    """About ``_N_MARKERS`` markers, staggered between curves so they do not overlap."""
    if n <= 2 * _N_MARKERS:
        return None
    step = max(1, n // _N_MARKERS)
    return (int(i * step // max(n_curves, 1)), step)


#: A curve with more local extrema than this, whose running min-max band is wider than
#: :data:`_DENSE_BAND` of the axis range (median over the curve), is drawn as an envelope.
_DENSE_EXTREMA = 60
_DENSE_BAND = 0.02
#: Headroom above the highest curve on a linear y-axis (fraction of the top value).
_HEADROOM = 0.10


def _n_extrema(y: np.ndarray) -> int:
    d = np.diff(y[np.isfinite(y)])
    d = d[d != 0]
    return int(np.count_nonzero(np.diff(np.sign(d))))


def envelope(y, window: int | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Running minimum and maximum of ``y`` over ``window`` points centred on each point.

    Parameters
    ----------
    y : array_like, shape ``(n,)``
    window : int, optional
        Odd number of points (default: about three oscillations, ``3 n / #maxima``, at
        least 3).

    Returns
    -------
    lower, upper : ndarray, shape ``(n,)``
    window : int
        The window used.

    Examples
    --------
    >>> lo, hi, w = envelope(np.array([0.0, 2.0, 0.0, 2.0, 0.0]), window=3)
    >>> lo.tolist(), hi.tolist(), w
    ([0.0, 0.0, 0.0, 0.0, 0.0], [2.0, 2.0, 2.0, 2.0, 2.0], 3)
    """
    y = np.asarray(y, dtype=float)
    n = y.size
    if window is None:
        maxima = max(1, _n_extrema(y) // 2)
        window = max(3, int(3 * n // maxima))
    window = int(window) | 1                       # odd: centred
    window = min(window, n if n % 2 else n - 1) if n > 1 else 1
    half = window // 2
    pad_lo = np.pad(y, half, mode="constant", constant_values=np.inf)
    pad_hi = np.pad(y, half, mode="constant", constant_values=-np.inf)
    view = np.lib.stride_tricks.sliding_window_view
    return view(pad_lo, window).min(axis=-1), view(pad_hi, window).max(axis=-1), window


def _is_dense(y: np.ndarray, span: float) -> bool:
    """Whether a line would render ``y`` as a block: many extrema and a wide min-max band."""
    if y.size < 4 * _DENSE_EXTREMA or _n_extrema(y) <= _DENSE_EXTREMA or not span > 0:
        return False
    lo, hi, _ = envelope(y)
    return bool(np.median(hi - lo) > _DENSE_BAND * span)


def _legend_overlap(ax, legend) -> int:
    """Number of (densified) curve points that fall inside the legend box."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    box = legend.get_window_extent(renderer).expanded(1.04, 1.08)
    hits = 0
    for line in ax.get_lines():
        xy = ax.transData.transform(np.column_stack(line.get_data()).astype(float))
        xy = xy[np.all(np.isfinite(xy), axis=1)]
        if len(xy) < 2:
            continue
        t = np.linspace(0.0, len(xy) - 1.0, max(400, len(xy)))
        dense = np.column_stack([np.interp(t, np.arange(len(xy)), xy[:, j]) for j in (0, 1)])
        hits += int(np.sum((dense[:, 0] >= box.x0) & (dense[:, 0] <= box.x1)
                           & (dense[:, 1] >= box.y0) & (dense[:, 1] <= box.y1)))
    return hits


def _place_legend(ax, n_curves: int) -> None:
    """Legend where it hides no curve: matplotlib's 'best', else on top with headroom."""
    kw = dict(handlelength=2.6, columnspacing=1.0, borderaxespad=0.3, labelspacing=0.3)
    ncol = 2 if n_curves > 4 else 1
    legend = ax.legend(loc="best", ncol=ncol, **kw)
    if not hasattr(ax.figure.canvas, "get_renderer") or _legend_overlap(ax, legend) == 0:
        return
    ncol = 2 if n_curves > 1 else 1
    bottom, top = ax.get_ylim()
    ymax = max((np.nanmax(np.asarray(ln.get_ydata(), dtype=float)) for ln in ax.get_lines()), default=top)
    for extra in np.arange(0.15, 2.01, 0.05):
        ax.set_ylim(bottom, bottom + (ymax - bottom) * (1.0 + extra))
        legend = ax.legend(loc="upper center", ncol=ncol, **kw)
        if _legend_overlap(ax, legend) == 0:
            return


def plot_figure(data: FigureData, ax=None):
    """Draw the curves of ``data`` on ``ax`` (a new single-column figure if ``None``).

    Parameters
    ----------
    data : FigureData
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on (``ax.figure`` is the figure).
    """
    import matplotlib as mpl
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FixedLocator, NullLocator, ScalarFormatter

    with mpl.rc_context(STYLE_RC):
        if ax is None:
            fig = Figure(figsize=FIGSIZE)
            FigureCanvasAgg(fig)  # attach an Agg canvas to this figure only (no global backend)
            ax = fig.add_subplot()
        x = np.asarray(data.x, dtype=float)
        variants = list(dict.fromkeys(v for v in (_split_variant(lab)[1] for lab in data.curves) if v))
        n_curves = len(data.curves)
        finite = [np.asarray(y, dtype=float)[np.isfinite(y)] for y in data.curves.values()]
        finite = [f for f in finite if f.size]
        span = (max(float(f.max()) for f in finite) - min(float(f.min()) for f in finite)) if finite else 0.0
        linear = getattr(data, "y_scale", "linear") != "log"
        for i, (label, y) in enumerate(data.curves.items()):
            style = curve_style(label, variants)
            y = np.asarray(y, dtype=float)
            if linear and _is_dense(y, span):
                lo, hi, _ = envelope(y)
                ax.fill_between(x, lo, hi, color=style["color"], alpha=0.2, linewidth=0)
                ax.plot(x, lo, label=f"{label} (min-max envelope)", markevery=_markevery(x.size, i, n_curves),
                        markerfacecolor="none", markeredgewidth=0.9, clip_on=True, **style)
                continue
            ax.plot(x, y, label=label, markevery=_markevery(x.size, i, n_curves),
                    markerfacecolor="none", markeredgewidth=0.9, clip_on=True,
                    linewidth=0.6 if x.size > 500 else None, **style)
        if data.x_name == "n_ant" and x.size and np.all(x > 0):
            ax.set_xscale("log", base=2)
            pow2 = [v for v in x if float(v).is_integer() and (int(v) & (int(v) - 1)) == 0]
            ax.xaxis.set_major_locator(FixedLocator(pow2 or list(x)))
            ax.xaxis.set_major_formatter(ScalarFormatter())
            ax.xaxis.set_minor_locator(NullLocator())
        if x.size > 1:
            ax.set_xlim(x.min(), x.max())
        if getattr(data, "y_scale", "linear") == "log":
            ax.set_yscale("log")
            pos = [float(np.min(y[y > 0])) for y in data.curves.values() if np.any(np.asarray(y) > 0)]
            top = [float(np.max(y)) for y in data.curves.values() if np.any(np.asarray(y) > 0)]
            if pos:
                ax.set_ylim(min(pos) / 2, max(top) * 10)  # a decade of headroom for the legend
        else:
            top = max((float(f.max()) for f in finite), default=0.0)
            ax.set_ylim(0, top * (1.0 + _HEADROOM) if top > 0 else None)
        ax.set_xlabel(data.x_label)
        ax.set_ylabel(data.y_label)
        ax.grid(True, which="major")
        if variants:
            _variant_legend(ax, variants)
        if ax.figure.get_layout_engine() is None and ax is ax.figure.axes[0] and len(ax.figure.axes) == 1:
            ax.figure.tight_layout(pad=0.3)
        if not variants:
            _place_legend(ax, n_curves)
    return ax


def _variant_legend(ax, variants: list[str]) -> None:
    """A compact legend above the axes: one entry per scheme (colour, marker), one per variant (line style)."""
    from matplotlib.lines import Line2D

    schemes: dict[str, Any] = {}
    for line in ax.get_lines():
        base = _split_variant(str(line.get_label()))[0]
        if base.startswith("_") or base in schemes:
            continue
        schemes[base] = Line2D([], [], color=line.get_color(), marker=line.get_marker(), linestyle="-",
                               markerfacecolor="none", markeredgewidth=0.9, label=base)
    handles = [*schemes.values(),
               *(Line2D([], [], color="0.25", linestyle=_VARIANT_LINESTYLES[i % len(_VARIANT_LINESTYLES)], label=v)
                 for i, v in enumerate(variants))]
    ncol = min(4, len(handles))
    rows = -(-len(handles) // ncol)
    # matplotlib fills the legend column by column: reorder so that it reads row by row
    grid = [handles[r * ncol:(r + 1) * ncol] for r in range(rows)]
    handles = [grid[r][c] for c in range(ncol) for r in range(rows) if c < len(grid[r])]
    ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.01), ncol=ncol, frameon=False,
              handlelength=2.2, columnspacing=0.9, handletextpad=0.4, borderaxespad=0.2, labelspacing=0.25)


#: Image formats :func:`save_figure` can write (the CSV is always written).
FORMATS = ("png", "pdf", "svg", "eps", "ps")


def save_figure(data: FigureData, out_dir: str | os.PathLike,
                formats: Sequence[str] = ("png", "pdf")) -> list[Path]:
    """Write ``<out>/<id>.png`` (300 dpi), ``<out>/<id>.pdf`` and ``<out>/<id>.csv``.

    The PDF (and PS/EPS) embed their fonts as TrueType (``pdf.fonttype = 42``), as
    IEEE requires; PNG is rendered at 300 dpi.

    Parameters
    ----------
    data : FigureData
    out_dir : path
        Created if missing.
    formats : sequence of str
        Image formats, from :data:`FORMATS` (default PNG and PDF).

    Returns
    -------
    list of Path
        One path per image format, in the order given, then the CSV.

    Raises
    ------
    ValueError
        For an unknown format.
    """
    import matplotlib as mpl

    formats = list(dict.fromkeys(str(f).lower().lstrip(".") for f in formats))
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ValueError(f"formats: unknown format {bad[0]!r}; choose from {', '.join(FORMATS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{data.id}.{fmt}" for fmt in formats]
    with mpl.rc_context(STYLE_RC):
        fig = plot_figure(data).figure
        for path, fmt in zip(paths, formats):
            meta = {"Creator": "nfkg"} if fmt in ("pdf", "svg", "eps", "ps") else {}
            if fmt == "pdf":
                meta["CreationDate"] = None  # reproducible bytes
            fig.savefig(path, format=fmt, dpi=300, metadata=meta or None)
    csv_path = out / f"{data.id}.csv"
    data.to_csv(csv_path)
    return [*paths, csv_path]
