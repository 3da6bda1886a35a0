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

Method (``method='grid'``, the default). For SVD precoders the users couple only through
the budget, so J(41) is :math:`\max \sum_k g_k(p_k)` s.t. :math:`\sum_k p_k \le P_{\max}`,
with :math:`g_k(p)` the best SKR of user k at total power p (:func:`best_split`: at a fixed
total the BS noise is fixed, the SKR increases with :math:`\alpha_k`, and the best
:math:`P_{S,k}` is an end point or a root of a quadratic, in closed form).

1. :math:`g_k` on a budget grid (0, 150 log-spaced fractions in :math:`[10^{-15}, 1/2]`, their
   mirror images :math:`1 - u` and 1), vectorised over the batch and the users; each user's
   peak refined by golden section in :math:`\log p`. If the peaks fit in the budget, each
   user at its own peak is the global optimum (no coupling).
2. Otherwise a dynamic programme over the grid (the budget left rounded down to the grid, so
   the grid allocation is feasible) gives the best grid allocation; for K = 2 it is refined
   by golden section on the budget line :math:`p_1 + p_2 = P_{\max}` and at the users' local
   peaks (exact, no SLSQP); for K >= 3 by one SLSQP run (as below) from it. With
   ``full_power`` the programme keeps at most 0.1 % of the budget unspent and SLSQP, with
   the equality, polishes every scenario (K >= 2; for K = 1 the total is fixed).
3. The given start (the svd-pa split) is scored too, and SLSQP runs from it if it is better
   than the grid's result by more than round-off: the result is never below svd-pa.

Shapes with traces other than 0 and 1 (never built by :mod:`nfkg.engine.reduced`) fall back to
the multi-start method, scenario by scenario. Deterministic, and each scenario's result is
independent of the rest of the batch (bit for bit). ``benchmarks/bench_exact.py`` checks it against the multi-start method and a global
search; see docs/benchmarks/dlpa.md, "Exact split: grid + polish".

``method='multistart'``: SLSQP (:func:`scipy.optimize.minimize`) on the fractions
:math:`x = P/P_{\max}` in the simplex with a slack (:math:`x \ge 0`, :math:`\sum x \le 1`), with
the analytic gradient of :func:`true_skr`, from several starts that include the svd-pa
point, the equal split, scaled-down copies of both (radiating 10 % and 1 %) and seeded
random points; the best of the finals and of the starts themselves is returned, so the
result is never below svd-pa or the equal split. 12 to 100 times slower than the grid method
(K = 2 to 6).

Contents
--------
true_skr
    Per-user SKR and its gradient in :math:`(P_{S,k}, P_{N,k})`.
best_split
    :math:`g_k(p)`: the best split of a total power per user, closed form.
exact_allocation
    The optimum of J(41), batched over scenarios (grid method or multi-start SLSQP).

The objective (:func:`true_skr`, :func:`best_split`) and the searches live in private modules,
``_split_value`` and ``_exact_search``; every name above is importable from here.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._exact_search import _budget_grid, _floor_table, _grid_chunk, _one, _starts
from ._result import OptimizeResult
from ._split_value import best_split, true_skr

__all__ = ["true_skr", "best_split", "exact_allocation"]


def exact_allocation(s: dict[str, np.ndarray], t_s: ArrayLike, t_n: ArrayLike, p_max: ArrayLike,
                     kappa: ArrayLike, var_nb: ArrayLike, var_ne: ArrayLike,
                     p_s0: ArrayLike | None = None, p_n0: ArrayLike | None = None,
                     n_random: int = 4, seed: int = 0, ftol: float = 1e-13, maxiter: int = 500,
                     full_power: bool = False, method: str = "grid", n_grid: int = 150,
                     decades: float = 15.0, golden_iter: int = 40, chunk: int = 64) -> OptimizeResult:
    r"""Maximise :math:`\sum_k \mathrm{SKR}_k` (true noise) over the split, total at most :math:`P_{\max}`: J(41).

    Parameters
    ----------
    s : dict
        J(42) coefficients, each ``(..., K)`` (:func:`nfkg.schemes.optimize.view_coefficients`).
    t_s, t_n : array_like ``(..., K)``
        Shape traces (see :func:`true_skr`).
    p_max : array_like ``(...)``
    kappa, var_nb, var_ne : array_like ``(...)``
        :math:`\sigma_a^2/(VP_b)`, :math:`\sigma_b^2/V`, :math:`\sigma_e^2/V`.
    p_s0, p_n0 : array_like ``(..., K)``, optional
        An extra start (e.g. the svd-pa split): the result is never below it.
    n_random : int
        ``'multistart'``: seeded random starts (Dirichlet on the simplex with slack) per scenario.
    seed : int
        Seed of the random starts (same seed, same result).
    full_power : bool
        Radiate exactly :math:`P_{\max}` (J(25) as an equality, the constraint of the paper's
        AO and of KGSVD-Net's J(43)-(44)): the *full-power optimum*. Default ``False``: at most
        :math:`P_{\max}`.
    method : {'grid', 'multistart'}
        ``'grid'`` (default): the per-user value functions on a budget grid, their allocation
        (exact when the users' own optima fit in the budget; a dynamic programme over the grid
        otherwise), refined by golden section (K <= 2) or one SLSQP polish (K >= 3), see the
        module docstring. Deterministic, and each scenario's result is independent of the
        rest of the batch. ``'multistart'``: the earlier multi-start SLSQP (12 to 100 times slower
        at K = 2 to 6, ``benchmarks/bench_exact.py``).
    n_grid, decades : int, float
        ``'grid'``: log-spaced budget fractions per half of the grid, spanning
        :math:`[10^{-\text{decades}}, 1/2]` and mirrored to :math:`[1/2, 1 - 10^{-\text{decades}}]`.
    golden_iter : int
        ``'grid'``: golden-section iterations of the refinements.
    chunk : int
        ``'grid'``: scenarios per vectorised block (memory; results do not depend on it).

    Returns
    -------
    OptimizeResult
        ``x``: :math:`P_{S,k}` and ``extra['p_n']``: :math:`P_{N,k}` ``(..., K)``; ``fun``: sum SKR;
        ``extra['unused']``: :math:`P_{\max} - \sum_k P_{a,k}` [W]; ``nit``: 0.
    """
    if method not in ("grid", "multistart"):
        raise ValueError(f"method: 'grid' or 'multistart', got {method!r}")
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
    xs = np.zeros((n_b, 2 * n_users))
    fun = np.zeros(n_b)
    n_success = 0
    if method == "multistart":
        rng = np.random.default_rng(seed)
        for b in range(n_b):
            pm = float(PM[b])
            starts = _starts(n_users, pm, None if P0S is None else P0S[b], None if P0N is None else P0N[b],
                             rng, n_random, full_power)
            sb = {k: v[b] for k, v in S.items()}
            x, f, _, n_ok = _one(sb, TS[b], TN[b], KA[b], NB[b], NE[b], pm, starts, ftol, maxiter, full_power)
            xs[b] = x * pm
            fun[b] = -f
            n_success += n_ok
        message = f"best of multi-start SLSQP ({n_success} of the local runs converged)"
    else:
        k = n_users
        u = _budget_grid(n_grid, decades)
        table = _floor_table(u)
        frac = np.zeros((n_b, k))
        polish = np.zeros(n_b, bool)
        for c0 in range(0, n_b, chunk):
            sl = slice(c0, c0 + chunk)
            frac[sl], polish[sl] = _grid_chunk({key: v[sl] for key, v in S.items()}, TS[sl], TN[sl], PM[sl],
                                               KA[sl], NB[sl], NE[sl], u, table, full_power, golden_iter)
        # the signal share of every user's budget, then fractions (signal, jamming) of P_max
        _, p_sig = best_split(S, PM[:, None] * frac, TS, TN, KA[:, None], NB[:, None], NE[:, None])
        x_s = np.minimum(np.where(frac > 0, p_sig / PM[:, None], 0.0), frac)
        grid_x = np.clip(np.concatenate([x_s, frac - x_s], -1), 0.0, None)
        # shapes other than 0/1 traces with t_s != t_n: the multi-start method
        general = ((TS > 0) & (TN > 0) & (TS != TN)).any(-1)
        over = grid_x.sum(-1)
        scale = np.where((over > 1.0) | (full_power & (over > 0.0)), over, 1.0)
        grid_x = grid_x / scale[:, None]
        score = lambda x: true_skr(S, x[:, :k] * PM[:, None], x[:, k:] * PM[:, None], TS, TN,  # noqa: E731
                                   KA[:, None], NB[:, None], NE[:, None]).sum(-1)
        f_grid = score(grid_x)
        if P0S is not None:
            pa_x = np.clip(np.concatenate([P0S, P0N], -1) / PM[:, None], 0.0, None)
            tot = pa_x.sum(-1)
            pa_x = pa_x / np.where(full_power & (tot > 0), tot, np.maximum(tot, 1.0))[:, None]
            f_pa = score(pa_x)
        else:
            f_pa = np.full(n_b, -np.inf)
        take_pa = f_pa > f_grid
        xs = np.where(take_pa[:, None], pa_x, grid_x) * PM[:, None] if P0S is not None else grid_x * PM[:, None]
        fun = np.where(take_pa, f_pa, f_grid)
        # polish where needed: K >= 3 with the budget binding, full power, and wherever the
        # given start beats the grid (then from that start, so never below it)
        todo = polish | general | (f_pa > f_grid + 1e-12 * np.maximum(1.0, np.abs(f_grid)))
        n_pol = 0
        for b in np.flatnonzero(todo):
            pm = float(PM[b])
            sb = {key: v[b] for key, v in S.items()}
            args = (sb, TS[b], TN[b], KA[b], NB[b], NE[b], pm)
            if general[b]:
                starts = _starts(k, pm, None if P0S is None else P0S[b], None if P0N is None else P0N[b],
                                 np.random.default_rng(seed), n_random, full_power)
                x, f, _, _ = _one(*args, starts, ftol, maxiter, full_power)
                xs[b], fun[b] = x * pm, -f
                continue
            n_pol += 1
            x, f, _, _ = _one(*args, [pa_x[b] if take_pa[b] else grid_x[b]], ftol, maxiter, full_power)
            if P0S is not None and not take_pa[b] and f_pa[b] > -f:   # never below the given start
                x, f, _, _ = _one(*args, [pa_x[b]], ftol, maxiter, full_power)
            xs[b], fun[b] = x * pm, -f
        message = (f"per-user value functions on a {u.size}-point budget grid, allocated exactly or by a dynamic "
                   f"programme; SLSQP polish in {n_pol} of {n_b} scenario(s)")
    p_s = xs[:, :n_users].reshape(shape)
    p_n = xs[:, n_users:].reshape(shape)
    unused = np.maximum(PM - xs.sum(-1), 0.0).reshape(bshape)
    return OptimizeResult(x=p_s, fun=fun.reshape(bshape), success=True, message=message,
                          nit=0, history=fun.reshape(1, *bshape),
                          extra={"p_n": p_n, "unused": unused})
