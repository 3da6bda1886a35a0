r"""The papers' claims about each figure, checked on computed curves (SPEC 7).

The papers' statements are compared, not forced: a claim the curves do not support
comes back with ``holds=False`` and the measured numbers.

Contents
--------
Claim
    One checked statement.
check_claims
    All claims of one :class:`~nfkg.experiments.FigureData`.
ABOUT_ZERO, RTOL
    Thresholds of "about 0" and of orderings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from .experiments import FigureData

__all__ = ["Claim", "check_claims", "ABOUT_ZERO", "RTOL"]

@dataclass(frozen=True)
class Claim:
    """One of SPEC 7's statements about a figure, checked on computed curves.

    Attributes
    ----------
    text : str
        The claim in words.
    paper_value : str
        What the paper says or reports.
    measured : str
        What nfkg measured, with numbers.
    holds : bool
        Whether the measured curves support the claim.
    """

    text: str
    paper_value: str
    measured: str
    holds: bool


_PA, _WO, _MRC, _RAS, _DLPA = "SVD w/ PA", "SVD w/o PA", "MRC", "RAS w/o P", "SVD w/ DLPA"
#: "about 0": below this fraction of the largest SVD w/ PA value of the figure.
ABOUT_ZERO = 0.10
#: Relative tolerance of orderings and monotonicity (solver tolerance, round-off).
RTOL = 1e-6


def _g(v: float) -> str:
    return format(float(v), ".4g")


def _scale(curves: Mapping[str, np.ndarray]) -> float:
    return max(float(np.max(np.abs(c))) for c in curves.values()) if curves else 1.0


def _ordering(curves, hi: str, lo: str, mask=None, paper: str | None = None) -> Claim | None:
    if hi not in curves or lo not in curves:
        return None
    d = curves[hi] - curves[lo]
    if mask is not None:
        d = d[mask]
    tol = RTOL * _scale(curves)
    ok = d >= -tol
    where = "" if mask is None else " (where stated)"
    return Claim(f"{hi} >= {lo} at every point{where}", paper or f"{hi} above {lo}",
                 f"{int(ok.sum())}/{d.size} points; min({hi} - {lo}) = {_g(d.min())}",
                 bool(ok.all()))


def _rises(curves, label: str, x_desc: str, paper="rises") -> Claim | None:
    if label not in curves:
        return None
    y = curves[label]
    if y.size < 2:
        return None
    d = np.diff(y)
    tol = RTOL * _scale(curves)
    ok = d >= -tol
    return Claim(f"{label} rises with {x_desc}", paper,
                 f"{_g(y[0])} -> {_g(y[-1])}; non-decreasing on {int(ok.sum())}/{d.size} steps",
                 bool(ok.all() and y[-1] > y[0]))


def _nearest(x: np.ndarray, v: float) -> int:
    return int(np.argmin(np.abs(np.asarray(x, dtype=float) - v)))


def _dip(data: FigureData, labels, at: float, at_desc: str) -> list[Claim]:
    """Each curve attains its minimum at x = ``at`` and is about 0 there."""
    out = []
    i0 = _nearest(data.x, at)
    ref = float(np.max(data.curves[_PA])) if _PA in data.curves else _scale(data.curves)
    for label in labels:
        if label not in data.curves or data.x.size < 3:
            continue
        y = data.curves[label]
        imin = int(np.argmin(y))
        tol = RTOL * _scale(data.curves)
        out.append(Claim(f"{label} has its minimum at {at_desc}", "minimum there",
                         f"argmin at x = {_g(data.x[imin])}; y({_g(data.x[i0])}) = {_g(y[i0])}, "
                         f"min y = {_g(y[imin])}", bool(y[i0] <= y[imin] + tol)))
    vals = {label: float(data.curves[label][i0]) for label in labels if label in data.curves}
    if vals and ref > 0:
        worst = max(vals.values())
        out.append(Claim(f"SKR about 0 at {at_desc} (< {ABOUT_ZERO:.0%} of max {_PA})", "about 0",
                         ", ".join(f"{k}: {_g(v)}" for k, v in vals.items())
                         + f"; max {_PA} = {_g(ref)} (ratio {_g(worst / ref)})",
                         bool(worst < ABOUT_ZERO * ref)))
    return out


def _claims_c3(d: FigureData) -> list[Claim]:
    c = d.curves
    out = [_rises(c, _WO, "P_t"), _rises(c, _PA, "P_t")]
    if _MRC in c and len(c) > 1:
        others = [k for k in c if k != _MRC]
        lowest = np.all([c[_MRC] <= c[k] + RTOL * _scale(c) for k in others], axis=0)
        out.append(Claim("MRC is the lowest curve", "MRC worst",
                         f"lowest at {int(lowest.sum())}/{lowest.size} points; MRC {_g(c[_MRC].min())}.."
                         f"{_g(c[_MRC].max())}", bool(lowest.all())))
    out += [_ordering(c, _PA, _WO, paper="SVD w/ PA outperforms SVD w/o PA"),
            _ordering(c, _WO, _MRC, paper="MRC poorest")]
    return out


def _claims_c4(d: FigureData) -> list[Claim]:
    c, p = d.curves, d.params
    r_b = float(np.atleast_1d(p["r_b"])[0])
    out = _dip(d, [_WO, _PA], r_b, f"r_e = r_b = {_g(r_b)} m")
    if _MRC in c:
        below = d.x <= r_b + 1e-12
        if below.any():
            ref = float(np.max(c[_PA])) if _PA in c else _scale(c)
            m = float(np.max(c[_MRC][below]))
            rng = (f"; {_PA} {_g(np.min(c[_PA]))}..{_g(np.max(c[_PA]))}" if _PA in c else "")
            out.append(Claim(f"MRC about 0 for r_e <= r_b (< {ABOUT_ZERO:.0%} of max {_PA})", "about 0",
                             f"max MRC(r_e <= r_b) = {_g(m)}{rng} (ratio {_g(m / ref)})",
                             bool(m < ABOUT_ZERO * ref)))
        above = d.x > r_b + 1e-12
        if above.any():
            m = float(np.max(c[_MRC][above]))
            out.append(Claim("MRC still generates keys for r_e > r_b", "SKR > 0",
                             f"max MRC(r_e > r_b) = {_g(m)}", bool(m > 1.0)))
    out += [_ordering(c, _PA, _WO, paper="SVD w/ PA better than SVD w/o PA"),
            _ordering(c, _WO, _MRC, paper="SVD curves on top, MRC lowest")]
    return out


def _claims_c5(d: FigureData) -> list[Claim]:
    c, p = d.curves, d.params
    out = []
    x = d.x
    mirror = np.array([_nearest(x, -v) for v in x])
    if np.allclose(x[mirror], -x, atol=1e-12, rtol=0):
        sym = {k: float(np.max(np.abs(y - y[mirror]))) / max(float(np.max(np.abs(y))), 1e-300)
               for k, y in c.items()}
        worst = max(sym.values())
        out.append(Claim("SKR symmetric about psi_e = 0", "symmetric",
                         "max |SKR(psi) - SKR(-psi)| / max SKR = "
                         + ", ".join(f"{k}: {_g(v)}" for k, v in sym.items()), bool(worst < 1e-6)))
    psi_b = float(np.atleast_1d(p["psi_b"])[0])
    i0 = _nearest(x, psi_b)
    ref = float(np.max(c[_PA])) if _PA in c else _scale(c)
    vals = {k: float(y[i0]) for k, y in c.items()}
    out.append(Claim(f"SKR about 0 at psi_e = psi_b = {_g(psi_b)} (< {ABOUT_ZERO:.0%} of max {_PA})",
                     "about 0", ", ".join(f"{k}: {_g(v)}" for k, v in vals.items())
                     + f"; max {_PA} = {_g(ref)}", bool(max(vals.values()) < ABOUT_ZERO * ref)))
    for label in (_PA, _MRC):
        if label in c and c[label].size > 4:
            y = c[label]
            peaks = int(np.sum((y[1:-1] > y[:-2]) & (y[1:-1] > y[2:])))
            out.append(Claim(f"{label} shows sidelobe ripples", "periodic fluctuations",
                             f"{peaks} local maxima", peaks >= 4))
    out += [_ordering(c, _PA, _WO, paper="SVD w/ PA shows an advantage over SVD w/o PA"),
            _ordering(c, _PA, _MRC, paper="SVD w/ PA shows an advantage over MRC"),
            _ordering(c, _WO, _MRC, paper="not stated (SPEC: SVD w/ PA >= w/o PA >= MRC)")]
    return out


def _claims_j4(d: FigureData) -> list[Claim]:
    c = d.curves
    out = _dip(d, [k for k in (_MRC, _WO, _PA, _DLPA) if k in c], 0.0, "dpsi = 0")
    if _RAS in c:  # RAS has no beam: it is low everywhere, the paper only says "nearly 0" at dpsi = 0
        ref = float(np.max(c[_PA])) if _PA in c else _scale(c)
        v = float(c[_RAS][_nearest(d.x, 0.0)])
        out.append(Claim(f"{_RAS} about 0 at dpsi = 0 (< {ABOUT_ZERO:.0%} of max {_PA})", "about 0",
                         f"{_RAS}(0) = {_g(v)}; max {_PA} = {_g(ref)}", bool(v < ABOUT_ZERO * ref)))
    nz = np.abs(d.x) > 1e-12
    out += [_ordering(c, _PA, _WO, mask=nz, paper="SVD w/ PA better than SVD w/o PA when dpsi != 0"),
            _ordering(c, _WO, _MRC, mask=nz, paper="SVD schemes superior to MRC"),
            _ordering(c, _PA, _MRC, mask=nz, paper="SVD schemes superior to MRC")]
    return out


def _gain_claim(c, hi: str, lo: str, paper: float) -> Claim | None:
    if hi not in c or lo not in c:
        return None
    gain = float(np.mean(c[hi] - c[lo]))
    ratio = float(np.mean(c[hi]) / np.mean(c[lo])) if np.mean(c[lo]) > 0 else np.inf
    return Claim(f"Average gain of {hi} over {lo} across P_t (within 20% of the paper's value)",
                 f"+{paper}", f"mean({hi} - {lo}) = {_g(gain)} bits/probing "
                 f"(mean {hi} = {_g(np.mean(c[hi]))}, mean {lo} = {_g(np.mean(c[lo]))}, ratio {_g(ratio)})",
                 bool(abs(gain - paper) <= 0.2 * abs(paper)))


def _claims_j5(d: FigureData) -> list[Claim]:
    c = d.curves
    out = [_rises(c, k, "P_t") for k in (_RAS, _MRC, _WO, _PA, _DLPA)]
    out += [_ordering(c, _WO, _MRC, paper="SVD w/o PA outperforms MRC"),
            _ordering(c, _WO, _RAS, paper="SVD w/o PA outperforms RAS w/o P"),
            _ordering(c, _PA, _WO, paper="SVD w/ PA slightly better than SVD w/o PA"),
            _gain_claim(c, _PA, _RAS, 10.25), _gain_claim(c, _DLPA, _PA, 0.59)]
    if _RAS in c and _MRC in c:
        diff = float(np.max(np.abs(c[_RAS] - c[_MRC])))
        ref = float(np.max(c[_PA])) if _PA in c else _scale(c)
        out.append(Claim(f"RAS w/o P close to MRC (max gap < {ABOUT_ZERO:.0%} of max {_PA})", "close",
                         f"max |RAS - MRC| = {_g(diff)}; max {_PA} = {_g(ref)}", bool(diff < ABOUT_ZERO * ref)))
    return out


def _claims_j6(d: FigureData) -> list[Claim]:
    c = d.curves
    out = _dip(d, [k for k in (_WO, _PA, _DLPA) if k in c], 0.0, "dr = 0")
    if _MRC in c:
        out.append(_rises(c, _MRC, "dr", paper="increasing trend"))
        ref = float(np.max(c[_PA])) if _PA in c else _scale(c)
        m = float(np.max(c[_MRC]))
        out.append(Claim("MRC remains low (max below the SVD w/ PA curve's max)", "relatively low",
                         f"max MRC = {_g(m)}; max {_PA} = {_g(ref)}", bool(m < ref)))
    out += [_ordering(c, _PA, _WO, paper="not stated (SPEC: SVD w/ PA >= SVD w/o PA)"),
            _ordering(c, _WO, _MRC, paper="MRC relatively low")]
    return out


def _claims_j7(d: FigureData) -> list[Claim]:
    c = d.curves
    out = [_rises(c, k, "N", paper="SVD schemes improve with N") for k in (_WO, _PA, _DLPA)]
    out += [_ordering(c, _PA, _WO, paper="not stated (SPEC: SVD w/ PA >= SVD w/o PA)"),
            _ordering(c, _WO, _MRC, paper="MRC barely improves; SVD schemes above")]
    return out


def _claims_j8(d: FigureData) -> list[Claim]:
    c = d.curves
    ks = d.params.get("n_users", ())
    out = []
    if len(ks) >= 2:
        k_lo, k_hi = min(ks), max(ks)
        for name in (_RAS, _MRC, _WO, _PA, _DLPA):
            lo, hi = f"{name}, K={k_lo}", f"{name}, K={k_hi}"
            if lo in c and hi in c:
                diff = c[hi] - c[lo]
                ok = diff > 0
                out.append(Claim(f"{name}: sum SKR for K={k_hi} > K={k_lo} at every P_t", "increases with K",
                                 f"{int(ok.sum())}/{diff.size} points; gain {_g(diff.min())}..{_g(diff.max())}",
                                 bool(ok.all())))
    for k in ks:
        for name in (_WO, _PA):
            out.append(_rises(c, f"{name}, K={k}", "P_t"))
    return out


_CLAIMS: dict[str, Callable[[FigureData], list[Claim | None]]] = {
    "c3": _claims_c3, "c4": _claims_c4, "c5": _claims_c5, "j4": _claims_j4,
    "j5": _claims_j5, "j6": _claims_j6, "j7": _claims_j7, "j8": _claims_j8,
}


def check_claims(data: FigureData) -> list[Claim]:
    """Check SPEC 7's qualitative claims (and J's reported gains) on computed curves.

    The papers' statements are compared, not forced: a claim the curves do not
    support comes back with ``holds=False`` and the measured numbers. Claims about
    curves that were not computed (schemes left out by an override) are skipped.

    Parameters
    ----------
    data : FigureData

    Returns
    -------
    list of Claim

    Notes
    -----
    "About 0" means below :data:`ABOUT_ZERO` (10 %) of the largest SVD w/ PA value
    of the figure. Orderings and monotonicity allow :data:`RTOL` times the largest
    value of the figure (solver tolerance and round-off). J's average gains hold
    when the measured mean difference (bits/probing) is within 20 % of the paper's.

    Examples
    --------
    >>> from nfkg.experiments import run_figure
    >>> claims = check_claims(run_figure("c3", {"pt_dbm": [0, 20, 40]}))
    >>> all(c.holds for c in claims)
    True
    """
    fn = _CLAIMS.get(data.id)
    if fn is None:
        return []
    return [c for c in fn(data) if c is not None]
