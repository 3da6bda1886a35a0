r"""NLoS truth: J VIII-B's channel (LoS plus scattered near-field paths) under LoS designs.

The schemes design on the LoS channels; the key is generated over the LoS channel plus D
scattered near-field paths whose gains follow a Rician factor :math:`K_R`, scored with
:func:`nfkg.engine.mismatch.score_mismatched`.

Contents
--------
rician_gains
    The LoS and scattered parts combined at a Rician factor.
nlos_truth
    Seeded NLoS channels of users and Eves.
nlos_skr, NlosResult
    Sum SKR of a scheme designed on LoS, scored on the NLoS truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from ..engine.mismatch import score_mismatched
from .eve_csi import _R_MAX, _single, _valid

__all__ = ["rician_gains", "nlos_truth", "NlosResult", "nlos_skr"]


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
