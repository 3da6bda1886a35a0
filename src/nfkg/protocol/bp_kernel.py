r"""Compiled belief propagation (numba): the same decoder as :mod:`nfkg.protocol.bp`'s NumPy one.

:func:`layered_bp` runs flooding or group-shuffled product-sum / min-sum BP on
:math:`H e = t` with exactly the messages, schedule, clipping and stopping rules of
:func:`nfkg.protocol.bp._bp_shuffled` (one group: flooding, as :func:`nfkg.protocol.bp._bp_numpy`),
fused into one pass over each row's edges: no temporaries, no gathers into edge-length arrays,
the check-to-bit magnitudes computed where they are used. It is compiled by numba
(``pip install 'nfkg[fast]'``) on first use and cached on disk; without numba the NumPy decoder
runs (:func:`available`). The two differ only in float32 rounding (libm's ``expf``/``logf``
against NumPy's vectorised ones), so their decisions agree and their iteration counts agree
to within an iteration or two near a code's threshold (tested).

Why numba and not the ``ldpc`` package's C++ decoder: ``ldpc.BpDecoder`` has no warm start (the
incremental redundancy of :func:`nfkg.protocol.reconciliation.reconcile` continues from the
previous attempt's messages) and no group-shuffled schedule, and it was 3-10 times slower per
iteration than the NumPy decoder at :math:`n = 10^5`; a hand-written C extension would need a
compiler at install time, which numba's wheels do not.

Contents
--------
available, layered_bp, phi_table
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["available", "layered_bp", "phi_table"]

_KERNEL = None          # the compiled function, built on first use
_STATE = {"checked": False, "ok": False}


def available() -> bool:
    """Whether the compiled decoder can run: its numba module loads (numba installed and able to
    cache its code) and the environment variable ``NFKG_NO_NUMBA`` is not set (any non-empty
    value: the NumPy decoder everywhere)."""
    if os.environ.get("NFKG_NO_NUMBA"):
        return False
    if not _STATE["checked"]:
        try:
            from . import _bp_numba  # noqa: F401  (numba, and a place to cache the compiled code)
            _STATE["ok"] = True
        except Exception:  # no numba, or numba unusable here (e.g. no writable cache): NumPy runs
            _STATE["ok"] = False
        _STATE["checked"] = True
    return _STATE["ok"]


_TABLE: dict = {}


def phi_table() -> tuple[np.ndarray, int]:
    r"""The table of :math:`\phi(x) = -\ln\tanh(x/2)` the compiled decoder interpolates: one entry per
    float32 whose 13 low mantissa bits are zero, from :math:`10^{-6}` to 50 (26 octaves of 1,024,
    float64 values rounded to float32), and the index of its first entry in float32 bits
    :math:`\gg 13`. Within a bucket the low bits are linear in :math:`x`, so the interpolation is
    linear in :math:`x`; its error is at most :math:`h^2 \max|\phi''|/8 \le 1.15/(8 \cdot 1024^2)
    = 1.4 \cdot 10^{-7}` (:math:`x^2\phi''(x) = x^2\cosh x/\sinh^2 x \le 1.15`, bucket width
    :math:`h \le x/1024`), the order of float32's rounding of the values themselves (tested
    against 30-digit values).
    """
    if not _TABLE:
        lo = int(np.array(1e-6, np.float32).view(np.int32)) >> 13
        hi = (int(np.array(50.0, np.float32).view(np.int32)) >> 13) + 2
        x = (np.arange(lo, hi, dtype=np.int64) << 13).astype(np.int32).view(np.float32).astype(np.float64)
        _TABLE["T"] = np.log1p(2.0 / np.expm1(x)).astype(np.float32)
        _TABLE["base"] = lo
    return _TABLE["T"], _TABLE["base"]


def _build():
    from . import _bp_numba

    return _bp_numba.kernel


def layered_bp(col: np.ndarray, starts: np.ndarray, syn: np.ndarray, L: np.ndarray, c2v: np.ndarray,
               cuts: np.ndarray, max_iter: int, bp_method: str, ms_scaling_factor: float,
               patience: int = 0) -> tuple[int, bool]:
    r"""Group-shuffled BP on the live rows of :math:`H e = t`, in place (compiled).

    Parameters
    ----------
    col : ndarray of intp, (E,)
        Column of each edge, edges in CSR order of the live rows.
    starts : ndarray of intp, (R + 1,)
        First edge of each live row, then ``E``.
    syn : ndarray of uint8, (R,)
        The target syndrome of each live row.
    L : ndarray of float32 (or float64), (n,)
        Posterior LLRs, ``llr + sum of c2v`` (updated in place; float32 in the decoder: 7-12 %
        faster than float64 at :math:`n = 10^5`, the same words and iterations in the tests).
    c2v : ndarray of float32, (E,)
        Check-to-bit messages (updated in place; zeros for a cold start).
    cuts : ndarray of intp, (G + 1,)
        Live-row boundaries of the groups, ``0 ... R`` (``[0, R]``: flooding).
    max_iter, bp_method, ms_scaling_factor, patience
        As :func:`nfkg.protocol.bp._bp_shuffled`.

    Returns
    -------
    iterations : int
    converged : bool
    """
    global _KERNEL
    if _KERNEL is None:
        _KERNEL = _build()
    E = col.size
    new = np.empty(E, np.float32)
    mag = np.empty(E, np.float32)
    abuf = np.empty(E, np.float32)
    sgn = np.empty(E, np.uint8)
    method = 0 if bp_method == "product_sum" else 1
    T, base = phi_table()
    it, ok = _KERNEL(np.ascontiguousarray(col, np.intp), np.ascontiguousarray(starts, np.intp),
                     np.ascontiguousarray(syn, np.uint8), L, c2v, np.ascontiguousarray(cuts, np.intp),
                     int(max_iter), method, float(ms_scaling_factor), int(patience), new, mag, abuf,
                     abuf.view(np.int32), sgn, T, base)
    return int(it), bool(ok)
