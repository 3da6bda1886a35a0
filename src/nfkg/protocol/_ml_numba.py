"""The numba kernel of :mod:`nfkg.protocol.multilevel`'s posteriors (imported only when numba is installed).

:func:`posteriors` is :func:`nfkg.protocol.multilevel._posteriors`' loop over the samples fused into
one pass per sample: the same candidate cells, the same masses (the normal CDF is SciPy's own
``ndtr``, called through its C entry point, so every value is the one NumPy's ufunc gives), and
the same sums in the same order (NumPy's pairwise summation of each row, reproduced), hence the
same posteriors bit for bit (tested), without NumPy's temporaries.

Contents
--------
posteriors
"""

from __future__ import annotations

import ctypes
import re

import numpy as np

from .._extras import load

numba = load("numba", "fast", "nfkg.protocol._ml_numba (compiled kernels)")
llvm = load("llvmlite.binding", "fast", "nfkg.protocol._ml_numba (compiled kernels)")
types = numba.types

__all__ = ["posteriors"]


def _ndtr_address() -> int:
    """Address of SciPy's C function ``double ndtr(double)`` (``scipy.special.cython_special``: the
    real one of its fused versions, found by its signature)."""
    from scipy.special import cython_special

    get_name = ctypes.pythonapi.PyCapsule_GetName
    get_name.restype, get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
    get_pointer.restype, get_pointer.argtypes = ctypes.c_void_p, [ctypes.py_object, ctypes.c_char_p]
    for name, cap in cython_special.__pyx_capi__.items():
        if re.fullmatch(r"(__pyx_fuse_\d+)?ndtr", name):
            sig = get_name(cap)
            if sig.replace(b" ", b"").startswith(b"double(double,int"):
                return int(get_pointer(cap, sig))
    raise ImportError("scipy.special.cython_special has no double ndtr(double)")


# the compiled code calls the function by this name (so that numba's on-disk cache stays valid
# across processes); the symbol is bound to SciPy's function at import
llvm.add_symbol("nfkg_scipy_ndtr", _ndtr_address())
_ndtr_c = types.ExternalFunction("nfkg_scipy_ndtr", types.float64(types.float64, types.intc))


@numba.njit(cache=True, nogil=True)
def _ndtr(x):
    return _ndtr_c(x, 0)


@numba.njit(cache=True, nogil=True)
def _block(a, lo, n):
    """NumPy's pairwise sum of ``a[lo:lo + n]``, ``n <= 128``: sequential below 8 terms, else 8
    accumulators combined as a tree, then the rest."""
    if n < 8:
        res = 0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    stop = n - n % 8
    while i < stop:
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@numba.njit(cache=True, nogil=True)
def _pairwise(a, lo, n):
    """NumPy's pairwise sum of ``a[lo:lo + n]`` (its ``@TYPE@_pairwise_sum``): blocks of at most
    128 terms (:func:`_block`), longer runs halved at a multiple of 8, left + right. The halving
    runs on an explicit stack (numba's on-disk cache does not hold recursive functions)."""
    if n <= 128:
        return _block(a, lo, n)
    s_lo = np.empty(64, np.int64)
    s_n = np.empty(64, np.int64)
    s_state = np.empty(64, np.int64)
    vals = np.empty(64)
    top, nv = 0, 0
    s_lo[0], s_n[0], s_state[0] = lo, n, 0
    while top >= 0:
        start, size = s_lo[top], s_n[top]
        if size <= 128:
            vals[nv] = _block(a, start, size)
            nv += 1
            top -= 1
            continue
        half = size // 2
        half -= half % 8
        if s_state[top] == 0:                   # the left half first
            s_state[top] = 1
            top += 1
            s_lo[top], s_n[top], s_state[top] = start, half, 0
        elif s_state[top] == 1:                 # then the right half
            s_state[top] = 2
            top += 1
            s_lo[top], s_n[top], s_state[top] = start + half, size - half, 0
        else:                                   # left + right
            vals[nv - 2] = vals[nv - 2] + vals[nv - 1]
            nv -= 1
            top -= 1
    return vals[0]


@numba.njit(cache=True, nogil=True)
def _cell(q, m, sd, L, half, d):
    """:func:`nfkg.protocol.multilevel._cell_prob` of one cell."""
    if q < 0 or q >= L:
        return 0.0
    lo = -np.inf if q <= 0 else (q - half) * d
    hi = np.inf if q >= L - 1 else ((q + 1) - half) * d
    za = (lo - m) / sd
    zb = (hi - m) / sd
    if za > 0:
        return _ndtr(-za) - _ndtr(-zb)
    return _ndtr(zb) - _ndtr(za)


@numba.njit(cache=True, nogil=True)
def _run(q0, nk, m, sd, L, half, d, z, a, out):
    """:func:`nfkg.protocol.multilevel._run_prob` of one sample into ``out[:nk]`` (``z``, ``a``:
    scratch of ``nk + 1``)."""
    for j in range(nk + 1):
        r = q0 + j
        if r <= 0:
            e = -np.inf
        elif r >= L:
            e = np.inf
        else:
            e = (r - half) * d
        z[j] = (e - m) / sd
        a[j] = _ndtr(-abs(z[j]))
    for j in range(nk):
        q = q0 + j
        if z[j] > 0:
            p = a[j] - a[j + 1]
        else:
            upper = _ndtr(z[j + 1]) if z[j + 1] > 0 else a[j + 1]
            p = upper - a[j]
        out[j] = p if (q >= 0 and q < L) else 0.0


@numba.njit(cache=True, nogil=True)
def posteriors(mu, lower, s, eps, ks, ww, step, L, ik, nk, levels, out,
               prev_ik, prev_first, prev_p, keep, new_first, new_p):
    """The shared-candidate levels of ``_posteriors`` into ``out[len(levels), n]``.

    ``s``, ``ks`` = kappa s: the two scales of the mixture (``eps`` = 0: Gaussian); ``ww`` =
    window x w; ``prev_*``: the memo's masses (``prev_ik`` < 0: none); with ``keep``, this
    call's first candidates and masses go to ``new_first``, ``new_p``."""
    n = mu.size
    half = L / 2.0
    c1 = 1.0 - eps
    pw = 1 << ik
    buf = np.empty(nk)
    num = np.empty(nk)
    qs = np.empty(nk, np.int64)
    z = np.empty(nk + 1)
    a = np.empty(nk + 1)
    alt = np.empty(nk)
    nprev = prev_p.shape[1]
    pmask = (1 << prev_ik) - 1 if prev_ik >= 0 else 0
    for r in range(n):
        m = mu[r]
        c = lower[r]
        q0 = np.floor((m - ww) / step + half)
        k0 = np.ceil((q0 - c) / pw) - 1.0
        for j in range(nk):
            qs[j] = np.int64(c + (k0 + j) * pw)
        if prev_ik >= 0:
            base = prev_first[r]
            for j in range(nk):
                q = qs[j]
                dq = q - base
                if dq >= 0 and (dq >> prev_ik) < nprev and (dq & pmask) == 0:
                    buf[j] = prev_p[r, dq >> prev_ik]
                else:
                    p = _cell(q, m, s, L, half, step)
                    if eps > 0:
                        p = c1 * p + eps * _cell(q, m, ks, L, half, step)
                    buf[j] = p
        elif ik == 0:
            _run(qs[0], nk, m, s, L, half, step, z, a, buf)
            if eps > 0:
                _run(qs[0], nk, m, ks, L, half, step, z, a, alt)
                for j in range(nk):
                    buf[j] = c1 * buf[j] + eps * alt[j]
        else:
            for j in range(nk):
                p = _cell(qs[j], m, s, L, half, step)
                if eps > 0:
                    p = c1 * p + eps * _cell(qs[j], m, ks, L, half, step)
                buf[j] = p
        if keep:
            new_first[r] = qs[0]
            for j in range(nk):
                new_p[r, j] = buf[j]
        den = _pairwise(buf, 0, nk)
        for li in range(levels.size):
            lev = levels[li]
            for j in range(nk):
                num[j] = buf[j] if (qs[j] >> lev) & 1 else 0.0
            v = _pairwise(num, 0, nk) / den if den > 0 else 0.5
            out[li, r] = min(max(v, 0.0), 1.0)
