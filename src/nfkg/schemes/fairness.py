r"""Max-min fair power allocation of SVD precoding: the largest smallest user SKR (svd-maxmin).

For SVD precoders the SKR of user k depends only on its own split :math:`(P_{S,k}, P_{N,k})`
(the precoders null the other users, J(13)-(16)), through J(42)'s coefficients and the true BS
noise :math:`\hat\sigma_{a,k}^2 = \kappa P_{a,k}` of J(11), :math:`\kappa = \sigma_a^2/(VP_b)`
(:func:`nfkg.schemes.optimum.true_skr`, J(22)). The users couple only through the power budget J(25):

.. math::
    \max_{P_{S,k}, P_{N,k} \ge 0}\ \min_k \mathrm{SKR}_k(P_{S,k}, P_{N,k})
    \quad\text{s.t.}\quad \sum_k (P_{S,k} + P_{N,k}) \le P_{\max},

the max-min counterpart of the sum objective J(41) (``svd-opt``, :mod:`nfkg.schemes.optimum`).
Since the users decouple, the problem is one bisection on the common rate t: with
:math:`c_k(t) = \min\{P_{S,k} + P_{N,k} : \mathrm{SKR}_k \ge t\}` the smallest power that gives
user k the rate t, t is reachable iff :math:`\sum_k c_k(t) \le P_{\max}`; :math:`c_k` is
non-decreasing, so the largest reachable t is found by bisection.

Method
------
1. *Global stage* (vectorised over the batch and the users): every user's SKR on a grid of
   splits, :math:`P_{S,k}/P_{\max}` on ``n_grid`` log-spaced points in
   :math:`[10^{-\text{decades}}, 1]`, :math:`P_{N,k}/P_{\max}` on 0 and the same points, total
   at most :math:`P_{\max}`. Sorting the grid by its power and taking the running maximum of
   the SKR gives :math:`c_k(t)` on the grid exactly (the cheapest grid split that reaches t);
   the bisection on t then gives a feasible allocation whose smallest SKR is the grid optimum.
2. *Polish*: SLSQP on the epigraph form (maximise t subject to :math:`\mathrm{SKR}_k \ge t`
   and the budget, analytic gradients of :func:`nfkg.schemes.optimum.true_skr`) from the grid optimum.
   The better of the two is returned: the result is never below the grid's.

Users that no split can give a positive SKR (Eve in the user's subspace, an empty signal
null space) would pin the minimum at 0 and make every allocation optimal. They are dropped
(no power) and the smallest SKR of the others is maximised: the first step of the
lexicographic max-min. The returned ``fun`` is the smallest SKR over *all* users (0 then).

Contents
--------
maxmin_allocation
    The max-min split, batched over scenarios.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .optimize import OptimizeResult
from .optimum import true_skr

__all__ = ["maxmin_allocation"]

#: SKR below which a user counts as unable to get a key [bits/probing].
HOPELESS_SKR = 1e-12


def _split_grid(n_grid: int, decades: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fractions ``(a, b)`` of the grid with ``a + b <= 1``, sorted by ``a + b``; and ``a + b``."""
    pts = np.logspace(-decades, 0.0, int(n_grid))
    a, b = np.meshgrid(pts, np.concatenate([[0.0], pts]), indexing="ij")
    a, b = a.ravel(), b.ravel()
    keep = a + b <= 1.0 + 1e-12
    a, b = a[keep], b[keep]
    order = np.argsort(a + b, kind="stable")
    a, b = a[order], b[order]
    return a, b, a + b


def _polish(s1d, t_s, t_n, kappa, nb, ne, pmax, x0, ftol, maxiter):
    """Epigraph SLSQP for one scenario's active users; returns fractions ``(2K,)`` or None."""
    from scipy.optimize import minimize

    k = t_s.size

    def skr(x, grad=False):
        return true_skr(s1d, x[:k] * pmax, x[k:2 * k] * pmax, t_s, t_n, kappa, nb, ne, grad=grad)

    def cons_skr(z):
        return skr(z[:2 * k]) - z[-1]

    def cons_skr_jac(z):
        _, dps, dpn = skr(z[:2 * k], grad=True)
        jac = np.zeros((k, 2 * k + 1))
        idx = np.arange(k)
        jac[idx, idx] = dps * pmax
        jac[idx, k + idx] = dpn * pmax
        jac[:, -1] = -1.0
        return jac

    budget_jac = np.concatenate([-np.ones(2 * k), [0.0]])
    cons = ({"type": "ineq", "fun": cons_skr, "jac": cons_skr_jac},
            {"type": "ineq", "fun": lambda z: 1.0 - z[:2 * k].sum(), "jac": lambda z: budget_jac})
    t0 = float(skr(x0).min())
    z0 = np.concatenate([x0, [t0]])
    obj_jac = np.zeros(2 * k + 1)
    obj_jac[-1] = -1.0
    try:
        res = minimize(lambda z: -z[-1], z0, jac=lambda z: obj_jac, method="SLSQP",
                       bounds=[(0.0, 1.0)] * (2 * k) + [(0.0, None)], constraints=cons,
                       options={"ftol": ftol, "maxiter": maxiter})
    except (ValueError, np.linalg.LinAlgError):  # pragma: no cover - SLSQP refusing a start
        return None
    x = np.clip(res.x[:2 * k], 0.0, 1.0)
    if x.sum() > 1.0:
        x = x / x.sum()
    return x if np.all(np.isfinite(x)) else None


def maxmin_allocation(s: dict[str, np.ndarray], t_s: ArrayLike, t_n: ArrayLike, p_max: ArrayLike,
                      kappa: ArrayLike, var_nb: ArrayLike, var_ne: ArrayLike, n_grid: int = 113,
                      decades: float = 7.0, polish: bool = True, ftol: float = 1e-12,
                      maxiter: int = 300) -> OptimizeResult:
    r"""Maximise :math:`\min_k \mathrm{SKR}_k` (true noise) over the split, total at most :math:`P_{\max}`.

    .. math::
        \max_{P \ge 0}\ \min_k \log_2\Big(1 + \frac{\alpha_k^2}
            {(\hat\sigma_{a,k}^2 + \hat\sigma_b^2)\alpha_k + \hat\sigma_{a,k}^2\hat\sigma_b^2}\Big)
        \quad\text{s.t.}\quad \sum_k P_{S,k} + P_{N,k} \le P_{\max}

    with :math:`\alpha_k` of J(42) and the per-user SKR of J(22) (see the module docstring
    for the method).

    Parameters
    ----------
    s : dict
        J(42) coefficients, each ``(..., K)`` (:func:`nfkg.schemes.optimize.view_coefficients`).
    t_s, t_n : array_like ``(..., K)``
        Traces of the signal and jamming shapes (1, or 0 for an empty subspace).
    p_max : array_like ``(...)``
        Power budget [W].
    kappa, var_nb, var_ne : array_like ``(...)``
        :math:`\sigma_a^2/(VP_b)`, :math:`\sigma_b^2/V`, :math:`\sigma_e^2/V`.
    n_grid : int
        Log-spaced points per power axis of the global stage.
    decades : float
        The grid spans :math:`[10^{-\text{decades}}, 1]\,P_{\max}`.
    polish : bool
        Refine the grid optimum by SLSQP on the epigraph form.
    ftol, maxiter
        SLSQP settings.

    Returns
    -------
    OptimizeResult
        ``x``: :math:`P_{S,k}`, ``extra['p_n']``: :math:`P_{N,k}` ``(..., K)`` [W]; ``fun``: the
        smallest SKR over the users [bits/probing]; ``extra['skr']`` ``(..., K)``,
        ``extra['grid']``: the global stage's smallest SKR, ``extra['dropped']``: users that no
        split gives a positive SKR (no power), ``extra['unused']``: unradiated power [W].

    Examples
    --------
    >>> s = {"s1": np.array([0.0, 0.0]), "s2": np.array([1e-10, 1e-10]), "s3": np.zeros(2),
    ...      "s4": np.array([1e-9, 1e-9]), "s5": np.array([2e-9, 1e-9]), "w": np.array([2e-19, 1e-19])}
    >>> r = maxmin_allocation(s, 1.0, 1.0, 0.1, 3e-12, 3e-14, 3e-14)
    >>> bool(abs(r.extra["skr"][0] - r.extra["skr"][1]) < 1e-6)
    True
    """
    shape = np.broadcast_shapes(*(np.shape(v) for v in s.values()), np.shape(t_s), np.shape(t_n))
    n_users = shape[-1]
    bshape = np.broadcast_shapes(shape[:-1], np.shape(p_max), np.shape(kappa), np.shape(var_nb),
                                 np.shape(var_ne))
    shape = (*bshape, n_users)
    flat = lambda a, sh: np.ascontiguousarray(np.broadcast_to(np.asarray(a, float), sh)).reshape(  # noqa: E731
        -1, *sh[len(bshape):])
    S = {k: flat(v, shape) for k, v in s.items()}
    TS, TN = flat(t_s, shape), flat(t_n, shape)
    PM, KA, NB, NE = (flat(v, bshape).reshape(-1) for v in (p_max, kappa, var_nb, var_ne))
    n_b = PM.size

    # 1. global stage: SKR of every grid split, (B, K, G), grid sorted by its power
    a, b, cost = _split_grid(n_grid, decades)
    col = lambda v: v[:, None, None]  # noqa: E731
    v = true_skr({k: x[..., None] for k, x in S.items()}, col(PM) * a, col(PM) * b, TS[..., None],
                 TN[..., None], col(KA), col(NB), col(NE))
    v = np.where(np.isfinite(v), v, 0.0)
    cm = np.maximum.accumulate(v, axis=-1)                        # best SKR within power cost[i]
    idx = np.arange(cost.size)
    arg = np.maximum.accumulate(np.where(v >= cm, idx, 0), axis=-1)  # the split that reaches it
    best = cm[..., -1]                                            # (B, K): best SKR alone
    active = best > HOPELESS_SKR
    hi = np.where(active, best, np.inf).min(axis=-1)             # t cannot exceed any user's best
    hi = np.where(np.isfinite(hi), hi, 0.0)
    lo = np.zeros(n_b)

    def first_reach(t):                                           # (B, K) grid index of c_k(t)
        ok = cm >= t[:, None, None]
        return np.where(ok.any(-1), ok.argmax(-1), cost.size - 1)

    def feasible(t):
        need = np.where(active, cost[first_reach(t)], 0.0).sum(-1)
        return need <= 1.0 + 1e-12

    for _ in range(100):
        mid = 0.5 * (lo + hi)
        f = feasible(mid)
        lo = np.where(f, mid, lo)
        hi = np.where(f, hi, mid)
        if np.all(hi - lo <= 1e-13 * np.maximum(hi, 1.0)):
            break
    pick = np.take_along_axis(arg, first_reach(lo)[..., None], axis=-1)[..., 0]   # (B, K)
    xs = np.where(active, a[pick], 0.0)
    xn = np.where(active, b[pick], 0.0)
    grid_skr = true_skr(S, xs * PM[:, None], xn * PM[:, None], TS, TN, KA[:, None], NB[:, None], NE[:, None])
    grid_min = np.where(active, grid_skr, np.inf).min(-1)
    grid_min = np.where(np.isfinite(grid_min), grid_min, 0.0)

    # 2. polish: epigraph SLSQP from the grid optimum, on the active users
    n_better = 0
    if polish:
        for i in range(n_b):
            act = np.flatnonzero(active[i])
            if act.size == 0:
                continue
            s1d = {k: x[i, act] for k, x in S.items()}
            x0 = np.concatenate([xs[i, act], xn[i, act]])
            x = _polish(s1d, TS[i, act], TN[i, act], KA[i], NB[i], NE[i], float(PM[i]), x0, ftol, maxiter)
            if x is None:
                continue
            k = act.size
            val = true_skr(s1d, x[:k] * PM[i], x[k:] * PM[i], TS[i, act], TN[i, act], KA[i], NB[i], NE[i])
            if val.min() > grid_min[i]:
                xs[i, act], xn[i, act] = x[:k], x[k:]
                n_better += 1
    # nothing can be radiated in an empty subspace
    xs = np.where(TS > 0, xs, 0.0)
    xn = np.where(TN > 0, xn, 0.0)
    p_s, p_n = xs * PM[:, None], xn * PM[:, None]
    skr = true_skr(S, p_s, p_n, TS, TN, KA[:, None], NB[:, None], NE[:, None])
    unused = np.maximum(PM - (p_s + p_n).sum(-1), 0.0)
    msg = (f"bisection on the common rate over a {cost.size}-split grid per user"
           + (f", SLSQP polish improved {n_better} of {n_b} scenario(s)" if polish else ""))
    return OptimizeResult(x=p_s.reshape(shape), fun=skr.min(-1).reshape(bshape), success=True, message=msg,
                          nit=0, history=grid_min.reshape(1, *bshape),
                          extra={"p_n": p_n.reshape(shape), "skr": skr.reshape(shape),
                                 "grid": grid_min.reshape(bshape), "dropped": (~active).reshape(shape),
                                 "unused": unused.reshape(bshape)})
