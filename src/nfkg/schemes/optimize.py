r"""Power allocation for SVD precoding: Dinkelbach, water-filling, alternating optimisation.

All solvers are vectorised: every coefficient may carry a batch shape ``(...)``
(scenarios) and, for the multi-user solvers, a trailing user axis ``(..., K)``.

With :math:`W_k = P_{S,k} R_k + P_{N,k} R_{ek}` the problem is described by the
five scalars of J(42) per user,

.. math::
    s_1 = |f^H R h|^2,\; s_2 = h^H R h,\; s_3 = \Re\{(f^H R_e h)(h^H R f)\},\;
    s_4 = h^H R_e h,\; s_5 = f^H R f,

so no N x N matrix is needed (J's traces :math:`\mathrm{Tr}(R A R B)` etc. are these
bilinear forms; J(27)'s :math:`A_k = s_ks_k^H` is :math:`h_kh_k^H`). For every SVD design
:math:`R_e f = 0`, hence :math:`s_3 = 0`.

Contents
--------
OptimizeResult
    Result object (SciPy style).
view_coefficients
    :math:`s_{1..5}` of J(42) and the Gram determinant :math:`w = s_2s_5 - s_1` from the
    reduced shapes (:mod:`nfkg.engine.reduced`), exactly.
svd_coefficients
    The same from N-space shapes (:class:`~nfkg.engine.subspace.Shape`), for checks.
alpha_of_powers
    :math:`\alpha_k(P_S, P_N)`, J(42).
dinkelbach_coefficients, dinkelbach
    C(28)-(31), J(28)-(31), C/J Algorithm 1 (the sub-problem's sign as in C(31); J(31)
    prints ``+ beta``).
waterfill_coefficients, waterfill_objective, waterfill
    J(32)-(40), J Algorithm 2 (two-level search on the water level).
alternating
    J IV: alternate Dinkelbach per user and water-filling across users.

The solvers live in private modules by job, all re-exported here: ``_result``
(:class:`OptimizeResult`), ``_coefficients`` (J(42) and the coefficient forms), ``_dinkelbach``
and ``_waterfill``; this module holds the alternating optimisation.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ..engine.secrecy import skr_of_alpha
from ._coefficients import (alpha_of_powers, dinkelbach_coefficients, svd_coefficients, view_coefficients,
                            waterfill_coefficients)
from ._dinkelbach import _dinkelbach_scalar, dinkelbach
from ._result import OptimizeResult
from ._waterfill import waterfill, waterfill_objective

__all__ = [
    "OptimizeResult",
    "svd_coefficients",
    "view_coefficients",
    "alpha_of_powers",
    "dinkelbach_coefficients",
    "dinkelbach",
    "waterfill_coefficients",
    "waterfill_objective",
    "waterfill",
    "alternating",
]

_TINY = np.finfo(float).tiny


# --------------------------------------------------------------------------- alternating optimisation
def alternating(
    s: dict[str, np.ndarray], p_max: ArrayLike, var_na: ArrayLike, var_nb: ArrayLike, var_ne: ArrayLike,
    tol: float = 1e-9, maxiter: int = 100,
) -> OptimizeResult:
    r"""SVD w/ PA: alternating optimisation of J IV from :math:`P_{a,k} = P_{\max}/K`.

    Each iteration runs (a) Dinkelbach per user at fixed :math:`P_{a,k}` (J Alg. 1),
    then (b) water-filling over :math:`P_{a,k}` at fixed :math:`P_{S,k}` (J Alg. 2).
    A scenario stops when its sum objective :math:`\sum_k C_k` changes by less than
    ``tol`` (relative) over one iteration; the others go on (convergence masks).
    Step (a) is solved globally; step (b) finds the KKT point of J(40), the global
    optimum where each :math:`C_k` is concave on :math:`[P_{S,k}, \infty)` (J IV-B-1).
    That assumption fails at very low SNR (SKRs of ~1e-3 bit), where a water-filling
    step that would lower the objective is rejected; so the objective never
    decreases. For K = 1, step (b) is trivial: one Dinkelbach run is C's single-user
    optimum.

    Parameters
    ----------
    s : dict
        :func:`view_coefficients` (or :func:`svd_coefficients`), each ``(..., K)``.
    p_max : array_like ``(...)``
    var_na : array_like
        BS noise used by the optimiser: the worst case :math:`P_{\max}\sigma_a^2/(VP_b)`
        (J III-D, J VII-B).
    var_nb, var_ne : array_like
        User and Eve estimation noise.
    tol : float
    maxiter : int

    Returns
    -------
    OptimizeResult
        ``x``: :math:`P_{a,k}`; ``extra['p_s']``: :math:`P_{S,k}`; ``fun``: the
        optimiser's sum objective; ``history``: that objective after every half-step
        (start, then after (a) and (b) of each iteration; a scenario that stopped keeps
        its last value); ``nit``: iterations of the slowest scenario.
    """
    shape = s["s5"].shape
    n_users = shape[-1]
    def flat(a):
        a = np.asarray(a, float)
        if a.shape != shape:
            a = np.broadcast_to(a, shape)
        return np.ascontiguousarray(a).reshape(-1, n_users)

    S = {k: flat(v) for k, v in s.items()}
    PM = np.ascontiguousarray(np.broadcast_to(np.asarray(p_max, float), shape[:-1])).reshape(-1)
    NA, NB, NE = flat(var_na), flat(var_nb), flat(var_ne)
    n_b = PM.size
    p_a = np.repeat(PM[:, None] / n_users, n_users, axis=1)
    p_s = p_a / 2.0

    def objective(i, ps, pa):
        si = {k: v[i] for k, v in S.items()}
        return skr_of_alpha(alpha_of_powers(si, ps, pa - ps, NE[i]), NA[i], NB[i]).sum(-1)

    every = np.arange(n_b)
    cur = objective(every, p_s, p_a)
    history = [cur.copy()]
    idx = every
    nit = 0
    for nit in range(1, maxiter + 1):
        si = {k: v[idx] for k, v in S.items()}
        pa_i = p_a[idx]
        m = dinkelbach_coefficients(si, pa_i, NE[idx])
        if idx.size == 1:  # one scenario: K scalar Dinkelbach runs, no array overhead
            x = [_dinkelbach_scalar(*(float(v[0, k]) for v in (*m, pa_i)), 1e-13, 100)[0]
                 for k in range(n_users)]
            ps_i = np.minimum(np.array([x]), pa_i)
        else:
            ps_i = np.minimum(dinkelbach(*m, pa_i).x, pa_i)
        p_s[idx] = ps_i
        prev = cur[idx].copy()
        obj_a = objective(idx, ps_i, pa_i)
        cur[idx] = obj_a
        history.append(cur.copy())
        if n_users == 1:  # P_a = P_max: Dinkelbach alone is the global optimum (C Alg. 1)
            idx = idx[:0]
            history.append(cur.copy())
            break
        wf = waterfill(waterfill_coefficients(si, ps_i, NE[idx]), ps_i, PM[idx], NA[idx], NB[idx], p_init=pa_i)
        p_new = np.maximum(wf.x, ps_i)
        # J IV-B-1 assumes each C_k concave on [P_S, inf); at very low SNR it is not and
        # the KKT point can be worse than the current one: then keep the current P_a.
        obj_new = objective(idx, ps_i, p_new)
        better = obj_new >= obj_a
        p_a[idx] = np.where(better[:, None], p_new, pa_i)
        cur[idx] = np.where(better, obj_new, obj_a)
        history.append(cur.copy())
        done = np.abs(cur[idx] - prev) <= tol * np.maximum(np.abs(cur[idx]), _TINY)
        idx = idx[~done]
        if idx.size == 0:
            break
    success = idx.size == 0
    out_shape = shape[:-1]
    return OptimizeResult(
        x=p_a.reshape(shape), fun=cur.reshape(out_shape), success=success,
        message="converged" if success else f"maxiter={maxiter} reached",
        nit=nit, history=np.array(history).reshape(-1, *out_shape), extra={"p_s": p_s.reshape(shape)},
    )
