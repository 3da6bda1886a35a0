r"""SP 800-22 random excursions tests (2.14) and their variant (2.15), on the cycles of the +/-1 walk."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import erfc

from ._common import NistResult, _bits, _igamc, _na, _ok, _walk

__all__ = ["random_excursions", "random_excursions_variant"]


# --------------------------------------------------------------------------- 2.14/2.15 random excursions
def _cycles(bits: np.ndarray) -> tuple[np.ndarray, int]:
    s = _walk(bits)
    zero = s == 0
    j = int(np.count_nonzero(zero)) + (1 if s[-1] != 0 else 0)
    return s, j


def _excursion_check(name: str, n: int, j: int, par: dict, strict: bool) -> NistResult | None:
    """The not-applicable result of a random excursions test, or None when it can run."""
    section = "2.15.7" if name.endswith("variant") else "2.14.7"
    if j < 1:
        return _na(name, par, "no cycle (J = 0)")
    if strict and n < 1_000_000:
        return _na(name, par, f"n = {n} < 1000000 (SP 800-22 {section})")
    limit = max(0.005 * math.sqrt(n), 500)
    if strict and j < limit:
        return _na(name, par, f"J = {j} cycles < {limit:g} (SP 800-22 {section}, reference code)")
    return None


_EXCURSION_STATES = (-4, -3, -2, -1, 1, 2, 3, 4)
_VARIANT_STATES = tuple(range(-9, 0)) + tuple(range(1, 10))


def _excursion_pi(x: int, probabilities: str) -> np.ndarray:
    a = 1.0 / (2 * abs(x))
    pi = np.array([1 - a] + [(1 - a) ** (k - 1) / (4 * x * x) for k in range(1, 5)] + [a * (1 - a) ** 4])
    return np.round(pi, 4) if probabilities == "document" else pi


def random_excursions(bits: ArrayLike, probabilities: str = "exact", strict: bool = True) -> NistResult:
    r"""Random excursions test, states x = -4..-1, 1..4, SP 800-22 section 2.14.

    The walk :math:`S_k` of :math:`2\varepsilon - 1` is cut into J cycles at its zeros;
    :math:`\nu_k(x)` counts the cycles that visit x exactly k times (k = 0..4, >= 5), and

    .. math::
        \chi^2(x) = \sum_{k=0}^{5}\frac{(\nu_k(x) - J\pi_k(x))^2}{J\pi_k(x)},\qquad
        P(x) = Q\big(\tfrac52, \tfrac{\chi^2(x)}{2}\big),

    with :math:`\pi_0 = 1 - \frac1{2|x|}`,
    :math:`\pi_k = \frac1{4x^2}(1 - \frac1{2|x|})^{k-1}` (k = 1..4),
    :math:`\pi_5 = \frac1{2|x|}(1 - \frac1{2|x|})^4`.

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    probabilities : {'exact', 'document'}
        ``'exact'``: the formulas above (the reference code tabulates them to 10
        digits, which changes P-values by less than 1e-9). ``'document'``: the table of
        SP 800-22 section 3.14, rounded to 4 decimals (:math:`\pi_4(1) = \pi_5(1) =
        0.0312`), which the document's worked example (2.14.8, J = 3, P = 0.502529) uses;
        the exact value there is 0.502488.
    strict : bool
        Require n >= 10^6 and :math:`J \ge \max(0.005\sqrt n, 500)` (the reference
        code's check).

    Returns
    -------
    NistResult
        Eight P-values, labelled ``'x=-4'`` .. ``'x=+4'``.
    """
    if probabilities not in ("exact", "document"):
        raise ValueError(f"probabilities must be 'exact' or 'document', got {probabilities!r}")
    eps = _bits(bits)
    n = eps.size
    par: dict[str, Any] = {"n": n}
    if n < 1:
        return _na("random_excursions", par, "empty sequence")
    s, j = _cycles(eps)
    par["J"] = j
    bad = _excursion_check("random_excursions", n, j, par, strict)
    if bad is not None:
        return bad
    zero = s == 0
    cycle = np.concatenate(([0], np.cumsum(zero[:-1], dtype=np.int64)))  # cycle of position k
    inside = (s != 0) & (np.abs(s) <= 4)
    state = s[inside] + 4 - (s[inside] > 0)  # -4..-1 -> 0..3, 1..4 -> 4..7
    visits = np.bincount(cycle[inside] * 8 + state, minlength=j * 8).reshape(j, 8)
    p = []
    for i, x in enumerate(_EXCURSION_STATES):
        nu = np.bincount(np.minimum(visits[:, i], 5), minlength=6)
        pi = _excursion_pi(x, probabilities)
        chi2 = float(np.sum((nu - j * pi) ** 2 / (j * pi)))
        p.append(_igamc(2.5, chi2 / 2.0))
    return _ok("random_excursions", p, [f"x={x:+d}" for x in _EXCURSION_STATES], par)


def random_excursions_variant(bits: ArrayLike, strict: bool = True) -> NistResult:
    r"""Random excursions variant test, states x = -9..-1, 1..9, SP 800-22 section 2.15.

    With :math:`\xi(x)` the number of visits of the walk to x and J the number of cycles,

    .. math::
        P(x) = \operatorname{erfc}\Big(\frac{|\xi(x) - J|}{\sqrt{2J(4|x| - 2)}}\Big).

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    strict : bool
        Require n >= 10^6 and :math:`J \ge \max(0.005\sqrt n, 500)`.

    Returns
    -------
    NistResult
        Eighteen P-values, labelled ``'x=-9'`` .. ``'x=+9'``.
    """
    eps = _bits(bits)
    n = eps.size
    par: dict[str, Any] = {"n": n}
    if n < 1:
        return _na("random_excursions_variant", par, "empty sequence")
    s, j = _cycles(eps)
    par["J"] = j
    bad = _excursion_check("random_excursions_variant", n, j, par, strict)
    if bad is not None:
        return bad
    near = s[np.abs(s) <= 9]
    xi = np.bincount(near + 9, minlength=19)
    x = np.array(_VARIANT_STATES)
    p = erfc(np.abs(xi[x + 9] - j) / np.sqrt(2.0 * j * (4.0 * np.abs(x) - 2)))
    return _ok("random_excursions_variant", p, [f"x={v:+d}" for v in _VARIANT_STATES], par)
