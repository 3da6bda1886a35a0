r"""Imperfect Eve CSI: the BS designs on estimated Eve positions, the key sees the true ones.

Gaussian errors on each Eve's distance and angle (redrawn until the position is valid),
D seeded estimates; every scheme designed on each estimate is scored at the true positions
with :func:`nfkg.engine.mismatch.score_mismatched`.

Contents
--------
perturb_positions
    Estimated positions: the true ones plus Gaussian errors, valid by construction.
csi_error, CsiResult
    Sum SKR of a scheme designed on D estimates, scored at the true positions.
csi_errors
    The same at several error levels, designed in one batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from numpy.typing import ArrayLike

from ..engine.mismatch import score_mismatched
from ..model.limits import MIN_CLEARANCE_M, nearest_antenna

__all__ = ["perturb_positions", "CsiResult", "csi_error", "csi_errors"]

#: Largest node distance [m] (the ``r`` limit of :mod:`nfkg.model.limits`).
_R_MAX = 10_000.0
#: Redraw rounds of :func:`perturb_positions` before giving up.
_MAX_REDRAWS = 1000



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
    true :math:`h_k` by :func:`~nfkg.engine.mismatch.score_mismatched` (C(13), J(18)).

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

    See Also
    --------
    csi_errors : several error levels with one batched design (the figure ``csi``).
    """
    return csi_errors(scenario, scheme, [sigma_r], [sigma_psi], draws, seed, shaping, **options)[0]


def csi_errors(scenario, scheme: str, sigma_r: Sequence[ArrayLike], sigma_psi: Sequence[ArrayLike],
               draws: int = 32, seed: int | None = 0, shaping: str | None = None,
               **options) -> list[CsiResult]:
    r""":func:`csi_error` at several error levels, designed in one batch.

    Level i draws its estimates exactly as ``csi_error(..., sigma_r[i], sigma_psi[i], draws,
    seed)`` would (each level from ``seed``); the nominal design is evaluated once and the
    designs of every level with an error are precoded as one batch of scenarios and scored
    together, which is what makes the ``csi`` figure fast (the same numbers as one call per
    level, up to the solvers' round-off).

    Parameters
    ----------
    scenario, scheme, draws, shaping, **options
        As in :func:`csi_error`.
    sigma_r, sigma_psi : sequence of array_like
        One entry per level, each broadcastable to ``(K,)`` [m], [rad].
    seed : int or None
        The seed of every level (an int, so that each level starts from it).

    Returns
    -------
    list of CsiResult
        One per level, in order.
    """
    from ..schemes.precoding import evaluate, precode

    if len(sigma_r) != len(sigma_psi):
        raise ValueError(f"sigma_psi: need one entry per sigma_r level ({len(sigma_r)}), got {len(sigma_psi)}")
    if isinstance(seed, np.random.Generator):
        raise ValueError("seed: csi_errors needs an int (or None) to restart every level from it")
    _single(scenario)
    ula = scenario.ula
    drawn = [perturb_positions(scenario.r_e, scenario.psi_e, sr, sp, draws, seed, ula.n_ant, ula.spacing)
             for sr, sp in zip(sigma_r, sigma_psi)]
    nominal = evaluate(scenario, scheme, shaping, **options)
    exact = [bool(np.all(r == scenario.r_e) and np.all(p == scenario.psi_e)) for r, p in drawn]
    moved = [i for i, e in enumerate(exact) if not e]
    skrs: dict[int, np.ndarray] = {}
    if moved:
        r_hat = np.concatenate([drawn[i][0] for i in moved])
        psi_hat = np.concatenate([drawn[i][1] for i in moved])
        design = precode(_with_eves(scenario, r_hat, psi_hat), scheme, shaping, **options)
        f, h = scenario.channels()
        skr = score_mismatched(design, f, h, scenario).skr
        for j, i in enumerate(moved):
            skrs[i] = skr[j * draws:(j + 1) * draws]
    out = []
    for i, (r_hat, psi_hat) in enumerate(drawn):
        # zero error: every draw is the nominal design, scored as evaluate() scores it
        skr = np.broadcast_to(nominal.skr, r_hat.shape) if exact[i] else skrs[i]
        out.append(CsiResult(scheme, skr.sum(axis=-1), skr, r_hat, psi_hat, float(nominal.sum_skr)))
    return out
