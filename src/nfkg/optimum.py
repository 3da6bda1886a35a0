r"""The exact power allocation of SVD precoding: the optimum of J(41) with the true noise (svd-opt).

For SVD precoders the SKR of user k depends only on its own split :math:`(P_{S,k}, P_{N,k})`
(the precoders null the other users), through J(42)'s coefficients and the *true* BS
noise :math:`\hat\sigma_{a,k}^2 = P_{a,k}\sigma_a^2/(VP_b)` of J(11):

.. math::
    \max_{P_{S,k}, P_{N,k} \ge 0} \sum_k \log_2\Big(1 + \frac{\alpha_k^2}
        {(\hat\sigma_{a,k}^2 + \hat\sigma_b^2)\alpha_k + \hat\sigma_{a,k}^2\hat\sigma_b^2}\Big)
    \quad\text{s.t.}\quad \sum_k (P_{S,k} + P_{N,k}) \le P_{\max}.

J(25) is an inequality: with an Eve as good as her user, more power helps her as much as
the user, and radiating less can win; the unused power is reported. The paper's AO
(svd-pa) optimises a worst-case-noise surrogate and keeps the total at :math:`P_{\max}`;
this module optimises the true objective, so it is the yardstick of svd-pa and of the
network (SVD w/ DLPA).

Method: SLSQP (:func:`scipy.optimize.minimize`) on the fractions
:math:`x = P/P_{\max}` in the simplex with a slack (:math:`x \ge 0`, :math:`\sum x \le 1`), with
the analytic gradient of :func:`true_skr`, from several starts that include the svd-pa
point, the equal split, scaled-down copies of both (radiating 10 % and 1 %) and seeded
random points; the best of the finals and of the starts themselves is returned, so the
result is never below svd-pa or the equal split.

Contents
--------
true_skr
    Per-user SKR and its gradient in :math:`(P_{S,k}, P_{N,k})`.
exact_allocation
    The multi-start SLSQP optimum, batched over scenarios.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .optimize import OptimizeResult, _wedge, alpha_of_powers
from .secrecy import skr_of_alpha

__all__ = ["true_skr", "exact_allocation"]

_LN2 = np.log(2.0)


def true_skr(s: dict[str, np.ndarray], p_s: ArrayLike, p_n: ArrayLike, t_s: ArrayLike, t_n: ArrayLike,
             kappa: ArrayLike, var_nb: ArrayLike, var_ne: ArrayLike, grad: bool = False):
    r"""Per-user SKR of an SVD power split with the true noise, J(41)-(42), and its gradient.

    Parameters
    ----------
    s : dict
        :func:`nfkg.optimize.view_coefficients` (``s1``..``s5``, ``w``), each ``(..., K)``.
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


def _one(s1d, t_s, t_n, kappa, nb, ne, pmax, starts, ftol, maxiter, full_power=False):
    """Multi-start SLSQP for one scenario; returns (x_best, f_best, n_starts, n_ok)."""
    from scipy.optimize import minimize

    k = t_s.size

    def fun(x):
        skr, dps, dpn = true_skr(s1d, x[:k] * pmax, x[k:] * pmax, t_s, t_n, kappa, nb, ne, grad=True)
        return -float(skr.sum()), -np.concatenate([dps, dpn]) * pmax

    cons = ({"type": "eq" if full_power else "ineq", "fun": lambda x: 1.0 - x.sum(),
             "jac": lambda x: -np.ones_like(x)},)
    bounds = [(0.0, 1.0)] * (2 * k)
    best_x, best_f = None, np.inf
    n_ok = 0
    for x0 in starts:
        f0 = fun(x0)[0]
        if f0 < best_f:
            best_x, best_f = x0.copy(), f0
        res = minimize(fun, x0, jac=True, method="SLSQP", bounds=bounds, constraints=cons,
                       options={"ftol": ftol, "maxiter": maxiter})
        x = np.clip(res.x, 0.0, 1.0)
        if x.sum() > 1.0 or (full_power and x.sum() > 0.0):
            x = x / x.sum()
        fx = fun(x)[0]
        n_ok += bool(res.success)
        if fx < best_f:
            best_x, best_f = x, fx
    return best_x, best_f, len(starts), n_ok


def exact_allocation(s: dict[str, np.ndarray], t_s: ArrayLike, t_n: ArrayLike, p_max: ArrayLike,
                     kappa: ArrayLike, var_nb: ArrayLike, var_ne: ArrayLike,
                     p_s0: ArrayLike | None = None, p_n0: ArrayLike | None = None,
                     n_random: int = 4, seed: int = 0, ftol: float = 1e-13, maxiter: int = 500,
                     full_power: bool = False) -> OptimizeResult:
    r"""Maximise :math:`\sum_k \mathrm{SKR}_k` (true noise) over the split, total at most :math:`P_{\max}`.

    Parameters
    ----------
    s : dict
        J(42) coefficients, each ``(..., K)`` (:func:`nfkg.optimize.view_coefficients`).
    t_s, t_n : array_like ``(..., K)``
        Shape traces (see :func:`true_skr`).
    p_max : array_like ``(...)``
    kappa, var_nb, var_ne : array_like ``(...)``
        :math:`\sigma_a^2/(VP_b)`, :math:`\sigma_b^2/V`, :math:`\sigma_e^2/V`.
    p_s0, p_n0 : array_like ``(..., K)``, optional
        An extra start (e.g. the svd-pa split): the result is never below it.
    n_random : int
        Seeded random starts (Dirichlet on the simplex with slack) per scenario.
    seed : int
        Seed of the random starts (same seed, same result).
    full_power : bool
        Radiate exactly :math:`P_{\max}` (J(25) as an equality, the constraint of the paper's
        AO and of KGSVD-Net's J(43)-(44)): the *full-power optimum*. Default ``False``: at most
        :math:`P_{\max}`.

    Returns
    -------
    OptimizeResult
        ``x``: :math:`P_{S,k}` and ``extra['p_n']``: :math:`P_{N,k}` ``(..., K)``; ``fun``: sum SKR;
        ``extra['unused']``: :math:`P_{\max} - \sum_k P_{a,k}` [W]; ``nit``: starts per scenario.
    """
    shape = np.broadcast_shapes(*(np.shape(v) for v in s.values()), np.shape(t_s), np.shape(t_n))
    n_users = shape[-1]
    bshape = shape[:-1]
    flat = lambda a, sh: np.ascontiguousarray(np.broadcast_to(np.asarray(a, float), sh)).reshape(  # noqa: E731
        -1, *sh[len(bshape):])
    S = {k: flat(v, shape) for k, v in s.items()}
    TS, TN = flat(t_s, shape), flat(t_n, shape)
    PM, KA, NB, NE = (flat(v, bshape).reshape(-1) for v in (p_max, kappa, var_nb, var_ne))
    P0S = None if p_s0 is None else flat(p_s0, shape)
    P0N = None if p_n0 is None else flat(p_n0, shape)
    n_b = PM.size
    rng = np.random.default_rng(seed)
    xs = np.zeros((n_b, 2 * n_users))
    fun = np.zeros(n_b)
    n_success = 0
    for b in range(n_b):
        pm = float(PM[b])
        eq = np.full(2 * n_users, 0.5 / n_users)
        sig = np.concatenate([np.full(n_users, 1.0 / n_users), np.zeros(n_users)])
        jam = np.concatenate([np.zeros(n_users), np.full(n_users, 1.0 / n_users)])
        starts = [eq, sig, 0.1 * eq, 0.01 * eq, 0.1 * sig, 0.01 * sig]
        if full_power:
            starts = [eq, sig, 0.9 * sig + 0.1 * jam, 0.1 * sig + 0.9 * jam]
        if P0S is not None:
            x0 = np.concatenate([P0S[b], P0N[b]]) / pm
            x0 = np.clip(x0, 0.0, None)
            x0 = x0 / (x0.sum() if full_power and x0.sum() > 0 else max(x0.sum(), 1.0))
            starts += [x0] if full_power else [x0, 0.1 * x0, 0.01 * x0]
        # Dirichlet on the simplex with a slack coordinate (dropped), or on the simplex itself
        starts += [rng.dirichlet(np.ones(2 * n_users + (0 if full_power else 1)))[:2 * n_users]
                   for _ in range(n_random)]
        sb = {k: v[b] for k, v in S.items()}
        x, f, _, n_ok = _one(sb, TS[b], TN[b], KA[b], NB[b], NE[b], pm, starts, ftol, maxiter, full_power)
        xs[b] = x * pm
        fun[b] = -f
        n_success += n_ok
    p_s = xs[:, :n_users].reshape(shape)
    p_n = xs[:, n_users:].reshape(shape)
    unused = np.maximum(PM - xs.sum(-1), 0.0).reshape(bshape)
    return OptimizeResult(x=p_s, fun=fun.reshape(bshape), success=True,
                          message=f"best of multi-start SLSQP ({n_success} of the local runs converged)",
                          nit=0, history=fun.reshape(1, *bshape),
                          extra={"p_n": p_n, "unused": unused})
