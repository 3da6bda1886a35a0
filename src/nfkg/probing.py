r"""Monte Carlo channel probing: random precoders, shared pilots, LS estimates (J(4)-(11), SPEC 3).

Each probing round the BS draws :math:`w_k \sim \mathcal{CN}(0, W_k)` for every user from the
scheme's low-rank shapes (:class:`nfkg.subspace.PrecoderCovariance`, never an N x N
covariance) and

* **downlink** (J(4)-(7)): sends :math:`\sum_i w_i s_d^H` over V slots; user k receives
  :math:`y_{b_k}^T = f_k^H\sum_i w_i s_d^H + n_{b_k}^T` and Eve k
  :math:`y_{e_k}^T = h_k^H\sum_i w_i s_d^H + n_{e_k}^T` (noise :math:`\sigma_b^2`, :math:`\sigma_e^2`
  per slot); both LS-estimate :math:`z = y^T s_d/\|s_d\|^2`;
* **uplink** (J(8)-(11)): all users send the same pilot :math:`s_a` (:math:`\|s_a\|^2 = VP_b`); the
  BS receives :math:`Y_a = \sum_i f_i s_a^H + N_a` (:math:`\sigma_a^2` per antenna and slot),
  estimates :math:`z_a = Y_a s_a/\|s_a\|^2 = \sum_i f_i + \hat n_a` and keeps
  :math:`z_{a_k} = (w_k^H z_a)^* = (\sum_i f_i)^H w_k + \hat n_a^H w_k`.

The pilots are Zadoff-Chu sequences (root 1, constant modulus; any sequence with the same
energy gives the same LS statistics). With ``pilots='explicit'`` the V-slot signals and
their noise are built sample by sample; ``pilots='ls'`` draws the LS estimates' noise
directly (:math:`\mathcal{CN}(0, \sigma^2/\|s\|^2)`, the same distribution, for long pilots);
``'auto'`` (default) builds them explicitly when one round's uplink block :math:`N \times V`
has at most 4,096 entries.

The covariance of :math:`(z_a, z_b, z_e)` over rounds is the engine's SPEC 3 covariance
(a test, not an assumption). :math:`z_a` is a Gaussian scale mixture, not Gaussian
(:math:`\hat n_a^H w_k` has variance :math:`\|w_k\|^2\sigma_a^2/(VP_b)`); its second moments
are those of the model.

Reproducibility: rounds are drawn in seed blocks of :data:`BLOCK` rounds, block ``b`` from
``SeedSequence(seed, spawn_key=(b,))``; any ``chunk`` (a multiple of the block, the
rounds held in memory at once) gives the same samples, bit for bit.

Contents
--------
probe
    Monte Carlo probing of one scenario and scheme: :class:`Probing`.
Probing
    The measurements ``z_a, z_b, z_e`` ``(T, K)`` and what made them.
zadoff_chu
    The pilot sequence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .scenario import Scenario

__all__ = ["BLOCK", "probe", "Probing", "zadoff_chu", "sample_covariance"]

#: Rounds per seed block (the unit of reproducibility).
BLOCK = 1024
#: Largest explicit uplink block N x V per round under ``pilots='auto'``.
_EXPLICIT_MAX = 4096


def zadoff_chu(length: int, root: int = 1) -> np.ndarray:
    r"""Zadoff-Chu sequence :math:`x_n = e^{-j\pi u n(n + c)/L}`, ``c = L mod 2`` (unit modulus)."""
    n = np.arange(int(length))
    c = length % 2
    return np.exp(-1j * np.pi * root * n * (n + c) / length)


@dataclass(frozen=True)
class Probing:
    """Monte Carlo measurements of T probing rounds.

    Attributes
    ----------
    z_a, z_b, z_e : ndarray, complex, ``(T, K)``
        BS (J(11)), user (J(5)) and Eve (J(7)) measurements of each user's key.
    scheme : str
    rounds, seed : int
    pilots : str
        ``'explicit'`` or ``'ls'``.
    result : PrecodingResult
        The precoders the rounds were drawn from.
    """

    z_a: np.ndarray
    z_b: np.ndarray
    z_e: np.ndarray
    scheme: str
    rounds: int
    seed: int
    pilots: str
    result: Any = field(repr=False, default=None)


def _crandn(rng: np.random.Generator, shape: tuple[int, ...], var: float) -> np.ndarray:
    """``CN(0, var)`` samples: real and imaginary parts drawn as adjacent pairs, viewed as complex."""
    z = rng.standard_normal((*shape, 2)).view(complex)[..., 0]
    z *= np.sqrt(var / 2.0)
    return z


def _block(rng, cov, fh_t, g, s_d, s_a, sb2, se2, sa2, n: int, explicit: bool):
    """One seed block of ``n`` rounds: (z_a, z_b, z_e), each ``(n, K)``. Draw order is fixed.

    ``fh_t`` is ``[f_1 .. f_K, h_1 .. h_K]^*`` as a contiguous ``(N, 2K)`` array.
    """
    n_ant, k = fh_t.shape[0], fh_t.shape[1] // 2
    w = cov.sample(rng, n)                                  # (n, K, N): w_k ~ CN(0, W_k)
    x = w.sum(axis=1)                                       # sum_i w_i, (n, N)
    xc = x @ fh_t                                           # f_k^H sum_i w_i, h_k^H sum_i w_i, (n, 2K)
    fx, hx = xc[:, :k], xc[:, k:]
    v = s_d.size
    if explicit:
        # y^T = (c^H x) s_d^H + n^T, LS: y^T s_d / ||s_d||^2 (the signal term passes exactly:
        # s_d^H s_d / ||s_d||^2 = 1, so only the noise is filtered)
        ls_d = s_d / np.vdot(s_d, s_d).real
        ls_a = s_a / np.vdot(s_a, s_a).real
        nb = _crandn(rng, (n, k, v), sb2)
        ne = _crandn(rng, (n, k, v), se2)
        z_b = fx + (nb[..., 0] * ls_d[0] if v == 1 else nb @ ls_d)
        z_e = hx + (ne[..., 0] * ls_d[0] if v == 1 else ne @ ls_d)
        na = _crandn(rng, (n, n_ant, v), sa2)               # N_a, (n, N, V)
        z_vec = (na[..., 0] * ls_a[0] if v == 1 else na @ ls_a)
        z_vec += g[None, :]                                 # Y_a s_a/||s_a||^2 = sum f_i + n_hat, (n, N)
    else:
        z_b = fx + _crandn(rng, (n, k), sb2 / np.vdot(s_d, s_d).real)
        z_e = hx + _crandn(rng, (n, k), se2 / np.vdot(s_d, s_d).real)
        z_vec = g[None, :] + _crandn(rng, (n, n_ant), sa2 / np.vdot(s_a, s_a).real)
    z_a = np.matmul(w, z_vec.conj()[:, :, None])[..., 0]    # (w_k^H z_a)^*, J(10)-(11)
    return z_a, z_b, z_e


def probe(scenario: Scenario, scheme: str = "svd-pa", rounds: int = 10_000, seed: int = 0,
          shaping: str | None = None, chunk: int = 8 * BLOCK, pilots: str = "auto",
          progress: Callable[[int], None] | None = None, **options) -> Probing:
    r"""Monte Carlo probing of one scenario with one scheme (J(4)-(11)).

    Parameters
    ----------
    scenario : Scenario
        One scenario (batch shape ``()``).
    scheme : str or PrecodingResult
        A registered scheme name (precoded here with ``shaping`` and ``options``) or a
        :class:`~nfkg.precoding.PrecodingResult` of this scenario.
    rounds : int
        T, the number of probing rounds (>= 1).
    seed : int
        Seed (:class:`numpy.random.SeedSequence`); the same seed gives the same samples.
    chunk : int
        Rounds between progress calls, rounded up to a multiple of :data:`BLOCK`; the
        samples do not depend on it. Memory is bounded by one block (the draws of
        :data:`BLOCK` rounds, about 16 MB at K = 2, N = 256) plus the ``(T, K)`` results.
    pilots : {'auto', 'explicit', 'ls'}
        Build the V-slot pilots and their noise, or draw the LS estimates' noise directly.
    progress : callable, optional
        Called with the number of rounds done after each chunk.

    Returns
    -------
    Probing
    """
    from .precoding import PrecodingResult, precode

    if scenario.batch_shape != ():
        raise ValueError(f"scenario: probing takes one scenario, got batch shape {scenario.batch_shape}")
    rounds = int(rounds)
    if rounds < 1:
        raise ValueError(f"rounds: must be at least 1, got {rounds}")
    if pilots not in ("auto", "explicit", "ls"):
        raise ValueError(f"pilots: must be 'auto', 'explicit' or 'ls', got {pilots!r}")
    res = scheme if isinstance(scheme, PrecodingResult) else precode(scenario, scheme, shaping, **options)
    cov = res.covariance
    f, h = scenario.channels()
    v = int(scenario.pilot_length)
    explicit = pilots == "explicit" or (pilots == "auto" and scenario.n_ant * v <= _EXPLICIT_MAX)
    s_d = zadoff_chu(v)
    s_a = zadoff_chu(v) * np.sqrt(float(scenario.p_b))     # ||s_a||^2 = V P_b
    g = f.sum(axis=0)
    fh_t = np.ascontiguousarray(np.concatenate([f, h]).conj().T)
    sb2, se2, sa2 = (float(x) for x in (scenario.sigma2_b, scenario.sigma2_e, scenario.sigma2_a))
    per_chunk = max(1, -(-int(chunk) // BLOCK))
    out = [np.empty((rounds, scenario.n_users), complex) for _ in range(3)]
    n_blocks = -(-rounds // BLOCK)
    done = 0
    for c0 in range(0, n_blocks, per_chunk):
        for b in range(c0, min(c0 + per_chunk, n_blocks)):
            n = min(BLOCK, rounds - b * BLOCK)
            rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(b,)))
            zs = _block(rng, cov, fh_t, g, s_d, s_a, sb2, se2, sa2, n, explicit)
            for o, z in zip(out, zs):
                o[b * BLOCK:b * BLOCK + n] = z
            done += n
        if progress is not None:
            progress(done)
    return Probing(*out, scheme=res.scheme, rounds=rounds, seed=int(seed),
                   pilots="explicit" if explicit else "ls", result=res)


def sample_covariance(p: Probing) -> np.ndarray:
    r"""Sample covariance ``(K, 3, 3)`` of :math:`(z_a, z_b, z_e)` per user (zero-mean model)."""
    z = np.stack([p.z_a, p.z_b, p.z_e], axis=-1)            # (T, K, 3)
    return np.einsum("tki,tkj->kij", z, z.conj()) / z.shape[0]
