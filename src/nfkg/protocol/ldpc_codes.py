r"""LDPC codes for reconciliation: seeded construction, incremental rows, degree profiles, a cache.

The codes of :mod:`nfkg.protocol.reconciliation`: public parity-check matrices rebuilt from a seed
and their sizes, grown by appended or split rows (incremental redundancy), with column-degree
profiles from density evolution.

Codes and degree profiles
-------------------------
:func:`make_code` builds an irregular code of a column-degree profile for any
:math:`1 \le m \le n` (degrees capped at :math:`m`); degree-2 columns chain the rows along a
path (no cycle among them, so no low-weight codeword made of them: BP cannot converge to a
wrong word through them), and 4-cycles are removed where they are few. The profile is chosen
by :func:`degree_profile` from :math:`\hat H` and whether ``p_err`` is soft
(:math:`h_2(\bar p) > 1.05\,\hat H`): :data:`~nfkg.protocol.ldpc_graph.DEGREE_TABLE` for hard decisions,
:data:`~nfkg.protocol.ldpc_graph.SOFT_DEGREE_TABLE` for soft information, both by density evolution, with at most
:math:`\hat H` degree-2 columns. Soft information at low :math:`\hat H` is erasure-like (a
few uncertain bits among many certain ones) and wants heavy columns (degree 20), hard
decisions do not. Constructed codes are cached (:func:`code_cache_info`), keyed by
:math:`(n, \text{rows per block}, \text{seed}, \text{profile})`, so blocks with the same code
seed and sizes reuse them; construction takes 0.05-2 s at :math:`n = 10^5` against 2-8 s
of BP per block, so the cache matters for repeated sizes (hard decisions, equal rates).

Contents
--------
LdpcCode, make_code, extend_code, split_code, DEGREE_TABLE, SOFT_DEGREE_TABLE, degree_profile,
code_cache_info, clear_code_cache, CODE_CACHE_BYTES

References
----------
.. [e1] D. Elkouss, A. Leverrier, R. Alleaume, J. J. Boutros, "Efficient reconciliation protocol
   for discrete-variable quantum key distribution", Proc. IEEE ISIT, 2009.
.. [e2] J. Martinez-Mateo, D. Elkouss, V. Martin, "Blind reconciliation", Quantum Inf. Comput.
   12(9-10), 2012.
.. [3] X.-Y. Hu, E. Eleftheriou, D.-M. Arnold, "Regular and irregular progressive edge-growth
   Tanner graphs", IEEE Trans. Inf. Theory 51(1), 2005.
.. [e4] J. Roffe, D. R. White, S. Burton, E. Campbell, "Decoding across the quantum low-density
   parity-check code landscape", Phys. Rev. Research 2, 043423, 2020 (the ``ldpc`` package).
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

from .ldpc_graph import (DEGREE_TABLE, SOFT_DEGREE_TABLE, _bad_edges, _column_degrees, _csr, _deal,  # noqa: F401
                         _deal_dense, _few_cycles, _keys_in, _stable_order, _swap, _untangle, _weight_key,
                         degree_profile)

__all__ = ["LdpcCode", "make_code", "extend_code", "split_code", "degree_profile", "code_cache_info", "clear_code_cache",
           "CODE_CACHE_BYTES"]

_EXT_HIGH = 0.7          # share of an extension block's edges on the highest-degree columns
#: Default bound of the cache of constructed codes [bytes of matrices] (:func:`clear_code_cache`
#: sets another); a code at n = 10^5 takes about 2-3 MB.
CODE_CACHE_BYTES = 256 << 20


# --------------------------------------------------------------------------------------------
# codes
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class LdpcCode:
    """A public LDPC parity-check matrix and the seed that rebuilds it.

    Attributes
    ----------
    H : scipy.sparse.csr_matrix, ``(m, n)``, uint8
        Parity-check matrix; each entry 0 or 1 (no repeated edges).
    seed : int
        Seed of :func:`make_code`; :func:`extend_code` and :func:`split_code` derive their rows
        from it and the sizes, so ``(n, blocks, seed, column_weight)`` and whether the blocks
        were appended or split (:func:`~nfkg.protocol.reconciliation.reconcile`'s ``adapt``) rebuild ``H`` exactly.
    column_weight : int or dict
        Column weight of the first block, or its fractions of columns per degree (as asked
        for: degrees above ``m`` are capped at ``m``).
    blocks : tuple of int
        Rows of each block: ``(m0,)`` from :func:`make_code`, one more entry per
        :func:`extend_code` or :func:`split_code`; ``()`` for the empty code of a block where
        nothing was sent, ``(n,)`` for the identity of a disclosed one.
    """

    H: sp.csr_matrix
    seed: int
    column_weight: int | dict
    blocks: tuple

    @property
    def n(self) -> int:
        """Block length (columns)."""
        return int(self.H.shape[1])

    @property
    def m(self) -> int:
        """Syndrome length (rows)."""
        return int(self.H.shape[0])

    def syndrome(self, bits: ArrayLike) -> np.ndarray:
        r""":math:`H x \bmod 2` as uint8, ``(m,)``."""
        return _syndrome(self.H, np.asarray(bits))


def _syndrome(H: sp.csr_matrix, x: np.ndarray) -> np.ndarray:
    """H x mod 2 in integer arithmetic (uint8 products would overflow for heavy rows)."""
    return (H @ x.astype(np.int64) & 1).astype(np.uint8)


# --------------------------------------------------------------------------------------------
# cache of constructed codes
# --------------------------------------------------------------------------------------------

class _CodeCache:
    """Least-recently-used store of constructed codes, bounded in bytes, thread-safe.

    Keys: ``('make', n, m, seed, weight key)`` for :func:`make_code`, ``(parent key, m_extra,
    row_weight)`` for :func:`extend_code` and ``(parent key, 'split', m_extra)`` for
    :func:`split_code`; the last two are cached only when their input came from one of the
    three (its key then determines the matrix). Cached codes are shared: their matrices must
    not be modified in place.
    """

    def __init__(self, max_bytes: int):
        self.max_bytes = int(max_bytes)
        self.codes: OrderedDict = OrderedDict()
        self.keys: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()   # code -> its key
        self.bytes = self.hits = self.misses = 0
        self.lock = threading.Lock()

    @staticmethod
    def size(code: LdpcCode) -> int:
        return int(code.H.data.nbytes + code.H.indices.nbytes + code.H.indptr.nbytes)

    def get(self, key) -> LdpcCode | None:
        with self.lock:
            code = self.codes.get(key)
            if code is None:
                self.misses += 1
            else:
                self.hits += 1
                self.codes.move_to_end(key)
            return code

    def put(self, key, code: LdpcCode) -> LdpcCode:
        with self.lock:
            self.keys[code] = key
            size = self.size(code)
            if key in self.codes or size > self.max_bytes:
                return code
            self.codes[key] = code
            self.bytes += size
            while self.bytes > self.max_bytes:
                _, old = self.codes.popitem(last=False)
                self.bytes -= self.size(old)
            return code

    def key_of(self, code: LdpcCode):
        with self.lock:
            return self.keys.get(code)


_CACHE = _CodeCache(CODE_CACHE_BYTES)


def code_cache_info() -> dict:
    """State of the cache of constructed codes: ``entries``, ``bytes``, ``max_bytes``,
    ``hits`` and ``misses`` (lookups by :func:`make_code`, :func:`extend_code` and
    :func:`split_code`)."""
    with _CACHE.lock:
        return {"entries": len(_CACHE.codes), "bytes": _CACHE.bytes, "max_bytes": _CACHE.max_bytes,
                "hits": _CACHE.hits, "misses": _CACHE.misses}


def clear_code_cache(max_bytes: int | None = None) -> None:
    """Empty the cache of constructed codes and reset its counters; ``max_bytes``, if given,
    sets a new bound (0 disables caching; the bound starts at :data:`CODE_CACHE_BYTES`)."""
    with _CACHE.lock:
        _CACHE.codes.clear()
        _CACHE.bytes = _CACHE.hits = _CACHE.misses = 0
        if max_bytes is not None:
            if int(max_bytes) < 0:
                raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
            _CACHE.max_bytes = int(max_bytes)


def make_code(n: int, m: int, seed: int, column_weight: int | Mapping[int, float] = 3, *,
              cache: bool = True) -> LdpcCode:
    r"""A seeded LDPC parity-check matrix: given column degrees, balanced rows, degree-2
    columns without cycles, few or no 4-cycles.

    Construction (random socket matching with edge swaps): the degree-2 columns (up to
    :math:`m - 1` of them) chain the rows along a random path, so they form no cycle and no
    codeword of theirs alone (a cycle of :math:`L` degree-2 columns is a weight-:math:`L`
    codeword, to which BP can converge: an undetected error). The other columns, in random
    order, lay out their edge sockets (``column_weight`` each, or an irregular mix) one after
    another; the list is cut into passes and each pass deals its sockets the rows of a fresh
    random permutation (the first passes favour the rows off the path), so every row gets
    :math:`\lfloor E/m\rfloor` or :math:`\lceil E/m\rceil` edges and a column gets distinct
    rows except, rarely, the one column straddling two passes. Those repeated edges, and one
    edge of every 4-cycle (two rows sharing two columns) when a random graph of these degrees
    has fewer than 0.15 of them per column, then swap their column with a random edge (a swap
    that would repeat an edge is not made; path edges stay), which keeps all row and column
    degrees, until none is left. Where 4-cycles are many (dense high-rate codes: h < 0.1 at
    :math:`n = 10^5`) they are left: removing them took up to 6 s and changed no measured
    efficiency at :math:`n = 10^5`. Progressive edge growth (PEG, Hu, Eleftheriou and Arnold 2005)
    maximises the local girth further but costs a breadth-first search per edge, minutes in
    pure Python at these lengths. :math:`n = 10^5` takes 0.05-2 s.

    Any :math:`1 \le m \le n` works: column degrees above :math:`m` are lowered to :math:`m`
    (with :math:`m = 1` the code is the single parity of all bits), and when a column has more
    than half of the rows (:math:`2 d > m`) each column draws its rows as a random subset
    (rows then balanced only on average, none empty).

    Parameters
    ----------
    n : int
        Block length (columns), at least 2.
    m : int
        Rows (syndrome bits), ``1 <= m <= n``.
    seed : int
        Seed; the same ``(n, m, seed, column_weight)`` gives the same matrix on every machine.
    column_weight : int or mapping
        Ones per column (3: a regular code), or the fraction of columns of each degree,
        e.g. ``{2: 0.2, 3: 0.7, 8: 0.1}`` (node perspective; see :data:`~nfkg.protocol.ldpc_graph.DEGREE_TABLE`).
    cache : bool
        Look the code up in, and store it into, the cache of constructed codes
        (:func:`code_cache_info`); a cached code's matrix is shared: do not modify it in place.

    Returns
    -------
    LdpcCode

    Examples
    --------
    >>> code = make_code(1000, 300, seed=1)
    >>> code.H.shape, code.H.nnz, set(code.H.sum(axis=0).A1.tolist())
    ((300, 1000), 3000, {3})
    >>> make_code(1000, 1, seed=1).H.nnz                  # one row: the parity of all bits
    1000
    """
    n, m = int(n), int(m)
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    if not 1 <= m <= n:
        raise ValueError(f"m must satisfy 1 <= m <= n = {n}, got {m}")
    wkey = _weight_key(column_weight)
    key = ("make", n, m, int(seed), tuple(wkey))
    if cache:
        hit = _CACHE.get(key)
        if hit is not None:
            return hit
    rng = np.random.default_rng([int(seed), n, m, *wkey])
    deg = _column_degrees(n, m, column_weight, rng)
    if 2 * int(deg.max()) > m:
        rows, cols = _deal_dense(deg, m, rng)
    else:
        # degree-2 columns (at most m - 1 of them) chain the rows along a random path: no cycle
        # among them, hence no low-weight codeword made of degree-2 columns alone
        two = rng.permutation(np.flatnonzero(deg == 2))[: m - 1] if m >= 3 else np.empty(0, np.int64)
        path = rng.permutation(m)
        t = two.size
        rest_deg = deg.copy()
        rest_deg[two] = 0
        order = rng.permutation(n)
        first = (np.concatenate([path[t + 1:], path[[0, t]]]), path[t + 1:]) if t else ()
        rows, cols = _deal(np.repeat(order, rest_deg[order]), m, rng, first)
        rows = np.concatenate([rows, path[:t], path[1: t + 1]])
        cols = np.concatenate([cols, two, two])
        movable = np.arange(rows.size) < rows.size - 2 * t            # the path stays
        o = _stable_order(rows)
        rows, cols, movable = rows[o], cols[o], movable[o]
        cols = _untangle(rows, cols, m, n, movable, rng, _few_cycles(deg, m))
    cw = dict(column_weight) if isinstance(column_weight, Mapping) else int(column_weight)
    code = LdpcCode(_csr(rows, cols, m, n), int(seed), cw, (m,))
    return _CACHE.put(key, code) if cache else code


def extend_code(code: LdpcCode, m_extra: int, row_weight: int | None = None, *,
                cache: bool = True) -> LdpcCode:
    r"""Append ``m_extra`` seeded parity rows to a code (incremental redundancy).

    The new block has rows of weight ``row_weight`` (default: the code's mean row weight,
    rounded, at most :math:`n/2`). 70 % of its edges go to distinct columns of highest current
    degree (ties broken at random), the rest to random other columns; the sockets, grouped by
    column, are dealt to the new rows by passes as in :func:`make_code` (distinct columns per
    row), and repeated edges are removed by swapping edges inside the new block (4-cycles
    through the new rows are left: removing them cost 0.4-2.6 s per increment at
    :math:`n = 10^5` and changed no measured efficiency). The earlier rows are unchanged, so
    the syndrome bits already sent stay valid.

    Why high degree first: BP fixes the high-degree columns first, so a check mostly made of
    them is soon nearly a parity on its few other columns and helps them; checks on the weak
    (degree-2) columns are barely informative. With calibrated soft information at h = 0.1,
    n = 10^5 and :func:`~nfkg.protocol.reconciliation.reconcile`'s warm start, blocks decoded at f = 1.11-1.20 with this
    rule, 1.64-1.97 with uniformly random columns, 1.64-2.44 lowest degree first and
    1.79-2.18 degree 3 first. Decoded from scratch, an extended code is weaker than a fresh
    one of the same size (KDR 10 %, n = 10^4, f = 1.0 extended to 1.15: 2 of 12 blocks, fresh
    codes 11 of 12, :func:`split_code` 12 of 12); continuing BP from the previous attempt's
    messages, as :func:`~nfkg.protocol.reconciliation.reconcile` does, is what makes appending rows work.

    Parameters
    ----------
    code : LdpcCode
    m_extra : int
        Rows to add, at least 1, with ``code.m + m_extra <= code.n``.
    row_weight : int, optional
        Ones per new row (at most ``n``).
    cache : bool
        Use the cache of constructed codes (effective when ``code`` itself came from
        :func:`make_code`, :func:`extend_code` or :func:`split_code`).

    Returns
    -------
    LdpcCode
        The code with ``blocks`` extended by ``m_extra``; deterministic given ``code``.

    Examples
    --------
    >>> code = extend_code(make_code(1000, 300, seed=1), 30)
    >>> code.H.shape, code.blocks
    ((330, 1000), (300, 30))
    """
    n, m0, k = code.n, code.m, int(m_extra)
    if k < 1 or m0 + k > n:
        raise ValueError(f"m_extra must be in [1, n - m] = [1, {n - m0}], got {k}")
    if row_weight is None:
        d = min(max(1, int(round(code.H.nnz / max(m0, 1)))), max(1, n // 2))
    else:
        d = int(row_weight)
    if not 1 <= d <= n:
        raise ValueError(f"row_weight must be in [1, n] = [1, {n}], got {d}")
    parent = _CACHE.key_of(code) if cache else None
    key = None if parent is None else (parent, k, d)
    if key is not None:
        hit = _CACHE.get(key)
        if hit is not None:
            return hit
    rng = np.random.default_rng([code.seed, n, *code.blocks, k, d])
    deg = np.bincount(code.H.indices, minlength=n)
    e = k * d
    e_high = min(int(round(_EXT_HIGH * e)), n)
    order = _by_degree(deg, rng.random(n))           # highest degree first, random ties
    if e_high < n:
        rest = rng.permutation(order[e_high:])
        sockets = np.concatenate([order[:e_high], np.tile(rest, -(-(e - e_high) // rest.size))[: e - e_high]])
    else:
        sockets = np.tile(order, -(-e // n))[:e]
    sockets = sockets[_stable_order(rng.permutation(n)[sockets])]      # grouped by column
    new_rows, new_cols = _deal(sockets, k, rng)
    old = code.H.tocoo()                               # canonical csr: row-major order
    rows = np.concatenate([old.row.astype(np.int64), m0 + new_rows])
    cols = np.concatenate([old.col.astype(np.int64), new_cols])
    cols = _untangle(rows, cols, m0 + k, n, rows >= m0, rng, False)
    ordered = old.nnz if code.H.has_sorted_indices else 0       # the old rows' edges, in order
    ext = LdpcCode(_csr(rows, cols, m0 + k, n, presorted=ordered), code.seed, code.column_weight, (*code.blocks, k))
    return _CACHE.put(key, ext) if key is not None else ext


def _by_degree(deg: np.ndarray, r: np.ndarray) -> np.ndarray:
    """``np.lexsort((r, -deg))``: columns by decreasing degree, ties by increasing ``r`` (then
    index), with one quicksort of ``r`` per degree (a handful); a stable sort only where two
    values of ``r`` are equal (the quicksort could then order them otherwise)."""
    order = np.empty(deg.size, np.int64)
    at = 0
    for d in np.unique(deg)[::-1].tolist():
        idx = np.flatnonzero(deg == d)
        o = np.argsort(r[idx])
        ro = r[idx][o]
        if np.any(ro[1:] == ro[:-1]):
            o = np.argsort(r[idx], kind="stable")
        order[at: at + idx.size] = idx[o]
        at += idx.size
    return order


def split_code(code: LdpcCode, m_extra: int, *, cache: bool = True) -> LdpcCode:
    r"""Split ``m_extra`` rows of a code in two (incremental redundancy by check splitting).

    A row :math:`r` with columns :math:`S` becomes two rows: :math:`r` keeps a random half
    :math:`S_1` and a new row, appended, takes the rest :math:`S_2`. The BS sends the new
    row's syndrome bit :math:`s_{S_2}`; with the bit :math:`s_S` already sent, the user then
    knows :math:`s_{S_1} = s_S \oplus s_{S_2}` too, so every split costs exactly one bit, and
    the matrix (as :meth:`LdpcCode.syndrome` computes it) carries the same information as the
    rows sent. Rows are split heaviest first (random ties), so all original rows are halved
    before a half is split again; the chosen rows' new halves are appended in the order of
    the rows they came from. Column degrees do not change, check degrees stay concentrated,
    and no cycle appears (splitting only removes cycles), so every intermediate code is a
    random LDPC code of the same column profile, which is why this rate adaptation costs
    less than appending rows (:func:`extend_code`): at KDR 10 %, n = 10^4, a code at
    :math:`f = 1.0` split to 1.15 decoded 12 of 12 blocks where extending it decoded 2 of 12
    and fresh codes at 1.15 11 of 12.

    Rows of weight 1 cannot be split; if fewer than ``m_extra`` rows have weight 2 or more,
    the rest is appended by :func:`extend_code`.

    Parameters
    ----------
    code : LdpcCode
    m_extra : int
        Rows to add, at least 1, with ``code.m + m_extra <= code.n``.
    cache : bool
        Use the cache of constructed codes (effective when ``code`` itself came from
        :func:`make_code`, :func:`extend_code` or :func:`split_code`).

    Returns
    -------
    LdpcCode
        ``blocks`` extended by ``m_extra``; deterministic given ``code``.

    Examples
    --------
    >>> code = make_code(1000, 300, seed=1)
    >>> s = split_code(code, 30)
    >>> s.H.shape, s.blocks, s.H.nnz == code.H.nnz
    ((330, 1000), (300, 30), True)
    >>> x = np.random.default_rng(0).integers(0, 2, 1000)
    >>> bool(np.array_equal(s.syndrome(x)[:300] ^ _split_parent_syndrome(code, s, x), code.syndrome(x)))
    True
    """
    n, m0, k = code.n, code.m, int(m_extra)
    if k < 1 or m0 + k > n:
        raise ValueError(f"m_extra must be in [1, n - m] = [1, {n - m0}], got {k}")
    parent = _CACHE.key_of(code) if cache else None
    key = None if parent is None else (parent, "split", k)
    if key is not None:
        hit = _CACHE.get(key)
        if hit is not None:
            return hit
    rng = np.random.default_rng([code.seed, n, *code.blocks, k, 2])
    H = code.H
    w = np.diff(H.indptr)
    cand = np.flatnonzero(w >= 2)
    chosen = np.sort(cand[np.lexsort((rng.random(cand.size), -w[cand]))][:k])
    rows = np.repeat(np.arange(m0, dtype=np.int64), w)
    cols = H.indices.astype(np.int64)
    new_row = np.full(m0, -1, np.int64)
    new_row[chosen] = m0 + np.arange(chosen.size)
    sel = np.flatnonzero(new_row[rows] >= 0)                      # edges of the chosen rows
    o = sel[np.lexsort((rng.random(sel.size), rows[sel]))]        # by row, random order inside
    first = np.searchsorted(rows[o], rows[o], side="left")        # start of each row's run
    rank = np.arange(o.size) - first
    move = o[rank < w[rows[o]] // 2]                              # half of each chosen row moves
    rows[move] = new_row[rows[move]]
    out = LdpcCode(_csr(rows, cols, m0 + chosen.size, n), code.seed, code.column_weight,
                   (*code.blocks, chosen.size))
    if chosen.size < k:                                           # rows of weight 1 only are left
        out = extend_code(out, k - chosen.size, cache=False)
        out = LdpcCode(out.H, code.seed, code.column_weight, (*code.blocks, k))
    return _CACHE.put(key, out) if key is not None else out


def _split_parent_syndrome(code: LdpcCode, split: LdpcCode, x: np.ndarray) -> np.ndarray:
    """For :func:`split_code`'s example: the new rows' syndrome bits added back onto the rows
    they were split from (zero for the rows not split)."""
    parents = _row_parents(code, split)[code.m:]
    out = np.zeros(code.m, np.uint8)
    np.bitwise_xor.at(out, parents, split.syndrome(x)[code.m:])
    return out


def _row_parents(old: LdpcCode, new: LdpcCode) -> np.ndarray:
    """For each row of ``new`` (``old`` grown by :func:`split_code` or :func:`extend_code`), the
    row of ``old`` whose check it was part of (itself for old rows), -1 for appended rows."""
    m0, m1 = old.m, new.m
    parents = np.full(m1, -1, np.int64)
    parents[:m0] = np.arange(m0)
    shrunk = np.flatnonzero(np.diff(new.H.indptr)[:m0] < np.diff(old.H.indptr))   # split rows, ascending
    parents[m0: m0 + shrunk.size] = shrunk
    return parents


def _identity_code(n: int, seed: int) -> LdpcCode:
    H = sp.identity(n, dtype=np.uint8, format="csr")
    return LdpcCode(H, int(seed), 1, (n,))

