r"""The searches behind :func:`exact_allocation`: the multi-start SLSQP of one scenario, and the
global stage of the grid method (per-user value functions on a budget grid, golden-section
refinement of the peaks, a dynamic programme over the grid when the budget binds, exact
refinement for K = 2).
"""

from __future__ import annotations

import numpy as np

from ._split_value import best_split, true_skr

__all__: list[str] = []


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
