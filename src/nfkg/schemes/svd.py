r"""The SVD schemes: null-space precoding with artificial noise (C IV, J III-B, IV, V) and beyond.

A user's precoder :math:`W_k = P_{S,k} R_k + P_{N,k} R_{ek}` has a signal shape :math:`R_k` in the
null space of the other users and the other Eves, J(13)-(14), and a jamming shape :math:`R_{ek}`
that also excludes the user, J(15)-(16); the schemes differ in those shapes and in the power split.

Registry names
--------------
``svd``
    SVD w/o PA: :math:`P_{a,k} = P_{\max}/K`, :math:`P_{S,k} = P_{N,k} = P_{a,k}/2`.
``svd-pa``
    SVD w/ PA: Dinkelbach (K = 1, C Alg. 1) or alternating optimisation (J IV),
    then the better of that split and the equal split under the true noise.
``svd-opt``
    The exact split of J(41) with the true noise (:mod:`nfkg.schemes.optimum`).
``svd-dlpa``
    SVD w/ DLPA, J V: the split of KGSVD-Net (:mod:`nfkg.schemes.dlpa`), total :math:`P_{\max}`.
``svd-mf``
    Beyond the papers, the recommended scheme: matched signal shaping
    :math:`v = P_\perp f_k/\|P_\perp f_k\|`, targeted jamming
    :math:`q = P_\perp h_k/\|P_\perp h_k\|` and the exact split of J(41) (as ``svd-opt``).
    Its shaping and jamming are fixed (``shaping`` is ignored, as by ``ras``/``mrc``).
``svd-maxmin``
    Beyond the papers: the split that maximises the smallest user SKR,
    total at most :math:`P_{\max}`, for the chosen subspaces (:mod:`nfkg.schemes.fairness`).

They take ``jamming='isotropic'`` (J(15)-(16), default) or ``'targeted'`` beside ``shaping``.
The shapes are :func:`~nfkg.engine.reduced.svd_views` of the 2K channels; the N-space precoders
(:func:`~nfkg.engine.subspace.svd_shapes`) are built on demand.

Contents
--------
true_objective
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from . import baselines  # noqa: F401 - the baselines register first (the order of `nfkg schemes`)
from . import optimize
from ..engine.reduced import ShapeView, check_svd_options, geometry, svd_views
from ..engine.subspace import PrecoderCovariance, svd_shapes
from ..model.scenario import Scenario
from .baselines import equal_powers as _equal_powers
from .optimum import exact_allocation, true_skr
from .registry import PrecodingResult, register_scheme

__all__ = ["true_objective"]


def _svd_realizer(scenario, shaping, jamming, rtol, powers):
    def realize():
        f, h = scenario.channels()
        return PrecoderCovariance(svd_shapes(f, h, shaping, jamming, rtol), powers)
    return realize


def _check_svd(scenario: Scenario, shaping: str, jamming: str) -> None:
    n, k = scenario.n_ant, scenario.n_users
    if not getattr(scenario, "has_geometry", True) and n < 2 * k - 1:  # own channels: name the arrays
        raise ValueError(f"f: SVD precoding needs N >= 2K-1 = {2 * k - 1} antennas for K = {k} users; the "
                         f"channel arrays f, h have N = {n} (their last axis)")
    check_svd_options(n, k, shaping, jamming)


@register_scheme("svd", "SVD w/o PA: null-space precoding, P_a = P_max/K split equally (C IV, J VII-A(c))",
                 uses_shaping=True)
def _svd(scenario: Scenario, shaping: str, jamming: str = "isotropic", rtol: float | None = None
         ) -> PrecodingResult:
    _check_svd(scenario, shaping, jamming)
    sig, jam = svd_views(geometry(scenario).blocks(rtol), shaping, jamming)
    p_s = _equal_powers(scenario) / 2.0
    powers = np.stack([p_s, p_s], axis=-1)
    return PrecodingResult("svd", shaping, (sig, jam), powers, p_s=p_s * sig.trace, p_n=p_s * jam.trace,
                           jamming=jamming, realize=_svd_realizer(scenario, shaping, jamming, rtol, powers))


def true_objective(scenario: Scenario, s: dict[str, np.ndarray], sig: ShapeView, jam: ShapeView,
                   p_s: np.ndarray, p_n: np.ndarray) -> np.ndarray:
    r"""Per-user SKR of an SVD power split with the true BS noise, J(22) with J(11)'s noise, exact.

    :func:`nfkg.schemes.optimum.true_skr` with the scenario's noise: :math:`\alpha_k` from J(42) in
    its cancellation-free form and :math:`\hat\sigma_{a,k}^2 = P_{a,k}\sigma_a^2/(VP_b)` with
    the power actually radiated. For SVD precoders this equals the engine's SKR (both scorings).
    """
    kappa = (scenario.sigma2_a / (scenario.pilot_length * scenario.p_b))[..., None]
    return true_skr(s, p_s, p_n, sig.trace, jam.trace, kappa, scenario.var_nb, scenario.var_ne)


@register_scheme("svd-pa", "SVD w/ PA: Dinkelbach (K=1, C Alg. 1) / alternating optimisation with "
                 "water-filling (J IV, Algs. 1-2), never below SVD w/o PA", uses_shaping=True)
def _svd_pa(scenario: Scenario, shaping: str, jamming: str = "isotropic", rtol: float | None = None,
            tol: float = 1e-9, maxiter: int = 100) -> PrecodingResult:
    _check_svd(scenario, shaping, jamming)
    sig, jam = svd_views(geometry(scenario).blocks(rtol), shaping, jamming)
    shape = (*scenario.batch_shape, scenario.n_users)
    s = {key: v if v.shape == shape else np.broadcast_to(v, shape)
         for key, v in optimize.view_coefficients(sig, jam).items()}
    res = optimize.alternating(s, np.broadcast_to(scenario.p_max, scenario.batch_shape),
                               scenario.var_na_worst, scenario.var_nb, scenario.var_ne,
                               tol=tol, maxiter=maxiter)
    ps_ao, pn_ao = res.p_s, res.x - res.p_s
    # J(25) bounds the total power by P_max: radiating less is allowed. The AO maximises a
    # worst-case-noise objective; score its split and the equal split (SVD w/o PA) with the
    # true noise and keep the better, so that svd-pa >= svd always.
    ps_eq = _equal_powers(scenario) / 2.0
    skr_ao = true_objective(scenario, s, sig, jam, ps_ao, pn_ao).sum(-1)
    skr_eq = true_objective(scenario, s, sig, jam, ps_eq, ps_eq).sum(-1)
    equal = skr_eq > skr_ao
    p_s = np.where(equal[..., None], ps_eq, ps_ao)
    p_n = np.where(equal[..., None], ps_eq, pn_ao)
    n_eq = int(np.count_nonzero(equal))
    msg = res.message
    if n_eq:
        msg += (f"; the equal split scores higher with the true BS noise in {n_eq} of {equal.size} "
                "scenario(s) and is returned there")
    powers = np.stack([p_s, p_n], axis=-1)
    return PrecodingResult("svd-pa", shaping, (sig, jam), powers, p_s=p_s * sig.trace, p_n=p_n * jam.trace,
                           nit=res.nit, history=res.history, success=res.success, message=msg,
                           extra={"objective": res.fun, "coefficients": s, "equal_split": equal,
                                  "ao_p_s": ps_ao, "ao_p_n": pn_ao},
                           jamming=jamming, realize=_svd_realizer(scenario, shaping, jamming, rtol, powers))


@register_scheme("svd-dlpa", "SVD w/ DLPA: the power split of KGSVD-Net (J V), total P_max; models ship for "
                 "K = 2, 4, 6 (others: `nfkg train`, then model=DIR)", uses_shaping=True)
def _svd_dlpa(scenario: Scenario, shaping: str, jamming: str = "isotropic", rtol: float | None = None,
              model: Any = None) -> PrecodingResult:
    r"""SVD w/ DLPA (J V): the SVD subspaces of J(13)-(16), powers from KGSVD-Net, J(43)-(44).

    ``model`` is a :class:`~nfkg.schemes.dlpa.KGSVDModel`, a model directory, or ``None`` for the
    model shipped for the scenario's K. The model must have been trained for the same
    shaping and jamming. torch is imported here, not before.
    """
    from . import dlpa

    _check_svd(scenario, shaping, jamming)
    if model is None:
        mdl = dlpa.shipped_model(scenario.n_users)
    elif isinstance(model, dlpa.KGSVDModel):
        mdl = model
    else:
        mdl = dlpa.load_model(model)
    if mdl.n_users != scenario.n_users:
        raise dlpa.ModelError(f"svd-dlpa: the KGSVD-Net model{f' at {mdl.path}' if mdl.path else ''} is trained "
                              f"for K = {mdl.n_users} users, the scenario has K = {scenario.n_users}")
    for opt, val in (("shaping", shaping), ("jamming", jamming)):
        if mdl.meta.get(opt) != val:
            raise dlpa.ModelError(f"svd-dlpa: the KGSVD-Net model is trained for {opt} {mdl.meta.get(opt)!r}, "
                                  f"not {val!r}; train one with `nfkg train --{opt} {val}`")
    (sig, jam), s, inst = dlpa.scenario_instance(scenario, shaping, jamming, rtol)
    p_s, p_n = mdl.allocate(inst, np.broadcast_to(scenario.p_max, scenario.batch_shape))
    powers = np.stack([p_s, p_n], axis=-1)
    return PrecodingResult("svd-dlpa", shaping, (sig, jam), powers, p_s=p_s * sig.trace, p_n=p_n * jam.trace,
                           message="KGSVD-Net power split (J V)",
                           extra={"coefficients": s, "instance": inst, "model": str(mdl.path)},
                           jamming=jamming, realize=_svd_realizer(scenario, shaping, jamming, rtol, powers))


@register_scheme("svd-opt", "SVD opt: the exact power split of J(41) with the true noise, total at most P_max "
                 "(per-user value functions on a budget grid + polish, never below svd-pa; the yardstick of svd-pa and svd-dlpa)",
                 uses_shaping=True)
def _svd_opt(scenario: Scenario, shaping: str, jamming: str = "isotropic", rtol: float | None = None,
             n_random: int = 4, seed: int = 0) -> PrecodingResult:
    _check_svd(scenario, shaping, jamming)
    pa = _svd_pa(scenario, shaping, jamming, rtol)
    sig, jam = pa.views
    shape = (*scenario.batch_shape, scenario.n_users)
    s = pa.extra["coefficients"]
    kappa = scenario.sigma2_a / (scenario.pilot_length * scenario.p_b)
    res = exact_allocation(s, np.broadcast_to(sig.trace, shape), np.broadcast_to(jam.trace, shape),
                           scenario.p_max, kappa, scenario.sigma2_b / scenario.pilot_length,
                           scenario.sigma2_e / scenario.pilot_length,
                           p_s0=pa.powers[..., 0], p_n0=pa.powers[..., 1], n_random=n_random, seed=seed)
    p_s, p_n = res.x, res.p_n
    powers = np.stack([p_s, p_n], axis=-1)
    return PrecodingResult("svd-opt", shaping, (sig, jam), powers, p_s=p_s * sig.trace, p_n=p_n * jam.trace,
                           nit=res.nit, history=res.history, success=res.success, message=res.message,
                           extra={"objective": res.fun, "coefficients": s, "unused_power": res.unused,
                                  "svd_pa": pa},
                           jamming=jamming, realize=_svd_realizer(scenario, shaping, jamming, rtol, powers))


@register_scheme("svd-mf", "SVD matched: matched signal shaping, targeted jamming and the exact split of "
                 "J(41) (beyond the papers; the recommended scheme)", fixed_shaping="matched")
def _svd_mf(scenario: Scenario, shaping: None = None, jamming: str = "targeted", rtol: float | None = None,
            n_random: int = 4, seed: int = 0) -> PrecodingResult:
    r"""svd-mf (beyond the papers): ``svd-opt`` on the matched signal and targeted jamming shapes.

    .. math::
        R_k = vv^H,\ v = \frac{P_\perp(\tilde R_k) f_k}{\|P_\perp(\tilde R_k) f_k\|}, \qquad
        R_{ek} = qq^H,\ q = \frac{P_\perp(\tilde R_{ek}) h_k}{\|P_\perp(\tilde R_{ek}) h_k\|}

    (C IV's matched rule generalised to K users, and jamming aimed at Eve k inside the
    null space of J(15)), with the exact split of J(41) under the true BS noise of J(11)
    (:func:`nfkg.schemes.optimum.exact_allocation`, as ``svd-opt``). Both beams keep the
    null-space conditions of J(13)-(16): :math:`R_k f_i = R_k h_i = 0` and
    :math:`R_{ek} f_i = R_{ek} h_i = 0` for :math:`i \ne k`, and :math:`R_{ek} f_k = 0`.

    Why it dominates ``svd-opt`` on the papers' subspaces: seen from the 2K channels (all the
    engine needs), the isotropic signal shape of J(14) is
    :math:`(vv^H + qq^H)/(N - r_k)` and the isotropic jamming of J(16) is
    :math:`qq^H/(N - r_{ek})` (:mod:`nfkg.engine.reduced`: inside the null space only :math:`v` and
    :math:`q` reach :math:`f_k, h_k`). So any split :math:`(P_S, P_N)` of the papers' shapes gives
    exactly the same observations as :math:`P_S/(N-r_k)` on :math:`v` and
    :math:`P_S/(N-r_k) + P_N/(N-r_{ek})` on :math:`q`, which radiates less and so has less BS
    noise (J(11)): per user the SKR is at least as high, and svd-mf's optimum is never below
    svd-opt's (up to the solver's round-off; ``benchmarks/bench_beyond.py`` found no exception).

    Its shapes are fixed: ``shaping`` is ignored (the scheme is called with ``None``) and
    any ``jamming`` but ``'targeted'`` is refused; ``svd-opt`` with ``shaping``/``jamming``
    gives the other combinations. Where :math:`P_\perp h_k = 0` (``N = 2K-1``, or Eve in
    the span of the other channels) nothing is radiated for jamming.
    """
    if jamming != "targeted":
        raise ValueError(f"jamming: svd-mf uses targeted jamming (its shapes are fixed), got {jamming!r}; for other "
                         "shapes use svd-opt with shaping and jamming")
    res = _svd_opt(scenario, "matched", "targeted", rtol, n_random=n_random, seed=seed)
    return replace(res, scheme="svd-mf")


@register_scheme("svd-maxmin", "SVD max-min: the split that maximises the smallest user SKR (true noise), total "
                 "at most P_max (beyond the papers; bisection on the common rate, nfkg.schemes.fairness)", uses_shaping=True)
def _svd_maxmin(scenario: Scenario, shaping: str, jamming: str = "isotropic", rtol: float | None = None,
                n_grid: int = 113, polish: bool = True) -> PrecodingResult:
    r"""svd-maxmin (beyond the papers): :math:`\max \min_k \mathrm{SKR}_k` over the split, J(22) with J(11)'s noise.

    The SVD subspaces of J(13)-(16) (or svd-mf's matched/targeted shapes, by ``shaping`` and
    ``jamming``) with :func:`nfkg.schemes.fairness.maxmin_allocation`: the users couple only through
    :math:`\sum_k P_{a,k} \le P_{\max}`, so the largest common rate is found by bisection, each
    user's cheapest split to reach it from a grid, then polished by SLSQP. Users that no split
    gives a positive SKR get no power (see :mod:`nfkg.schemes.fairness`).
    """
    from .fairness import maxmin_allocation

    _check_svd(scenario, shaping, jamming)
    sig, jam = svd_views(geometry(scenario).blocks(rtol), shaping, jamming)
    shape = (*scenario.batch_shape, scenario.n_users)
    s = {key: v if v.shape == shape else np.broadcast_to(v, shape)
         for key, v in optimize.view_coefficients(sig, jam).items()}
    kappa = scenario.sigma2_a / (scenario.pilot_length * scenario.p_b)
    res = maxmin_allocation(s, np.broadcast_to(sig.trace, shape), np.broadcast_to(jam.trace, shape),
                            np.broadcast_to(scenario.p_max, scenario.batch_shape), kappa,
                            scenario.sigma2_b / scenario.pilot_length, scenario.sigma2_e / scenario.pilot_length,
                            n_grid=n_grid, polish=polish)
    p_s, p_n = res.x, res.p_n
    powers = np.stack([p_s, p_n], axis=-1)
    return PrecodingResult("svd-maxmin", shaping, (sig, jam), powers, p_s=p_s * sig.trace, p_n=p_n * jam.trace,
                           message=res.message,
                           extra={"objective": res.fun, "coefficients": s, "unused_power": res.unused,
                                  "dropped": res.dropped, "grid_objective": res.grid},
                           jamming=jamming, realize=_svd_realizer(scenario, shaping, jamming, rtol, powers))
