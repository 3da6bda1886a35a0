r"""What the quantised bits reveal: conditional entropies, posteriors and the one-way key rate.

For user k the model's covariance :math:`C` of :math:`(z_a, z_b, z_e)` (:func:`nfkg.precoding.evaluate`)
describes each measurement as circular complex Gaussian. Conditioned on a complex observation
:math:`z_x` (the user's :math:`z_b` or Eve's :math:`z_e`), :math:`z_a = \beta z_x + w` with
:math:`\beta = C_{ax}/C_{xx}` and :math:`w \sim \mathcal{CN}(0, C_{aa} - |C_{ax}|^2/C_{xx})`, so each real
component of :math:`z_a` (the inputs of the quantisers of :mod:`nfkg.quantization`) is Gaussian given
:math:`z_x` with correlation :math:`\rho = |C_{ax}|/\sqrt{C_{aa}C_{xx}}` to the best estimate.

* :func:`conditional_entropy` -- :math:`H(Q(u)\mid v)` for the b-bit equiprobable quantiser
  :math:`Q` and standard Gaussians with correlation :math:`\rho`: :math:`E_t[h(q(t))]` with
  :math:`q_j(t) = \Phi((\tau_{j+1} - \rho t)/s) - \Phi((\tau_j - \rho t)/s)`, :math:`s = \sqrt{1-\rho^2}`,
  integrated by adaptive quadrature with the thresholds as break points.
* :func:`one_way_rate` -- :math:`2[H(Q(z_a)\mid z_e) - H(Q(z_a)\mid z_b)]^+` bits per probing (two
  real components): the key rate of one-way reconciliation from the BS followed by hashing
  (Csiszar-Korner / Ahlswede-Csiszar, with the user's soft observation), for the quantiser used.
  It is at most the SKR :math:`I(z_a; z_b \mid z_e)` and can be 0 when Eve is as good as the user.
* :func:`bit_posteriors` -- per quantised bit, :math:`P(\text{BS bit} = 1 \mid z_x)` in the order of
  :func:`nfkg.quantization.one_bit` / :func:`~nfkg.quantization.multi_bit`: the soft information
  (LLRs) of reconciliation, for the user and for Eve.

:math:`z_a` is in fact a Gaussian scale mixture (:mod:`nfkg.probing`); the Gaussian model
has its second moments, and the achieved rates are measured on the Monte Carlo bits.

Contents
--------
conditional_entropy, one_way_rate, bit_posteriors, correlation
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["correlation", "conditional_entropy", "one_way_rate", "bit_posteriors", "thresholds"]


def thresholds(bits: int) -> np.ndarray:
    """Equiprobable thresholds of N(0, 1) for ``2^bits`` levels."""
    from scipy.special import ndtri

    n = 2 ** int(bits)
    return ndtri(np.arange(1, n) / n)


def correlation(c_aa: ArrayLike, c_xx: ArrayLike, c_ax: ArrayLike) -> np.ndarray:
    r""":math:`\rho = |C_{ax}|/\sqrt{C_{aa}C_{xx}}`, clipped to [0, 1]."""
    return np.clip(np.abs(np.asarray(c_ax)) / np.sqrt(np.asarray(c_aa, float) * np.asarray(c_xx, float)), 0.0, 1.0)


def _h(q: np.ndarray) -> np.ndarray:
    q = np.clip(q, 0.0, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.sum(np.where(q > 0, q * np.log2(np.where(q > 0, q, 1.0)), 0.0), axis=-1)


def conditional_entropy(rho: float, bits: int = 1) -> float:
    r""":math:`H(Q_b(u) \mid v)` [bits per real sample] for standard Gaussians with correlation ``rho``."""
    from scipy.integrate import quad
    from scipy.special import ndtr

    rho = float(min(max(rho, 0.0), 1.0))
    if rho <= 0.0:
        return float(bits)
    if rho >= 1.0:
        return 0.0
    s = math.sqrt(max(1.0 - rho * rho, 0.0))
    tau = np.concatenate([[-np.inf], thresholds(bits), [np.inf]])

    def integrand(t: float) -> float:
        cdf = ndtr((tau - rho * t) / s)
        return float(_h(np.diff(cdf)[None, :])[0]) * math.exp(-0.5 * t * t) / math.sqrt(2 * math.pi)

    # the integrand is a bump of width ~s/rho around every threshold tau_j/rho: integrate
    # piecewise with break points there, so that narrow bumps (rho -> 1) are never missed
    edges = {-12.0, 12.0}
    for x in tau[1:-1]:
        c = float(x) / rho
        for d in (0.0, 1.0, 4.0, 10.0):
            edges.update({c - d * s / rho, c + d * s / rho})
    edges = sorted(e for e in edges if -12.0 <= e <= 12.0)
    val = 0.0
    for a, b in zip(edges[:-1], edges[1:]):
        if b > a:
            val += quad(integrand, a, b, limit=200, epsabs=1e-14, epsrel=1e-10)[0]
    return float(min(max(val, 0.0), bits))


def one_way_rate(cov: ArrayLike, bits: int = 1) -> np.ndarray:
    r"""One-way key rate [bits per probing] of each user for the b-bit quantiser.

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
    c = np.asarray(cov)
    flat = c.reshape(-1, 3, 3)
    out = np.empty(flat.shape[0])
    for i, m in enumerate(flat):
        rb = float(correlation(m[0, 0].real, m[1, 1].real, m[0, 1]))
        re = float(correlation(m[0, 0].real, m[2, 2].real, m[0, 2]))
        out[i] = 2.0 * max(conditional_entropy(re, bits) - conditional_entropy(rb, bits), 0.0)
    return out.reshape(c.shape[:-2])


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
