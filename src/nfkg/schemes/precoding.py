r"""Precoding schemes and their evaluation by the secrecy engine (SPEC 5).

A scheme turns a :class:`~nfkg.model.scenario.Scenario` into precoder covariances
:math:`W_k = \sum_j P_{j,k} R_{j,k}` (unit-trace shapes seen from the 2K channels,
:class:`~nfkg.engine.reduced.ShapeView`, never N x N matrices) and a power split
:math:`P_{S,k}, P_{N,k}`. Every scheme is then scored by the exact engine of
:mod:`nfkg.engine.secrecy` with the true noise of SPEC 3. The N-space precoders (for
sampling) are built on demand by :mod:`nfkg.engine.subspace`.

Schemes (registry names)
------------------------
``ras``     RAS w/o P, J VII-A(a): :math:`w_k = p_k \mathbf 1/\sqrt N`.
``mrc``     MRC, C V-B, J VII-A(b): :math:`w_k = p_k f_k/\|f_k\|`.
``svd``     SVD w/o PA: :math:`P_{a,k} = P_{\max}/K`, :math:`P_{S,k} = P_{N,k} = P_{a,k}/2`.
``svd-pa``  SVD w/ PA: Dinkelbach (K = 1, C Alg. 1) or alternating optimisation (J IV),
            then the better of that split and the equal split under the true noise.
``svd-opt`` The exact split of J(41) with the true noise (:mod:`nfkg.schemes.optimum`).
``svd-dlpa`` SVD w/ DLPA, J V: the split of KGSVD-Net (:mod:`nfkg.schemes.dlpa`), total :math:`P_{\max}`.
``svd-mf``  Beyond the papers (SPEC 8), the recommended scheme: matched signal shaping
            :math:`v = P_\perp f_k/\|P_\perp f_k\|`, targeted jamming
            :math:`q = P_\perp h_k/\|P_\perp h_k\|` and the exact split of J(41) (as ``svd-opt``).
            Its shaping and jamming are fixed (``shaping`` is ignored, as by ``ras``/``mrc``).
``svd-maxmin`` Beyond the papers (SPEC 8): the split that maximises the smallest user SKR,
            total at most :math:`P_{\max}`, for the chosen subspaces (:mod:`nfkg.schemes.fairness`).

The SVD schemes take ``jamming='isotropic'`` (J(15)-(16), default) or ``'targeted'`` (SPEC 8)
beside ``shaping``; ``ras`` and ``mrc`` take neither.

New schemes plug in with :func:`register_scheme`.

Contents
--------
PrecodingResult, Evaluation, register_scheme, get_scheme, scheme_names, precode,
evaluate, score, radiated_power, true_objective, default_shaping
PrecoderCovariance, svd_shapes
    Re-exported from :mod:`nfkg.engine.subspace` (N-space realisation).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Callable

import numpy as np

from . import optimize
from ..engine.reduced import JAMMINGS, SHAPINGS, ShapeView, beam_view, check_svd_options, geometry, svd_views
from ..model.scenario import Scenario, require_scenario
from ..engine.secrecy import covariance_from_rows, observation_rows, skr_factored
from .optimum import exact_allocation, true_skr
from ..engine.subspace import PrecoderCovariance, Shape, svd_shapes

__all__ = [
    "SHAPINGS",
    "JAMMINGS",
    "score",
    "radiated_power",
    "true_objective",
    "SCORINGS",
    "PrecoderCovariance",
    "svd_shapes",
    "PrecodingResult",
    "Evaluation",
    "SchemeSpec",
    "register_scheme",
    "get_scheme",
    "scheme_names",
    "default_shaping",
    "precode",
    "evaluate",
]



@dataclass(frozen=True)
class PrecodingResult:
    """What a scheme returns: covariance shapes, power split and solver diagnostics.

    Attributes
    ----------
    scheme, shaping : str
    views : tuple of ShapeView
        The unit-trace shapes :math:`R_{j,k}` seen from the 2K channels
        (:mod:`nfkg.engine.reduced`): all the engine needs.
    powers : ndarray, shape ``(..., K, J)``
        Power allocated to each shape [W].
    p_s, p_n : ndarray, ``(..., K)``
        Power radiated for key generation and for jamming [W]. Where the jamming
        null space is empty (``N = 2K-1``) nothing can be radiated there and
        ``p_n = 0``.
    nit : int
        Solver iterations (0 for closed-form schemes).
    history : ndarray or None
        Solver objective per iteration (Dinkelbach: beta; AO: sum objective).
    success : bool
    message : str
    extra : dict
    jamming : str or None
        ``'isotropic'`` or ``'targeted'`` for the SVD schemes.
    """

    scheme: str
    shaping: str | None
    views: tuple[ShapeView, ...]
    powers: np.ndarray
    p_s: np.ndarray
    p_n: np.ndarray
    nit: int = 0
    history: np.ndarray | None = None
    success: bool = True
    message: str = "closed form"
    extra: dict[str, Any] = field(default_factory=dict)
    jamming: str | None = None
    realize: Callable[[], "PrecoderCovariance"] | None = field(default=None, repr=False, compare=False)

    @property
    def p_a(self) -> np.ndarray:
        """Per-user power :math:`P_{a,k} = P_{S,k} + P_{N,k}` [W] actually radiated."""
        return self.p_s + self.p_n

    @cached_property
    def covariance(self) -> "PrecoderCovariance":
        """The precoders in N-space (orthonormal bases), for sampling and checks.

        Built on first use from the channels (one thin SVD per user and shape, as in
        J(13)-(16)); the engine never needs it.
        """
        if self.realize is None:
            raise ValueError("covariance: this result carries no N-space realisation")
        return self.realize()


@dataclass(frozen=True)
class Evaluation:
    """A scheme scored by the secrecy engine.

    Attributes
    ----------
    result : PrecodingResult
    skr : ndarray, ``(..., K)``
        SKR of each user [bits/probing].
    cov : ndarray, ``(..., K, 3, 3)``
        Covariance of :math:`(z_a, z_b, z_e)` (for display; the SKR is computed from
        its square-root factors, never from this matrix).
    scoring : str
        ``'general'`` (SPEC 3) or ``'per-user'`` (J(19)).
    """

    result: PrecodingResult
    skr: np.ndarray
    cov: np.ndarray
    scoring: str = "general"

    @property
    def sum_skr(self) -> np.ndarray:
        """Sum SKR over the users [bits/probing]."""
        return self.skr.sum(axis=-1)

    def to_dict(self, index: tuple[int, ...] = ()) -> dict[str, Any]:
        """The SPEC 10 JSON object for one batch element (plus ``"scoring"``)."""
        r = self.result
        p_a, p_s, p_n = (np.broadcast_to(v, self.skr.shape) for v in (r.p_a, r.p_s, r.p_n))
        users = [
            {"skr": float(self.skr[index][k]), "p_a": float(p_a[index][k]),
             "p_s": float(p_s[index][k]), "p_n": float(p_n[index][k])}
            for k in range(self.skr.shape[-1])
        ]
        return {"scheme": r.scheme, "shaping": r.shaping, "scoring": self.scoring,
                "sum_skr": float(self.sum_skr[index]), "users": users}


# --------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class SchemeSpec:
    """A registered scheme: its function and a one-line description."""

    name: str
    func: Callable[..., PrecodingResult]
    description: str
    uses_shaping: bool
    fixed_shaping: str | None = None


_REGISTRY: dict[str, SchemeSpec] = {}


def register_scheme(name: str, description: str, uses_shaping: bool = False, fixed_shaping: str | None = None):
    """Decorator: register ``func(scenario, shaping, **options) -> PrecodingResult`` under ``name``.

    ``fixed_shaping`` names the shaping of a scheme that always uses one (``svd-mf``:
    ``'matched'``); such a scheme is called with ``shaping=None`` like ``ras`` and ``mrc``,
    and the command line refuses another ``--shaping`` for it.
    """

    def deco(func):
        _REGISTRY[name] = SchemeSpec(name, func, description, uses_shaping, fixed_shaping)
        return func

    return deco


def scheme_names() -> list[str]:
    """Names of the registered schemes."""
    return list(_REGISTRY)


def get_scheme(name: str) -> SchemeSpec:
    """Look up a scheme; ``ValueError`` naming the known ones otherwise."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"scheme: unknown scheme {name!r}; choose one of {', '.join(_REGISTRY)}") from None


def default_shaping(n_users: int) -> str:
    """The papers' rule: ``matched`` for K = 1 (C), ``isotropic`` for K > 1 (J)."""
    return "matched" if n_users == 1 else "isotropic"


def precode(scenario: Scenario, scheme: str, shaping: str | None = None, **options) -> PrecodingResult:
    """Run a registered scheme on a (batched) scenario."""
    require_scenario(scenario)
    spec = get_scheme(scheme)
    if shaping is not None and shaping not in SHAPINGS:
        raise ValueError(f"shaping: must be one of {', '.join(SHAPINGS)}, got {shaping!r}")
    if spec.uses_shaping and shaping is None:
        shaping = default_shaping(scenario.n_users)
    return spec.func(scenario, shaping if spec.uses_shaping else None, **options)


SCORINGS = ("general", "per-user")


def evaluate(scenario: Scenario, scheme: str, shaping: str | None = None, scoring: str = "general",
             **options) -> Evaluation:
    r"""Precode and score: the SKR of every user by the exact engine (SPEC 3-4).

    ``scoring='general'`` (default) uses :math:`W = \sum_i W_i` in the user's and
    Eve's observations (SPEC 3); ``scoring='per-user'`` replaces it by :math:`W_k`,
    J(19)'s convention, which drops the leakage of the other users' precoders. The
    two agree for the SVD schemes, whose precoders null the other users.

    The SKR is computed by :func:`nfkg.engine.secrecy.skr_factored` from the rows of the
    observations' square-root factor, exact at any SNR.

    Examples
    --------
    >>> from nfkg.model.channel import ULA
    >>> s = Scenario.from_dbm(ULA(256, 30e9), users=[(12.2, 0.2)], eves=[(12.0, 0.2)], pt_dbm=30)
    >>> ev = evaluate(s, "svd-pa")
    >>> bool(ev.sum_skr > evaluate(s, "mrc").sum_skr)
    True
    """
    if scoring not in SCORINGS:
        raise ValueError(f"scoring: must be one of {', '.join(SCORINGS)}, got {scoring!r}")
    res = precode(scenario, scheme, shaping, **options)
    skr, cov = score(scenario, res.views, res.powers, scoring)
    return Evaluation(res, skr, cov, scoring)


def radiated_power(views: tuple[ShapeView, ...], powers: np.ndarray) -> np.ndarray:
    r""":math:`P_{a,k} = \mathrm{tr}\,W_k = \sum_j P_{j,k}\,\mathrm{tr}R_{j,k}`, ``(..., K)``."""
    return sum(powers[..., j] * v.trace for j, v in enumerate(views))


def score(scenario: Scenario, views: tuple[ShapeView, ...], powers: np.ndarray, scoring: str = "general"
          ) -> tuple[np.ndarray, np.ndarray]:
    """SKR ``(..., K)`` and covariance ``(..., K, 3, 3)`` of given shapes and powers (SPEC 3-4)."""
    powers = np.asarray(powers, dtype=float)
    a, b, e, d = observation_rows(views, powers, scoring)
    var_na = scenario.var_na(radiated_power(views, powers))
    var_nb, var_ne = scenario.var_nb, scenario.var_ne
    skr = skr_factored(a, b, e, d, var_na, var_nb, var_ne)
    cov = covariance_from_rows(a, b, e, var_na, var_nb, var_ne)
    shape = (*scenario.batch_shape, scenario.n_users)
    return np.broadcast_to(skr, shape), np.broadcast_to(cov, (*shape, 3, 3))


# --------------------------------------------------------------------------- schemes
def _equal_powers(scenario: Scenario) -> np.ndarray:
    k = scenario.n_users
    return np.broadcast_to(scenario.p_max[..., None] / k, (*scenario.batch_shape, k))


@register_scheme("ras", "RAS w/o P: random amplitude scaling without beamforming (J VII-A(a))")
def _ras(scenario: Scenario, shaping: None = None) -> PrecodingResult:
    n, k = scenario.n_ant, scenario.n_users
    geo = geometry(scenario)
    inner = np.concatenate([geo.f.sum(axis=-1), geo.h.sum(axis=-1)], axis=-1).conj()  # x_p^H 1, (..., 2K)
    view = beam_view(np.broadcast_to(inner[..., None, :], (*inner.shape[:-1], k, 2 * k)),
                     np.full(inner.shape[:-1] + (k,), np.sqrt(n)))
    p = _equal_powers(scenario)

    def realize():
        ones = np.full((*scenario.batch_shape, k, n), 1.0 + 0j)
        return PrecoderCovariance((Shape.beam(ones),), p[..., None])

    return PrecodingResult("ras", None, (view,), p[..., None], p_s=p, p_n=np.zeros_like(p), realize=realize)


@register_scheme("mrc", "MRC: random amplitude on the user's matched beam f_k/||f_k|| (C V-B, J VII-A(b))")
def _mrc(scenario: Scenario, shaping: None = None) -> PrecodingResult:
    k = scenario.n_users
    geo = geometry(scenario)
    gram = np.einsum("...rp,...rq->...pq", geo.coords.conj(), geo.coords)      # x_p^H x_q
    inner = np.swapaxes(gram[..., :, :k], -1, -2)                               # [k, p] = x_p^H f_k
    norm = np.sqrt(np.maximum(np.real(np.diagonal(gram, axis1=-2, axis2=-1))[..., :k], 0.0))
    view = beam_view(inner, norm)
    p = _equal_powers(scenario)

    def realize():
        f, _ = scenario.channels()
        return PrecoderCovariance((Shape.beam(f),), p[..., None])

    return PrecodingResult("mrc", None, (view,), p[..., None], p_s=p, p_n=np.zeros_like(p), realize=realize)


def _svd_realizer(scenario, shaping, jamming, rtol, powers):
    def realize():
        f, h = scenario.channels()
        return PrecoderCovariance(svd_shapes(f, h, shaping, jamming, rtol), powers)
    return realize


def _check_svd(scenario: Scenario, shaping: str, jamming: str) -> None:
    check_svd_options(scenario.n_ant, scenario.n_users, shaping, jamming)


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
                 "J(41) (SPEC 8; the recommended scheme)", fixed_shaping="matched")
def _svd_mf(scenario: Scenario, shaping: None = None, jamming: str = "targeted", rtol: float | None = None,
            n_random: int = 4, seed: int = 0) -> PrecodingResult:
    r"""svd-mf (SPEC 8): ``svd-opt`` on the matched signal and targeted jamming shapes.

    .. math::
        R_k = vv^H,\ v = \frac{P_\perp(\tilde R_k) f_k}{\|P_\perp(\tilde R_k) f_k\|}, \qquad
        R_{ek} = qq^H,\ q = \frac{P_\perp(\tilde R_{ek}) h_k}{\|P_\perp(\tilde R_{ek}) h_k\|}

    (C IV's matched rule generalised to K users, and jamming aimed at Eve k inside the
    null space of J(15)), with the exact split of J(41) under the true BS noise of J(11)
    (:func:`nfkg.schemes.optimum.exact_allocation`, as ``svd-opt``). Both beams keep the
    null-space conditions of J(13)-(16): :math:`R_k f_i = R_k h_i = 0` and
    :math:`R_{ek} f_i = R_{ek} h_i = 0` for :math:`i \ne k`, and :math:`R_{ek} f_k = 0`.

    Why it dominates ``svd-opt`` on the papers' subspaces: seen from the 2K channels (all the
    engine needs, SPEC 3), the isotropic signal shape of J(14) is
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
        raise ValueError(f"jamming: svd-mf uses targeted jamming (SPEC 8), got {jamming!r}; for other "
                         "shapes use svd-opt with shaping and jamming")
    res = _svd_opt(scenario, "matched", "targeted", rtol, n_random=n_random, seed=seed)
    return replace(res, scheme="svd-mf")


@register_scheme("svd-maxmin", "SVD max-min: the split that maximises the smallest user SKR (true noise), total "
                 "at most P_max (SPEC 8; bisection on the common rate, nfkg.schemes.fairness)", uses_shaping=True)
def _svd_maxmin(scenario: Scenario, shaping: str, jamming: str = "isotropic", rtol: float | None = None,
                n_grid: int = 113, polish: bool = True) -> PrecodingResult:
    r"""svd-maxmin (SPEC 8): :math:`\max \min_k \mathrm{SKR}_k` over the split, J(22) with J(11)'s noise.

    The SVD subspaces of J(13)-(16) (or SPEC 8's matched/targeted shapes, by ``shaping`` and
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
