"""The numba kernels of :mod:`nfkg.protocol.bp_kernel` (imported only when numba is installed).

Contents
--------
kernel
"""

from __future__ import annotations

import numpy as np

from .._extras import load

numba = load("numba", "fast", "nfkg.protocol._bp_numba (compiled kernels)")

__all__ = ["kernel"]


f32 = np.float32
_PHI_MIN, _LLR_MAX = f32(1e-6), f32(50.0)     # as nfkg.protocol.bp


@numba.njit(cache=True, nogil=True, inline="always")
def _lookup(bits, T, base):
    # phi at the float32 with these bits, from the table T (nfkg.protocol.bp_kernel.phi_table): the
    # exponent and top 10 mantissa bits index it, the 13 lower bits interpolate linearly (linear in x
    # within a bucket; error below 1.4e-7)
    i = (bits >> 13) - base
    frac = f32(bits & 8191) * f32(1.0 / 8192.0)
    t0 = T[i]
    return t0 + frac * (T[i + 1] - t0)


@numba.njit(cache=True, nogil=True, inline="always")
def _clip(x):
    return min(max(x, _PHI_MIN), _LLR_MAX)


@numba.njit(cache=True, nogil=True)
def kernel(col, starts, syn, L, c2v, cuts, max_iter, method, ms_scaling, patience,
           new, mag, abuf, abits, sgn, T, base):
    """Group-shuffled BP in place on (L, c2v): (iterations, converged). ``abits`` is ``abuf``
    viewed as int32 (the float32 bits the table is indexed by); ``new``, ``mag``, ``sgn`` scratch."""
    n_rows = starts.size - 1
    best = 1 << 62
    since = 0
    it = 0
    for it in range(1, max_iter + 1):
        alpha = f32(ms_scaling) if ms_scaling != 0.0 else f32(1.0 - 2.0 ** (-it))
        for g in range(cuts.size - 1):
            r0, r1 = cuts[g], cuts[g + 1]
            e0, e1 = starts[r0], starts[r1]
            for e in range(e0, e1):                 # bit-to-check messages: sign and magnitude
                v = f32(L[col[e]]) - c2v[e]
                sgn[e] = v < 0
                abuf[e] = abs(v)
            if method == 0:                         # product-sum in the phi domain
                for e in range(e0, e1):
                    abuf[e] = _clip(abuf[e])
                for e in range(e0, e1):
                    mag[e] = _lookup(abits[e], T, base)
                for r in range(r0, r1):
                    s, t = starts[r], starts[r + 1]
                    par = syn[r]
                    total = 0.0
                    for e in range(s, t):
                        par ^= sgn[e]
                        total += mag[e]
                    for e in range(s, t):
                        abuf[e] = _clip(f32(total - mag[e]))
                        sgn[e] ^= par
                for e in range(e0, e1):
                    m = _lookup(abits[e], T, base)
                    new[e] = m - f32(2.0) * m * sgn[e]
            else:                                   # (scaled) min-sum
                for r in range(r0, r1):
                    s, t = starts[r], starts[r + 1]
                    par = syn[r]
                    m1 = _LLR_MAX * f32(4.0)
                    m2 = m1
                    for e in range(s, t):
                        par ^= sgn[e]
                        v = abuf[e]
                        if v < m1:
                            m2 = m1
                            m1 = v
                        elif v < m2:
                            m2 = v
                    for e in range(s, t):
                        m = min(m2 if abuf[e] == m1 else m1, _LLR_MAX) * alpha
                        new[e] = m - f32(2.0) * m * (sgn[e] ^ par)
            for e in range(e0, e1):
                L[col[e]] += new[e] - c2v[e]
                c2v[e] = new[e]
        bad = 0
        for r in range(n_rows):
            par = syn[r]
            for e in range(starts[r], starts[r + 1]):
                par ^= L[col[e]] < 0
            bad += par
        if bad == 0:
            return it, True
        if patience > 0:
            if bad < best:
                best = bad
                since = 0
            else:
                since += 1
                if since >= patience:
                    break
    return it, False
