r"""Designs scored against a different truth: imperfect Eve CSI and NLoS channels.

The BS designs its precoders :math:`W_k` on the channels it believes (estimates
:math:`\hat f_k, \hat h_k`, or the LoS channels), while the key is generated over
the channels that are really there (:math:`f_k, h_k`). The SKR of such a design is
:func:`nfkg.engine.mismatch.score_mismatched`: the engine's :math:`I(z_a; z_b \mid z_e)` of
the secrecy engine (C(13), J(18)) with the *true* channels in every observation and the
*designed* precoders. This module builds the two truths (Eve positions with errors,
NLoS channels) and a design robust to the first.

Contents
--------
true_views, score_mismatched, MismatchEvaluation
    Re-exported from :mod:`nfkg.engine.mismatch` (scoring a design with other channels).
perturb_positions, csi_error, CsiResult
    Imperfect Eve CSI: Gaussian position errors (redrawn until valid), D seeded draws.
region_channels, robust_svd_covariance, robust_csi_error
    A robust SVD design: null/jam the span of several Eve positions of the uncertainty region.
rician_gains, nlos_truth, nlos_skr, NlosResult
    J VIII-B's NLoS channel (LoS + D scattered near-field paths, Rician factor) as the truth.

The ``csi`` and ``nlos`` figures built on these are in :mod:`nfkg.studies.robustness_figures`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ..model.limits import MIN_CLEARANCE_M, nearest_antenna
from ..engine.mismatch import MismatchEvaluation, score_mismatched, true_views
from ..engine.subspace import PrecoderCovariance, Shape

__all__ = [
    "MismatchEvaluation",
    "true_views",
    "score_mismatched",
    "perturb_positions",
    "CsiResult",
    "csi_error",
    "region_channels",
    "robust_svd_covariance",
    "robust_csi_error",
    "rician_gains",
    "nlos_truth",
    "NlosResult",
    "nlos_skr",
]

#: Largest node distance [m] (the ``r`` limit of :mod:`nfkg.model.limits`).
_R_MAX = 10_000.0
#: Redraw rounds of :func:`perturb_positions` before giving up.
_MAX_REDRAWS = 1000


# --------------------------------------------------------------------------- imperfect Eve CSI
def _nonneg(name: str, value: ArrayLike) -> np.ndarray:
    v = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(v)) or np.any(v < 0):
        raise ValueError(f"{name}: must be finite and >= 0, got {value!r}")
    return v


def _valid(r: np.ndarray, psi: np.ndarray, n_ant: int, spacing: float) -> np.ndarray:
    """Positions a scenario accepts: 0 < r <= 10 km, |psi| <= pi/2, >= 1 mm from every antenna."""
    ok = (r > 0) & (r <= _R_MAX) & (np.abs(psi) <= np.pi / 2)
    dist, _ = nearest_antenna(np.where(ok, r, 1.0), np.where(ok, psi, 0.0), n_ant, spacing)
    return ok & (dist >= MIN_CLEARANCE_M)


def perturb_positions(r: ArrayLike, psi: ArrayLike, sigma_r: ArrayLike, sigma_psi: ArrayLike, draws: int,
                      rng: np.random.Generator | int | None, n_ant: int, spacing: float
                      ) -> tuple[np.ndarray, np.ndarray]:
    r"""Estimated positions :math:`(\hat r, \hat\psi) = (r + \sigma_r z_r, \psi + \sigma_\psi z_\psi)`.

    :math:`z_r, z_\psi \sim \mathcal N(0, 1)` independent; a draw that is not a valid
    position (:math:`0 < \hat r \le` 10 km, :math:`|\hat\psi| \le \pi/2`, at least 1 mm from
    every antenna) is redrawn (both coordinates), so the errors are Gaussian conditioned on
    validity. Zero deviations return the positions exactly.

    Parameters
    ----------
    r, psi : array_like, shape ``(K,)``
        True distances [m] and angles [rad].
    sigma_r, sigma_psi : array_like, broadcastable to ``(K,)``
        Standard deviations [m], [rad], >= 0.
    draws : int
        Number of estimates D.
    rng : Generator, int or None
        ``numpy.random.default_rng(rng)``: the same seed gives the same draws.
    n_ant, spacing : int, float
        The array (for the 1 mm clearance).

    Returns
    -------
    r_hat, psi_hat : ndarray, shape ``(D, K)``
    """
    sigma_r = _nonneg("sigma_r", sigma_r)
    sigma_psi = _nonneg("sigma_psi", sigma_psi)
    draws = int(draws)
    if draws < 1:
        raise ValueError(f"draws: must be at least 1, got {draws}")
    rng = np.random.default_rng(rng)
    r, psi = np.broadcast_arrays(np.asarray(r, dtype=float), np.asarray(psi, dtype=float))
    shape = (draws, *r.shape)
    sr, sp = np.broadcast_to(sigma_r, r.shape), np.broadcast_to(sigma_psi, r.shape)
    r_hat = r + sr * rng.standard_normal(shape)
    psi_hat = psi + sp * rng.standard_normal(shape)
    for _ in range(_MAX_REDRAWS):
        bad = ~_valid(r_hat, psi_hat, n_ant, spacing)
        n_bad = int(np.count_nonzero(bad))
        if n_bad == 0:
            return r_hat, psi_hat
        srb, spb = np.broadcast_to(sr, shape)[bad], np.broadcast_to(sp, shape)[bad]
        rb, pb = np.broadcast_to(r, shape)[bad], np.broadcast_to(psi, shape)[bad]
        r_hat[bad] = rb + srb * rng.standard_normal(n_bad)
        psi_hat[bad] = pb + spb * rng.standard_normal(n_bad)
    raise ValueError(f"sigma_r: no valid position drawn in {_MAX_REDRAWS} tries (sigma_r = {sigma_r}, "
                     f"sigma_psi = {sigma_psi}): the error is too large for the geometry")


def _single(scenario, who: str = "scenario"):
    scenario.require_geometry(who)  # own channels: no positions to perturb, no LoS to add paths to
    if scenario.ula.rows != 1 or np.any(scenario.el_b) or np.any(scenario.el_e):
        raise ValueError(f"{who}: position errors and NLoS paths are modelled for a ULA with every node in the "
                         f"x-y plane (array_rows = 1, el = 0)")
    if scenario.batch_shape != ():
        raise ValueError(f"{who}: must be a single scenario (batch shape ()), got batch shape "
                         f"{scenario.batch_shape}")


def _with_eves(scenario, r_e: np.ndarray, psi_e: np.ndarray):
    """The scenario with the Eves moved to ``(r_e, psi_e)`` ``(D, K)`` (a batch of D)."""
    from ..model.scenario import Scenario

    s = scenario
    return Scenario(s.ula, s.r_b, s.psi_b, r_e, psi_e, s.p_max, s.p_b, s.sigma2_a, s.sigma2_b, s.sigma2_e,
                    s.pilot_length)


@dataclass(frozen=True)
class CsiResult:
    """Sum SKR of one scheme over D estimates of the Eves' positions.

    Attributes
    ----------
    scheme : str
    sum_skr : ndarray, ``(D,)``
        Sum SKR of each draw, scored at the true positions [bits/probing].
    skr : ndarray, ``(D, K)``
    r_hat, psi_hat : ndarray, ``(D, K)``
        The positions the BS designed with.
    nominal : float
        Sum SKR with perfect CSI (:func:`nfkg.schemes.precoding.evaluate`).
    """

    scheme: str
    sum_skr: np.ndarray
    skr: np.ndarray
    r_hat: np.ndarray
    psi_hat: np.ndarray
    nominal: float

    @property
    def mean(self) -> float:
        """Mean sum SKR over the draws."""
        return float(np.mean(self.sum_skr))

    @property
    def p10(self) -> float:
        """10th percentile of the sum SKR over the draws (linear interpolation)."""
        return float(np.percentile(self.sum_skr, 10))


def csi_error(scenario, scheme: str, sigma_r: ArrayLike, sigma_psi: ArrayLike, draws: int = 32,
              seed: int | np.random.Generator | None = 0, shaping: str | None = None,
              **options) -> CsiResult:
    r"""Imperfect Eve CSI: design on perturbed Eve positions, score at the true ones.

    The BS knows the users' channels exactly and each Eve's position up to Gaussian errors
    (:func:`perturb_positions`); it runs ``scheme`` on the estimate
    :math:`(\hat r_{e_k}, \hat\psi_{e_k})`, and the SKR of the design is computed with the
    true :math:`h_k` by :func:`score_mismatched` (C(13), J(18)).

    Parameters
    ----------
    scenario : Scenario
        The true scenario (batch shape ``()``).
    scheme : str
        A registered scheme (:func:`nfkg.schemes.precoding.scheme_names`).
    sigma_r, sigma_psi : array_like, broadcastable to ``(K,)``
        Error standard deviations of the Eves' distances [m] and angles [rad], >= 0.
    draws : int
        Number of estimates D.
    seed : int, Generator or None
        Seed of the errors: the same seed gives the same numbers; schemes given the same
        seed see the same estimates.
    shaping : str, optional
    **options
        Passed to the scheme.

    Returns
    -------
    CsiResult
        With zero deviations every draw equals the nominal sum SKR (to round-off).
    """
    from ..schemes.precoding import evaluate, precode

    _single(scenario)
    ula = scenario.ula
    r_hat, psi_hat = perturb_positions(scenario.r_e, scenario.psi_e, sigma_r, sigma_psi, draws, seed,
                                       ula.n_ant, ula.spacing)
    nominal = evaluate(scenario, scheme, shaping, **options)
    if np.all(r_hat == scenario.r_e) and np.all(psi_hat == scenario.psi_e):
        # zero error: every draw is the nominal design, scored as evaluate() scores it
        skr = np.broadcast_to(nominal.skr, r_hat.shape)
    else:
        design = precode(_with_eves(scenario, r_hat, psi_hat), scheme, shaping, **options)
        f, h = scenario.channels()
        skr = score_mismatched(design, f, h, scenario).skr
    return CsiResult(scheme, skr.sum(axis=-1), skr, r_hat, psi_hat, float(nominal.sum_skr))


# --------------------------------------------------------------------------- robust design
def region_channels(ula, r: ArrayLike, psi: ArrayLike, sigma_r: ArrayLike, sigma_psi: ArrayLike,
                    spread: float = 2.0) -> np.ndarray:
    r"""Channels of the sigma points of each Eve's uncertainty region.

    The five positions :math:`(\hat r, \hat\psi)`, :math:`(\hat r \pm c\sigma_r, \hat\psi)`,
    :math:`(\hat r, \hat\psi \pm c\sigma_\psi)` (``c = spread``), clipped to
    :math:`r \ge 1` cm and :math:`|\psi| \le \pi/2`.

    Parameters
    ----------
    ula : ULA
    r, psi : array_like, shape ``(..., K)``
        Estimated positions.
    sigma_r, sigma_psi : array_like, broadcastable to ``(K,)``
    spread : float
        c, in standard deviations.

    Returns
    -------
    ndarray, complex, shape ``(..., K, 5, N)``
    """
    r, psi = np.broadcast_arrays(np.asarray(r, dtype=float), np.asarray(psi, dtype=float))
    sr = np.broadcast_to(_nonneg("sigma_r", sigma_r), r.shape) * spread
    sp = np.broadcast_to(_nonneg("sigma_psi", sigma_psi), r.shape) * spread
    zero = np.zeros_like(r)
    dr = np.stack([zero, sr, -sr, zero, zero], axis=-1)
    dp = np.stack([zero, zero, zero, sp, -sp], axis=-1)
    rr = np.maximum(r[..., None] + dr, 0.01)
    pp = np.clip(psi[..., None] + dp, -np.pi / 2, np.pi / 2)
    return ula.channel(rr, pp)


def robust_svd_covariance(f: np.ndarray, h_region: np.ndarray, p_max: ArrayLike,
                          jamming: str = "isotropic", rtol: float | None = None) -> PrecoderCovariance:
    r"""SVD precoding that nulls (and jams) the span of each Eve's uncertainty region.

    J(13)-(16) with every Eve channel :math:`h_i` replaced by the ``M`` channels
    :math:`H_i = [h_i^{(1)}..h_i^{(M)}]` of :func:`region_channels`:
    :math:`\tilde R_k = [f_{i\ne k}, H_{i\ne k}]`, :math:`\tilde R_{ek} = [f_1..f_K, H_{i\ne k}]`,
    signal :math:`P_\perp(\tilde R_k)/(N - r_k)` (isotropic, J(14)) and jamming
    :math:`P_\perp(\tilde R_{ek})/(N - r_{ek})` (``'isotropic'``, J(16)) or, ``'targeted'``,
    :math:`P_\perp H_k H_k^H P_\perp/\|P_\perp H_k\|_F^2` with :math:`P_\perp = P_\perp(\tilde R_{ek})`:
    The targeted jamming :math:`qq^H` averaged over Eve k's region (beams on the left
    singular vectors of :math:`P_\perp H_k`, power in proportion to the squared singular values). Equal split,
    :math:`P_{S,k} = P_{N,k} = P_{\max}/(2K)` (SVD w/o PA).

    Parameters
    ----------
    f : ndarray, shape ``(..., K, N)``
        Users' channels (known exactly).
    h_region : ndarray, shape ``(..., K, M, N)``
        Channels of each Eve's region.
    p_max : array_like, ``(...)``
    jamming : {'isotropic', 'targeted'}
    rtol : float, optional
        Rank tolerance of the bases (:func:`~nfkg.engine.subspace.orthonormal_basis`).

    Returns
    -------
    PrecoderCovariance
    """
    from ..engine.subspace import orthonormal_basis

    if jamming not in ("isotropic", "targeted"):
        raise ValueError(f"jamming: must be 'isotropic' or 'targeted', got {jamming!r}")
    n_users, n_ant = f.shape[-2], f.shape[-1]
    m = h_region.shape[-2]
    batch = np.broadcast_shapes(f.shape[:-2], h_region.shape[:-3])
    f = np.broadcast_to(f, (*batch, n_users, n_ant))
    h_region = np.broadcast_to(h_region, (*batch, n_users, m, n_ant))
    sig_cols, jam_cols = [], []
    for k in range(n_users):
        others = [i for i in range(n_users) if i != k]
        hf = h_region[..., others, :, :].reshape(*batch, (n_users - 1) * m, n_ant)
        sig_cols.append(np.concatenate([f[..., others, :], hf], axis=-2))
        jam_cols.append(np.concatenate([f, hf], axis=-2))
    sig_basis, sig_rank = orthonormal_basis(np.swapaxes(np.stack(sig_cols, axis=-3), -1, -2), rtol)
    jam_basis, jam_rank = orthonormal_basis(np.swapaxes(np.stack(jam_cols, axis=-3), -1, -2), rtol)
    signal = Shape(sig_basis, sig_rank, complement=True)
    p = np.broadcast_to(np.asarray(p_max, dtype=float)[..., None] / n_users, (*batch, n_users)) / 2.0
    if jamming == "isotropic":
        shapes = (signal, Shape(jam_basis, jam_rank, complement=True))
        powers = np.stack([p, p], axis=-1)
    else:
        # region-averaged targeted jamming P_perp H_k H_k^H P_perp / tr(.): beams on the left
        # singular vectors of P_perp H_k, power in proportion to the squared singular values
        own = np.swapaxes(h_region, -1, -2)                                   # (..., K, N, M)
        res = own - np.einsum("...nm,...mp->...np", jam_basis,
                              np.einsum("...nm,...np->...mp", jam_basis.conj(), own))
        u, sv, _ = np.linalg.svd(res, full_matrices=False)
        tol = (max(n_ant, m) * np.finfo(float).eps if rtol is None else rtol) * sv[..., :1]
        w = np.where(sv > tol, sv * sv, 0.0)
        tot = w.sum(axis=-1, keepdims=True)
        w = np.where(tot > 0, w / np.where(tot > 0, tot, 1.0), 0.0)
        beams = [Shape(u[..., i:i + 1] * (w[..., i] > 0)[..., None, None], (w[..., i] > 0).astype(int),
                       complement=False) for i in range(m)]
        shapes = (signal, *beams)
        powers = np.concatenate([p[..., None], p[..., None] * w], axis=-1)
    return PrecoderCovariance(shapes, powers)


def robust_csi_error(scenario, sigma_r: ArrayLike, sigma_psi: ArrayLike, draws: int = 32,
                     seed: int | np.random.Generator | None = 0, jamming: str = "isotropic",
                     spread: float = 2.0, rtol: float | None = None) -> CsiResult:
    r""":func:`csi_error` for :func:`robust_svd_covariance` (scheme ``'robust-svd'``).

    Same draws as :func:`csi_error` with the same seed. The region is centred on each
    estimate with the deviations the BS knows; with zero deviations the five sigma points
    coincide and the design is SVD w/o PA (``jamming='isotropic'``) or SVD w/o PA with
    targeted jamming.
    """
    from ..schemes.precoding import evaluate

    _single(scenario)
    ula = scenario.ula
    r_hat, psi_hat = perturb_positions(scenario.r_e, scenario.psi_e, sigma_r, sigma_psi, draws, seed,
                                       ula.n_ant, ula.spacing)
    f, h = scenario.channels()
    region = region_channels(ula, r_hat, psi_hat, sigma_r, sigma_psi, spread)
    cov = robust_svd_covariance(f, region, scenario.p_max, jamming, rtol)
    m = score_mismatched(cov, f, h, scenario)
    nominal = float(evaluate(scenario, "svd", "isotropic", jamming=jamming).sum_skr)
    return CsiResult(f"robust-svd ({jamming})", m.sum_skr, m.skr, r_hat, psi_hat, nominal)


# --------------------------------------------------------------------------- NLoS
def _rician_linear(rician_db: ArrayLike) -> np.ndarray:
    k_db = np.asarray(rician_db, dtype=float)
    if np.any(np.isnan(k_db)) or np.any(k_db == -np.inf):
        raise ValueError(f"rician_db: must be a number of dB or +inf (LoS only), got {rician_db!r}")
    return 10.0 ** (k_db / 10.0)


def rician_gains(los: np.ndarray, paths: np.ndarray, unit_gains: np.ndarray, rician_db: ArrayLike
                 ) -> np.ndarray:
    r"""Complex path gains of J VIII-B for a Rician factor :math:`K_R` [dB].

    .. math::
        \alpha_j = \sqrt{\frac{\|c_{\mathrm{LoS}}\|^2}{K_R\,\|c_j\|^2}}\; z_j,\qquad
        z_j \sim \mathcal{CN}(0, 1),

    so that with :func:`nfkg.model.channel.nlos_channel`'s :math:`1/\sqrt{D}` every path carries the
    same mean power and :math:`K_R = \|c_{\mathrm{LoS}}\|^2 / E\|\text{NLoS part}\|^2`.
    :math:`K_R = +\infty` gives zero gains (the LoS channel exactly).

    Parameters
    ----------
    los : ndarray, shape ``(..., N)``
        LoS channels.
    paths : ndarray, shape ``(..., D, N)``
        Channels :math:`c(\psi_j, r_j)` of the scattered paths.
    unit_gains : ndarray, complex, shape ``(..., D)``
        The :math:`z_j`.
    rician_db : array_like
        :math:`K_R` in dB, broadcast against ``(...)``; ``inf`` allowed.

    Returns
    -------
    ndarray, complex, shape ``(..., D)``
    """
    k_lin = _rician_linear(rician_db)
    p_los = np.sum(np.abs(los) ** 2, axis=-1)[..., None]
    p_path = np.sum(np.abs(paths) ** 2, axis=-1)
    with np.errstate(divide="ignore"):
        inv_k = np.where(np.isinf(k_lin), 0.0, 1.0 / k_lin)
    return np.sqrt(p_los / p_path * np.asarray(inv_k)[..., None]) * unit_gains


def nlos_truth(scenario, rician_db: ArrayLike, draws: int, seed: int | np.random.Generator | None = 0,
               paths: int = 3, scatter_r: tuple[float, float] = (5.0, 25.0),
               scatter_psi: tuple[float, float] = (-np.pi / 3, np.pi / 3), eve_correlation: float = 0.0
               ) -> tuple[np.ndarray, np.ndarray]:
    r"""D seeded draws of the true NLoS channels of users and Eves, J VIII-B.

    .. math::
        f_k = \sqrt{N}c(\psi_{b_k}, r_{b_k}) + \sqrt{\tfrac{N}{D}}\sum_{j=1}^{D}\alpha_{k,j}
              c(\psi_{b_{k,j}}, r_{b_{k,j}})

    (:func:`nfkg.model.channel.nlos_channel`) with :math:`D` = ``paths`` scatterers per user, at
    distances uniform in ``scatter_r`` [m] and angles uniform in ``scatter_psi`` [rad], gains
    of :func:`rician_gains`. Eve k sees the scatterers of user k (she is 2 cm away) with gains
    :math:`\rho z_{k,j} + \sqrt{1-\rho^2} z'_{k,j}`, :math:`\rho` = ``eve_correlation``
    (default 0: at 30 GHz, 2 cm are two wavelengths, beyond the half-wavelength correlation
    distance). The draws do not depend on ``rician_db`` (common random numbers).

    Parameters
    ----------
    scenario : Scenario
        Single scenario (batch shape ``()``): the LoS geometry.
    rician_db : array_like, shape ``(L,)`` or scalar
        Rician factors [dB]; ``inf`` gives the LoS channels.
    draws : int
    seed : int, Generator or None

    Returns
    -------
    f, h : ndarray, complex, shape ``(L..., D, K, N)``
    """
    from ..model.channel import nlos_channel

    _single(scenario)
    k_db = np.asarray(rician_db, dtype=float)
    _rician_linear(k_db)
    draws, paths = int(draws), int(paths)
    if draws < 1:
        raise ValueError(f"draws: must be at least 1, got {draws}")
    if paths < 1:
        raise ValueError(f"paths: must be at least 1, got {paths}")
    rho = float(eve_correlation)
    if not 0.0 <= rho <= 1.0:
        raise ValueError(f"eve_correlation: must be in [0, 1], got {eve_correlation!r}")
    lo_r, hi_r = (float(v) for v in scatter_r)
    lo_p, hi_p = (float(v) for v in scatter_psi)
    if not (0.01 <= lo_r <= hi_r <= _R_MAX):
        raise ValueError(f"scatter_r: must be 0.01 <= lo <= hi <= 10000 m, got {scatter_r!r}")
    if not (-np.pi / 2 <= lo_p <= hi_p <= np.pi / 2):
        raise ValueError(f"scatter_psi: must be -pi/2 <= lo <= hi <= pi/2, got {scatter_psi!r}")
    rng = np.random.default_rng(seed)
    ula = scenario.ula
    n_users = scenario.n_users
    shape = (draws, n_users, paths)
    sr = rng.uniform(lo_r, hi_r, shape)
    sp = rng.uniform(lo_p, hi_p, shape)
    bad = ~_valid(sr, sp, ula.n_ant, ula.spacing)
    while np.any(bad):  # a scatterer on an antenna: redraw it
        sr[bad] = rng.uniform(lo_r, hi_r, int(bad.sum()))
        sp[bad] = rng.uniform(lo_p, hi_p, int(bad.sum()))
        bad = ~_valid(sr, sp, ula.n_ant, ula.spacing)

    def crandn(shp):
        return (rng.standard_normal(shp) + 1j * rng.standard_normal(shp)) / np.sqrt(2.0)

    z_b = crandn(shape)
    z_e = rho * z_b + np.sqrt(1.0 - rho * rho) * crandn(shape)
    c = ula.channel(sr, sp)                                  # (D, K, P, N)
    f_los, h_los = scenario.channels()
    kw = dict(n_ant=ula.n_ant, wavelength=ula.wavelength, spacing=ula.spacing,
              pathloss_exponent=ula.pathloss_exponent, d0=ula.d0)
    kk = k_db.reshape(*k_db.shape, 1, 1)                    # (L..., 1, 1) against (D, K)
    g_b = rician_gains(f_los[None], c, z_b, kk)
    g_e = rician_gains(h_los[None], c, z_e, kk)
    f = nlos_channel(scenario.r_b, scenario.psi_b, sr, sp, g_b, **kw)
    h = nlos_channel(scenario.r_e, scenario.psi_e, sr, sp, g_e, **kw)
    return f, h


@dataclass(frozen=True)
class NlosResult:
    """Sum SKR of one scheme, designed on LoS, with NLoS truths.

    Attributes
    ----------
    scheme : str
    rician_db : ndarray, ``(L,)``
    sum_skr : ndarray, ``(L, D)``
    nominal : float
        Sum SKR on the LoS channels (:func:`nfkg.schemes.precoding.evaluate`).
    """

    scheme: str
    rician_db: np.ndarray
    sum_skr: np.ndarray
    nominal: float

    @property
    def mean(self) -> np.ndarray:
        """Mean sum SKR over the draws, ``(L,)``."""
        return self.sum_skr.mean(axis=-1)

    @property
    def p10(self) -> np.ndarray:
        """10th percentile over the draws, ``(L,)``."""
        return np.percentile(self.sum_skr, 10, axis=-1)


def nlos_skr(scenario, scheme: str, rician_db: ArrayLike, draws: int = 64,
             seed: int | np.random.Generator | None = 0, shaping: str | None = None,
             truth: tuple[np.ndarray, np.ndarray] | None = None, **options) -> NlosResult:
    r"""Schemes designed on the LoS channels, scored with J VIII-B's NLoS channels as the truth.

    Parameters
    ----------
    scenario : Scenario
        Single scenario: the LoS geometry the BS designs with.
    scheme : str
    rician_db : array_like, shape ``(L,)``
        Rician factors [dB]; ``inf`` reproduces :func:`nfkg.schemes.precoding.evaluate` (to round-off).
    draws : int
    seed : int, Generator or None
        Seed of :func:`nlos_truth` (same seed, same numbers).
    truth : (f, h), optional
        Channels from :func:`nlos_truth` (to share one draw between schemes).
    **options
        Passed to the scheme.

    Returns
    -------
    NlosResult
    """
    from ..schemes.precoding import evaluate

    _single(scenario)
    k_db = np.atleast_1d(np.asarray(rician_db, dtype=float))
    if truth is None:
        truth = nlos_truth(scenario, k_db, draws, seed)
    ev = evaluate(scenario, scheme, shaping, **options)
    m = score_mismatched(ev.result, truth[0], truth[1], scenario)
    return NlosResult(scheme, k_db, m.sum_skr, float(ev.sum_skr))
