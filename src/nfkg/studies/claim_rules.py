r"""How a claim about a figure is judged: the claim, its states and the rules of the checks.

The papers' statements are compared, not forced: a claim the curves do not support
comes back as ``fails`` with the measured numbers.

The claims of each figure are in :mod:`nfkg.studies.claims`.

Contents
--------
Claim
    One checked statement, with :attr:`Claim.status` ``'holds'``, ``'fails'`` or
    ``'not checked'``.
skr_floor
    The SKR per user left when Eve sits exactly on the user (high SNR).
count_status
    ``{'holds': n, 'fails': n, 'not checked': n}`` of a list of claims.
STATUSES, ABOUT_ZERO, SKR_FLOOR, FLOOR_TOL, RTOL
    The three states and the thresholds below.

Rules
-----
*About 0.* When Eve sits exactly on the user (same distance and angle) she receives
what the user receives, and only the independence of the receivers' noises is left:
the SKR tends, at high SNR, not to 0 but to a floor. Given :math:`z_e`, the signal is
known up to :math:`n_e`, so the residuals are :math:`n_a - n_e` and :math:`n_b - n_e`;
with :math:`\mathrm{var}(n_b) = \mathrm{var}(n_e) = \sigma^2` and
:math:`\mathrm{var}(n_a) = t\sigma^2` their correlation is
:math:`\rho^2 = 1/(2(1+t))` and

.. math::

    \text{floor}(t) = -\log_2(1 - \rho^2) = \log_2\frac{2(1+t)}{1+2t}
    \quad\text{bit per user},

where :math:`t = P_{a,k}/P_b` is the BS's pilot noise :math:`P_{a,k}\sigma_a^2/(V P_b)`
relative to the user's (all noises equal in the presets). A single user
(C) has :math:`P_a = P_b`: the floor is :math:`\log_2(4/3) = 0.415` bit
(:data:`SKR_FLOOR`). K users sharing :math:`P_{\max} = P_b` equally have
:math:`t = 1/K`: :math:`\log_2(3/2) = 0.585` bit per user for K = 2 (1.17 bits sum).
The floor never exceeds 1 bit per user (t -> 0). "About 0" therefore holds when
every measured value is at most the larger of

* the floor rule, :math:`K(\text{floor}(1/K) + \text{FLOOR\_TOL})` (K users, the
  equal split of the figures, :data:`FLOOR_TOL` = 0.05 bit per user), and
* the relative rule, :data:`ABOUT_ZERO` (10 %) of the largest SVD w/ PA value of
  the figure.

The measured text states the floor (e.g. ``floor log2(4/3) = 0.415 bit per user``)
and the threshold used.

*Orderings and monotonicity* allow :data:`RTOL` times the largest value of the
figure (solver tolerance and round-off). *J's average gains* hold when the measured
mean difference (bits/probing) is within 20 % of the paper's.

*Missing curves.* A claim about a curve that was not computed is

* ``not checked`` (``holds is None``) when its scheme is not registered (a claim
  about a scheme nfkg does not have is listed with the reason, not dropped);
* skipped when its scheme exists but was left out of the run (an override such as
  ``{'schemes': ['mrc']}``).

SVD w/ DLPA (``'svd-dlpa'``, the shipped KGSVD-Net models) is in
:data:`nfkg.studies.experiments.J_SCHEMES`, so its claims are checked like the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Mapping

import numpy as np

from ..schemes.precoding import scheme_names
from .presets import SCHEME_LABELS

if TYPE_CHECKING:
    from .experiments import FigureData

__all__ = ["Claim", "count_status", "skr_floor", "STATUSES", "ABOUT_ZERO", "SKR_FLOOR", "FLOOR_TOL", "RTOL"]

#: The states of a claim, in the order reports list them.
STATUSES = ("holds", "fails", "not checked")


@dataclass(frozen=True)
class Claim:
    """One of the papers' statements about a figure, checked on computed curves.

    Attributes
    ----------
    text : str
        The claim in words.
    paper_value : str
        What the paper says or reports.
    measured : str
        What nfkg measured, with numbers (for a claim not checked: why not).
    holds : bool or None
        Whether the measured curves support the claim; ``None`` when it could not be
        checked (its scheme is not implemented yet).
    """

    text: str
    paper_value: str
    measured: str
    holds: bool | None

    @property
    def status(self) -> str:
        """``'holds'``, ``'fails'`` or ``'not checked'``."""
        return "not checked" if self.holds is None else ("holds" if self.holds else "fails")


def count_status(claims: Iterable[Claim]) -> dict[str, int]:
    """How many claims hold, fail and were not checked: ``{status: n}`` over :data:`STATUSES`."""
    out = dict.fromkeys(STATUSES, 0)
    for c in claims:
        out[c.status] += 1
    return out


_PA, _WO, _MRC, _RAS, _DLPA = "SVD w/ PA", "SVD w/o PA", "MRC", "RAS w/o P", "SVD w/ DLPA"
#: "about 0", relative rule: below this fraction of the largest SVD w/ PA value of the figure.
ABOUT_ZERO = 0.10
#: The SKR per user left when Eve sits exactly on the user (high SNR, P_a = P_b): log2(4/3) bit.
SKR_FLOOR = float(np.log2(4.0 / 3.0))
#: Tolerance of the floor rule of "about 0", in bits per user.
FLOOR_TOL = 0.05
#: Relative tolerance of orderings and monotonicity (solver tolerance, round-off).
RTOL = 1e-6

_LABEL_SCHEME = {label: name for name, label in SCHEME_LABELS.items()}


def _g(v: float) -> str:
    return format(float(v), ".4g")


def _scale(curves: Mapping[str, np.ndarray]) -> float:
    return max(float(np.max(np.abs(c))) for c in curves.values()) if curves else 1.0


def _ref(curves: Mapping[str, np.ndarray]) -> float:
    """The reference of the relative "about 0" rule: the largest SVD w/ PA value."""
    return float(np.max(curves[_PA])) if _PA in curves else _scale(curves)


def _n_users(data: "FigureData") -> int:
    return int(np.atleast_1d(data.params.get("r_b", 0.0)).size)


def _unavailable(curves, text: str, paper: str, *labels: str) -> Claim | None:
    """A claim about missing curves: ``not checked`` if a scheme is not registered, else skipped."""
    missing = [label for label in labels if label not in curves]
    known = set(scheme_names())
    absent = []
    for label in missing:
        name = _LABEL_SCHEME.get(label.split(", K=")[0])
        if name is not None and name not in known:
            absent.append(f"{label.split(', K=')[0]} ({name!r})")
    if not absent:
        return None
    return Claim(text, paper, f"not checked: {', '.join(dict.fromkeys(absent))} not registered", None)


def skr_floor(t: float = 1.0) -> float:
    r"""The SKR per user when Eve sits exactly on the user, at high SNR [bit].

    .. math:: \log_2\frac{2(1+t)}{1+2t}

    Parameters
    ----------
    t : float
        The BS's pilot noise relative to the user's (and Eve's), :math:`P_{a,k}/P_b`
        when all noise powers are equal. ``t >= 0``.

    Returns
    -------
    float
        ``log2(4/3) = 0.415`` for ``t = 1`` (single user), ``log2(3/2) = 0.585`` for
        ``t = 1/2`` (two users, equal split), 1 for ``t = 0``.

    Examples
    --------
    >>> round(skr_floor(1.0), 4), round(skr_floor(0.5), 4)
    (0.415, 0.585)
    """
    if not t >= 0:
        raise ValueError(f"t: must be >= 0, got {t!r}")
    return float(np.log2(2.0 * (1.0 + t) / (1.0 + 2.0 * t)))


def _floor_text(n_users: int) -> str:
    if n_users == 1:
        return f"floor log2(4/3) = {SKR_FLOOR:.3f} bit per user"
    f = skr_floor(1.0 / n_users)
    frac = "log2(3/2)" if n_users == 2 else f"log2(2(1+t)/(1+2t)), t = 1/{n_users},"
    return (f"floor {frac} = {f:.3f} bit per user at P_a = P_b/{n_users} ({n_users * f:.3g} bits sum; "
            f"log2(4/3) = {SKR_FLOOR:.3f} at P_a = P_b)")


def _about_zero(text: str, vals: Mapping[str, float], ref: float, n_users: int, detail: str = "") -> Claim:
    """ "About 0": every value within K (floor(1/K) + FLOOR_TOL) or below ABOUT_ZERO * ref."""
    floor = n_users * (skr_floor(1.0 / n_users) + FLOOR_TOL)
    rel = ABOUT_ZERO * ref
    limit = max(floor, rel)
    worst = max(vals.values())
    which = "floor + tolerance" if floor >= rel else f"{ABOUT_ZERO:.0%} of max {_PA}"
    measured = (", ".join(f"{k}: {_g(v)}" for k, v in vals.items()) + detail
                + f"; {_floor_text(n_users)}; max {_PA} = {_g(ref)}; threshold {_g(limit)} ({which})")
    return Claim(text, "about 0", measured, bool(worst <= limit))


def _about_zero_text(where: str) -> str:
    return f"{where} (at most the floor of Eve on the user, or < {ABOUT_ZERO:.0%} of max {_PA})"


def _ordering(curves, hi: str, lo: str, mask=None, paper: str | None = None) -> Claim | None:
    where = "" if mask is None else " (where stated)"
    text, paper = f"{hi} >= {lo} at every point{where}", paper or f"{hi} above {lo}"
    if hi not in curves or lo not in curves:
        return _unavailable(curves, text, paper, hi, lo)
    d = curves[hi] - curves[lo]
    if mask is not None:
        d = d[mask]
    tol = RTOL * _scale(curves)
    ok = d >= -tol
    return Claim(text, paper, f"{int(ok.sum())}/{d.size} points; min({hi} - {lo}) = {_g(d.min())}",
                 bool(ok.all()))


def _rises(curves, label: str, x_desc: str, paper="rises") -> Claim | None:
    text = f"{label} rises with {x_desc}"
    if label not in curves:
        return _unavailable(curves, text, paper, label)
    y = curves[label]
    if y.size < 2:
        return None
    d = np.diff(y)
    tol = RTOL * _scale(curves)
    ok = d >= -tol
    return Claim(text, paper,
                 f"{_g(y[0])} -> {_g(y[-1])} (rise {_g(y[-1] - y[0])}); non-decreasing on "
                 f"{int(ok.sum())}/{d.size} steps",
                 bool(ok.all() and y[-1] > y[0]))


def _nearest(x: np.ndarray, v: float) -> int:
    return int(np.argmin(np.abs(np.asarray(x, dtype=float) - v)))


def _dip(data: "FigureData", labels, at: float, at_desc: str) -> list[Claim | None]:
    """Each curve attains its minimum at x = ``at``, and the SKR is about 0 there."""
    out: list[Claim | None] = []
    c = data.curves
    i0 = _nearest(data.x, at)
    for label in labels:
        text = f"{label} has its minimum at {at_desc}"
        if label not in c:
            out.append(_unavailable(c, text, "minimum there", label))
            continue
        if data.x.size < 3:
            continue
        y = c[label]
        imin = int(np.argmin(y))
        tol = RTOL * _scale(c)
        out.append(Claim(text, "minimum there",
                         f"argmin at x = {_g(data.x[imin])}; y({_g(data.x[i0])}) = {_g(y[i0])}, "
                         f"min y = {_g(y[imin])}", bool(y[i0] <= y[imin] + tol)))
    vals = {label: float(c[label][i0]) for label in labels if label in c}
    if vals and _ref(c) > 0:
        out.append(_about_zero(_about_zero_text(f"SKR about 0 at {at_desc}"), vals, _ref(c), _n_users(data)))
    return out


def _mc_se(y: np.ndarray, data: "FigureData") -> np.ndarray:
    """Monte Carlo standard error of a sum of K one-bit KDRs over 2T bits (binomial, per user)."""
    k = _n_users(data)
    bits = 2 * int(data.params.get("rounds", 10_000))
    p = np.clip(np.asarray(y, float) / k, 1.0 / bits, 0.5)
    return k * np.sqrt(p * (1 - p) / bits)
