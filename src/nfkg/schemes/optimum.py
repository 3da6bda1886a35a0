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
search; see BENCHMARKS.md, "Exact split: grid + polish".

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
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..engine.secrecy import skr_of_alpha
from ._coefficients import _wedge, alpha_of_powers
from ._result import OptimizeResult

__all__ = ["true_skr", "best_split", "exact_allocation"]

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


def _starts(n_users, pm, p0s, p0n, rng, n_random, full_power):
    r"""The multi-start method's starts for one scenario (fractions of :math:`P_{\max}`)."""
    eq = np.full(2 * n_users, 0.5 / n_users)
    sig = np.concatenate([np.full(n_users, 1.0 / n_users), np.zeros(n_users)])
    jam = np.concatenate([np.zeros(n_users), np.full(n_users, 1.0 / n_users)])
    starts = [eq, sig, 0.1 * eq, 0.01 * eq, 0.1 * sig, 0.01 * sig]
    if full_power:
        starts = [eq, sig, 0.9 * sig + 0.1 * jam, 0.1 * sig + 0.9 * jam]
    if p0s is not None:
        x0 = _start_of(p0s, p0n, pm, full_power)
        starts += [x0] if full_power else [x0, 0.1 * x0, 0.01 * x0]
    # Dirichlet on the simplex with a slack coordinate (dropped), or on the simplex itself
    starts += [rng.dirichlet(np.ones(2 * n_users + (0 if full_power else 1)))[:2 * n_users]
               for _ in range(n_random)]
    return starts


def _start_of(p0s, p0n, pm, full_power):
    """A given split as fractions, clipped to the budget (scaled to it with ``full_power``)."""
    x0 = np.clip(np.concatenate([p0s, p0n]) / pm, 0.0, None)
    return x0 / (x0.sum() if full_power and x0.sum() > 0 else max(x0.sum(), 1.0))


_GOLD = 0.5 * (np.sqrt(5.0) - 1.0)


def _golden(f, la, lb, x0, f0, iters):
    """Golden-section maximisation of ``f(exp(t))`` over ``t`` in ``[la, lb]``, elementwise.

    Returns the best point seen and its value, ``(x0, f0)`` included (so never below it).
    """
    bx, bf = x0, f0
    x1 = lb - _GOLD * (lb - la)
    x2 = la + _GOLD * (lb - la)
    f1, f2 = f(np.exp(x1)), f(np.exp(x2))
    for _ in range(iters):
        for xx, ff in ((x1, f1), (x2, f2)):
            better = ff > bf
            bf = np.where(better, ff, bf)
            bx = np.where(better, np.exp(xx), bx)
        left = f1 >= f2
        lb = np.where(left, x2, lb)
        la = np.where(left, la, x1)
        nx1 = np.where(left, lb - _GOLD * (lb - la), x2)
        nx2 = np.where(left, x1, la + _GOLD * (lb - la))
        fn = f(np.exp(np.where(left, nx1, nx2)))
        f1, f2 = np.where(left, fn, f2), np.where(left, f1, fn)
        x1, x2 = nx1, nx2
    for xx, ff in ((x1, f1), (x2, f2)):
        better = ff > bf
        bf = np.where(better, ff, bf)
        bx = np.where(better, np.exp(xx), bx)
    return bx, bf


def _budget_grid(n_half: int, decades: float) -> np.ndarray:
    """Budget fractions: 0, log-spaced points in ``[10^-decades, 1/2]``, their mirror images ``1 - u``, and 1."""
    lo = np.logspace(-decades, np.log10(0.5), int(n_half))
    return np.unique(np.concatenate([[0.0], lo, 1.0 - lo, [1.0]]))


def _floor_table(u: np.ndarray) -> np.ndarray:
    """``[c, a]``: index of the largest grid point at most ``u[c] - u[a]`` (a few ulps of slack); -1 if negative."""
    diff = u[:, None] - u[None, :]
    idx = np.searchsorted(u, diff * (1.0 + 1e-12) + 4.5e-16, side="right") - 1
    return np.where(diff >= 0, idx, -1)


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


def _grid_chunk(S, TS, TN, PM, KA, NB, NE, u, table, full_power, golden_iter):
    """Global stage of the grid method for a chunk of scenarios: fractions ``(b, K)`` and the polish flags."""
    n_b, k = TS.shape
    n_g = u.size
    c2 = lambda v: v[:, None]  # noqa: E731
    c3 = lambda v: v[:, None, None]  # noqa: E731

    def gval(sel, frac):                                          # g_k at fractions (b', K) of P_max
        val, _ = best_split({key: v[sel] for key, v in S.items()}, c2(PM[sel]) * frac, TS[sel], TN[sel],
                            c2(KA[sel]), c2(NB[sel]), c2(NE[sel]))
        return val

    every = np.arange(n_b)
    # g_k on the budget grid, (b, K, G)
    g, _ = best_split({key: v[..., None] for key, v in S.items()}, c3(PM) * u, TS[..., None], TN[..., None],
                      c3(KA), c3(NB), c3(NE))
    g = np.where(np.isfinite(g), g, 0.0)
    # each user's peak over [0, P_max], refined by golden section in log p
    i = np.argmax(g, axis=-1)
    lo = u[np.maximum(i - 1, 0)]
    lo = np.where(lo > 0, lo, u[1] * 1e-3)
    hi = u[np.minimum(i + 1, n_g - 1)]
    peak, _ = _golden(lambda f: gval(every, f), np.log(lo), np.log(hi), u[i],
                      np.take_along_axis(g, i[..., None], -1)[..., 0], golden_iter)
    peak = np.where(i == 0, 0.0, np.minimum(peak, 1.0))
    # the peaks fit in the budget: each user at its own optimum is the global optimum
    separable = (peak.sum(-1) <= 1.0) & (not full_power)
    frac = np.where(separable[:, None], peak, 0.0)
    coupled = np.flatnonzero(~separable)
    if coupled.size == 0:
        return frac, np.zeros(n_b, bool)
    # dynamic programme over the budget grid: V_j(c) = max_a g_j(a) + V_{j-1}(floor(u_c - u_a))
    tab = np.where(table >= 0, table, n_g)                       # n_g: a -inf slot (over budget)
    gs = g[coupled]
    m = coupled.size
    if full_power:
        v = np.broadcast_to(np.where(u <= 1e-3, 0.0, -np.inf), (m, n_g))
    else:
        v = np.zeros((m, n_g))
    args = []
    for j in range(k):
        if j == 0 and not full_power and k > 1:                  # V_0 = 0: a running maximum
            gj = gs[:, 0, :]
            run = np.maximum.accumulate(gj, axis=-1)
            prev = np.concatenate([np.full((m, 1), -np.inf), run[:, :-1]], -1)
            args.append(np.maximum.accumulate(np.where(gj > prev, np.arange(n_g), 0), axis=-1))
            v = run
            continue
        rows = slice(n_g - 1, n_g) if j == k - 1 else slice(None)
        tr = tab[rows]
        cand = np.take(np.concatenate([v, np.full((m, 1), -np.inf)], -1), tr.ravel(), axis=1).reshape(m, *tr.shape)
        cand += gs[:, j, None, :]
        a = np.argmax(cand, -1)
        v = np.take_along_axis(cand, a[..., None], -1)[..., 0]
        args.append(a)
    c = np.full(m, n_g - 1)
    r = np.arange(m)
    fr = np.zeros((m, k))
    for j in range(k - 1, -1, -1):
        a = args[j][:, 0] if j == k - 1 else args[j][r, c]
        fr[:, j] = u[a]
        c = table[c, a]
    polish = ~separable
    if k == 2 and not full_power:
        # K = 2: refine exactly, without SLSQP. A: both users at their local peaks (if they
        # fit); B: on the budget line p_1 + p_2 = P_max, in the smaller share
        ia = np.searchsorted(u, fr)
        lo = u[np.maximum(ia - 1, 0)]
        lo = np.where(lo > 0, lo, u[1] * 1e-3)
        hi = u[np.minimum(ia + 1, n_g - 1)]
        v0 = gval(coupled, fr)
        best_f, best_fr = v0.sum(-1), fr.copy()
        pa_, va_ = _golden(lambda f: gval(coupled, f), np.log(lo), np.log(hi), fr, v0, golden_iter)
        ok = (pa_.sum(-1) <= 1.0) & (va_.sum(-1) > best_f)
        best_fr = np.where(ok[:, None], pa_, best_fr)
        best_f = np.where(ok, va_.sum(-1), best_f)
        sm = np.argmin(fr, -1)
        fm = fr[r, sm]
        has = fm > 0

        def on_line(x):
            f2 = np.empty((m, 2))
            f2[r, sm] = np.minimum(x, 1.0)
            f2[r, 1 - sm] = 1.0 - f2[r, sm]
            return f2

        line = lambda x: gval(coupled, on_line(x)).sum(-1)  # noqa: E731
        lo_m = np.where(has, lo[r, sm], 1e-300)
        hi_m = np.where(has, hi[r, sm], 1e-300)
        pb_, vb_ = _golden(line, np.log(lo_m), np.log(hi_m), fm, np.where(has, line(fm), -np.inf), golden_iter)
        ok = has & (vb_ > best_f)
        best_fr = np.where(ok[:, None], on_line(pb_), best_fr)
        fr = best_fr
        polish = np.zeros(n_b, bool)
    frac[coupled] = fr
    return frac, polish


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
