r"""Quantisation of probing measurements and the key disagreement rate (J(45)-(46), J VI).

One-bit (J(45))
    :math:`\bar g = [\Re\{g\}; \Im\{g\}]` (the T real parts, then the T imaginary parts),
    bit 1 where :math:`\bar g_i > 0`: 2T bits from T probings.

Multi-bit with guard bands
    Each real sequence is standardised by its own standard deviation (estimated from the
    sequence, or given) and cut into :math:`2^b` equiprobable intervals at the quantiles of
    the standard normal, each labelled with the b-bit Gray code of its index, so that a
    one-level error flips one bit. A guard band of width :math:`\gamma\sigma` is centred
    on every threshold: samples falling there are dropped, and the two sides keep only the
    indices both kept (the indices are exchanged in the clear; they reveal where a sample
    lies near a threshold, not which side). References: Mathur et al., "Radio-telepathy:
    extracting a secret key from an unauthenticated wireless channel", MobiCom 2008 (guard
    bands, the ``alpha`` parameter); Jana et al., "On the effectiveness of secret key
    extraction from wireless signal strength in real environments", MobiCom 2009
    (multi-bit equiprobable quantisation with Gray coding). With ``bits = 1`` and no guard
    band it is J(45).

KDR (J(46))
    The fraction of differing bits. For jointly Gaussian circular :math:`(z_a, z_b)` with
    covariance :math:`C`, the real parts (and the imaginary parts) are real Gaussians with
    correlation :math:`\rho = \Re\{C_{ab}\}/\sqrt{C_{aa}C_{bb}}`, and by Sheppard's formula
    :math:`P(\mathrm{sign}\,x \ne \mathrm{sign}\,y) = \arccos(\rho)/\pi`: the one-bit KDR
    (:func:`kdr_one_bit_gaussian`).

Contents
--------
one_bit, multi_bit, kdr, kdr_one_bit_gaussian, gray_code
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["one_bit", "multi_bit", "Quantized", "kdr", "kdr_one_bit_gaussian", "gray_code", "stack_real"]


def stack_real(g: ArrayLike) -> np.ndarray:
    r""":math:`\bar g = [\Re\{g\}; \Im\{g\}]` along the first axis: ``(T, ...)`` -> ``(2T, ...)``."""
    g = np.asarray(g)
    return np.concatenate([g.real, g.imag], axis=0)


def _finite(x: np.ndarray, name: str = "g") -> np.ndarray:
    """``x`` when every entry is finite; ``ValueError`` naming the first NaN or infinity otherwise."""
    bad = ~np.isfinite(x)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        at = ", ".join(map(str, idx))
        raise ValueError(f"{name}: the measurements must be finite, got {float(x[idx])!r} at [{at}] of "
                         "[Re g; Im g] (a NaN has no sign to quantise)")
    return x


def one_bit(g: ArrayLike) -> np.ndarray:
    r"""J(45): bit 1 where :math:`\bar g_i > 0`, ``uint8`` of shape ``(2T, ...)``.

    A NaN or infinite measurement raises ``ValueError`` (a NaN would silently become bit 0).
    """
    return (_finite(stack_real(g)) > 0).astype(np.uint8)


def gray_code(n_bits: int) -> np.ndarray:
    """Gray code table: row ``i`` holds the ``n_bits`` bits (MSB first) of ``i ^ (i >> 1)``."""
    i = np.arange(2 ** n_bits)
    code = i ^ (i >> 1)
    return ((code[:, None] >> np.arange(n_bits - 1, -1, -1)) & 1).astype(np.uint8)


@dataclass(frozen=True)
class Quantized:
    """Quantiser output: ``bits`` ``(n_kept * b,)``, and ``keep`` (which of the 2T samples survived)."""

    bits: np.ndarray
    keep: np.ndarray
    levels: np.ndarray


def multi_bit(g: ArrayLike, bits: int = 2, guard: float = 0.0, sigma: float | None = None,
              keep: ArrayLike | None = None) -> Quantized:
    r"""Equiprobable multi-bit quantisation with Gray coding and guard bands (1-D ``g``).

    Parameters
    ----------
    g : array_like, complex, ``(T,)``
        Measurements; quantised as :math:`\bar g` (2T reals).
    bits : int
        Bits per real sample b (1 ... 8); :math:`2^b` levels.
    guard : float
        Guard-band width :math:`\gamma` as a fraction of the standard deviation, centred on
        each threshold (0: none). Samples in a band are dropped.
    sigma : float, optional
        Standard deviation of each real sample; default: estimated from the sequence.
    keep : array_like of bool, optional
        Indices to keep, e.g. the AND of both sides' masks (see :func:`nfkg.protocol.quantization`).

    Returns
    -------
    Quantized
        ``bits`` (the Gray codes of the kept samples, concatenated), ``keep`` (this
        side's mask of samples outside every guard band, AND ``keep`` if given) and
        ``levels`` (level index of every sample).
    """
    from scipy.special import ndtri

    if not 1 <= int(bits) <= 8:
        raise ValueError(f"bits: must be 1..8, got {bits}")
    if not 0.0 <= float(guard) < 2.0:
        raise ValueError(f"guard: must be in [0, 2) standard deviations, got {guard}")
    x = _finite(stack_real(np.asarray(g).ravel()))
    s = float(np.sqrt(np.mean(x * x))) if sigma is None else float(sigma)
    if not s > 0:
        raise ValueError("sigma: the measurements have zero power")
    u = x / s
    n_lev = 2 ** int(bits)
    thr = ndtri(np.arange(1, n_lev) / n_lev)                 # equiprobable thresholds of N(0, 1)
    lev = np.searchsorted(thr, u, side="left")               # level = number of thresholds below
    ok = np.all(np.abs(u[:, None] - thr[None, :]) > guard / 2.0, axis=1) if guard > 0 else np.ones(u.size, bool)
    if keep is not None:
        ok &= np.asarray(keep, bool)
    table = gray_code(int(bits))
    return Quantized(table[lev[ok]].ravel(), ok, lev)


def kdr(bits_a: ArrayLike, bits_b: ArrayLike) -> float:
    """J(46): the fraction of positions where the two bit sequences differ."""
    a, b = np.asarray(bits_a), np.asarray(bits_b)
    if a.shape != b.shape:
        raise ValueError(f"bits: sequences of different shapes {a.shape} and {b.shape}")
    if a.size == 0:
        raise ValueError("bits: empty sequences have no disagreement rate")
    return float(np.mean(a != b))


def kdr_one_bit_gaussian(c_aa: ArrayLike, c_bb: ArrayLike, c_ab: ArrayLike) -> np.ndarray:
    r"""One-bit KDR of jointly Gaussian circular measurements: :math:`\arccos(\rho)/\pi`.

    :math:`\rho = \Re\{C_{ab}\}/\sqrt{C_{aa}C_{bb}}` (Sheppard's formula for the signs of two
    correlated real Gaussians, applied to the real and the imaginary parts, which have the
    same correlation for circular variables).
    """
    rho = np.real(np.asarray(c_ab)) / np.sqrt(np.asarray(c_aa, float) * np.asarray(c_bb, float))
    return np.arccos(np.clip(rho, -1.0, 1.0)) / np.pi
