r"""Monte Carlo channel probing: random precoders, shared pilots, LS estimates (J(4)-(11)).

Each probing round the BS draws :math:`w_k \sim \mathcal{CN}(0, W_k)` for every user from the
scheme's low-rank shapes (:class:`nfkg.engine.subspace.PrecoderCovariance`, never an N x N
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
directly, :math:`\mathcal{CN}(0, \sigma^2/\|s\|^2)`: each entry of :math:`N s/\|s\|^2` is a
combination of V independent :math:`\mathcal{CN}(0, \sigma^2)` with squared weights summing to
:math:`1/\|s\|^2`, so the two give the same distribution for any V. ``'auto'`` (default) builds
them explicitly when one round's uplink block :math:`N \times V` has at most 4,096 entries.

Two simulations (``method``)
----------------------------
``'explicit'``
    The reference: per round, :math:`w_k` in N-space (:meth:`PrecoderCovariance.sample
    <nfkg.engine.subspace.PrecoderCovariance.sample>`) and the BS's N-dimensional noise; O(KN)
    random numbers and the projections of the N-vectors per round.
``'reduced'``
    The same joint distribution of :math:`(z_a, z_b, z_e)` over the users, from O(KD)
    random numbers per round (D <= 2K + a few, below). ``'auto'`` (default) uses it for every
    :class:`~nfkg.engine.subspace.PrecoderCovariance`, i.e. every registered scheme.

**Derivation (exact, not an approximation).** Let :math:`Q` (``N x D``) be an orthonormal
basis of the span S of the 2K channels and of the bases of every shape of every user
(:meth:`PrecoderCovariance.reduce <nfkg.engine.subspace.PrecoderCovariance.reduce>`); :math:`Q_\perp`
(``N x M``, :math:`M = N - D`) completes it and is never formed.

1. *Precoders.* A span shape :math:`Q_RQ_R^H/r` lies in S. A complement shape
   :math:`(I - Q_RQ_R^H)/(N - r)` is :math:`Q(I_D - BB^H)Q^H/(N-r) + Q_\perp Q_\perp^H/(N-r)`,
   :math:`B = Q^HQ_R`, with no cross term since :math:`Q_R \subset S`. Hence
   :math:`W_k = QC_kQ^H + \sigma_k^2Q_\perp Q_\perp^H` with :math:`C_k = L_kL_k^H` (``D x D``)
   and :math:`\sigma_k^2 = \sum_{j\ \mathrm{complement}} P_{j,k}/(N - r_{j,k})`, and
   :math:`w_k = QL_k\xi_k + \sigma_kQ_\perp u_k`, with :math:`\xi_k \sim \mathcal{CN}(0, I_R)`,
   :math:`u_k \sim \mathcal{CN}(0, I_M)`, all independent (over k too: the users' precoders
   are drawn independently). For the registered schemes: ``ras`` one beam per user
   (:math:`\mathbf 1/\sqrt N`, D = 2K + 1, :math:`\sigma_k = 0`); ``mrc`` one beam
   :math:`f_k/\|f_k\|` (D = 2K); the SVD schemes (``svd``, ``svd-pa``, ``svd-opt``, ``svd-dlpa``,
   ``svd-maxmin``) two shapes per user, isotropic signal and jamming = complements of
   2K - 2 and 2K - 1 channels (D = 2K, :math:`\sigma_k > 0`), or beams
   :math:`P_\perp f_k`, :math:`P_\perp h_k` in the channels' span for matched shaping /
   targeted jamming (``svd-mf``: two beams, D = 2K, :math:`\sigma_k = 0`). (Where channels
   nearly align, the bases' round-off outside the channels' span, ~1e-13, can add a direction
   or two to S; it is kept, so the simulation stays exact, at the cost of a larger D.)
2. *User and Eve.* :math:`f_i, h_i \in S`, so :math:`f_i^H\sum_k w_k = \sum_k
   (Q^Hf_i)^HL_k\xi_k`: no :math:`u_k`. Their noise is drawn as in the explicit simulation.
3. *BS.* :math:`\hat n_a \sim \mathcal{CN}(0, \kappa I_N)`, :math:`\kappa = \sigma_a^2/\|s_a\|^2`;
   :math:`\nu = Q^H\hat n_a \sim \mathcal{CN}(0, \kappa I_D)` and :math:`\mu = Q_\perp^H\hat n_a
   \sim \mathcal{CN}(0, \kappa I_M)` are independent (a unitary rotation of white noise), and
   :math:`g = \sum_i f_i \in S`, so
   :math:`z_{a_k} = (Q^Hg + \nu)^HL_k\xi_k + \sigma_k\,\mu^Hu_k`.
4. *The complement.* The M-dimensional vectors enter only through :math:`t_k = \mu^Hu_k`,
   k = 1..K. Given :math:`\mu`, the :math:`t_k` are independent
   :math:`\mathcal{CN}(0, \|\mu\|^2)` (the :math:`u_k` are isotropic, independent of
   :math:`\mu` and of each other), and :math:`\|\mu\|^2/\kappa \sim \mathrm{Gamma}(M, 1)` (a sum
   of M independent unit exponentials). So :math:`t_k = \sqrt{\kappa G}\,\eta_k` with
   :math:`G \sim \mathrm{Gamma}(M, 1)` and :math:`\eta_k \sim \mathcal{CN}(0, 1)` independent:
   one Gamma and K normals per round, exact. The shared G makes the :math:`t_k` uncorrelated but
   dependent, and :math:`z_a` a Gaussian scale mixture, as in N-space.

Per round the reduced simulation draws :math:`KR + D + K` complex normals and one Gamma
variable for the BS side (``pilots='explicit'``: the D x V rotated noise block
:math:`Q^HN_a`, whose entries are again independent, instead of :math:`\nu`; the LS-combined
complement noise is white, so its norm is Gamma as above), and the same user and Eve noise as
the explicit simulation. Its samples differ from the explicit ones for the same seed (other
random numbers), not in distribution; ``tests/test_probing.py`` checks both against the
engine's covariance, against each other (moments of :math:`|z_a|`, KS test, one-bit KDR).

The covariance of :math:`(z_a, z_b, z_e)` over rounds is the secrecy engine's covariance
(a test, not an assumption). :math:`z_a` is a Gaussian scale mixture, not Gaussian
(:math:`\hat n_a^H w_k` has variance :math:`\|w_k\|^2\sigma_a^2/(VP_b)`); its second moments
are those of the model.

Reproducibility: rounds are drawn in seed blocks of :data:`BLOCK` rounds, block ``b`` from
``SeedSequence(seed, spawn_key=(b,))``; any ``chunk`` (a multiple of the block, the
rounds held in memory at once) gives the same samples, bit for bit, with either method.

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

import numbers
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..model.scenario import Scenario
from ..engine.subspace import PrecoderCovariance

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
    method : str
        ``'reduced'`` or ``'explicit'``: the simulation that drew them.
    """

    z_a: np.ndarray
    z_b: np.ndarray
    z_e: np.ndarray
    scheme: str
    rounds: int
    seed: int
    pilots: str
    result: Any = field(repr=False, default=None)
    method: str = "explicit"


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


def _reduced_operator(red, fh: np.ndarray) -> np.ndarray:
    r"""``(KR, 2K + KD)``: stacked :math:`\xi` ``(n, KR)`` times it gives, per round, the 2K
    channel projections of :math:`\sum_i w_i` (columns ``:2K``) and every :math:`Q^Hw_k = L_k\xi_k`
    (columns ``2K:``, user-major). ``fh`` is :math:`[f_1..f_K, h_1..h_K]` ``(N, 2K)``."""
    k, d, r = red.factors.shape
    cs = red.coordinates(fh)                                    # Q^H [f, h], (D, 2K)
    lt = np.swapaxes(red.factors, -1, -2)                       # L_k^T, (K, R, D)
    proj = (lt @ cs.conj()).reshape(k * r, 2 * k)               # xi_k -> f_i^H w_k, h_i^H w_k
    own = np.zeros((k * r, k * d), dtype=complex)
    for i in range(k):
        own[i * r:(i + 1) * r, i * d:(i + 1) * d] = lt[i]
    return np.ascontiguousarray(np.concatenate([proj, own], axis=1))


def _block_reduced(rng, red, ops, gs, s_d, s_a, sb2, se2, sa2, n: int, explicit: bool):
    """One seed block of the reduced simulation (module docstring): (z_a, z_b, z_e), ``(n, K)``.

    ``ops`` is :func:`_reduced_operator`, ``gs`` is :math:`Q^H\\sum_i f_i` ``(D,)``. Draw order is
    fixed: xi, user and Eve noise, the BS noise in the span, then (if there is an isotropic
    complement part) the Gamma variables and eta.
    """
    k, d, r = red.factors.shape
    xi = _crandn(rng, (n, k * r), 1.0)
    y = xi @ ops                                                # (n, 2K + KD)
    fx, hx = y[:, :k], y[:, k:2 * k]                            # f_k^H sum_i w_i, h_k^H sum_i w_i
    a = y[:, 2 * k:].reshape(n, k, d)                           # Q^H w_k, (n, K, D)
    v = s_d.size
    if explicit:
        ls_d = s_d / np.vdot(s_d, s_d).real
        ls_a = s_a / np.vdot(s_a, s_a).real
        nb = _crandn(rng, (n, k, v), sb2)
        ne = _crandn(rng, (n, k, v), se2)
        z_b = fx + (nb[..., 0] * ls_d[0] if v == 1 else nb @ ls_d)
        z_e = hx + (ne[..., 0] * ls_d[0] if v == 1 else ne @ ls_d)
        na = _crandn(rng, (n, d, v), sa2)                       # Q^H N_a: white again, (n, D, V)
        nu = na[..., 0] * ls_a[0] if v == 1 else na @ ls_a
    else:
        z_b = fx + _crandn(rng, (n, k), sb2 / np.vdot(s_d, s_d).real)
        z_e = hx + _crandn(rng, (n, k), se2 / np.vdot(s_d, s_d).real)
        nu = _crandn(rng, (n, d), sa2 / np.vdot(s_a, s_a).real)
    nu += gs[None, :]                                           # Q^H (sum_i f_i + n_hat)
    z_a = np.einsum("nkd,nd->nk", a, nu.conj())                 # (Q^H z_a)^H Q^H w_k, (n, K)
    if red.perp_dim > 0 and np.any(red.perp_var > 0):
        kappa = sa2 / np.vdot(s_a, s_a).real
        gam = rng.standard_gamma(red.perp_dim, n)               # ||mu||^2 / kappa ~ Gamma(M, 1)
        eta = _crandn(rng, (n, k), 1.0)                         # mu^H u_k / ||mu||
        eta *= np.sqrt(kappa * gam)[:, None]
        eta *= np.sqrt(red.perp_var)[None, :]
        z_a += eta
    return z_a, z_b, z_e


def probe(scenario: Scenario, scheme: str = "svd-pa", rounds: int = 10_000, seed: int = 0,
          shaping: str | None = None, chunk: int = 8 * BLOCK, pilots: str = "auto",
          progress: Callable[[int], None] | None = None, method: str = "auto", **options) -> Probing:
    r"""Monte Carlo probing of one scenario with one scheme (J(4)-(11)).

    Parameters
    ----------
    scenario : Scenario
        One scenario (batch shape ``()``).
    scheme : str or PrecodingResult
        A registered scheme name (precoded here with ``shaping`` and ``options``) or a
        :class:`~nfkg.schemes.precoding.PrecodingResult` of this scenario.
    rounds : int
        T, the number of probing rounds (>= 1).
    seed : int
        Seed (:class:`numpy.random.SeedSequence`); the same seed gives the same samples.
    chunk : int
        Rounds between progress calls, rounded up to a multiple of :data:`BLOCK`; the
        samples do not depend on it. Memory is bounded by one block (the draws of
        :data:`BLOCK` rounds: explicit about 16 MB at K = 2, N = 256; reduced well under
        1 MB) plus the ``(T, K)`` results.
    pilots : {'auto', 'explicit', 'ls'}
        Build the V-slot pilots and their noise, or draw the LS estimates' noise directly
        (the same distribution); ``'auto'``: explicit when ``N V <= 4096``.
    method : {'auto', 'reduced', 'explicit'}
        ``'reduced'``: the exact simulation in reduced coordinates (module docstring), O(KD)
        random numbers per round; ``'explicit'``: the N-antenna reference. ``'auto'``
        (default): reduced whenever the precoders are a
        :class:`~nfkg.engine.subspace.PrecoderCovariance` (every registered scheme). The two give
        the same distribution, not the same samples.
    progress : callable, optional
        Called with the number of rounds done after each chunk.

    Returns
    -------
    Probing
    """
    from ..schemes.precoding import PrecodingResult, precode

    if scenario.batch_shape != ():
        raise ValueError(f"scenario: probing takes one scenario, got batch shape {scenario.batch_shape}")
    if (isinstance(rounds, (bool, np.bool_)) or not isinstance(rounds, numbers.Real)
            or not float(rounds).is_integer() or rounds < 1):
        raise ValueError(f"rounds: must be an integer >= 1, got {rounds!r}")
    rounds = int(rounds)
    if pilots not in ("auto", "explicit", "ls"):
        raise ValueError(f"pilots: must be 'auto', 'explicit' or 'ls', got {pilots!r}")
    if method not in ("auto", "reduced", "explicit"):
        raise ValueError(f"method: must be 'auto', 'reduced' or 'explicit', got {method!r}")
    res = scheme if isinstance(scheme, PrecodingResult) else precode(scenario, scheme, shaping, **options)
    cov = res.covariance
    f, h = scenario.channels()
    v = int(scenario.pilot_length)
    explicit = pilots == "explicit" or (pilots == "auto" and scenario.n_ant * v <= _EXPLICIT_MAX)
    s_d = zadoff_chu(v)
    s_a = zadoff_chu(v) * np.sqrt(float(scenario.p_b))     # ||s_a||^2 = V P_b
    g = f.sum(axis=0)
    fh_t = np.ascontiguousarray(np.concatenate([f, h]).conj().T)
    reduced = method == "reduced" or (method == "auto" and isinstance(cov, PrecoderCovariance))
    if reduced:
        if not isinstance(cov, PrecoderCovariance):
            raise ValueError(f"method: 'reduced' needs a PrecoderCovariance, got {type(cov).__name__}")
        red = cov.reduce(fh_t.conj())                      # span of the channels and every shape
        ops, gs = _reduced_operator(red, fh_t.conj()), red.coordinates(g)
    sb2, se2, sa2 = (float(x) for x in (scenario.sigma2_b, scenario.sigma2_e, scenario.sigma2_a))
    per_chunk = max(1, -(-int(chunk) // BLOCK))
    out = [np.empty((rounds, scenario.n_users), complex) for _ in range(3)]
    n_blocks = -(-rounds // BLOCK)
    done = 0
    for c0 in range(0, n_blocks, per_chunk):
        for b in range(c0, min(c0 + per_chunk, n_blocks)):
            n = min(BLOCK, rounds - b * BLOCK)
            rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(b,)))
            if reduced:
                zs = _block_reduced(rng, red, ops, gs, s_d, s_a, sb2, se2, sa2, n, explicit)
            else:
                zs = _block(rng, cov, fh_t, g, s_d, s_a, sb2, se2, sa2, n, explicit)
            for o, z in zip(out, zs):
                o[b * BLOCK:b * BLOCK + n] = z
            done += n
        if progress is not None:
            progress(done)
    return Probing(*out, scheme=res.scheme, rounds=rounds, seed=int(seed),
                   pilots="explicit" if explicit else "ls", result=res,
                   method="reduced" if reduced else "explicit")


def sample_covariance(p: Probing) -> np.ndarray:
    r"""Sample covariance ``(K, 3, 3)`` of :math:`(z_a, z_b, z_e)` per user (zero-mean model)."""
    z = np.stack([p.z_a, p.z_b, p.z_e], axis=-1)            # (T, K, 3)
    return np.einsum("tki,tkj->kij", z, z.conj()) / z.shape[0]
