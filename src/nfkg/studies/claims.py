r"""The papers' claims about each figure, checked on computed curves.

The papers' statements are compared, not forced: a claim the curves do not support comes
back as ``fails`` with the measured numbers. Per figure (:func:`check_claims`): the rises
with P_t, the orderings of the schemes, the dips where Eve meets the user ("about 0"), the
symmetry of C Fig. 5, J's reported average gains (J Fig. 5) and J Fig. 9's KDR orderings
within Monte Carlo error. How each kind is judged, with its thresholds, is in
:mod:`nfkg.studies.claim_rules`.

Contents
--------
check_claims
    All claims of one :class:`~nfkg.studies.experiments.FigureData`.
Claim, count_status, skr_floor, STATUSES, ABOUT_ZERO, SKR_FLOOR, FLOOR_TOL, RTOL
    Re-exported from :mod:`nfkg.studies.claim_rules`.

SVD w/ DLPA (``'svd-dlpa'``, the shipped KGSVD-Net models) is in
:data:`nfkg.studies.experiments.J_SCHEMES`, so its claims are checked like the others.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .claim_rules import (ABOUT_ZERO, FLOOR_TOL, RTOL, SKR_FLOOR, STATUSES, Claim,  # noqa: F401 - re-exported
                          count_status, skr_floor)
from .claim_rules import (_DLPA, _MRC, _PA, _RAS, _WO, _about_zero, _about_zero_text, _dip, _g, _mc_se, _n_users,
                          _nearest, _ordering, _ref, _rises, _scale, _unavailable)
from .experiments import FigureData

__all__ = ["Claim", "check_claims", "count_status", "skr_floor", "STATUSES", "ABOUT_ZERO",
           "SKR_FLOOR", "FLOOR_TOL", "RTOL"]


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
            i = int(np.argmax(np.where(below, c[_MRC], -np.inf)))
            out.append(_about_zero(_about_zero_text("MRC about 0 for r_e <= r_b"),
                                   {"max MRC(r_e <= r_b)": float(c[_MRC][i])}, _ref(c), _n_users(d),
                                   f" at r_e = {_g(d.x[i])} m"))
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
    vals = {k: float(y[i0]) for k, y in c.items()}
    if vals:
        out.append(_about_zero(_about_zero_text(f"SKR about 0 at psi_e = psi_b = {_g(psi_b)}"), vals,
                               _ref(c), _n_users(d)))
    for label in (_PA, _MRC):
        if label in c and c[label].size > 4:
            y = c[label]
            peaks = int(np.sum((y[1:-1] > y[:-2]) & (y[1:-1] > y[2:])))
            out.append(Claim(f"{label} shows sidelobe ripples", "periodic fluctuations",
                             f"{peaks} local maxima", peaks >= 4))
    out += [_ordering(c, _PA, _WO, paper="SVD w/ PA shows an advantage over SVD w/o PA"),
            _ordering(c, _PA, _MRC, paper="SVD w/ PA shows an advantage over MRC"),
            _ordering(c, _WO, _MRC, paper="not stated (expected: SVD w/ PA >= w/o PA >= MRC)")]
    return out


def _claims_j4(d: FigureData) -> list[Claim]:
    c = d.curves
    out = _dip(d, [k for k in (_MRC, _WO, _PA) if k in c] + [_DLPA], 0.0, "dpsi = 0")
    if _RAS in c:  # RAS has no beam: it is low everywhere, the paper only says "nearly 0" at dpsi = 0
        out.append(_about_zero(_about_zero_text(f"{_RAS} about 0 at dpsi = 0"),
                               {f"{_RAS}(0)": float(c[_RAS][_nearest(d.x, 0.0)])}, _ref(c), _n_users(d)))
    nz = np.abs(d.x) > 1e-12
    out += [_ordering(c, _PA, _WO, mask=nz, paper="SVD w/ PA better than SVD w/o PA when dpsi != 0"),
            _ordering(c, _WO, _MRC, mask=nz, paper="SVD schemes superior to MRC"),
            _ordering(c, _PA, _MRC, mask=nz, paper="SVD schemes superior to MRC"),
            _ordering(c, _DLPA, _MRC, mask=nz, paper="SVD schemes superior to MRC")]
    return out


def _gain_claim(c, hi: str, lo: str, paper: float) -> Claim | None:
    text = f"Average gain of {hi} over {lo} across P_t (within 20% of the paper's value)"
    if hi not in c or lo not in c:
        return _unavailable(c, text, f"+{paper}", hi, lo)
    gain = float(np.mean(c[hi] - c[lo]))
    ratio = float(np.mean(c[hi]) / np.mean(c[lo])) if np.mean(c[lo]) > 0 else np.inf
    return Claim(text, f"+{paper}", f"mean({hi} - {lo}) = {_g(gain)} bits/probing "
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
        ref = _ref(c)
        out.append(Claim(f"RAS w/o P close to MRC (max gap < {ABOUT_ZERO:.0%} of max {_PA})", "close",
                         f"max |RAS - MRC| = {_g(diff)}; max {_PA} = {_g(ref)}", bool(diff < ABOUT_ZERO * ref)))
    return out


def _claims_j6(d: FigureData) -> list[Claim]:
    c = d.curves
    out = _dip(d, [k for k in (_WO, _PA) if k in c] + [_DLPA], 0.0, "dr = 0")
    if _MRC in c:
        out.append(_rises(c, _MRC, "dr", paper="increasing trend"))
        ref = _ref(c)
        m = float(np.max(c[_MRC]))
        out.append(Claim("MRC remains low (max below the SVD w/ PA curve's max)", "relatively low",
                         f"max MRC = {_g(m)}; max {_PA} = {_g(ref)}", bool(m < ref)))
    out += [_ordering(c, _PA, _WO, paper="not stated (expected: SVD w/ PA >= SVD w/o PA)"),
            _ordering(c, _WO, _MRC, paper="MRC relatively low"),
            _ordering(c, _DLPA, _WO, paper="SVD w/ DLPA better than SVD w/o PA")]
    return out


def _claims_j7(d: FigureData) -> list[Claim]:
    c = d.curves
    out = [_rises(c, k, "N", paper="SVD schemes improve with N") for k in (_WO, _PA, _DLPA)]
    out += [_ordering(c, _PA, _WO, paper="not stated (expected: SVD w/ PA >= SVD w/o PA)"),
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
            text, paper = f"{name}: sum SKR for K={k_hi} > K={k_lo} at every P_t", "increases with K"
            if lo in c and hi in c:
                diff = c[hi] - c[lo]
                ok = diff > 0
                out.append(Claim(text, paper,
                                 f"{int(ok.sum())}/{diff.size} points; gain {_g(diff.min())}..{_g(diff.max())}",
                                 bool(ok.all())))
            else:
                out.append(_unavailable(c, text, paper, lo, hi))
    for k in ks:
        for name in (_WO, _PA):
            out.append(_rises(c, f"{name}, K={k}", "P_t"))
    return out


def _claims_j9(d: FigureData) -> list[Claim]:
    """J Fig. 9 (Monte Carlo KDR): orderings judged within 3 Monte Carlo standard errors."""
    c = d.curves
    out = []
    for label in (_RAS, _MRC, _WO, _PA, _DLPA):
        if label not in c or c[label].size < 2:
            continue
        y = c[label]
        out.append(Claim(f"{label}: KDR falls with P_t (last point below the first)", "decreases",
                         f"{_g(y[0])} -> {_g(y[-1])}", bool(y[-1] < y[0])))
    present = [k for k in (_RAS, _MRC, _WO, _PA, _DLPA) if k in c]

    def extreme(label: str, text: str, paper: str, highest: bool = False) -> None:
        if label not in c or len(present) < 2:
            return
        others = [k for k in present if k != label]
        y = c[label]
        se = _mc_se(y, d)
        sign = -1.0 if highest else 1.0
        ok = np.all([sign * (y - c[k]) <= 3 * np.hypot(se, _mc_se(c[k], d)) for k in others], axis=0)
        out.append(Claim(text, paper, f"{int(ok.sum())}/{ok.size} points (within 3 Monte Carlo standard "
                         f"errors); mean {label} = {_g(np.mean(y))}, others "
                         + ", ".join(f"{k} {_g(np.mean(c[k]))}" for k in others), bool(ok.all())))

    extreme(_MRC, "MRC has the lowest KDR at every P_t", "MRC lowest")
    extreme(_RAS, "RAS w/o P has the highest KDR at every P_t", "RAS highest", highest=True)
    for hi, lo, paper in ((_PA, _WO, "SVD w/ PA above SVD w/o PA"), (_DLPA, _PA, "DLPA slightly above PA")):
        text = f"{hi} has a higher KDR than {lo} (on average over P_t)"
        if hi in c and lo in c:
            diff = c[hi] - c[lo]
            out.append(Claim(text, paper, f"mean({hi} - {lo}) = {_g(np.mean(diff))}; higher at "
                             f"{float(np.mean(diff > 0)):.0%} of the points", bool(np.mean(diff) > 0)))
        else:
            out.append(_unavailable(c, text, paper, hi, lo))
    return out


_CLAIMS: dict[str, Callable[[FigureData], list[Claim | None]]] = {
    "c3": _claims_c3, "c4": _claims_c4, "c5": _claims_c5, "j4": _claims_j4,
    "j5": _claims_j5, "j6": _claims_j6, "j7": _claims_j7, "j8": _claims_j8, "j9": _claims_j9,
}


def check_claims(data: FigureData) -> list[Claim]:
    r"""Check the papers' qualitative claims (and J's reported gains) on computed curves.

    The papers' statements are compared, not forced: a claim the curves do not
    support comes back with ``holds=False`` and the measured numbers. Claims about
    schemes that are not registered come back with
    ``holds=None`` (status ``'not checked'``); claims about curves that were not
    computed although their scheme exists (left out by an override) are skipped.

    Parameters
    ----------
    data : FigureData

    Returns
    -------
    list of Claim

    Notes
    -----
    "About 0" means at most the larger of the floor :math:`K(\text{floor}(1/K) + 0.05)`
    bits (Eve exactly on the user leaves :func:`skr_floor` per user,
    :math:`\log_2(4/3)` for one user) and :data:`ABOUT_ZERO` (10 %) of the largest
    SVD w/ PA value of the figure.
    Orderings and monotonicity allow :data:`RTOL` times the largest value of the
    figure (solver tolerance and round-off). J's average gains hold when the measured
    mean difference (bits/probing) is within 20 % of the paper's. See the module
    docstring for the rules.

    Examples
    --------
    >>> from nfkg.studies.experiments import run_figure
    >>> claims = check_claims(run_figure("c3", {"pt_dbm": [0, 20, 40]}))
    >>> all(c.holds for c in claims)
    True
    >>> sorted({c.status for c in check_claims(run_figure("j7", {"n_ant": [32, 64]}))})
    ['holds']
    """
    fn = _CLAIMS.get(data.id)
    if fn is None:
        return []
    return [c for c in fn(data) if c is not None]
