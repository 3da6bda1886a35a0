r"""The value of an SVD power split with the true noise, J(41)-(42): the per-user SKR
(:func:`true_skr`, with its gradient) and the best split of a total power (:func:`best_split`,
closed form). The objective that :func:`exact_allocation` maximises.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..engine.secrecy import skr_of_alpha
from ._coefficients import _wedge, alpha_of_powers

__all__ = ["true_skr", "best_split"]

_LN2 = np.log(2.0)


def true_skr(s: dict[str, np.ndarray], p_s: ArrayLike, p_n: ArrayLike, t_s: ArrayLike, t_n: ArrayLike,
             kappa: ArrayLike, var_nb: ArrayLike, var_ne: ArrayLike, grad: bool = False):
    r"""Per-user SKR of an SVD power split with the true noise, J(41)-(42), and its gradient.

    Parameters
    ----------
    s : dict
        :func:`nfkg.schemes.optimize.view_coefficients` (``s1``..``s5``, ``w``), each ``(..., K)``.
    p_s, p_n : array_like, ``(..., K)``
        Powers on the signal and jamming shapes [W].
    t_s, t_n : array_like, ``(..., K)``
        Traces of the two shapes (1, or 0 for an empty subspace: nothing radiated there).
    kappa : array_like
        :math:`\sigma_a^2/(VP_b)`, so that :math:`\hat\sigma_{a,k}^2 = \kappa P_{a,k}`.
    var_nb, var_ne : array_like
        :math:`\sigma_b^2/V`, :math:`\sigma_e^2/V`.
    grad : bool
        Also return :math:`\partial\,\mathrm{SKR}_k/\partial P_{S,k}` and :math:`/\partial P_{N,k}`.

    Returns
    -------
    skr : ndarray ``(..., K)`` [bits]; with ``grad``: ``(skr, d_ps, d_pn)`` [bits/W].
    """
    p_s = np.maximum(np.asarray(p_s, float), 0.0)  # powers; a solver may step just below 0
    p_n = np.maximum(np.asarray(p_n, float), 0.0)
    a = alpha_of_powers(s, p_s, p_n, var_ne)               # J(42), cancellation-free
    na = kappa * (p_s * t_s + p_n * t_n)                   # true BS noise, J(11)
    skr = skr_of_alpha(a, na, var_nb)
    if not grad:
        return skr
    # d SKR = d log2(1 + g), g = a^2 / (c a + d), c = na + nb, d = na nb
    c = na + var_nb
    d = na * var_nb
    big_d = c * a + d
    ok = (a > 0) & (big_d > 0)
    safe_d = np.where(ok, big_d, 1.0)
    g = np.where(ok, a * a / safe_d, 0.0)
    dg_da = np.where(ok, a * (a * c + 2.0 * d) / safe_d**2, 0.0)
    dg_dna = np.where(ok, -a * a * (a + var_nb) / safe_d**2, 0.0)
    # a = num / den: da = (d num - a d den) / den
    s2, s3, s4, s5 = (s[k] for k in ("s2", "s3", "s4", "s5"))
    den = p_s * s2 + p_n * s4 + var_ne
    dnum_ps = s5 * (p_n * s4 + var_ne) + 2.0 * p_s * _wedge(s) - p_n * s3
    dnum_pn = p_s * (s5 * s4 - s3)
    da_ps = np.where(a > 0, (dnum_ps - a * s2) / den, np.maximum(dnum_ps / den, 0.0))
    da_pn = np.where(a > 0, (dnum_pn - a * s4) / den, 0.0)
    scale = 1.0 / (_LN2 * (1.0 + g))
    d_ps = scale * (dg_da * da_ps + dg_dna * kappa * t_s)
    d_pn = scale * (dg_da * da_pn + dg_dna * kappa * t_n)
    return skr, d_ps, d_pn


def best_split(s: dict[str, np.ndarray], p: ArrayLike, t_s: ArrayLike, t_n: ArrayLike, kappa: ArrayLike,
               var_nb: ArrayLike, var_ne: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    r"""Per user, the best split of a total power :math:`p = P_{S,k} + P_{N,k}`: :math:`g_k(p)`.

    At a fixed total (traces equal) the BS noise :math:`\kappa p` is fixed and the SKR of
    J(22) increases with :math:`\alpha_k`; with :math:`x = P_{S,k}`, J(42) is
    :math:`\alpha = (Ax^2 + Bx)/(Cx + D)` with :math:`A = w - s_4s_5 + s_3`,
    :math:`B = s_5D - ps_3`, :math:`C = s_2 - s_4`, :math:`D = ps_4 + \hat\sigma_e^2`, whose
    stationary points solve :math:`ACx^2 + 2ADx + BD = 0`. The candidates :math:`x = p` and
    the roots in :math:`[0, p]` are scored with :func:`true_skr` (the exact, cancellation-free
    SKR) and the best is kept. An empty jamming subspace (``t_n = 0``) takes all of
    :math:`p` on the signal; an empty signal subspace gives 0.

    Returns
    -------
    (skr, p_s) : ndarrays, broadcast shape of the inputs.
    """
    p = np.asarray(p, float)
    t_s = np.asarray(t_s, float)
    t_n = np.asarray(t_n, float)
    s2, s3, s4, s5 = s["s2"], s["s3"], s["s4"], s["s5"]
    a_ = _wedge(s) - s4 * s5 + s3
    d_ = p * s4 + var_ne
    b_ = s5 * d_ - p * s3
    c_ = s2 - s4
    ad = a_ * d_
    disc = ad * (ad - b_ * c_)
    with np.errstate(all="ignore"):
        q = -(ad + np.copysign(np.sqrt(np.maximum(disc, 0.0)), ad))
        roots = (q / (a_ * c_), b_ * d_ / q)
    zero = np.zeros_like(p)
    full = true_skr(s, p, zero, t_s, t_n, kappa, var_nb, var_ne)
    best, best_x = full, p + zero
    for r in roots:
        x = np.where(np.isfinite(r) & (disc >= 0), np.clip(r, 0.0, p), p)
        v = true_skr(s, x, p - x, t_s, t_n, kappa, var_nb, var_ne)
        better = v > best
        best = np.where(better, v, best)
        best_x = np.where(better, x, best_x)
    best = np.where(t_n > 0, best, full)
    best_x = np.where(t_n > 0, best_x, p)
    best = np.where(t_s > 0, best, 0.0)
    best_x = np.where(t_s > 0, best_x, 0.0)
    return np.where(np.isfinite(best), best, -np.inf), best_x
