"""The numba kernels of :mod:`nfkg.protocol.ldpc_graph` (imported only when numba is installed).

The search for repeated edges and 4-cycles of :func:`nfkg.protocol.ldpc_graph._find_bad` with a
hash table instead of sorts: one pass over the edges, or over the columns' row pairs, finds the
values met before. The edges returned are the same (tested against the NumPy search).

Contents
--------
later_copies, cycle_edges
"""

from __future__ import annotations

import numpy as np

from .._extras import load

numba = load("numba", "fast", "nfkg.protocol._graph_numba (compiled kernels)")

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
    gives its second edge if movable, else its first.

    Here the listings are visited row by row of their first (lower) row, each carrying its rank
    in that listing order, so that the listings of one row pair meet in arrays indexed by the
    second row (a few hundred kB: in cache) instead of a sort or a hash table of all of them."""
    e = rows.size
    deg = np.zeros(n, np.int64)
    for i in range(e):
        deg[cols[i]] += 1
    start = np.zeros(n + 1, np.int64)
    for c in range(n):
        start[c + 1] = start[c] + deg[c]
    fill = start[:n].copy()
    by_col = np.empty(e, np.int64)
    at = np.empty(e, np.int64)                  # each edge's place among its column's (rows ascending)
    row_of = np.empty(e, np.int64)              # by_col's rows and movable flags, contiguous per column
    mov_of = np.empty(e, np.bool_)
    for i in range(e):
        c = cols[i]
        k = fill[c]
        by_col[k] = i
        row_of[k] = rows[i]
        mov_of[k] = movable[i]
        at[i] = k - start[c]
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
    dmax = 1
    for c in range(n):
        if listed[c] and deg[c] > dmax:
            dmax = deg[c]
    count = np.zeros(dmax + 2, np.int64)        # rank of each listed column: by degree, then column
    for c in range(n):
        if listed[c]:
            count[deg[c] + 1] += 1
    for d in range(dmax + 1):
        count[d + 1] += count[d]
    colrank = np.full(n, -1, np.int64)
    for c in range(n):
        if listed[c]:
            colrank[c] = count[deg[c]]
            count[deg[c]] += 1
    stamp = np.full(m, -1, np.int64)
    times = np.zeros(m, np.int64)
    first_any = np.zeros(m, np.int64)
    first_fixed = np.zeros(m, np.int64)
    size, total, i0 = 0, 0, 0                   # most listings of one row, and of all
    while i0 < e:
        i1, here = i0, 0
        while i1 < e and rows[i1] == rows[i0]:
            if colrank[cols[i1]] >= 0:
                here += deg[cols[i1]] - at[i1] - 1
            i1 += 1
        size, total, i0 = max(size, here), total + here, i1
    out = np.empty(total, np.int64)
    nout = 0
    left = False
    b_r2 = np.empty(size, np.int64)             # one row's listings: second row, rank, fixed, edges
    b_rank = np.empty(size, np.int64)
    b_fixed = np.empty(size, np.bool_)
    b_e1 = np.empty(size, np.int64)
    b_e2 = np.empty(size, np.int64)
    i0 = 0
    while i0 < e:                               # the edges of row r1 (edges are sorted by row)
        r1 = rows[i0]
        i1 = i0
        while i1 < e and rows[i1] == r1:
            i1 += 1
        nb = 0
        for e1 in range(i0, i1):
            c = cols[e1]
            if colrank[c] < 0:
                continue
            s0, d, a = start[c], deg[c], at[e1]
            m1 = movable[e1]
            for b in range(a + 1, d):
                r2 = row_of[s0 + b]
                mov = m1 or mov_of[s0 + b]
                keep = mov or (open_row[r1] and open_row[r2])
                if use_touched:
                    keep = keep and (touched[r1] or touched[r2])
                if not keep:
                    continue
                rank = (colrank[c] * dmax + a) * dmax + b
                if stamp[r2] != r1:
                    stamp[r2] = r1
                    times[r2] = 0
                    first_any[r2] = rank
                    first_fixed[r2] = -1
                times[r2] += 1
                if rank < first_any[r2]:
                    first_any[r2] = rank
                if not mov and (first_fixed[r2] < 0 or rank < first_fixed[r2]):
                    first_fixed[r2] = rank
                b_r2[nb], b_rank[nb], b_fixed[nb] = r2, rank, not mov
                b_e1[nb], b_e2[nb] = e1, by_col[s0 + b]
                nb += 1
        for k in range(nb):                     # the row pairs listed more than once
            r2 = b_r2[k]
            if times[r2] > 1:
                first = first_fixed[r2] if first_fixed[r2] >= 0 else first_any[r2]
                if b_rank[k] != first:
                    e2 = b_e2[k]
                    edge = e2 if movable[e2] else b_e1[k]
                    if movable[edge]:
                        out[nout] = edge
                        nout += 1
                    else:
                        left = True
        i0 = i1
    return out[:nout], left

