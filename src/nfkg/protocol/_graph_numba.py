"""The numba kernels of :mod:`nfkg.protocol.ldpc_graph` (imported only when numba is installed).

The search for repeated edges and 4-cycles of :func:`nfkg.protocol.ldpc_graph._find_bad` with a
hash table instead of sorts: one pass over the edges, or over the columns' row pairs, finds the
values met before. The edges returned are the same (tested against the NumPy search).

Contents
--------
later_copies, cycle_edges
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["later_copies", "cycle_edges"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@numba.njit(cache=True, nogil=True)
def _table(size):
    """An empty open-addressing table for ``size`` keys: (keys, shift)."""
    bits = 4
    while (1 << bits) < 2 * size:
        bits += 1
    return np.full(1 << bits, -1, np.int64), np.uint64(64 - bits)


@numba.njit(cache=True, nogil=True)
def _slot(keys, shift, key):
    """The slot of ``key`` (non-negative) in the table: where it is, or the empty one it goes to."""
    mask = keys.size - 1
    h = np.int64((np.uint64(key) * _GOLDEN) >> shift)
    while keys[h] != -1 and keys[h] != key:
        h = (h + 1) & mask
    return h


@numba.njit(cache=True, nogil=True)
def later_copies(key):
    """Boolean mask of the positions whose value occurs earlier in ``key`` (non-negative)."""
    keys, shift = _table(key.size)
    out = np.zeros(key.size, np.bool_)
    for i in range(key.size):
        h = _slot(keys, shift, key[i])
        if keys[h] == key[i]:
            out[i] = True
        else:
            keys[h] = key[i]
    return out


@numba.njit(cache=True, nogil=True)
def cycle_edges(rows, cols, m, n, movable, open_row, touched, use_touched):
    """The 4-cycle part of ``_find_bad``: (edges to move, unsorted with repeats; whether a cycle's
    edge to move is fixed).

    The row pairs are listed as there: columns of degree >= 2 (through a touched row, with
    ``use_touched``) by degree, then column; in each, the pairs of its edges (rows ascending) in
    ``np.triu_indices`` order; a pair is kept if one of its edges is movable or both rows have a
    movable edge (and, with ``use_touched``, one row is touched). A row pair listed more than
    once is a 4-cycle: every listing but the first (the first fixed one if any, else the first)
    gives its second edge if movable, else its first."""
    e = rows.size
    deg = np.zeros(n, np.int64)
    for i in range(e):
        deg[cols[i]] += 1
    start = np.zeros(n + 1, np.int64)
    for c in range(n):
        start[c + 1] = start[c] + deg[c]
    fill = start[:n].copy()
    by_col = np.empty(e, np.int64)
    for i in range(e):                          # edges by column, rows ascending (rows are sorted)
        c = cols[i]
        by_col[fill[c]] = i
        fill[c] += 1
    listed = np.zeros(n, np.bool_)
    for c in range(n):
        listed[c] = deg[c] >= 2
    if use_touched:
        hit = np.zeros(n, np.bool_)
        for i in range(e):
            if touched[rows[i]]:
                hit[cols[i]] = True
        for c in range(n):
            listed[c] = listed[c] and hit[c]
    dmax = 0
    total = 0
    for c in range(n):
        if listed[c]:
            dmax = max(dmax, deg[c])
            total += deg[c] * (deg[c] - 1) // 2
    count = np.zeros(dmax + 2, np.int64)        # listed columns by degree, then column
    for c in range(n):
        if listed[c]:
            count[deg[c] + 1] += 1
    for d in range(dmax + 1):
        count[d + 1] += count[d]
    order = np.empty(count[dmax + 1], np.int64)
    for c in range(n):
        if listed[c]:
            order[count[deg[c]]] = c
            count[deg[c]] += 1
    key = np.empty(total, np.int64)
    fixed = np.empty(total, np.bool_)
    first_e = np.empty(total, np.int64)
    second_e = np.empty(total, np.int64)
    k = 0
    for c in order:
        s0, d = start[c], deg[c]
        for a in range(d):
            e1 = by_col[s0 + a]
            for b in range(a + 1, d):
                e2 = by_col[s0 + b]
                r1, r2 = rows[e1], rows[e2]
                mov = movable[e1] or movable[e2]
                keep = mov or (open_row[r1] and open_row[r2])
                if use_touched:
                    keep = keep and (touched[r1] or touched[r2])
                if keep:
                    key[k] = r1 * m + r2
                    fixed[k] = not mov
                    first_e[k] = e1
                    second_e[k] = e2
                    k += 1
    keys, shift = _table(k)
    first_any = np.empty(keys.size, np.int64)
    first_fixed = np.full(keys.size, -1, np.int64)
    for j in range(k):
        h = _slot(keys, shift, key[j])
        if keys[h] != key[j]:
            keys[h] = key[j]
            first_any[h] = j
        if fixed[j] and first_fixed[h] < 0:
            first_fixed[h] = j
    out = np.empty(k, np.int64)
    nout = 0
    left = False
    for j in range(k):
        h = _slot(keys, shift, key[j])
        first = first_fixed[h] if first_fixed[h] >= 0 else first_any[h]
        if j != first:
            edge = second_e[j] if movable[second_e[j]] else first_e[j]
            if movable[edge]:
                out[nout] = edge
                nout += 1
            else:
                left = True
    return out[:nout], left
