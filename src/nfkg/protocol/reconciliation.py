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
:math:`\sum_i h_2(p_i) = n\hat H` for calibrated soft information (:math:`n h_2(\mathrm{KDR})`
for hard decisions); the *reconciliation efficiency*

.. math::
    f = \frac{\text{leaked bits}}{n\,\hat H} \ge 1

is the usual figure of merit (Elkouss et al. 2009 [1]_; :func:`efficiency` with the KDR).

How the rate is chosen
----------------------
The rate adapts by incremental redundancy ("blind" reconciliation, Martinez-Mateo et al.
2012 [2]_): the BS first sends :math:`m_0 = \lceil f_0 n\hat H\rceil` syndrome bits, and while
BP does not converge it reveals further rows, up to :math:`m_k = \lceil f_k n\hat H\rceil` with
:math:`f_k = f_0 + f_\Delta(1 + g + \dots + g^{k-1})` (``f_start``, ``f_step``,
``f_growth``; at least one row more each time) as long as :math:`f_k \le f_{\max}`. The
new rows are appended to the code (:func:`extend_code`, default) or split off its rows
(:func:`split_code`), and BP continues from its messages of the previous attempt (warm start:
an attempt that fails has mostly fixed the bits already, and the new checks resolve the
rest; this beats decoding every enlarged code from scratch, which an appended code often
fails to do at any rate below 1.2). An attempt stops after ``max_iter`` iterations, or
earlier when the number of unsatisfied checks has not fallen for 10 iterations (the last
one runs to ``max_iter``). The efficiency reached is therefore about the code's threshold
plus half a step: small steps from :math:`f_0 \approx 1` cost a few extra attempts
(0.2-0.6 s each at :math:`n = 10^5`) and leak less than a first guess above the threshold.
The edge cases:

* :math:`\hat H = 0` (every :math:`p_i = 0`: no error is possible): nothing is sent; the
  result is ``success`` with ``leaked_bits = 0`` and a code with no rows. As always, key
  confirmation (a hash of the corrected block) must follow; it is the only check then.
* Tiny :math:`\hat H`: at least one row (one row is the parity of the whole block).
* :math:`m_k \ge n`: the BS discloses :math:`x_a` instead (``Reconciled.disclosed``,
  ``leaked_bits = n`` whatever was sent before, since everything sent is a function of
  :math:`x_a`; the code is the identity). With :math:`p_i = 0.5` everywhere
  (:math:`\hat H = 1`) the first message is the disclosure, :math:`f = 1`; in general
  disclosure costs :math:`f = 1/\hat H`, which at :math:`\hat H \ge 0.9` is no more than a
  code needs, so callers may as well disclose such blocks (or levels) directly.

Codes and degree profiles
-------------------------
:func:`make_code` builds an irregular code of a column-degree profile for any
:math:`1 \le m \le n` (degrees capped at :math:`m`); degree-2 columns chain the rows along a
path (no cycle among them, so no low-weight codeword made of them: BP cannot converge to a
wrong word through them), and 4-cycles are removed where they are few. The profile is chosen
by :func:`degree_profile` from :math:`\hat H` and whether ``p_err`` is soft
(:math:`h_2(\bar p) > 1.05\,\hat H`): :data:`DEGREE_TABLE` for hard decisions,
:data:`SOFT_DEGREE_TABLE` for soft information, both by density evolution, with at most
:math:`\hat H` degree-2 columns. Soft information at low :math:`\hat H` is erasure-like (a
few uncertain bits among many certain ones) and wants heavy columns (degree 20), hard
decisions do not. Constructed codes are cached (:func:`code_cache_info`), keyed by
:math:`(n, \text{rows per block}, \text{seed}, \text{profile})`, so blocks with the same code
seed and sizes reuse them; construction takes 0.05-2 s at :math:`n = 10^5` against 2-8 s
of BP per block, so the cache matters for repeated sizes (hard decisions, equal rates).

Decoders
--------
``decoder='numpy'`` (the default for the parallel schedule) is flooding BP vectorised with
numpy: product-sum in the :math:`\phi(x) = -\ln\tanh(x/2)` domain with float32 messages, or
(scaled / adaptive) min-sum, and the warm start across increments. It takes about 12 ms per
iteration at :math:`n = 10^5` (415,000 edges), 3-10 times less than :class:`ldpc.BpDecoder`
(Roffe et al. [4]_; ``decoder='ldpc'``, also the serial schedule), with the same iteration
counts. Failure is detected by BP itself: it stops when its hard decision satisfies every
check, and it is declared failed when it does not within ``max_iter`` iterations.
Ordered-statistics post-processing (``BpOsdDecoder``) is deliberately not offered: OSD
returns a word that satisfies the syndrome whether or not it is the right one, so it would
remove the only failure signal the protocol has, and its Gaussian elimination costs
seconds to minutes at :math:`n \ge 10^4`.

Measured
--------
With the recommended schedule (``f_start='auto', f_step=0.01, f_growth=1.05``) and exactly
calibrated soft inputs at :math:`n = 2\times 10^4`: :math:`f` = 1.04-1.10 at
:math:`\hat H` = 0.3 and 0.5, 1.10-1.14 at :math:`\hat H = 0.1` (``tests/test_reconciliation.py``;
``benchmarks/bench_reconciliation.py`` for :math:`n = 10^5`).

Contents
--------
binary_entropy
    :math:`h_2(p)` in bits, elementwise.
efficiency
    :math:`f = \text{leak} / (n\, h_2(\mathrm{KDR}))`.
LdpcCode
    A public parity-check matrix with the seed that rebuilds it.
make_code
    Seeded LDPC matrix with given column degrees, balanced rows, no repeated edges, for any
    number of rows.
extend_code, split_code
    Further seeded parity rows (incremental redundancy): appended, or split off existing rows.
decode
    Anyone's BP estimate of the BS's bits from a disclosed syndrome (e.g. Eve's).
DEGREE_TABLE, SOFT_DEGREE_TABLE, degree_profile
    Irregular column-degree profiles by rate, from density evolution.
code_cache_info, clear_code_cache, CODE_CACHE_BYTES
    The cache of constructed codes.
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
import threading
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike

__all__ = ["binary_entropy", "efficiency", "LdpcCode", "make_code", "extend_code", "split_code", "decode", "DEGREE_TABLE",
           "SOFT_DEGREE_TABLE", "degree_profile", "Reconciled", "reconcile", "code_cache_info", "clear_code_cache",
           "CODE_CACHE_BYTES", "AUTO_F_START", "SHUFFLED_GROUPS"]

_P_FLOOR = 1e-7          # smallest channel probability handed to BP (LLR 16.1): p = 0 would be an infinite LLR
_EXT_HIGH = 0.7          # share of an extension block's edges on the highest-degree columns
_CYCLE_BUDGET = 0.15     # make_code removes 4-cycles when a random graph has at most this many per column
_CYCLE_ROUNDS = 40       # edge-swap rounds spent on removing 4-cycles at most
_CYCLE_PATIENCE = 10     # ... and rounds without fewer of them before giving up
_DUPLICATE_ROUNDS = 1000  # rounds allowed to remove repeated edges
_LLR_MAX = 50.0          # largest |message| in the numpy BP (LLR of p = 2e-22)
_PATIENCE = 10          # numpy BP: an attempt stops after this many iterations without fewer unsatisfied checks
_PHI_MIN = 1e-6          # smallest argument of the float32 phi (phi(1e-6) = 14.5)
_SOFT_RATIO = 1.05       # p_err is "soft" when h2(mean p) exceeds mean h2(p) by this factor
#: Default bound of the cache of constructed codes [bytes of matrices] (:func:`clear_code_cache`
#: sets another); a code at n = 10^5 takes about 2-3 MB.
CODE_CACHE_BYTES = 256 << 20


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
        Bits disclosed, ``Reconciled.leaked_bits``.
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
        Seed of :func:`make_code`; :func:`extend_code` and :func:`split_code` derive their rows
        from it and the sizes, so ``(n, blocks, seed, column_weight)`` and whether the blocks
        were appended or split (:func:`reconcile`'s ``adapt``) rebuild ``H`` exactly.
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


def _csr(rows: np.ndarray, cols: np.ndarray, m: int, n: int) -> sp.csr_matrix:
    H = sp.csr_matrix((np.ones(rows.size, np.uint8), (rows, cols)), shape=(m, n))
    H.sort_indices()
    if H.nnz != rows.size:  # pragma: no cover - _untangle leaves no repeated edge; merge them if it ever did
        H.data[:] = 1
    return H


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
    o = np.argsort(rows, kind="stable")
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
    o = np.argsort(rows, kind="stable")
    return rows[o], cols[o]


def _bad_edges(rows: np.ndarray, cols: np.ndarray, m: int, n: int, movable: np.ndarray, cycles: bool,
               touched: np.ndarray | None) -> tuple[np.ndarray, bool]:
    """Indices of movable edges to move (repeated edges, else one edge per 4-cycle), and
    whether 4-cycles were looked for.

    Edges are ``(rows[i], cols[i])``, sorted by row; ``movable`` marks those that may move.
    A 4-cycle is a pair of rows that two columns share: every column lists its row pairs, and
    a pair listed twice is a 4-cycle; the edge moved is a movable edge of one of the columns
    (the later row's, if movable). With ``touched`` (a boolean mask of rows), only repeats and
    cycles through those rows are looked for: after a round of swaps, new ones can only pass
    through the rows it changed.
    """
    look = movable if touched is None else movable & touched[rows]
    sel = np.flatnonzero(look)
    key = rows[sel] * n + cols[sel]
    order = np.argsort(key, kind="stable")
    ks = key[order]
    rep = np.zeros(ks.size, bool)
    rep[1:] = ks[1:] == ks[:-1]
    dup = sel[order[rep]]                 # the later copy of each repeated edge (both movable)
    if dup.size or not cycles:
        return np.unique(dup), False
    # edges of each column, grouped by column degree: (n_d, d) arrays, rows ascending
    by_col = np.argsort(cols, kind="stable")          # rows are sorted, so each column's rows ascend
    deg = np.bincount(cols, minlength=n)
    start = np.concatenate([[0], np.cumsum(deg)])
    open_row = np.zeros(m, bool)                                        # rows with a movable edge
    open_row[rows[movable]] = True
    pair_key, pair_e1, pair_e2 = [], [], []
    for d in np.unique(deg[deg >= 2]).tolist():
        cs = np.flatnonzero(deg == d)
        E = by_col[start[cs][:, None] + np.arange(d)]                   # (n_d, d) edge indices
        i, j = np.triu_indices(d, 1)
        e1, e2 = E[:, i], E[:, j]
        # pairs in a cycle that a swap can break: with a movable edge, or fixed but in two rows
        # whose other columns may move
        keep = movable[e1] | movable[e2] | (open_row[rows[e1]] & open_row[rows[e2]])
        if touched is not None:
            keep &= touched[rows[e1]] | touched[rows[e2]]
        pair_key.append((rows[e1] * m + rows[e2])[keep])
        pair_e1.append(e1[keep])
        pair_e2.append(e2[keep])
    if not pair_key:
        return dup, True
    pk, e1, e2 = np.concatenate(pair_key), np.concatenate(pair_e1), np.concatenate(pair_e2)
    o = np.lexsort((movable[e1] | movable[e2], pk))                    # per pair: fixed columns first
    pk, e1, e2 = pk[o], e1[o], e2[o]
    again = np.flatnonzero(pk[1:] == pk[:-1]) + 1                      # a pair's 2nd, 3rd... column
    if again.size == 0:
        return dup, True
    edge = np.where(movable[e2[again]], e2[again], e1[again])
    return np.unique(edge[movable[edge]]), True


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
    for it in range(_DUPLICATE_ROUNDS):
        bad, looked = _bad_edges(rows, cols, m, n, movable, cycles, touched)
        if bad.size == 0:
            if touched is None or not cycles:
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
        e.g. ``{2: 0.2, 3: 0.7, 8: 0.1}`` (node perspective; see :data:`DEGREE_TABLE`).
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
        o = np.argsort(rows, kind="stable")
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
    n = 10^5 and :func:`reconcile`'s warm start, blocks decoded at f = 1.11-1.20 with this
    rule, 1.64-1.97 with uniformly random columns, 1.64-2.44 lowest degree first and
    1.79-2.18 degree 3 first. Decoded from scratch, an extended code is weaker than a fresh
    one of the same size (KDR 10 %, n = 10^4, f = 1.0 extended to 1.15: 2 of 12 blocks, fresh
    codes 11 of 12, :func:`split_code` 12 of 12); continuing BP from the previous attempt's
    messages, as :func:`reconcile` does, is what makes appending rows work.

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
    order = np.lexsort((rng.random(n), -deg))         # highest degree first, random ties
    if e_high < n:
        rest = rng.permutation(order[e_high:])
        sockets = np.concatenate([order[:e_high], np.tile(rest, -(-(e - e_high) // rest.size))[: e - e_high]])
    else:
        sockets = np.tile(order, -(-e // n))[:e]
    sockets = sockets[np.argsort(rng.permutation(n)[sockets], kind="stable")]   # grouped by column
    new_rows, new_cols = _deal(sockets, k, rng)
    old = code.H.tocoo()                               # canonical csr: row-major order
    rows = np.concatenate([old.row.astype(np.int64), m0 + new_rows])
    cols = np.concatenate([old.col.astype(np.int64), new_cols])
    cols = _untangle(rows, cols, m0 + k, n, rows >= m0, rng, False)
    ext = LdpcCode(_csr(rows, cols, m0 + k, n), code.seed, code.column_weight, (*code.blocks, k))
    return _CACHE.put(key, ext) if key is not None else ext


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


# --------------------------------------------------------------------------------------------
# belief propagation
# --------------------------------------------------------------------------------------------

def _phi(x: np.ndarray) -> np.ndarray:
    r""":math:`\phi(x) = -\ln\tanh(x/2) = \ln\frac{1+e^{-x}}{1-e^{-x}}` for :math:`x > 0` (its own
    inverse), in float32 (numpy's float32 exp and log are vectorised: 5-8 times faster than
    float64 ``expm1``/``log1p``), :math:`2e^{-x}` above 8 (relative error :math:`e^{-2x}/3`,
    where the quotient would round), with ``x`` clipped to ``[_PHI_MIN, _LLR_MAX]``, so at most
    :math:`\phi(10^{-6}) = 14.5`."""
    x = np.clip(x, _PHI_MIN, _LLR_MAX, dtype=np.float32)
    big = x > 8.0
    np.negative(x, out=x)
    np.exp(x, out=x)
    den = np.subtract(np.float32(1.0), x)
    tail = x + x
    x += np.float32(1.0)
    x /= den
    np.log(x, out=x)
    return np.where(big, tail, x)


class _Graph:
    """Edge arrays of a parity-check matrix for :func:`_bp_numpy` (CSR order: by row)."""

    def __init__(self, H: sp.csr_matrix):
        H = H.tocsr()
        if not H.has_sorted_indices:
            H = H.sorted_indices()
        self.m, self.n = H.shape
        weight = np.diff(H.indptr)
        self.live = np.flatnonzero(weight > 0)                  # rows with at least one edge
        self.col = H.indices.astype(np.intp)
        self.starts = H.indptr[:-1][self.live]
        self.row = np.repeat(np.arange(self.live.size), weight[self.live])   # live-row index of each edge
        self._groups: dict = {}

    def groups(self, count: int) -> list[tuple]:
        """The live rows cut into ``count`` consecutive groups (the shuffled schedule): per group
        ``(first edge, end edge, first live row, end live row, cols, row starts, row of each edge,
        distinct columns, each edge's index among them)``."""
        count = max(1, min(int(count), self.live.size))
        if count not in self._groups:
            edges = np.concatenate([self.starts, [self.col.size]]).astype(np.int64)
            cuts = np.linspace(0, self.live.size, count + 1).round().astype(np.int64)
            out = []
            for r0, r1 in zip(cuts[:-1].tolist(), cuts[1:].tolist()):
                e0, e1 = int(edges[r0]), int(edges[r1])
                col = self.col[e0:e1]
                ucol, inv = np.unique(col, return_inverse=True)
                out.append((e0, e1, r0, r1, col, (self.starts[r0:r1] - e0).astype(np.intp),
                            (self.row[e0:e1] - r0).astype(np.intp), ucol, inv.astype(np.intp)))
            self._groups[count] = out
        return self._groups[count]


def _bp_numpy(graph: _Graph, target: np.ndarray, llr: np.ndarray, max_iter: int, bp_method: str,
              ms_scaling_factor: float, c2v: np.ndarray | None = None,
              patience: int = 0) -> tuple[np.ndarray, bool, int, np.ndarray]:
    r"""Flooding BP on :math:`H e = t` in the log domain, vectorised with numpy.

    Returns ``(e_hat, converged, iterations, c2v)``: ``c2v`` (check-to-bit messages, one per
    edge in CSR order) can be passed back to continue from, also after rows were appended
    (their edges come last; they start from zero). ``patience > 0`` stops early when the
    number of unsatisfied checks has not reached a new minimum for that many iterations.
    Product-sum: :math:`c \to v` magnitude :math:`\phi(\sum_{v' \ne v} \phi(|m_{v'}|))`;
    min-sum: the smallest other :math:`|m_{v'}|` times ``ms_scaling_factor`` (0: the adaptive
    :math:`1 - 2^{-t}` of ``ldpc``). Messages are float32, clipped at :data:`_LLR_MAX`; the
    posterior LLRs are summed in float64.
    """
    g = graph
    syn_all = np.asarray(target, dtype=bool)
    dead = np.ones(g.m, bool)
    dead[g.live] = False
    if syn_all[dead].any():            # an empty row with syndrome 1 cannot be satisfied
        return (llr < 0).astype(np.uint8), False, 0, np.zeros(g.col.size, np.float32)
    syn = syn_all[g.live]
    col, row, starts = g.col, g.row, g.starts
    if c2v is None:
        c2v = np.zeros(col.size, np.float32)
    elif c2v.size < col.size:
        c2v = np.concatenate([c2v.astype(np.float32), np.zeros(col.size - c2v.size, np.float32)])
    L = (llr + np.bincount(col, weights=c2v, minlength=g.n)).astype(np.float32)
    hard = L < 0
    best, since, it = np.inf, 0, 0
    for it in range(1, int(max_iter) + 1):
        v2c = L[col]
        v2c -= c2v
        neg = v2c < 0
        flip = np.bitwise_xor.reduceat(neg.view(np.uint8), starts).view(bool) ^ syn
        sign = flip[row]
        sign ^= neg                                             # outgoing message negative
        a = np.abs(v2c, out=v2c)
        if bp_method == "product_sum":
            ph = _phi(a)
            ex = np.add.reduceat(ph, starts, dtype=np.float64)[row]
            ex -= ph
            mag = _phi(ex)
        else:
            min1 = np.minimum.reduceat(a, starts)
            is_min = a == min1[row]
            n_min = np.add.reduceat(is_min.astype(np.int32), starts)
            min2 = np.minimum.reduceat(np.where(is_min, np.float32(np.inf), a), starts)
            min2 = np.where(n_min > 1, min1, min2)
            alpha = float(ms_scaling_factor) if ms_scaling_factor != 0 else 1.0 - 2.0 ** (-it)
            mag = np.where(is_min, min2[row], min1[row])
            np.minimum(mag, np.float32(_LLR_MAX), out=mag)
            mag *= np.float32(alpha)
        c2v = np.where(sign, -mag, mag)
        L = (llr + np.bincount(col, weights=c2v, minlength=g.n)).astype(np.float32)
        hard = L < 0
        unsat = np.bitwise_xor.reduceat(hard[col].view(np.uint8), starts).view(bool) ^ syn
        bad = int(np.count_nonzero(unsat))
        if bad == 0:
            return hard.astype(np.uint8), True, it, c2v
        if patience:
            if bad < best:
                best, since = bad, 0
            else:
                since += 1
                if since >= patience:
                    break
    return hard.astype(np.uint8), False, it, c2v


def _check_messages(v2c: np.ndarray, starts: np.ndarray, row: np.ndarray, syn: np.ndarray, bp_method: str,
                    ms_scaling_factor: float, it: int) -> np.ndarray:
    """Check-to-bit messages (float32, CSR edge order) of rows given their bit-to-check
    messages ``v2c`` (modified in place): product-sum in the phi domain or scaled min-sum."""
    neg = v2c < 0
    flip = np.bitwise_xor.reduceat(neg.view(np.uint8), starts).view(bool) ^ syn
    sign = flip[row]
    sign ^= neg
    a = np.abs(v2c, out=v2c)
    if bp_method == "product_sum":
        ph = _phi(a)
        ex = np.add.reduceat(ph, starts, dtype=np.float64)[row]
        ex -= ph
        mag = _phi(ex)
    else:
        min1 = np.minimum.reduceat(a, starts)
        is_min = a == min1[row]
        n_min = np.add.reduceat(is_min.astype(np.int32), starts)
        min2 = np.minimum.reduceat(np.where(is_min, np.float32(np.inf), a), starts)
        min2 = np.where(n_min > 1, min1, min2)
        alpha = float(ms_scaling_factor) if ms_scaling_factor != 0 else 1.0 - 2.0 ** (-it)
        mag = np.where(is_min, min2[row], min1[row])
        np.minimum(mag, np.float32(_LLR_MAX), out=mag)
        mag *= np.float32(alpha)
    np.negative(mag, out=mag, where=sign)
    return mag


#: Row groups of the shuffled schedule (:func:`_bp_shuffled`).
SHUFFLED_GROUPS = 16


def _bp_shuffled(graph: _Graph, target: np.ndarray, llr: np.ndarray, max_iter: int, bp_method: str,
                 ms_scaling_factor: float, c2v: np.ndarray | None = None, patience: int = 0,
                 groups: int = SHUFFLED_GROUPS) -> tuple[np.ndarray, bool, int, np.ndarray]:
    r"""Group-shuffled BP on :math:`H e = t`: the rows in ``groups`` consecutive groups, each
    group's checks updated in turn from the posteriors the groups before it left
    (Zhang and Fossorier's shuffled / row-layered schedule); same messages, same arguments and
    returns as :func:`_bp_numpy`. Each iteration costs what a flooding one costs, and
    convergence takes about half the iterations (measured on multilevel blocks of
    :math:`10^5` bits at h = 0.4: 54 against 101 at f = 1.06, 34 against 65 at 1.08)."""
    g = graph
    syn_all = np.asarray(target, dtype=bool)
    dead = np.ones(g.m, bool)
    dead[g.live] = False
    if syn_all[dead].any():            # an empty row with syndrome 1 cannot be satisfied
        return (llr < 0).astype(np.uint8), False, 0, np.zeros(g.col.size, np.float32)
    syn = syn_all[g.live]
    if c2v is None:
        c2v = np.zeros(g.col.size, np.float32)
    else:
        c2v = np.concatenate([c2v.astype(np.float32), np.zeros(g.col.size - c2v.size, np.float32)]) \
            if c2v.size < g.col.size else c2v.astype(np.float32, copy=True)
    L = llr + np.bincount(g.col, weights=c2v, minlength=g.n)
    parts = g.groups(groups)
    best, since, it = np.inf, 0, 0
    hard = L < 0
    for it in range(1, int(max_iter) + 1):
        for e0, e1, r0, r1, col, starts, row, ucol, inv in parts:
            old = c2v[e0:e1]
            v2c = L[col].astype(np.float32)
            v2c -= old
            new = _check_messages(v2c, starts, row, syn[r0:r1], bp_method, ms_scaling_factor, it)
            L[ucol] += np.bincount(inv, weights=new - old, minlength=ucol.size)
            c2v[e0:e1] = new
        hard = L < 0
        unsat = np.bitwise_xor.reduceat(hard[g.col].view(np.uint8), g.starts).view(bool) ^ syn
        bad = int(np.count_nonzero(unsat))
        if bad == 0:
            return hard.astype(np.uint8), True, it, c2v
        if patience:
            if bad < best:
                best, since = bad, 0
            else:
                since += 1
                if since >= patience:
                    break
    return hard.astype(np.uint8), False, it, c2v


def _bp_ldpc(code: LdpcCode, target: np.ndarray, channel: np.ndarray, max_iter: int, bp_method: str,
             ms_scaling_factor: float, schedule: str) -> tuple[np.ndarray, bool, int]:
    """One BP decoding of ``H e = target`` with :class:`ldpc.BpDecoder`: (e_hat, converged, iterations)."""
    import ldpc

    dec = ldpc.BpDecoder(code.H, error_channel=channel, max_iter=int(max_iter), bp_method=bp_method,
                         ms_scaling_factor=float(ms_scaling_factor), schedule=schedule,
                         input_vector_type="syndrome")
    e_hat = np.asarray(dec.decode(np.asarray(target, np.uint8)), dtype=np.uint8)
    return e_hat, bool(dec.converge), int(dec.iter)


def _is_identity(code: LdpcCode) -> bool:
    H = code.H
    return H.shape[0] == H.shape[1] and H.nnz == H.shape[0] and \
        bool(np.array_equal(H.indices, np.arange(H.shape[0]))) and bool(np.array_equal(H.indptr, np.arange(H.shape[0] + 1)))


def _check_decoder(decoder: str, schedule: str) -> str:
    if decoder not in ("auto", "numpy", "ldpc"):
        raise ValueError(f"decoder must be 'auto', 'numpy' or 'ldpc', got {decoder!r}")
    if schedule not in ("serial", "parallel", "shuffled"):
        raise ValueError(f"schedule must be 'serial', 'parallel' or 'shuffled', got {schedule!r}")
    if decoder == "numpy" and schedule == "serial":
        raise ValueError("the numpy decoder has the parallel and shuffled schedules only; use decoder='ldpc'")
    if decoder == "ldpc" and schedule == "shuffled":
        raise ValueError("the shuffled schedule is the numpy decoder's; use decoder='numpy' or 'auto'")
    return ("ldpc" if schedule == "serial" else "numpy") if decoder == "auto" else decoder


def _run_numpy(schedule: str, graph: _Graph, target, llr, max_iter, bp_method, ms_scaling_factor, c2v=None,
               patience: int = 0):
    bp = _bp_shuffled if schedule == "shuffled" else _bp_numpy
    return bp(graph, target, llr, max_iter, bp_method, ms_scaling_factor, c2v, patience)


def decode(code: LdpcCode, syndrome: ArrayLike, bits: ArrayLike, p_err: ArrayLike, *, max_iter: int = 100,
           bp_method: str = "product_sum", ms_scaling_factor: float = 0.75,
           schedule: str = "parallel", decoder: str = "auto", patience: int = 0) -> np.ndarray:
    """Any party's estimate of the BS's bits from a disclosed syndrome ``H x_a`` and its own
    ``bits`` with error probabilities ``p_err`` (e.g. Eve running the public protocol).

    A code without rows (nothing was sent) returns ``bits``; the identity code of a disclosed
    block (``Reconciled.disclosed``) returns the syndrome, which is then ``x_a`` itself.
    ``decoder`` and ``schedule`` as in :func:`reconcile`; ``patience > 0`` (numpy decoder) stops
    when the number of unsatisfied checks has not reached a new minimum for that many
    iterations.
    """
    b = np.asarray(bits, dtype=np.uint8)
    s = np.asarray(syndrome, dtype=np.uint8)
    engine = _check_decoder(decoder, schedule)
    if code.m == 0:
        return b.copy()
    if _is_identity(code):
        return s.copy()
    channel = np.clip(np.broadcast_to(np.asarray(p_err, float), b.shape), _P_FLOOR, 0.5)
    target = s ^ code.syndrome(b)
    if engine == "ldpc":
        e_hat, _, _ = _bp_ldpc(code, target, channel, max_iter, bp_method, ms_scaling_factor, schedule)
    else:
        llr = np.log1p(-channel) - np.log(channel)
        e_hat, _, _, _ = _run_numpy(schedule, _Graph(code.H), target, llr, max_iter, bp_method, ms_scaling_factor,
                                    None, int(patience))
    return b ^ e_hat


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
        BP converged *and* :math:`H x = s \pmod 2` for every row sent (or the block was
        disclosed, or nothing had to be sent).
    leaked_bits : int
        Information disclosed [bits]: the syndrome bits sent, all increments together
        (``sum(rate_history)``), except for a disclosed block, where it is ``n`` (everything
        sent is a function of the BS's ``n`` bits).
    increments : int
        Messages sent (``len(rate_history)``; 0 when nothing was sent).
    rate_history : tuple of int
        Bits of each message: syndrome bits, and ``n`` for a disclosure.
    message : str
        Why it stopped.
    f : float
        ``leaked_bits / (n * H_hat)``: the efficiency against the entropy the user's ``p_err``
        implies (:func:`efficiency` with the true KDR is the figure of merit); 1.0 when
        :math:`\hat H = 0` and nothing was sent.
    nit : int
        BP iterations of the last decoding (0 when none ran).
    code : LdpcCode
        The public code, all rows sent: ``m = 0`` when nothing was sent, the ``n x n``
        identity when the block was disclosed (its syndrome is the BS's bits).
    disclosed : bool
        The BS's bits were sent in the clear (the schedule reached ``n`` rows).
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
    disclosed: bool = False


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
    rows (:func:`make_code`) and form no cycle, i.e. no low-weight codeword on which BP could
    converge to a wrong word.

    Examples
    --------
    >>> degree_profile(binary_entropy(0.01))
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


def _bits(x, name: str) -> np.ndarray:
    a = np.asarray(x)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of bits, got shape {a.shape}")
    if not np.isin(a, (0, 1)).all():
        raise ValueError(f"{name} must contain only 0 and 1")
    return a.astype(np.uint8)


def _check_inputs(bits_a, bits_b, p_err, f_start, f_step, f_max, f_growth, max_iter, bp_method):
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
    if isinstance(f_start, str):
        if f_start != "auto":
            raise ValueError(f"f_start must be a number or 'auto', got {f_start!r}")
        f_start = min(AUTO_F_START[-1][1], float(f_max))
    if not (f_start > 0 and f_step > 0 and f_max >= f_start):
        raise ValueError(f"need f_start > 0, f_step > 0 and f_max >= f_start, got "
                         f"{f_start}, {f_step}, {f_max}")
    if not f_growth >= 1.0:
        raise ValueError(f"f_growth must be at least 1, got {f_growth}")
    if int(max_iter) < 1:
        raise ValueError(f"max_iter must be at least 1, got {max_iter}")
    if bp_method not in ("product_sum", "minimum_sum"):
        raise ValueError(f"bp_method must be 'product_sum' or 'minimum_sum', got {bp_method!r}")
    return a, b, np.broadcast_to(p, (n,)).astype(float)


#: ``f_start='auto'``: the first message at these f, by the largest :math:`\hat H` each is used
#: for; just below the smallest f that decoded any calibrated soft block at n = 10^5 (1.08 at
#: h <= 0.1, 1.05 above; module notes), so that starting there loses no efficiency against
#: starting at 1.0 and saves 3-6 attempts (about half the time per block).
AUTO_F_START: tuple = ((0.2, 1.05), (1.0, 1.03))


def _auto_f_start(h: float, f_max: float) -> float:
    f0 = next((f for h_max, f in AUTO_F_START if h <= h_max), AUTO_F_START[-1][1])
    return min(f0, f_max)


def _on_grid(m: int, grid: float) -> int:
    """The smallest value ``ceil((1 + grid)^j) >= m`` (``m`` itself for ``grid = 0``)."""
    if grid <= 0 or m <= 1:
        return m
    j = math.ceil(math.log(m) / math.log1p(grid) - 1e-9)
    while math.ceil((1.0 + grid) ** j) < m:
        j += 1
    return max(m, math.ceil((1.0 + grid) ** j))


def _schedule(n: int, h: float, f_start: float, f_step: float, f_max: float, f_growth: float = 1.0,
              grid: float = 0.0, floor: float = 0.0) -> list[int]:
    """Cumulative rows after each increment: ceil(f_k n h) for f_0 = f_start and steps
    f_step, f_step f_growth, f_step f_growth^2, ... while f_k <= f_max, rounded up onto the
    geometric ``grid`` (:func:`_on_grid`), at least ``max(1, ceil(floor n))`` rows more each
    time; a size of n or more ends the list with n (disclosure). Empty for h = 0."""
    if not h > 0:
        return []
    sizes: list[int] = []
    f, step = f_start, f_step
    for k in range(1_000_000):
        if k:
            f, step = (f_start + k * f_step, f_step) if f_growth == 1.0 else (f + step, step * f_growth)
        if f > f_max + 1e-9:
            break
        mk = _on_grid(max(1, math.ceil(f * n * h - 1e-9)), grid)
        if sizes:
            if floor > 0 and mk < sizes[-1] + math.ceil(floor * n):
                continue                                   # too small a step: take the next f
            mk = max(mk, sizes[-1] + 1)
        if mk >= n:
            sizes.append(n)
            break
        sizes.append(mk)
    return sizes


def _carry_messages(old: LdpcCode, new: LdpcCode, c2v: np.ndarray) -> np.ndarray:
    """Check-to-bit messages of ``old`` moved onto the edges of ``new`` (warm start): an edge
    keeps the message of its edge in the row it was split from (or itself); edges of
    appended rows start from zero."""
    n = new.n
    parents = _row_parents(old, new)
    w_new = np.diff(new.H.indptr)
    p = parents[np.repeat(np.arange(new.m), w_new)]
    keys_old = np.repeat(np.arange(old.m, dtype=np.int64), np.diff(old.H.indptr)) * n + old.H.indices
    known = np.flatnonzero(p >= 0)
    keys = p[known] * n + new.H.indices[known]
    idx = np.minimum(np.searchsorted(keys_old, keys), keys_old.size - 1)
    hit = keys_old[idx] == keys
    out = np.zeros(new.H.nnz, np.float32)
    out[known[hit]] = c2v[idx[hit]]
    return out


def _identity_code(n: int, seed: int) -> LdpcCode:
    H = sp.identity(n, dtype=np.uint8, format="csr")
    return LdpcCode(H, int(seed), 1, (n,))


def reconcile(bits_a: ArrayLike, bits_b: ArrayLike, p_err: ArrayLike, seed: int, *,
              f_start: float | str = "auto", f_step: float = 0.01, f_max: float = 2.0, max_iter: int = 100,
              bp_method: str = "product_sum", ms_scaling_factor: float = 0.75,
              schedule: str = "parallel",
              column_weight: int | Mapping[int, float] | str = "auto",
              f_growth: float = 1.0, adapt: str = "extend", decoder: str = "auto",
              restart: bool = False, cache: bool = True, size_grid: float = 0.0,
              step_floor: float = 0.0) -> Reconciled:
    r"""Rate-adaptive syndrome reconciliation of the user's bits onto the BS's.

    The BS sends :math:`s = H x_a` for a code of :math:`m_0 = \lceil f_0 n \hat H\rceil` rows
    (:func:`make_code`), :math:`\hat H = \frac1n\sum_i h_2(p_i)`; the user runs BP on
    :math:`H e = H x_b \oplus s` with channel probabilities ``p_err`` and keeps
    :math:`x_b \oplus \hat e`. While BP does not converge, the BS reveals
    :math:`\lceil f_k n\hat H\rceil - m` further syndrome bits of new rows (appended by
    :func:`extend_code` or split off by :func:`split_code`, ``adapt``) for
    :math:`f_k = f_0 + f_\Delta (1 + g + \dots + g^{k-1}) \le f_{\max}`, and the user's BP
    continues from its last messages (see the module notes: *How the rate is chosen*, with
    the edge cases :math:`\hat H = 0`, nothing sent, and :math:`m_k \ge n`, disclosure).

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
        Blocks that pass the same seed, length and rate reuse the cached code.
    f_start : float or 'auto'
        The first message, in units of :math:`n\hat H` syndrome bits; ``'auto'`` (default):
        :data:`AUTO_F_START` for :math:`\hat H` (1.05 up to 0.2, 1.03 above), just below
        where calibrated soft blocks of :math:`10^5` bits start to decode.
    f_step, f_max : float
        The first step and the most ever sent, in the same units. The recommendation for the
        protocol is ``f_start='auto', f_step=0.01, f_growth=1.05, f_max=3.0, max_iter=100``
        (module notes, *Measured*).
    max_iter : int
        BP iterations per decoding attempt at most.
    bp_method : {'product_sum', 'minimum_sum'}
        Sum-product (exact BP) or min-sum BP scaled by ``ms_scaling_factor``.
    ms_scaling_factor : float
        Normalisation of min-sum messages, 0 for the adaptive :math:`1 - 2^{-t}` at
        iteration :math:`t` (ignored by product-sum).
    schedule : {'parallel', 'serial', 'shuffled'}
        Message passing: parallel flooding (default); group-shuffled, the rows in
        :data:`SHUFFLED_GROUPS` groups updated in turn (numpy decoder; about half the
        iterations at the same cost per iteration, the protocol's choice); or serial in fixed
        column order, which only ``decoder='ldpc'`` has (fewer iterations, but ``ldpc``
        recomputes each check per edge, which costs :math:`O(d_c^2)` and is slow for the heavy
        rows of high rates).
    column_weight : 'auto', int or mapping
        Column degrees of the first block (:func:`make_code`): ``'auto'`` takes the irregular
        profile of :func:`degree_profile` for :math:`\hat H` (the soft table when ``p_err``
        is soft); an int gives a regular code.
    f_growth : float
        Each step is ``f_growth`` times the previous one (at least 1; 1 keeps ``f_step``):
        small steps near the threshold, few attempts when a block is far off.
    adapt : {'extend', 'split'}
        How the rate grows: append rows (:func:`extend_code`, default: with small steps and
        the warm start it leaks 0.01-0.03 less than splitting) or split rows
        (:func:`split_code`: every intermediate code is a fresh-like code, better when each
        attempt decodes from scratch, ``restart=True`` or ``decoder='ldpc'``).
    decoder : {'auto', 'numpy', 'ldpc'}
        BP implementation: the vectorised numpy one (``'auto'`` with the parallel schedule;
        warm start, early stop) or :class:`ldpc.BpDecoder` (``'auto'`` with the serial
        schedule; every attempt from scratch).
    restart : bool
        Decode every attempt from scratch (numpy decoder) instead of continuing.
    cache : bool
        Use the cache of constructed codes (:func:`code_cache_info`).
    size_grid : float
        Round every syndrome size up onto the geometric grid :math:`\lceil(1+g)^j\rceil`
        (0: exact sizes). Blocks of one length, seed and similar :math:`\hat H` then ask for
        the same first size and reuse the cached code (construction with 4-cycle removal takes
        0.3-1 s at :math:`n = 10^5`); the leak grows by at most the fraction ``size_grid``.
    step_floor : float
        Every increment reveals at least this fraction of ``n`` rows (0: one row): a step of
        0.01 in f is :math:`0.01 n\hat H` rows, a few rows at :math:`\hat H \approx 0.006`, and
        such a level would take a dozen attempts to climb 0.15 in f; with a floor of
        :math:`5\cdot 10^{-4}` it takes three, and the leak grows by at most
        :math:`5\cdot 10^{-4}` bit per bit, wherever it stops.

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

    ``success`` means that the user's corrected string has the BS's syndrome; it does *not*
    prove equality. BP can converge to another solution :math:`\hat e = e \oplus c` with
    :math:`c` a low-weight codeword of :math:`H` (cycles of degree-2 columns were the usual
    ones; :func:`make_code` now chains them without cycles). A hash comparison (key
    confirmation) must follow before privacy amplification, which must also remove
    ``leaked_bits``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> a = rng.integers(0, 2, 4000)
    >>> b = a ^ (rng.random(4000) < 0.05)
    >>> r = reconcile(a, b, 0.05, seed=7)
    >>> bool(r.success), bool((r.bits == a).all()), r.leaked_bits == sum(r.rate_history)
    (True, True, True)
    >>> r = reconcile(a, a, 0.0, seed=7)                       # no error possible: nothing sent
    >>> bool(r.success), r.leaked_bits, r.code.m
    (True, 0, 0)
    >>> r = reconcile(a, b, 0.5, seed=7)                       # h = 1: disclosed
    >>> r.disclosed, r.leaked_bits, bool((r.bits == a).all())
    (True, 4000, True)
    """
    a, b, p = _check_inputs(bits_a, bits_b, p_err, f_start, f_step, f_max, f_growth, max_iter, bp_method)
    engine = _check_decoder(decoder, schedule)
    if adapt not in ("split", "extend"):
        raise ValueError(f"adapt must be 'split' or 'extend', got {adapt!r}")
    n = a.size
    hs = binary_entropy(p)
    h = float(np.mean(hs))
    soft = bool(h > 0 and float(binary_entropy(float(np.mean(p)))) > _SOFT_RATIO * h)
    cw = degree_profile(h, soft) if isinstance(column_weight, str) and column_weight == "auto" else column_weight
    if isinstance(cw, str):
        raise ValueError(f"column_weight must be 'auto', an int or a mapping, got {column_weight!r}")
    f0 = _auto_f_start(h, float(f_max)) if isinstance(f_start, str) else float(f_start)
    if not (math.isfinite(size_grid) and 0.0 <= size_grid < 1.0):
        raise ValueError(f"size_grid must be in [0, 1), got {size_grid}")
    if not (math.isfinite(step_floor) and 0.0 <= step_floor < 1.0):
        raise ValueError(f"step_floor must be in [0, 1), got {step_floor}")
    sizes = _schedule(n, h, f0, float(f_step), float(f_max), float(f_growth), float(size_grid), float(step_floor))
    if not sizes:                                       # h = 0: no error is possible
        return Reconciled(bits=b.copy(), success=True, leaked_bits=0, increments=0, rate_history=(),
                          message="nothing sent: p_err is 0 for every bit (h = 0)", f=1.0, nit=0,
                          code=LdpcCode(sp.csr_matrix((0, n), dtype=np.uint8), int(seed), cw, ()))
    channel = np.clip(p, _P_FLOOR, 0.5)
    llr = np.log1p(-channel) - np.log(channel)
    history: list[int] = []
    e_hat = np.zeros(n, np.uint8)
    converged, match, nit, c2v, code = False, False, 0, None, None
    for k, mk in enumerate(sizes):
        if mk >= n:                                     # disclosure: x_a in the clear
            history.append(n)
            code = _identity_code(n, seed)
            leaked = n
            return Reconciled(bits=a.copy(), success=True, leaked_bits=leaked, increments=len(history),
                              rate_history=tuple(history),
                              message=(f"disclosed: the schedule reached n = {n} rows after {len(history) - 1} "
                                       f"syndrome message(s) ({leaked / (n * h):.3f} n h2(p))"),
                              f=leaked / (n * h), nit=nit, code=code, disclosed=True)
        if code is None:
            code = make_code(n, mk, seed, cw, cache=cache)
        else:
            prev = code
            grow = split_code if adapt == "split" else extend_code
            code = grow(prev, mk - prev.m, cache=cache)
            if c2v is not None:
                c2v = _carry_messages(prev, code, c2v)
        history.append(code.m - sum(history))            # the BS discloses the new rows only
        s = code.syndrome(a)                              # rows sent so far (earlier ones unchanged)
        target = s ^ code.syndrome(b)                     # H e
        if engine == "ldpc":
            e_hat, converged, nit = _bp_ldpc(code, target, channel, max_iter, bp_method, ms_scaling_factor, schedule)
        else:
            e_hat, converged, nit, c2v = _run_numpy(schedule, _Graph(code.H), target, llr, max_iter, bp_method,
                                                    ms_scaling_factor, None if restart else c2v,
                                                    _PATIENCE if k < len(sizes) - 1 else 0)
        match = bool(np.array_equal(code.syndrome(b ^ e_hat), s))
        if converged and match:
            break
    leaked = int(sum(history))
    f_used = leaked / (n * h)
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
