r"""Information reconciliation: one-way syndrome decoding of the key bits with LDPC codes.

After quantisation the BS holds :math:`x_a` and the user :math:`x_b`, two strings of
:math:`n` bits that differ in a fraction KDR of positions. The BS publishes the syndrome
:math:`s = H x_a` of a public, seeded low-density parity-check matrix :math:`H`; the user
decodes the difference :math:`e = x_a \oplus x_b` from

.. math::
    H e = H x_b \oplus s \pmod 2

by belief propagation (BP) with the channel probabilities :math:`P(e_i = 1) = p_i`, i.e. the
log-likelihood ratios :math:`\ln((1-p_i)/p_i)`, and outputs :math:`x_b \oplus \hat e`.
Every syndrome bit is public, so the :math:`m` rows sent are the leak that privacy
amplification must remove. Slepian-Wolf bounds it below by :math:`n H(X_a|X_b)`, which is
:math:`n h_2(\mathrm{KDR})` for hard decisions; the *reconciliation efficiency*

.. math::
    f = \frac{\text{leaked bits}}{n\, h_2(\mathrm{KDR})} \ge 1

is the usual figure of merit (Elkouss et al. 2009). The rate adapts by incremental
redundancy ("blind" reconciliation, Martinez-Mateo et al. 2012): the BS first sends
:math:`\lceil f_0 n \hat H\rceil` bits, with :math:`\hat H = \overline{h_2(p_i)}` the
conditional entropy the user's soft information implies (:math:`h_2(p)` for a scalar
:math:`p`), and while BP does not converge it reveals further parity rows, appended to the
code by :func:`extend_code`, up to :math:`f_{\max}`.

The codes are irregular (:data:`DEGREE_TABLE`): at KDR 1 % a regular column-weight-3 code
needs :math:`f \approx 1.5` even asymptotically, the profiles used here 1.1-1.2.

The decoder is :class:`ldpc.BpDecoder` (Roffe et al., ``ldpc`` 2.x): product-sum or
(scaled) min-sum BP with a bounded number of iterations. Failure is detected by BP itself:
it stops when its hard decision satisfies every check, and it is declared failed when it does
not within ``max_iter`` iterations. Ordered-statistics post-processing (``BpOsdDecoder``) is
deliberately not offered: OSD returns a word that satisfies the syndrome whether or not it is
the right one, so it would remove the only failure signal the protocol has, and its
Gaussian elimination costs seconds to minutes at :math:`n \ge 10^4`.

Contents
--------
binary_entropy
    :math:`h_2(p)` in bits, elementwise.
efficiency
    :math:`f = \text{leak} / (n\, h_2(\mathrm{KDR}))`.
LdpcCode
    A public parity-check matrix with the seed that rebuilds it.
make_code
    Seeded LDPC matrix with given column degrees, balanced rows, no repeated edges, no 4-cycles.
extend_code
    Append further seeded parity rows (incremental redundancy).
DEGREE_TABLE, degree_profile
    Irregular column-degree profiles by rate, from density evolution.
Reconciled
    Result of :func:`reconcile`.
reconcile
    Rate-adaptive syndrome reconciliation of the user's bits onto the BS's.

References
----------
.. [1] D. Elkouss, A. Leverrier, R. Alleaume, J. J. Boutros, "Efficient reconciliation protocol
   for discrete-variable quantum key distribution", Proc. IEEE ISIT, 2009.
.. [2] J. Martinez-Mateo, D. Elkouss, V. Martin, "Blind reconciliation", Quantum Inf. Comput.
   12(9-10), 2012.
.. [3] X.-Y. Hu, E. Eleftheriou, D.-M. Arnold, "Regular and irregular progressive edge-growth
   Tanner graphs", IEEE Trans. Inf. Theory 51(1), 2005.
.. [4] J. Roffe, D. R. White, S. Burton, E. Campbell, "Decoding across the quantum low-density
   parity-check code landscape", Phys. Rev. Research 2, 043423, 2020 (the ``ldpc`` package).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

__all__ = ["binary_entropy", "efficiency", "LdpcCode", "make_code", "extend_code", "decode", "DEGREE_TABLE",
           "degree_profile", "Reconciled", "reconcile"]

_P_FLOOR = 1e-7          # smallest channel probability handed to BP (LLR 16.1): p = 0 would be an infinite LLR
_EXT_HIGH = 0.7          # share of an extension block's edges on the highest-degree columns
_CYCLE_ROUNDS = 40       # edge-swap rounds spent on removing 4-cycles at most
_CYCLE_PATIENCE = 10     # ... and rounds without fewer of them before giving up
_DUPLICATE_ROUNDS = 1000  # rounds allowed to remove repeated edges (must reach zero)


# --------------------------------------------------------------------------------------------
# entropy and efficiency
# --------------------------------------------------------------------------------------------

def binary_entropy(p: ArrayLike) -> np.ndarray | float:
    r"""Binary entropy in bits, elementwise.

    .. math::
        h_2(p) = -p\log_2 p - (1-p)\log_2(1-p), \qquad h_2(0) = h_2(1) = 0.

    Parameters
    ----------
    p : array_like
        Probabilities in :math:`[0, 1]`.

    Returns
    -------
    float or ndarray
        :math:`h_2(p)` [bits], same shape as ``p`` (a float for a scalar).

    Examples
    --------
    >>> float(binary_entropy(0.5)), round(float(binary_entropy(0.11)), 4)
    (1.0, 0.4999)
    """
    p = np.asarray(p, dtype=float)
    q = 1.0 - p
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -(np.where(p > 0, p * np.log2(np.where(p > 0, p, 1.0)), 0.0)
              + np.where(q > 0, q * np.log2(np.where(q > 0, q, 1.0)), 0.0))
    h = np.where((p >= 0) & (p <= 1), h, np.nan)
    return float(h) if h.ndim == 0 else h


def efficiency(leaked_bits: ArrayLike, n: ArrayLike, kdr: ArrayLike) -> np.ndarray | float:
    r"""Reconciliation efficiency :math:`f` (1 is the Slepian-Wolf limit, larger leaks more).

    .. math::
        f = \frac{\text{leaked bits}}{n\, h_2(\mathrm{KDR})}

    Parameters
    ----------
    leaked_bits : array_like
        Bits disclosed, :attr:`Reconciled.leaked_bits`.
    n : array_like
        Block length [bits].
    kdr : array_like
        Key disagreement rate in :math:`(0, 0.5]`.

    Returns
    -------
    float or ndarray
        :math:`f` (``inf`` where KDR = 0 and something leaked, ``nan`` for 0/0).

    Examples
    --------
    >>> round(float(efficiency(1100, 2000, 0.11)), 3)
    1.1
    """
    den = np.asarray(n, float) * np.asarray(binary_entropy(kdr), float)
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.asarray(leaked_bits, float) / den
    return float(f) if f.ndim == 0 else f


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
        Seed of :func:`make_code`; :func:`extend_code` derives its rows from it and the sizes,
        so ``(n, blocks, seed, column_weight)`` rebuilds ``H`` exactly.
    column_weight : int or dict
        Column weight of the first block, or its fractions of columns per degree.
    blocks : tuple of int
        Rows of each block: ``(m0,)`` from :func:`make_code`, one more entry per
        :func:`extend_code`.
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


def _csr(rows: np.ndarray, cols: np.ndarray, m: int, n: int) -> sp.csr_matrix:
    H = sp.csr_matrix((np.ones(rows.size, np.uint8), (rows, cols)), shape=(m, n))
    H.sort_indices()
    return H


def _bad_edges(rows: np.ndarray, cols: np.ndarray, m: int, n: int, first_row: int,
               first_movable: int, cycles: bool, touched: np.ndarray | None) -> np.ndarray:
    """Indices of movable edges to move (repeated edges, else one edge per 4-cycle), and
    whether 4-cycles were looked for.

    Edges are ``(rows[i], cols[i])``; those before ``first_movable`` (the rows before
    ``first_row``: earlier blocks) are fixed. A 4-cycle is a pair of rows that two columns
    share: every column lists its row pairs, and a pair listed twice is a 4-cycle; the edge
    moved is the later column's edge in the later row (a new row, hence movable). With
    ``touched`` (a boolean mask of rows), only repeats and cycles through those rows are
    looked for: after a round of swaps, new ones can only pass through the rows it changed.
    """
    sel = np.arange(first_movable, rows.size) if touched is None else \
        np.flatnonzero(touched[rows[first_movable:]]) + first_movable
    key = rows[sel] * n + cols[sel]
    order = np.argsort(key, kind="stable")
    ks = key[order]
    rep = np.zeros(ks.size, bool)
    rep[1:] = ks[1:] == ks[:-1]
    dup = sel[order[rep]]                 # the later copy of each repeated edge (both movable)
    if dup.size or not cycles:
        return np.unique(dup), False
    # rows of each column, grouped by column degree: (n_d, d) arrays of ascending row indices
    by_col = np.argsort(cols, kind="stable")          # rows are sorted, so each column's rows ascend
    deg = np.bincount(cols, minlength=n)
    start = np.concatenate([[0], np.cumsum(deg)])
    pair_key, pair_col = [], []
    for d in np.unique(deg[deg >= 2]).tolist():
        cs = np.flatnonzero(deg == d)
        R = rows[by_col[start[cs][:, None] + np.arange(d)]]          # (n_d, d)
        i, j = np.triu_indices(d, 1)
        r1, r2 = R[:, i], R[:, j]
        keep = r2 >= first_row                                          # pairs with a new row
        if touched is not None:
            keep &= touched[r1] | touched[r2]
        pair_key.append((r1 * m + r2)[keep])
        pair_col.append(np.broadcast_to(cs[:, None], r1.shape)[keep])
    if not pair_key:
        return dup, True
    pk, pc = np.concatenate(pair_key), np.concatenate(pair_col)
    o = np.argsort(pk, kind="stable")
    pk, pc = pk[o], pc[o]
    again = np.flatnonzero(pk[1:] == pk[:-1]) + 1                      # a pair's 2nd, 3rd... column
    if again.size == 0:
        return dup, True
    # edge index of (row, column): rows are sorted, so each row's edges are one short slice
    r2 = pk[again] % m
    c2 = pc[again]
    row_start = np.searchsorted(rows, np.arange(m + 1))
    w = int(np.diff(row_start).max())
    idx = np.minimum(row_start[r2][:, None] + np.arange(w), rows.size - 1)
    hit = (cols[idx] == c2[:, None]) & (rows[idx] == r2[:, None])
    edge = idx[np.arange(idx.shape[0]), hit.argmax(axis=1)]
    return np.unique(edge), True


def _untangle(rows: np.ndarray, cols: np.ndarray, m: int, n: int, first_row: int,
              rng: np.random.Generator) -> np.ndarray:
    """Swap the columns of bad movable edges with random movable edges (degrees preserved).

    Movable edges are those of rows ``>= first_row`` (they come last in ``rows``). Repeated
    edges are always removed. 4-cycles are removed until none is left, or for at most
    ``_CYCLE_ROUNDS`` rounds and until ``_CYCLE_PATIENCE`` rounds bring no fewer: all of them
    at moderate rates, but a dense high-rate block at n ~ 10^4 (rows of weight ~50 with
    degree-12 columns) cannot reach girth 6 and keeps some.
    """
    rows = rows.astype(np.int64)
    cols = cols.astype(np.int64)
    first_movable = int(np.searchsorted(rows, first_row))
    n_mov = rows.size - first_movable
    # girth 6 needs every pair of rows to share at most one column: sum_c C(d_c, 2) <= C(m, 2).
    # Past half of that bound (dense high-rate codes, e.g. KDR ~0.2 % with soft information)
    # 4-cycles cannot all go and the search costs tens of seconds: keep the duplicates check only.
    deg = np.bincount(cols, minlength=n).astype(np.float64)
    feasible = float(np.sum(deg * (deg - 1) / 2)) <= 0.5 * m * (m - 1) / 2
    cycles, best, stale, touched = feasible, np.inf, 0, None
    for it in range(_DUPLICATE_ROUNDS):
        bad, looked = _bad_edges(rows, cols, m, n, first_row, first_movable, cycles, touched)
        if bad.size == 0:
            if touched is None or not cycles:
                break
            touched = None          # one full check before stopping
            continue
        if cycles:                  # give up on 4-cycles when the count stops falling
            stale = 0 if bad.size < best else stale + 1
            best = min(best, bad.size)
            if stale >= _CYCLE_PATIENCE or it >= _CYCLE_ROUNDS:
                cycles = False
        partners = first_movable + rng.integers(0, n_mov, bad.size)
        for i, j in zip(bad.tolist(), partners.tolist()):
            cols[i], cols[j] = cols[j], cols[i]
        # rows changed since the last complete look for 4-cycles: the next round looks there only
        if not cycles:
            touched = None
        elif looked or touched is not None:
            touched = np.zeros(m, bool) if looked else touched
            touched[rows[bad]] = True
            touched[rows[partners]] = True
    else:  # pragma: no cover - needs a block with almost every entry set
        raise RuntimeError("could not remove repeated edges from the parity-check matrix")
    return cols


def _column_degrees(n: int, m: int, column_weight, rng: np.random.Generator) -> np.ndarray:
    """Per-column degrees: all ``column_weight`` (int), or node fractions ``{degree: fraction}``
    rounded to counts that sum to ``n``, assigned to random columns."""
    if isinstance(column_weight, Mapping):
        degs = np.array(sorted(int(d) for d in column_weight), dtype=np.int64)
        frac = np.array([float(column_weight[d]) for d in sorted(column_weight)], float)
        if degs.size == 0 or degs[0] < 1 or np.any(frac < 0) or frac.sum() <= 0:
            raise ValueError(f"column_weight must map degrees >= 1 to fractions >= 0, got {column_weight}")
        counts = np.floor(frac / frac.sum() * n).astype(np.int64)
        counts[np.argmax(frac)] += n - counts.sum()
        deg = rng.permutation(np.repeat(degs, counts))
    else:
        deg = np.full(n, int(column_weight), dtype=np.int64)
        degs = deg[:1]
    if degs[0] < 1:
        raise ValueError(f"column_weight must be at least 1, got {column_weight}")
    if deg.max() > m:
        raise ValueError(f"m must be at least the largest column weight {int(deg.max())}, got {m}")
    return deg


def _weight_key(column_weight) -> list[int]:
    """Integers that identify ``column_weight`` in the seed (fractions to 1e-9)."""
    if isinstance(column_weight, Mapping):
        return [v for d in sorted(column_weight) for v in (int(d), int(round(float(column_weight[d]) * 1e9)))]
    return [int(column_weight)]


def make_code(n: int, m: int, seed: int, column_weight: int | Mapping[int, float] = 3) -> LdpcCode:
    r"""A seeded LDPC parity-check matrix: given column degrees, balanced rows, no 4-cycles.

    Construction (random socket matching with edge swaps): the edge sockets of the columns
    (``column_weight`` each, or an irregular mix) are randomly permuted and dealt to the rows,
    which get :math:`\lfloor E/m\rfloor` or :math:`\lceil E/m\rceil` edges; then every
    repeated edge and one edge of every 4-cycle (two rows sharing two columns, found from
    :math:`H H^T`) swaps its column with a random edge, which keeps all row and column
    degrees, until none is left. A random ensemble has only about
    :math:`((d_v-1)(d_c-1))^2/4` 4-cycles whatever :math:`n`, so a few vectorised rounds
    suffice and :math:`n = 2\cdot 10^5` takes about a second. Progressive edge growth (PEG,
    Hu et al. 2005 [3]_) maximises the local girth further but costs a breadth-first search
    per edge, minutes in pure Python at these lengths; at :math:`n \ge 10^4` removing the
    4-cycles gets most of its benefit for BP.

    Parameters
    ----------
    n : int
        Block length (columns), at least 2.
    m : int
        Rows (syndrome bits), ``max column weight <= m <= n``.
    seed : int
        Seed; the same ``(n, m, seed, column_weight)`` gives the same matrix on every machine.
    column_weight : int or mapping
        Ones per column (3: a regular code), or the fraction of columns of each degree,
        e.g. ``{2: 0.2, 3: 0.7, 8: 0.1}`` (node perspective; see :data:`DEGREE_TABLE`).

    Returns
    -------
    LdpcCode

    Examples
    --------
    >>> code = make_code(1000, 300, seed=1)
    >>> code.H.shape, code.H.nnz, set(code.H.sum(axis=0).A1.tolist())
    ((300, 1000), 3000, {3})
    """
    n, m = int(n), int(m)
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    if not 1 <= m <= n:
        raise ValueError(f"m must satisfy 1 <= m <= n = {n}, got {m}")
    rng = np.random.default_rng([int(seed), n, m, *_weight_key(column_weight)])
    deg = _column_degrees(n, m, column_weight, rng)
    e = int(deg.sum())
    row_deg = np.full(m, e // m)
    row_deg[rng.permutation(m)[: e % m]] += 1
    rows = np.repeat(np.arange(m), row_deg)
    cols = rng.permutation(np.repeat(np.arange(n), deg))
    cols = _untangle(rows, cols, m, n, 0, rng)
    cw = dict(column_weight) if isinstance(column_weight, Mapping) else int(column_weight)
    return LdpcCode(_csr(rows, cols, m, n), int(seed), cw, (m,))


def extend_code(code: LdpcCode, m_extra: int, row_weight: int | None = None) -> LdpcCode:
    r"""Append ``m_extra`` seeded parity rows to a code (incremental redundancy).

    The new block has rows of weight ``row_weight`` (default: the code's mean row weight,
    rounded). 70 % of its edges go to distinct columns of highest current degree (ties broken
    at random), the rest to random other columns; repeated edges and 4-cycles, also those
    through earlier rows, are then removed by swapping edges inside the new block as in
    :func:`make_code`. The earlier rows are unchanged, so the syndrome bits already sent stay
    valid.

    Why high degree first: BP fixes the high-degree columns first, so a check mostly made of
    them is soon nearly a parity on its few other columns and helps them; checks on the weak
    (degree-2) columns are barely informative. At n = 10^4, KDR 10 % and a base code
    at :math:`f = 1.0`, extending to :math:`f = 1.15` decoded 12 of 12 blocks with this rule,
    11 of 12 with all edges on high-degree columns, 3 of 12 with uniformly random columns and
    0 of 12 with lowest degree first.

    Parameters
    ----------
    code : LdpcCode
    m_extra : int
        Rows to add, at least 1, with ``code.m + m_extra <= code.n``.
    row_weight : int, optional
        Ones per new row (at most ``n``).

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
    d = int(round(code.H.nnz / m0)) if row_weight is None else int(row_weight)
    if not 1 <= d <= n:
        raise ValueError(f"row_weight must be in [1, n] = [1, {n}], got {d}")
    rng = np.random.default_rng([code.seed, n, *code.blocks, k, d])
    deg = np.bincount(code.H.indices, minlength=n)
    e = k * d
    e_high = min(int(round(_EXT_HIGH * e)), n)
    order = np.lexsort((rng.random(n), -deg))         # highest degree first, random ties
    if e_high < n:
        rest = rng.permutation(order[e_high:])
        sockets = np.concatenate([order[:e_high], np.tile(rest, -(-(e - e_high) // rest.size))[: e - e_high]])
    else:
        sockets = np.tile(order, -(-e // n))[:e]
    old = code.H.tocoo()                               # canonical csr: row-major order
    rows = np.concatenate([old.row.astype(np.int64), m0 + np.repeat(np.arange(k), d)])
    cols = np.concatenate([old.col.astype(np.int64), rng.permutation(sockets)])
    cols = _untangle(rows, cols, m0 + k, n, m0, rng)
    return LdpcCode(_csr(rows, cols, m0 + k, n), code.seed, code.column_weight, (*code.blocks, k))


# --------------------------------------------------------------------------------------------
# reconciliation
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class Reconciled:
    r"""Result of :func:`reconcile`.

    Attributes
    ----------
    bits : ndarray ``(n,)``, uint8
        The user's corrected bits (equal to the BS's when ``success``, up to undetected errors).
    success : bool
        BP converged *and* :math:`H x = s \pmod 2` for every row sent.
    leaked_bits : int
        Syndrome bits the BS disclosed, all increments together (``sum(rate_history)``).
    increments : int
        Syndrome blocks sent.
    rate_history : tuple of int
        Syndrome bits of each block.
    message : str
        Why it stopped.
    f : float
        ``leaked_bits / (n * H_hat)``: the efficiency against the entropy the user's ``p_err``
        implies (:func:`efficiency` with the true KDR is the figure of merit).
    nit : int
        BP iterations of the last decoding.
    code : LdpcCode
        The public code, all rows sent.
    """

    bits: np.ndarray
    success: bool
    leaked_bits: int
    increments: int
    rate_history: tuple
    message: str
    f: float
    nit: int
    code: LdpcCode


#: Column-degree profiles (fractions of columns of each degree) and the largest entropy per
#: bit :math:`\hat H` each is used for. Chosen by density evolution (population dynamics of
#: sum-product BP on the BSC, all-zero word) over {2, 3, d} mixes, with fewer degree-2
#: columns than rows at the rates each band covers; asymptotic efficiencies f* at the BP
#: threshold: 1.16 / 1.09 / 1.14 at KDR 1 / 2 / 5 % for the first, 1.12 / 1.08 at 5 / 10 % for
#: the second and 1.08 at 20 % for the third (regular column weight 3: 1.52 at 1 %, 1.19 at 10 %).
DEGREE_TABLE: tuple = (
    (0.25, {2: 0.05, 3: 0.70, 12: 0.25}),
    (0.55, {2: 0.20, 3: 0.65, 12: 0.15}),
    (1.00, {2: 0.40, 3: 0.45, 8: 0.15}),
)


def degree_profile(h: float) -> dict:
    r"""The column-degree profile of :data:`DEGREE_TABLE` for an entropy of ``h`` bits per bit.

    Examples
    --------
    >>> degree_profile(binary_entropy(0.01))
    {2: 0.05, 3: 0.7, 12: 0.25}
    """
    for h_max, prof in DEGREE_TABLE:
        if h <= h_max:
            return dict(prof)
    return dict(DEGREE_TABLE[-1][1])


def _bits(x, name: str) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of bits, got shape {a.shape}")
    if not np.isin(a, (0, 1)).all():
        raise ValueError(f"{name} must contain only 0 and 1")
    return a.astype(np.uint8)


def _check_inputs(bits_a, bits_b, p_err, f_start, f_step, f_max, max_iter, bp_method):
    a, b = _bits(bits_a, "bits_a"), _bits(bits_b, "bits_b")
    if a.size != b.size:
        raise ValueError(f"bits_a and bits_b must have the same length, got {a.size} and {b.size}")
    n = a.size
    if n < 2:
        raise ValueError(f"bits_a must have at least 2 bits, got {n}")
    p = np.asarray(p_err, dtype=float)
    if p.ndim > 1 or (p.ndim == 1 and p.size != n):
        raise ValueError(f"p_err must be a scalar or have shape ({n},), got {p.shape}")
    if not np.all((p >= 0) & (p <= 0.5)):
        raise ValueError("p_err must lie in [0, 0.5]")
    if not (f_start > 0 and f_step > 0 and f_max >= f_start):
        raise ValueError(f"need f_start > 0, f_step > 0 and f_max >= f_start, got "
                         f"{f_start}, {f_step}, {f_max}")
    if int(max_iter) < 1:
        raise ValueError(f"max_iter must be at least 1, got {max_iter}")
    if bp_method not in ("product_sum", "minimum_sum"):
        raise ValueError(f"bp_method must be 'product_sum' or 'minimum_sum', got {bp_method!r}")
    return a, b, np.broadcast_to(p, (n,)).astype(float)


def _schedule(n: int, h: float, f_start: float, f_step: float, f_max: float, w: int) -> list[int]:
    """Cumulative rows after each increment: ceil(f n h) for f = f_start, f_start + f_step, ..."""
    k_max = int(math.floor((f_max - f_start) / f_step + 1e-9))
    sizes = []
    for k in range(k_max + 1):
        mk = min(n, max(w, math.ceil((f_start + k * f_step) * n * h - 1e-9)))
        if not sizes or mk > sizes[-1]:
            sizes.append(mk)
    return sizes


def _bp(code: LdpcCode, target: np.ndarray, channel: np.ndarray, max_iter: int, bp_method: str,
        ms_scaling_factor: float, schedule: str) -> tuple[np.ndarray, bool, int]:
    """One BP decoding of ``H e = target``: (e_hat, converged, iterations)."""
    import ldpc

    dec = ldpc.BpDecoder(code.H, error_channel=channel, max_iter=int(max_iter), bp_method=bp_method,
                         ms_scaling_factor=float(ms_scaling_factor), schedule=schedule,
                         input_vector_type="syndrome")
    e_hat = np.asarray(dec.decode(target), dtype=np.uint8)
    return e_hat, bool(dec.converge), int(dec.iter)


def decode(code: LdpcCode, syndrome: ArrayLike, bits: ArrayLike, p_err: ArrayLike, *, max_iter: int = 100,
           bp_method: str = "product_sum", ms_scaling_factor: float = 0.75,
           schedule: str = "parallel") -> np.ndarray:
    """Any party's estimate of the BS's bits from a disclosed syndrome ``H x_a`` and its own
    ``bits`` with error probabilities ``p_err`` (e.g. Eve running the public protocol)."""
    b = np.asarray(bits, dtype=np.uint8)
    channel = np.clip(np.broadcast_to(np.asarray(p_err, float), b.shape), _P_FLOOR, 0.5)
    target = np.asarray(syndrome, dtype=np.uint8) ^ code.syndrome(b)
    e_hat, _, _ = _bp(code, target, channel, max_iter, bp_method, ms_scaling_factor, schedule)
    return b ^ e_hat


def reconcile(bits_a: ArrayLike, bits_b: ArrayLike, p_err: ArrayLike, seed: int, *,
              f_start: float = 1.1, f_step: float = 0.05, f_max: float = 1.6, max_iter: int = 100,
              bp_method: str = "product_sum", ms_scaling_factor: float = 0.75,
              schedule: str = "parallel",
              column_weight: int | Mapping[int, float] | str = "auto") -> Reconciled:
    r"""Rate-adaptive syndrome reconciliation of the user's bits onto the BS's.

    The BS sends :math:`s = H x_a` for a code of :math:`m_0 = \lceil f_0 n \hat H\rceil` rows
    (:func:`make_code`), :math:`\hat H = \frac1n\sum_i h_2(p_i)`; the user runs BP on
    :math:`H e = H x_b \oplus s` with channel probabilities ``p_err`` and keeps
    :math:`x_b \oplus \hat e`. If BP does not converge within ``max_iter`` iterations, the BS
    reveals :math:`\lceil f n\hat H\rceil - m` further syndrome bits of appended rows
    (:func:`extend_code`) for :math:`f = f_0 + f_\Delta, f_0 + 2f_\Delta, \dots \le f_{\max}`
    (capped at :math:`n` rows), and the user decodes again from scratch with all rows.

    Parameters
    ----------
    bits_a : array_like ``(n,)``
        BS's bits (0/1); only its syndrome is used.
    bits_b : array_like ``(n,)``
        User's bits (0/1).
    p_err : float or array_like ``(n,)``
        The user's probability that its bit differs from the BS's, in :math:`[0, 0.5]`: a
        scalar (hard decisions, e.g. the estimated KDR) or per bit (soft information). Values
        are floored at 1e-7 inside BP (a finite LLR).
    seed : int
        Public seed of the code (sent in the clear); same inputs and seed, same result.
    f_start, f_step, f_max : float
        Rate schedule, in units of :math:`n\hat H` syndrome bits.
    max_iter : int
        BP iterations per decoding attempt.
    bp_method : {'product_sum', 'minimum_sum'}
        Sum-product (exact BP) or min-sum BP scaled by ``ms_scaling_factor``.
    ms_scaling_factor : float
        Normalisation of min-sum messages (ignored by product-sum).
    schedule : {'parallel', 'serial'}
        Message-passing schedule of :class:`ldpc.BpDecoder`: parallel flooding (default), or
        serial in fixed column order (fewer iterations, but ``ldpc`` recomputes each check
        per edge, which costs :math:`O(d_c^2)` and is slow for the heavy rows of high rates).
    column_weight : 'auto', int or mapping
        Column degrees of the first block (:func:`make_code`): ``'auto'`` takes the irregular
        profile of :func:`degree_profile` for :math:`\hat H`; an int gives a regular code.

    Returns
    -------
    Reconciled
        ``success`` is False, with the reason in ``message``, when BP has not converged at
        :math:`f_{\max}`; ``leaked_bits`` counts every syndrome bit sent either way.

    Notes
    -----
    The first block is sized by the entropy the user's ``p_err`` implies,
    :math:`\overline{h_2(p_i)}`, not by :math:`h_2(\bar p)`: the two agree for a scalar
    ``p_err``, and with soft information the first is the Slepian-Wolf rate of the
    soft-labelled source, which is what lets soft information leak less. The soft values must
    be calibrated: overconfident ones start too low and cost increments (or fail).

    Measured (``benchmarks/bench_reconciliation.py``, hard decisions, defaults, 5 blocks):
    median :math:`f` 1.23 / 1.18 / 1.16 / 1.10 at KDR 1 / 2 / 5 / 10 % for :math:`n = 10^4`
    and 1.21 / 1.14 / 1.16 / 1.10 for :math:`n = 10^5`.

    ``success`` means that the user's corrected string has the BS's syndrome; it does *not*
    prove equality. BP can converge to another solution :math:`\hat e = e \oplus c` with
    :math:`c` a low-weight codeword of :math:`H` (e.g. three degree-2 columns closing a cycle
    among the checks): in the benchmark one block of 40 (:math:`n = 10^5`, KDR 10 %) ended
    with ``success`` and 3 wrong bits. A hash comparison (key confirmation) must follow
    before privacy amplification, which must also remove ``leaked_bits``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a = rng.integers(0, 2, 4000)
    >>> b = a ^ (rng.random(4000) < 0.05)
    >>> r = reconcile(a, b, 0.05, seed=7)
    >>> bool(r.success), bool((r.bits == a).all()), r.leaked_bits == sum(r.rate_history)
    (True, True, True)
    """

    a, b, p = _check_inputs(bits_a, bits_b, p_err, f_start, f_step, f_max, max_iter, bp_method)
    if schedule not in ("serial", "parallel"):
        raise ValueError(f"schedule must be 'serial' or 'parallel', got {schedule!r}")
    n = a.size
    h = float(np.mean(binary_entropy(p)))
    cw = degree_profile(h) if isinstance(column_weight, str) and column_weight == "auto" else column_weight
    w_max = max(cw) if isinstance(cw, Mapping) else int(cw)
    sizes = _schedule(n, h, float(f_start), float(f_step), float(f_max), w_max)
    channel = np.clip(p, _P_FLOOR, 0.5)
    code = make_code(n, sizes[0], seed, cw)
    history: list[int] = []
    e_hat = np.zeros(n, np.uint8)
    converged, match, nit = False, False, 0
    for k, mk in enumerate(sizes):
        if k:
            code = extend_code(code, mk - code.m)
        history.append(code.m - sum(history))            # the BS discloses the new rows only
        s = code.syndrome(a)                              # rows sent so far (earlier ones unchanged)
        target = s ^ code.syndrome(b)                     # H e
        e_hat, converged, nit = _bp(code, target, channel, max_iter, bp_method, ms_scaling_factor, schedule)
        match = bool(np.array_equal(code.syndrome(b ^ e_hat), s))
        if converged and match:
            break
    leaked = int(sum(history))
    f_used = leaked / (n * h) if h > 0 else math.inf
    ok = converged and match
    if ok:
        msg = (f"converged after {len(history)} increment(s), {leaked} syndrome bits "
               f"({f_used:.3f} n h2(p))")
    elif not converged:
        msg = (f"decoder did not converge after revealing {leaked} syndrome bits "
               f"({f_used:.3f} n h2(p), f_max = {f_max})")
    else:  # pragma: no cover - BP's convergence test is the syndrome match itself
        msg = "decoder reported convergence but the syndrome does not match"
    return Reconciled(bits=b ^ e_hat, success=ok, leaked_bits=leaked, increments=len(history),
                      rate_history=tuple(history), message=msg, f=f_used, nit=nit, code=code)
