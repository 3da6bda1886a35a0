r"""Random Tanner graphs for :mod:`nfkg.protocol.ldpc_codes`: socket dealing, repeated edges and 4-cycles.

The helpers of :func:`nfkg.protocol.ldpc_codes.make_code` and
:func:`nfkg.protocol.ldpc_codes.extend_code`: column degrees from a profile, sockets dealt to rows by
random permutations (rows balanced), and edge swaps that remove repeated edges and, where they
are few, 4-cycles while keeping every row and column degree; and the column-degree profiles by
rate (:data:`DEGREE_TABLE`, :data:`SOFT_DEGREE_TABLE`, :func:`degree_profile`), re-exported by
:mod:`nfkg.protocol.ldpc_codes` and :mod:`nfkg.protocol.reconciliation`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp

__all__ = ["DEGREE_TABLE", "SOFT_DEGREE_TABLE", "degree_profile"]

_CYCLE_BUDGET = 0.15     # make_code removes 4-cycles when a random graph has at most this many per column
_CYCLE_ROUNDS = 40       # edge-swap rounds spent on removing 4-cycles at most
_CYCLE_PATIENCE = 10     # ... and rounds without fewer of them before giving up
_DUPLICATE_ROUNDS = 1000  # rounds allowed to remove repeated edges


def _csr(rows: np.ndarray, cols: np.ndarray, m: int, n: int, presorted: int = 0) -> sp.csr_matrix:
    """The 0/1 matrix of edges ``(rows[i], cols[i])``, canonical CSR (indices sorted in each row),
    built from one sort of ``rows * n + cols``; the first ``presorted`` edges are already in that
    order and before all others (the rows of a code being extended)."""
    key = np.asarray(rows, np.int64) * n + np.asarray(cols, np.int64)
    key = np.concatenate([key[:presorted], np.sort(key[presorted:])]) if presorted else np.sort(key)
    if key.size > 1 and np.any(key[1:] == key[:-1]):  # pragma: no cover - _untangle leaves no repeated edge
        H = sp.csr_matrix((np.ones(key.size, np.uint8), (rows, cols)), shape=(m, n))
        H.sort_indices()
        H.data[:] = 1
        return H
    r, c = np.divmod(key, n)
    idx = np.int32 if max(m, n, key.size) < np.iinfo(np.int32).max else np.int64
    indptr = np.concatenate([[0], np.cumsum(np.bincount(r, minlength=m))]).astype(idx)
    H = sp.csr_matrix((np.ones(key.size, np.uint8), c.astype(idx), indptr), shape=(m, n))
    H.has_sorted_indices = True
    return H


def _stable_order(key: np.ndarray) -> np.ndarray:
    """``np.argsort(key, kind="stable")`` of non-negative integers, from one sort of the distinct
    numbers ``key * size + index`` (NumPy's vectorised sort: 3-8 times faster than its stable
    argsort of int64, with the same result: ties in index order)."""
    key = np.asarray(key, np.int64)
    size = key.size
    if size == 0:
        return np.empty(0, np.int64)
    if int(key.max()) >= (np.iinfo(np.int64).max - size) // size:   # pragma: no cover - no such graph
        return np.argsort(key, kind="stable")
    return np.sort(key * size + np.arange(size, dtype=np.int64)) % size


def _deal(cols_seq: np.ndarray, m: int, rng: np.random.Generator,
          first_passes: tuple = ()) -> tuple[np.ndarray, np.ndarray]:
    """Deal edge sockets to ``m`` rows: ``(rows, cols)`` sorted by row.

    ``cols_seq`` lists the sockets with each column's sockets contiguous (columns in random
    order). The list is cut into passes and every pass gives its sockets the rows of a fresh
    random permutation: first of each row set in ``first_passes`` (to even out rows that
    already have fewer edges), then of all ``m`` rows, so rows end with ``floor(E/m)`` or
    ``ceil(E/m)`` edges. A column inside one pass gets distinct rows; only the (at most one)
    column crossing each pass boundary can repeat a row, which :func:`_untangle` repairs.
    """
    e = cols_seq.size
    head = [rng.permutation(np.asarray(r, np.int64)) for r in first_passes]
    rest = max(0, e - sum(h.size for h in head))
    passes = -(-rest // m)
    rows = np.concatenate(head + [np.argsort(rng.random((passes, m)), axis=1).ravel()])[:e]
    o = _stable_order(rows)
    return rows[o].astype(np.int64), cols_seq[o].astype(np.int64)


def _deal_dense(deg: np.ndarray, m: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Every column gets a random set of ``deg[c]`` distinct rows (for ``2 max(deg) > m``: a
    handful of rows, where dealing by passes would repeat rows too often to repair)."""
    n = deg.size
    cols = np.repeat(np.arange(n, dtype=np.int64), deg)
    rows = np.empty(cols.size, np.int64)
    start = np.concatenate([[0], np.cumsum(deg)])
    chunk = max(1, (1 << 22) // m)                      # at most 4M random numbers at once
    for d in np.unique(deg).tolist():
        cs = np.flatnonzero(deg == d)
        for lo in range(0, cs.size, chunk):
            c = cs[lo: lo + chunk]
            pick = np.argsort(rng.random((c.size, m)), axis=1)[:, :d]
            rows[(start[c][:, None] + np.arange(d)).ravel()] = pick.ravel()
    # a row left empty takes an edge of the heaviest row (its column is not in the empty row)
    count = np.bincount(rows, minlength=m)
    for r in np.flatnonzero(count == 0).tolist():
        heavy = int(np.argmax(count))
        if count[heavy] < 2:                                  # pragma: no cover - fewer edges than rows
            break
        i = int(rng.choice(np.flatnonzero(rows == heavy)))
        rows[i] = r
        count[heavy] -= 1
        count[r] += 1
    o = _stable_order(rows)
    return rows[o], cols[o]


def _later_copies(key: np.ndarray) -> np.ndarray:
    """Positions ``j`` whose value occurs earlier in ``key`` (non-negative integers), ascending
    by value then position: the 2nd, 3rd... copy of every repeated value. Only the repeated
    values are sorted stably (found with one plain sort of all)."""
    s = np.sort(key)
    twice = s[1:][s[1:] == s[:-1]]
    if twice.size == 0:
        return np.empty(0, np.int64)
    sub = np.flatnonzero(_keys_in(key, twice))
    o = sub[_stable_order(key[sub])]
    ko = key[o]
    return o[1:][ko[1:] == ko[:-1]]


def _bad_edges(rows: np.ndarray, cols: np.ndarray, m: int, n: int, movable: np.ndarray, cycles: bool,
               touched: np.ndarray | None) -> tuple[np.ndarray, bool]:
    """Indices of movable edges to move (repeated edges, else one edge per 4-cycle), and
    whether 4-cycles were looked for (:func:`_find_bad` without its third value)."""
    return _find_bad(rows, cols, m, n, movable, cycles, touched)[:2]


def _find_bad(rows: np.ndarray, cols: np.ndarray, m: int, n: int, movable: np.ndarray, cycles: bool,
              touched: np.ndarray | None) -> tuple[np.ndarray, bool, bool]:
    """Indices of movable edges to move (repeated edges, else one edge per 4-cycle), whether
    4-cycles were looked for, and whether a 4-cycle was found whose edge to move is fixed (it
    is then left, and not moved: :func:`_untangle` must look for it again).

    Edges are ``(rows[i], cols[i])``, sorted by row; ``movable`` marks those that may move.
    A 4-cycle is a pair of rows that two columns share: every column lists its row pairs, and
    a pair listed twice is a 4-cycle; the edge moved is a movable edge of one of the columns
    (the later row's, if movable). With ``touched`` (a boolean mask of rows), only repeats and
    cycles through those rows are looked for: after a round of swaps, new ones can only pass
    through the rows it changed.
    """
    fast = _compiled()
    look = movable if touched is None else movable & touched[rows]
    sel = np.flatnonzero(look)
    key = rows[sel] * n + cols[sel]
    if fast:
        from . import _graph_numba

        dup = sel[_graph_numba.later_copies(np.asarray(key, np.int64))]
    else:
        dup = sel[_later_copies(key)]                  # the later copy of each repeated edge
    if dup.size or not cycles:
        return np.unique(dup), False, False
    open_row = np.zeros(m, bool)                                        # rows with a movable edge
    open_row[rows[movable]] = True
    if fast:
        edge, left = _graph_numba.cycle_edges(np.asarray(rows, np.int64), np.asarray(cols, np.int64), int(m), int(n),
                                              np.asarray(movable, bool), open_row,
                                              np.zeros(0, bool) if touched is None else np.asarray(touched, bool),
                                              touched is not None)
        return np.unique(edge), True, bool(left)
    # row pairs of each column, grouped by column degree: (n_d, d) arrays, rows ascending
    by_col = _stable_order(cols)                      # rows are sorted, so each column's rows ascend
    deg = np.bincount(cols, minlength=n)
    start = np.concatenate([[0], np.cumsum(deg)])
    pair_key, pair_fixed, groups = [], [], []
    listed = deg >= 2
    if touched is not None:             # a pair through a touched row: its column has an edge there
        hit = np.zeros(n, bool)
        hit[cols[touched[rows]]] = True
        listed &= hit
    for d in np.unique(deg[listed]).tolist():
        cs = np.flatnonzero(listed & (deg == d))
        E = by_col[start[cs][:, None] + np.arange(d)]                   # (n_d, d) edge indices
        R, M = rows[E], movable[E]
        i, j = np.triu_indices(d, 1)
        # pairs in a cycle that a swap can break: with a movable edge, or fixed but in two rows
        # whose other columns may move
        mov = M[:, i] | M[:, j]
        O = open_row[R]
        keep = mov | (O[:, i] & O[:, j])
        if touched is not None:
            T = touched[R]
            keep &= T[:, i] | T[:, j]
        at = np.flatnonzero(keep)                                       # in the (n_d, pairs) layout
        pair_key.append((R[:, i] * m + R[:, j]).ravel()[at])
        pair_fixed.append(~mov.ravel()[at])
        groups.append((E, i, j, at))
    if not pair_key:
        return dup, True, False
    pk, fixed = np.concatenate(pair_key), np.concatenate(pair_fixed)
    # per pair (row pair listed by several columns), the columns after the first, fixed columns
    # first: those are the cycles to break
    o = _stable_order(2 * pk + ~fixed)
    pko = pk[o]
    again = np.sort(o[1:][pko[1:] == pko[:-1]])
    if again.size == 0:
        return dup, True, False
    e1, e2 = np.empty(again.size, np.int64), np.empty(again.size, np.int64)
    offset = 0
    for E, i, j, at in groups:                        # back to edge indices, for these pairs only
        inside = (again >= offset) & (again < offset + at.size)
        flat = at[again[inside] - offset]
        row, pair = np.divmod(flat, i.size)
        e1[inside], e2[inside] = E[row, i[pair]], E[row, j[pair]]
        offset += at.size
    edge = np.where(movable[e2], e2, e1)
    return np.unique(edge[movable[edge]]), True, bool(not np.all(movable[edge]))


def _compiled() -> bool:
    """Whether :func:`_find_bad` runs its compiled search (``nfkg.protocol._graph_numba``): numba
    installed (the ``fast`` extra) and ``NFKG_NO_NUMBA`` unset, as for the compiled decoder."""
    from .bp_kernel import available

    return available()


def _keys_in(keys: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """Elementwise ``keys in sorted_keys``."""
    i = np.minimum(np.searchsorted(sorted_keys, keys), sorted_keys.size - 1)
    return sorted_keys[i] == keys


def _swap(rows: np.ndarray, cols: np.ndarray, bad: np.ndarray, partners: np.ndarray, n: int) -> None:
    """Swap the columns of edges ``bad[k]`` and ``partners[k]`` in place, for every pair whose
    swap creates no repeated edge (checked against all edges and within the batch)."""
    keep = (rows[bad] != rows[partners]) & (cols[bad] != cols[partners])
    bad, partners = bad[keep], partners[keep]
    _, first = np.unique(partners, return_index=True)          # each edge in one swap at most
    bad, partners = bad[first], partners[first]
    keep = ~np.isin(partners, bad)
    bad, partners = bad[keep], partners[keep]
    if bad.size == 0:
        return
    k1 = rows[bad] * n + cols[partners]
    k2 = rows[partners] * n + cols[bad]
    existing = np.sort(rows * n + cols)
    ok = ~(_keys_in(k1, existing) | _keys_in(k2, existing))
    _, inv, cnt = np.unique(np.concatenate([k1, k2]), return_inverse=True, return_counts=True)
    clash = cnt[inv] > 1
    ok &= ~(clash[: bad.size] | clash[bad.size:])
    i, j = bad[ok], partners[ok]
    ci = cols[i].copy()
    cols[i] = cols[j]
    cols[j] = ci


def _untangle(rows: np.ndarray, cols: np.ndarray, m: int, n: int, movable: np.ndarray,
              rng: np.random.Generator, cycles: bool) -> np.ndarray:
    """Swap the columns of bad movable edges with random movable edges (degrees preserved).

    Edges are sorted by row; ``movable`` marks the edges that may change column. A swap is
    made only if it creates no repeated edge, so the repeated edges :func:`_deal` leaves at
    pass boundaries only disappear. With ``cycles``, 4-cycles are then removed until none is
    left, or for at most ``_CYCLE_ROUNDS`` rounds and until ``_CYCLE_PATIENCE`` rounds bring
    no fewer. Returns the new ``cols``.
    """
    rows = rows.astype(np.int64)
    cols = cols.astype(np.int64)
    pool = np.flatnonzero(movable)
    if pool.size == 0:
        return cols
    best, stale, touched = np.inf, 0, None
    seen = False                    # every 4-cycle found since the last full look had an edge moved
    for it in range(_DUPLICATE_ROUNDS):
        bad, looked, left = _find_bad(rows, cols, m, n, movable, cycles, touched)
        if looked:
            seen = (seen or touched is None) and not left
        if bad.size == 0:
            if touched is None or not cycles or seen:
                # (with ``seen``, a full look would find nothing: a 4-cycle that a swap made runs
                # through a row the swap touched, and one left by a swap not made through the
                # row of its edge to move, so each is found again in the next round, which
                # found none)
                break
            touched = None          # one full check before stopping
            continue
        if looked:                  # give up on 4-cycles when the count stops falling
            stale = 0 if bad.size < best else stale + 1
            best = min(best, bad.size)
            if stale >= _CYCLE_PATIENCE or it >= _CYCLE_ROUNDS:
                cycles = False
        partners = pool[rng.integers(0, pool.size, bad.size)]
        _swap(rows, cols, bad, partners, n)
        # rows changed since the last complete look: the next round looks there only
        if cycles and (looked or touched is not None):
            touched = np.zeros(m, bool) if looked else touched
            touched[rows[bad]] = True
            touched[rows[partners]] = True
        elif not cycles:
            # repeated edges only: a swap makes none, so those left are in the rows of this
            # round's (all found, some not swapped) and the next round looks there only
            touched = np.zeros(m, bool)
            touched[rows[bad]] = True
        else:
            touched = None
    # (a repeated edge left after _DUPLICATE_ROUNDS, never seen, would be merged by _csr)
    return cols


def _few_cycles(deg: np.ndarray, m: int) -> bool:
    r"""Whether a random graph with these column degrees and ``m`` rows has at most
    ``_CYCLE_BUDGET`` 4-cycles per column: about :math:`P^2 / (2\binom{m}{2})` of them, with
    :math:`P = \sum_c \binom{d_c}{2}` row pairs, Poisson over the :math:`\binom m2` pairs."""
    pairs = float(np.sum(deg * (deg - 1) / 2))
    return m >= 2 and pairs * pairs / (m * (m - 1.0)) <= _CYCLE_BUDGET * deg.size


def _column_degrees(n: int, m: int, column_weight, rng: np.random.Generator) -> np.ndarray:
    """Per-column degrees: all ``column_weight`` (int), or node fractions ``{degree: fraction}``
    rounded to counts that sum to ``n``, assigned to random columns; capped at ``m`` (a column
    cannot have more distinct rows than there are)."""
    if isinstance(column_weight, Mapping):
        degs = np.array(sorted(int(d) for d in column_weight), dtype=np.int64)
        frac = np.array([float(column_weight[d]) for d in sorted(column_weight)], float)
        if degs.size == 0 or degs[0] < 1 or np.any(frac < 0) or frac.sum() <= 0:
            raise ValueError(f"column_weight must map degrees >= 1 to fractions >= 0, got {column_weight}")
        counts = np.floor(frac / frac.sum() * n).astype(np.int64)
        counts[np.argmax(frac)] += n - counts.sum()
        deg = rng.permutation(np.repeat(degs, counts))
    else:
        if int(column_weight) < 1:
            raise ValueError(f"column_weight must be at least 1, got {column_weight}")
        deg = np.full(n, int(column_weight), dtype=np.int64)
    return np.minimum(deg, m)


def _weight_key(column_weight) -> list[int]:
    """Integers that identify ``column_weight`` in the seed (fractions to 1e-9)."""
    if isinstance(column_weight, Mapping):
        return [v for d in sorted(column_weight) for v in (int(d), int(round(float(column_weight[d]) * 1e9)))]
    return [int(column_weight)]


#: Column-degree profiles for hard decisions (one scalar ``p_err``): fractions of columns of
#: each degree, and the largest entropy per bit :math:`\hat H` each is used for. Chosen by
#: density evolution (population dynamics of sum-product BP on the BSC, all-zero word) over
#: {2, 3, d} mixes, with fewer degree-2 columns than rows at the rates each band covers;
#: asymptotic efficiencies f* at the BP threshold: 1.16 / 1.09 / 1.14 at KDR 1 / 2 / 5 % for
#: the first, 1.12 / 1.08 at 5 / 10 % for the second and 1.08 at 20 % for the third (regular
#: column weight 3: 1.52 at 1 %, 1.19 at 10 %).
DEGREE_TABLE: tuple = (
    (0.25, {2: 0.05, 3: 0.70, 12: 0.25}),
    (0.55, {2: 0.20, 3: 0.65, 12: 0.15}),
    (1.00, {2: 0.40, 3: 0.45, 8: 0.15}),
)

#: Column-degree profiles for soft information (per-bit ``p_err``), by the largest
#: :math:`\hat H` each is used for. Chosen by density evolution (population dynamics of
#: sum-product BP, 40,000 messages) on the calibrated soft channel of the module notes
#: (:math:`p_i = \Phi(-c U_i)`), over {2, 3, d} mixes with d in {12, 20, 30} and at most
#: :math:`h` degree-2 columns (:func:`degree_profile`); asymptotic f* at the threshold
#: 1.06 / 1.06 / 1.06 / 1.06 at h = 0.02 / 0.05 / 0.1 / 0.2, 1.05 at 0.3, 1.03 at 0.5, and
#: about 1.05 at 0.7 for the last. Soft information at low h is erasure-like (a few uncertain
#: bits among many certain ones), which wants many degree-2 and a few heavy columns; with
#: degree 2 capped at h, degree 20 does best there.
SOFT_DEGREE_TABLE: tuple = (
    (0.035, {2: 0.02, 3: 0.87, 20: 0.11}),
    (0.075, {2: 0.03, 3: 0.84, 20: 0.13}),
    (0.15, {2: 0.08, 3: 0.79, 20: 0.13}),
    (0.25, {2: 0.20, 3: 0.67, 20: 0.13}),
    (0.40, {2: 0.30, 3: 0.55, 12: 0.15}),
    (0.60, {2: 0.44, 3: 0.41, 12: 0.15}),
    (1.00, {2: 0.40, 3: 0.45, 8: 0.15}),
)


def degree_profile(h: float, soft: bool = False) -> dict:
    r"""The column-degree profile for an entropy of ``h`` bits per bit: from
    :data:`DEGREE_TABLE` (hard decisions) or :data:`SOFT_DEGREE_TABLE` (``soft``), with the
    fraction of degree-2 columns capped at ``h`` (the rest become degree 3): a code has about
    :math:`f n h \ge n h` rows, so its degree-2 columns can all lie on one path through the
    rows (:func:`~nfkg.protocol.ldpc_codes.make_code`) and form no cycle, i.e. no low-weight codeword on which BP could
    converge to a wrong word.

    Examples
    --------
    >>> degree_profile(0.0808)                  # h2(0.01): a KDR of 1 %, hard decisions
    {2: 0.05, 3: 0.7, 12: 0.25}
    >>> degree_profile(0.01)
    {2: 0.01, 3: 0.74, 12: 0.25}
    """
    table = SOFT_DEGREE_TABLE if soft else DEGREE_TABLE
    prof = next((dict(p) for h_max, p in table if h <= h_max), dict(table[-1][1]))
    a = float(prof.get(2, 0.0))
    cap = max(0.0, float(h))
    if a > cap:
        prof[3] = round(float(prof.get(3, 0.0)) + a - cap, 9)
        prof[2] = round(cap, 9)
        if prof[2] == 0:
            del prof[2]
        prof = dict(sorted(prof.items()))
    return prof
