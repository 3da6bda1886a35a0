r"""What the quantised bits reveal: conditional entropies of a quantised reference, its one-way rate, posteriors.

For user k the model's covariance :math:`C` of :math:`(z_a, z_b, z_e)` describes each measurement as
circular complex Gaussian; the **reference** :math:`r` (:data:`REFERENCE`: the BS or the user) is
quantised and reconciled, the other legitimate side :math:`x` and Eve (index 2) keep their
observations. Conditioned on a complex observation :math:`z_x`,
:math:`z_r = \beta z_x + w` with :math:`\beta = C_{rx}/C_{xx}` and
:math:`w \sim \mathcal{CN}(0, C_{rr} - |C_{rx}|^2/C_{xx})`, so each real component of :math:`z_r`
normalised by :math:`\sigma_r = \sqrt{C_{rr}/2}` is, given :math:`z_x`, Gaussian with mean
:math:`\rho t` and variance :math:`s^2 = 1 - \rho^2`, :math:`t \sim \mathcal N(0, 1)`,
:math:`\rho = |C_{rx}|/\sqrt{C_{rr}C_{xx}}` (:func:`~nfkg.protocol.gaussian_bounds.correlation`). The
two real components are conditionally independent given the complex observation (circularity), so
every per-real-sample entropy below counts twice per probing.

Unquantised (Gaussian) rates, bits per probing
    In :mod:`nfkg.protocol.gaussian_bounds` (re-exported here):
    :func:`~nfkg.protocol.gaussian_bounds.gaussian_mutual_information`,
    :func:`~nfkg.protocol.gaussian_bounds.gaussian_one_way_bs` :math:`[I(a;b) - I(a;e)]^+` and
    :func:`~nfkg.protocol.gaussian_bounds.gaussian_one_way_user` :math:`[I(a;b) - I(b;e)]^+`.

Quantised reference, bits per real sample
    :func:`conditional_entropy` :math:`H(Q(u)\mid v) = E_t[h(q(t))]`, with
    :math:`q_j(t) = \Phi((\tau_{j+1} - \rho t)/s) - \Phi((\tau_j - \rho t)/s)` for any sorted thresholds
    :math:`\tau` (the equiprobable ones of :func:`~nfkg.protocol.cell_quadrature.thresholds`, or the
    uniform ones of :func:`~nfkg.protocol.cell_quadrature.uniform_thresholds`, re-exported here);
    :func:`level_entropies` the chain-rule split
    :math:`H(B_i\mid V, B_0..B_{i-1})` over the binary levels of the cell index (multistage
    decoding, [WFH99]_, [VCC04]_); :func:`conditional_renyi_entropy` the conditional Renyi entropy
    :math:`H_\alpha^\downarrow(Q\mid V)` (Tomamichel [Tom16]_) for the finite-size key length of
    :mod:`nfkg.protocol.amplification`.
    :func:`quantizer_bound` :math:`2[H(Q(z_r)\mid z_e) - H(Q(z_r)\mid z_x)]^+` bits per probing: the
    one-way key rate with the quantiser used (reconciliation from the reference, the side keeping
    its soft observation, then hashing [AC93]_); :func:`one_way_rate` is its BS-reference form.
    :func:`bit_posteriors` -- per quantised bit, :math:`P(\text{BS bit} = 1 \mid z_x)`: the soft
    information (LLRs) of reconciliation, for the user and for Eve.

Quadrature
    The expectations over :math:`t` are composite Gauss-Legendre rules on windows around the
    thresholds (:mod:`nfkg.protocol.cell_quadrature`: a few milliseconds for a 1024-level
    quantiser, relative error below :math:`10^{-10}` against mpmath in the tests), or closed
    forms for a fine uniform quantiser.

:math:`z_a` is in fact a Gaussian scale mixture (:mod:`nfkg.protocol.probing`); the Gaussian model
has its second moments, and the achieved rates are measured on the Monte Carlo bits.

References
----------
.. [CK78] I. Csiszar, J. Korner, "Broadcast channels with confidential messages", IEEE Trans. Inf.
   Theory 24(3), 339-348, 1978.
.. [AC93] R. Ahlswede, I. Csiszar, "Common randomness in information theory and cryptography. I.
   Secret sharing", IEEE Trans. Inf. Theory 39(4), 1121-1132, 1993.
.. [WFH99] U. Wachsmann, R. F. H. Fischer, J. B. Huber, "Multilevel codes: theoretical concepts and
   practical design rules", IEEE Trans. Inf. Theory 45(5), 1361-1391, 1999.
.. [VCC04] G. Van Assche, J. Cardinal, N. J. Cerf, "Reconciliation of a quantum-distributed Gaussian
   key", IEEE Trans. Inf. Theory 50(2), 394-400, 2004.
.. [Tom16] M. Tomamichel, *Quantum Information Processing with Finite Resources*, SpringerBriefs in
   Mathematical Physics 5, Springer, 2016 (Ch. 5, the conditional Renyi entropies).

Contents
--------
conditional_entropy, level_entropies, conditional_renyi_entropy, quantizer_bound, one_way_rate,
bit_posteriors; re-exported: REFERENCE, correlation, direction_correlations,
gaussian_mutual_information, gaussian_one_way_bs, gaussian_one_way_user
(:mod:`nfkg.protocol.gaussian_bounds`), thresholds, uniform_thresholds
(:mod:`nfkg.protocol.cell_quadrature`).
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
from numpy.typing import ArrayLike

from .cell_quadrature import (_CHUNK, _FINE_RATIO, _GL_ORDER, _LN2, _MAX_LEVELS, _PANEL, _PANEL_T,  # noqa: F401
                              _T_MAX, _WINDOW, _cell_probs, _entropy_rows, _expect, _expect_many, _fine_step,
                              _gauss_legendre, _nodes, _rho_s, _thresholds_of, thresholds, uniform_thresholds)
from .gaussian_bounds import (_MIN_ONE_MINUS_RHO2, EVE, REFERENCE, _mi_pair, _roles, correlation,  # noqa: F401
                              direction_correlations, gaussian_mutual_information, gaussian_one_way_bs,
                              gaussian_one_way_user)

# re-exports keep their names here
__all__ = ["REFERENCE", "correlation", "direction_correlations", "gaussian_mutual_information",
           "gaussian_one_way_bs", "gaussian_one_way_user", "thresholds", "uniform_thresholds",
           "conditional_entropy", "level_entropies", "conditional_renyi_entropy", "quantizer_bound",
           "one_way_rate", "bit_posteriors"]


# ------------------------------------------------------------------------------------------
# conditional entropies of a quantised reference
# ------------------------------------------------------------------------------------------

def _scalar_or_array(rho: ArrayLike, fn: Callable[[float], float]) -> float | np.ndarray:
    if np.ndim(rho) == 0:
        return fn(float(rho))
    r = np.asarray(rho, float)
    return np.array([fn(float(x)) for x in r.ravel()]).reshape(r.shape)


def conditional_entropy(rho: ArrayLike, bits: int = 1, *, thresholds: ArrayLike | None = None) -> float | np.ndarray:
    r""":math:`H(Q(u) \mid v)` [bits per real sample] for standard Gaussians with correlation ``rho``.

    :math:`H(Q(u)\mid v) = E_t[h(q(t))]`, :math:`t \sim \mathcal N(0,1)`,
    :math:`q_j(t) = \Phi((\tau_{j+1} - \rho t)/s) - \Phi((\tau_j - \rho t)/s)`,
    :math:`s = \sqrt{1 - \rho^2}`, :math:`h` the Shannon entropy in bits; by the composite
    Gauss-Legendre rule of the module (relative error below :math:`10^{-10}`, a few ms for 1024
    levels). Per complex sample (the two real components) it is twice this.

    Parameters
    ----------
    rho : float or array_like
        Correlation of the quantised variable with the observation; only :math:`|\rho|` matters
        (:math:`t` is symmetric), values above 1 count as 1. An array gives an array.
    bits : int
        Levels :math:`2^b` of the equiprobable quantiser (:func:`thresholds`); ignored when
        ``thresholds`` is given.
    thresholds : array_like, optional
        Sorted thresholds :math:`\tau_1..\tau_{L-1}` in units of the standard deviation (e.g.
        :func:`uniform_thresholds`); the end cells are open.

    Returns
    -------
    float (ndarray for an array ``rho``). ``rho = 0``: the entropy of the cell masses (``bits``
    for the equiprobable quantiser); ``rho = 1``: 0.

    Examples
    --------
    >>> round(conditional_entropy(0.9, 1), 10)
    0.4499809148
    >>> round(conditional_entropy(0.0, thresholds=[0.0]), 12), conditional_entropy(1.0, 3)
    (1.0, 0.0)
    """
    tau = _thresholds_of(bits, thresholds)

    def one(r: float) -> float:
        rr, s = _rho_s(r)
        if s == 0.0 or tau.size == 0:
            return 0.0
        d = _fine_step(tau, s)
        if d is not None:                               # high resolution: closed form
            val = math.log2(math.sqrt(2.0 * math.pi * math.e) * s / d) + (d / s) ** 2 / (24.0 * _LN2)
            return min(val, math.log2(tau.size + 1))
        val = float(_expect(rr, tau, _entropy_rows))
        return min(max(val, 0.0), math.log2(tau.size + 1))

    return _scalar_or_array(rho, one)


def level_entropies(rho: float, thresholds: ArrayLike) -> np.ndarray:
    r"""Conditional entropies of the binary levels of the cell index (multistage decoding) [bits per real sample].

    The index :math:`q \in 0..L-1` of the quantiser with ``thresholds`` (:math:`L` a power of two) is
    written in natural binary, bit :math:`B_i` of weight :math:`2^i`. Least significant level first
    ([WFH99]_, [VCC04]_),

    .. math:: H(B_i \mid V, B_0..B_{i-1}) = H(q \bmod 2^{i+1} \mid V) - H(q \bmod 2^i \mid V),

    each term an expectation over :math:`t` of the entropy of the coset masses
    :math:`\sum_{q \equiv c} q_q(t)` (same quadrature as :func:`conditional_entropy`). By the chain
    rule they sum to :func:`conditional_entropy` with the same thresholds.

    Parameters
    ----------
    rho : float
        Correlation of the reference's component with the decoder's observation.
    thresholds : array_like ``(L - 1,)``
        Sorted, in units of the standard deviation.

    Returns
    -------
    ndarray ``(log2 L,)``, level 0 (least significant) first.

    Examples
    --------
    >>> h = level_entropies(0.99, uniform_thresholds(0.25, 16))
    >>> [round(float(x), 4) for x in h]
    [0.9245, 0.3775, 0.0049, 0.0]
    >>> bool(abs(h.sum() - conditional_entropy(0.99, thresholds=uniform_thresholds(0.25, 16))) < 1e-12)
    True
    """
    tau = _thresholds_of(0, thresholds)
    L = tau.size + 1
    if L < 2 or L & (L - 1):
        raise ValueError(f"thresholds: the number of cells must be a power of two >= 2, got {L}")
    b = L.bit_length() - 1
    r, s = _rho_s(rho)
    if s == 0.0:
        return np.zeros(b)

    def cosets(p: np.ndarray) -> np.ndarray:
        n, width = p.shape
        out = np.empty((n, b))
        full = _entropy_rows(p)
        for k in range(1, b + 1):
            M = 1 << k
            if M >= width:                             # every cell its own coset
                out[:, k - 1:] = full[:, None]
                break
            pad = (-width) % M
            pp = np.concatenate([p, np.zeros((n, pad))], axis=1) if pad else p
            out[:, k - 1] = _entropy_rows(pp.reshape(n, -1, M).sum(axis=1))
        return out

    hk = _expect(r, tau, cosets)                       # H(q mod 2^k | V), k = 1..b
    h = np.diff(np.concatenate([[0.0], hk]))
    return np.clip(h, 0.0, 1.0)


def conditional_renyi_entropy(rho: ArrayLike, alpha: float, *, bits: int = 1,
                              thresholds: ArrayLike | None = None) -> float | np.ndarray:
    r"""Conditional Renyi entropy :math:`H_\alpha^\downarrow(Q(u)\mid v)` [bits per real sample].

    .. math:: H_\alpha^\downarrow(Q\mid V) = \frac{1}{1-\alpha}\log_2 E_t\Big[\sum_x q_x(t)^\alpha\Big]
              = \frac{1}{1-\alpha}\log_2 \sum_v P(v)\sum_x P(x\mid v)^\alpha,

    the classical case of :math:`H_\alpha^\downarrow(A|B)_\rho = -D_\alpha(\rho_{AB}\|1_A\otimes\rho_B)`
    (Tomamichel [Tom16]_, Ch. 5; Tomamichel, Colbeck, Renner, IEEE Trans. Inf. Theory 55(12),
    2009), with :math:`q_x(t)` as in :func:`conditional_entropy`. It is non-increasing in
    :math:`\alpha`, at most :math:`H(Q|V)` and tends to it as :math:`\alpha \to 1`. Computed as
    :math:`\log_2(1 - D)/(1-\alpha)` with
    :math:`D = E_t[\sum_x q_x(1 - q_x^{\alpha-1})]` (``expm1``), so that it stays accurate for
    :math:`\alpha` near 1 and :math:`\rho` near 1. Per complex sample it is twice this: the two
    real components are conditionally independent given the complex observation, and
    :math:`H_\alpha^\downarrow` is additive over independent pairs.

    Parameters
    ----------
    rho : float or array_like
        As in :func:`conditional_entropy`.
    alpha : float
        :math:`\alpha \ge 1` (the finite-size bound of :mod:`nfkg.protocol.amplification` uses
        :math:`(1, 2]`); ``alpha = 1`` returns :func:`conditional_entropy`.
    bits, thresholds
        The quantiser, as in :func:`conditional_entropy`.

    Returns
    -------
    float (ndarray for an array ``rho``).

    Examples
    --------
    >>> round(conditional_renyi_entropy(0.9, 2.0), 10), round(conditional_entropy(0.9), 10)
    (0.3209673053, 0.4499809148)
    """
    alpha = float(alpha)
    if not (math.isfinite(alpha) and alpha >= 1.0):
        raise ValueError(f"alpha: must be a finite number >= 1, got {alpha}")
    if alpha == 1.0:
        return conditional_entropy(rho, bits, thresholds=thresholds)
    tau = _thresholds_of(bits, thresholds)
    return _scalar_or_array(rho, lambda r: _renyi_entropies(r, (alpha,), tau)[0])


def _renyi_entropies(r: float, alphas: tuple, tau: np.ndarray) -> list:
    r""":func:`conditional_renyi_entropy` at one :math:`\rho` for several :math:`\alpha > 1`, from one
    quadrature of the cell masses (each value is the one the function returns for that
    :math:`\alpha` alone: the same sums)."""
    rr, s = _rho_s(r)
    if s == 0.0 or tau.size == 0:
        return [0.0] * len(alphas)
    fine = _fine_step(tau, s)
    cap = math.log2(tau.size + 1)
    if fine is not None:                                # high resolution: closed form
        return [min(max(math.log2(math.sqrt(2.0 * math.pi) * s / fine) + math.log2(a) / (2.0 * (a - 1.0))
                        + (fine / s) ** 2 / (24.0 * _LN2), 0.0), cap) for a in alphas]
    am1s = [float(a) - 1.0 for a in alphas]

    def dev(p: np.ndarray) -> tuple:
        pos = p > 0
        lp = np.log(np.where(pos, p, 1.0))
        return tuple(np.sum(np.where(pos, -p * np.expm1(am1 * lp), 0.0), axis=-1) for am1 in am1s)

    out = []
    for am1, d in zip(am1s, _expect_many(rr, tau, dev)):
        d = min(max(float(d), 0.0), 1.0 - 1e-300)
        val = math.log1p(-d) / (-am1 * _LN2)
        out.append(min(max(val, 0.0), cap))
    return out


def quantizer_bound(cov: ArrayLike, direction: str = "bs", *, bits: int = 1,
                    thresholds: ArrayLike | None = None) -> np.ndarray:
    r"""One-way key rate of the quantiser used [bits per probing]: :math:`2[H(Q(z_r)\mid z_e) - H(Q(z_r)\mid z_x)]^+`.

    The reference :math:`r` (:data:`REFERENCE`) quantises each real component of its measurement
    with ``thresholds`` in units of :math:`\sigma_r = \sqrt{C_{rr}/2}` (default: the equiprobable
    ``bits``-bit quantiser); the other side :math:`x` and Eve keep their complex observations.
    One-way reconciliation from the reference followed by hashing achieves it ([AC93]_, [CK78]_
    with :math:`V = U = Q(z_r)`); the factor 2 counts the two real components.

    Parameters
    ----------
    cov : array_like, ``(..., 3, 3)``
        Covariance of :math:`(z_a, z_b, z_e)` (``Evaluation.cov``).
    direction : {'bs', 'user'}
        The reference.
    bits : int
        Bits of the equiprobable quantiser (when ``thresholds`` is None).
    thresholds : array_like, optional
        Sorted thresholds, e.g. :func:`uniform_thresholds` or
        :attr:`nfkg.protocol.multilevel.UniformQuantizer.thresholds`.

    Returns
    -------
    ndarray ``(...)``

    Examples
    --------
    >>> c = np.array([[1.0, 0.9, 0.5], [0.9, 1.0, 0.45], [0.5, 0.45, 1.0]])
    >>> round(float(quantizer_bound(c, "bs")), 6), round(float(quantizer_bound(c, "user")), 6)
    (0.849647, 0.900778)
    """
    tau = _thresholds_of(bits, thresholds)
    rho_s, rho_e = direction_correlations(cov, direction)
    rs, re = np.ravel(rho_s), np.ravel(rho_e)
    cache: dict[float, float] = {}

    def h(r: float) -> float:
        if r not in cache:
            cache[r] = float(conditional_entropy(r, thresholds=tau))
        return cache[r]

    out = np.array([2.0 * max(h(float(e)) - h(float(x)), 0.0) for x, e in zip(rs, re)])
    return out.reshape(np.shape(rho_s))


def one_way_rate(cov: ArrayLike, bits: int = 1) -> np.ndarray:
    r"""One-way key rate [bits per probing] of each user for the b-bit quantiser of the BS.

    ``quantizer_bound(cov, "bs", bits=bits)``.

    Parameters
    ----------
    cov : array_like, ``(..., 3, 3)``
        Covariance of :math:`(z_a, z_b, z_e)` (``Evaluation.cov``).
    bits : int
        Quantiser bits per real sample.

    Returns
    -------
    ndarray ``(...)``: :math:`2\,[H(Q|z_e) - H(Q|z_b)]^+`.
    """
    return quantizer_bound(cov, "bs", bits=bits)


def bit_posteriors(z_x: ArrayLike, c_aa: float, c_xx: float, c_ax: complex, bits: int = 1,
                   keep: ArrayLike | None = None) -> np.ndarray:
    r""":math:`P(\text{BS bit} = 1 \mid z_x)` for every quantised bit, in the quantiser's order.

    Parameters
    ----------
    z_x : array_like, complex, ``(T,)``
        The observer's measurements (the user's :math:`z_b` or Eve's :math:`z_e`).
    c_aa, c_xx : float
        Variances of :math:`z_a` and :math:`z_x`.
    c_ax : complex
        :math:`E[z_a z_x^*]`.
    bits : int
        Quantiser bits per real sample (1: J(45)); the BS quantises with the model's
        :math:`\sigma = \sqrt{C_{aa}/2}` per real component.
    keep : array_like of bool, optional
        Real samples kept by the guard bands (``(2T,)``); default all.

    Returns
    -------
    ndarray ``(n_kept * bits,)`` of probabilities.
    """
    from scipy.special import ndtr

    from .quantization import gray_code, stack_real

    z = np.asarray(z_x).ravel()
    beta = complex(c_ax) / float(c_xx)
    mu = stack_real(beta * z)                                # conditional means of Re a, Im a
    var_w = max(float(c_aa) - abs(complex(c_ax)) ** 2 / float(c_xx), 0.0) / 2.0
    sig_a = math.sqrt(float(c_aa) / 2.0)
    s = max(math.sqrt(var_w), 1e-300) / sig_a
    m = mu / sig_a
    if keep is not None:
        m = m[np.asarray(keep, bool)]
    tau = np.concatenate([[-np.inf], thresholds(bits), [np.inf]])
    cdf = ndtr((tau[None, :] - m[:, None]) / s)
    q = np.diff(cdf, axis=1)                                 # (n, 2^b) level probabilities
    table = gray_code(bits).astype(float)                    # (2^b, b)
    p1 = q @ table                                           # P(bit_j = 1), (n, b)
    return np.clip(p1.ravel(), 0.0, 1.0)
