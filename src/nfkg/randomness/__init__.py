r"""NIST SP 800-22 Rev. 1a statistical tests for random bit sequences, vectorised.

The fifteen tests of A. Rukhin et al., *A Statistical Test Suite for Random and
Pseudorandom Number Generators for Cryptographic Applications*, NIST SP 800-22
Rev. 1a (2010), with the parameters, constants and conventions of NIST's reference
code sts-2.1.2, so that every P-value of the document's Appendix B is reproduced to
six decimals. Each test is a pure function of a 1-D array of bits (0/1, ``uint8`` or
``bool``) that returns a :class:`NistResult`: the test name, every P-value (a tuple),
a label per P-value, the parameters used, and whether the test could be applied.

A test that cannot be applied to the sequence (shorter than SP 800-22's recommended
minimum, too few cycles for the random excursions tests, a reference-code check that
fails, ...) returns ``applicable=False``, no P-value and the reason. ``strict=False``
lifts the *recommendations* (minimum lengths, parameter ranges, J >= 500) and keeps
only what the arithmetic needs, which is how the document's 10- and 20-bit worked
examples are computed.

Where the reference code (which produced Appendix B) differs from the text of the
document, this module follows the reference code and says so in the function's
docstring: the overlapping-template probabilities, the linear-complexity class
probability :math:`\pi_0 = 0.01047`, the approximate longest-run probabilities for
M = 10^4, the DFT threshold :math:`\sqrt{2.995732274\,n}` counted over
:math:`|X_0| .. |X_{n/2-1}|`, and the truncating integer division of the cumulative-sums
summation limits. Options (``probabilities=``, ``sigma_correction=``) select the exact
constants, or the rounded ones some of the document's worked examples use.

Contents
--------
Input
    unpack
        Packed bytes (MSB first) to a bit array.
    aperiodic_templates
        The aperiodic templates of length m, in the order of NIST's template files.
Tests (SP 800-22 section)
    frequency (2.1), block_frequency (2.2), runs (2.3), longest_run_of_ones (2.4),
    binary_matrix_rank (2.5), discrete_fourier_transform (2.6),
    non_overlapping_template_matching (2.7), overlapping_template_matching (2.8),
    universal (2.9), linear_complexity (2.10), serial (2.11),
    approximate_entropy (2.12), cumulative_sums (2.13), random_excursions (2.14),
    random_excursions_variant (2.15)
Suite
    run_all
        All fifteen tests with their default parameters and a pass/fail per P-value.
    key_verdict
        One verdict for one sequence (a key): the applicable tests, Bonferroni over
        all their P-values.
Results
    NistResult, SuiteResult

Examples
--------
>>> import numpy as np
>>> from nfkg import randomness as nist
>>> bits = np.random.default_rng(1).integers(0, 2, 10_000, dtype=np.uint8)
>>> r = nist.frequency(bits)
>>> r.name, len(r.p_values), r.applicable
('frequency', 1, True)
>>> suite = nist.run_all(bits)
>>> suite["random_excursions"].reason.startswith("n = 10000 < 1000000")
True

References
----------
A. Rukhin et al., NIST SP 800-22 Rev. 1a, 2010; NIST sts-2.1.2 reference code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from fractions import Fraction
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import erfc, gammaincc, ndtr

TEST_NAMES = (
    "frequency",
    "block_frequency",
    "runs",
    "longest_run_of_ones",
    "binary_matrix_rank",
    "discrete_fourier_transform",
    "non_overlapping_template_matching",
    "overlapping_template_matching",
    "universal",
    "linear_complexity",
    "serial",
    "approximate_entropy",
    "cumulative_sums",
    "random_excursions",
    "random_excursions_variant",
)
"""The names of the fifteen tests, in SP 800-22's order (also the order of :func:`run_all`)."""

__all__ = ["NistResult", "SuiteResult", "unpack", "length_defaults", "aperiodic_templates", *TEST_NAMES,
           "run_all", "key_verdict", "VERDICT_RULE", "NON_OVERLAPPING_MIN_MEAN", "TEST_NAMES"]


# --------------------------------------------------------------------------- results
@dataclass(frozen=True)
class NistResult:
    """Outcome of one SP 800-22 test.

    Attributes
    ----------
    name : str
        The test (one of :data:`TEST_NAMES`).
    p_values : tuple of float
        Every P-value of the test (empty when the test was not applicable).
    labels : tuple of str
        What each P-value refers to (``'forward'``, ``'x=-4'``, a template, ...).
    parameters : dict
        The parameters used (block lengths, template length, number of blocks, ...).
    applicable : bool
        False when the test could not be run on the sequence; see ``reason``.
    reason : str
        Why the test was not applicable, or a note on how the P-value was obtained
        (empty otherwise).
    """

    name: str
    p_values: tuple[float, ...]
    labels: tuple[str, ...]
    parameters: dict[str, Any] = field(default_factory=dict)
    applicable: bool = True
    reason: str = ""

    @property
    def p_value(self) -> float | None:
        """The smallest P-value (None when not applicable)."""
        return min(self.p_values) if self.p_values else None

    def passed(self, alpha: float = 0.01) -> tuple[bool, ...]:
        """Pass (``P >= alpha``) or fail for every P-value; empty when not applicable."""
        return tuple(p >= alpha for p in self.p_values)


@dataclass(frozen=True)
class SuiteResult:
    """Outcome of :func:`run_all`.

    Attributes
    ----------
    results : tuple of NistResult
        The fifteen results, in the order of :data:`TEST_NAMES`.
    alpha : float
        Significance level: a P-value passes when ``P >= alpha``.
    n : int
        Length of the tested sequence [bits].
    passed : dict
        Test name -> tuple of bool, one per P-value (empty for a test not applied).
    success : bool
        Every P-value of every applicable test passed.
    """

    results: tuple[NistResult, ...]
    alpha: float
    n: int
    passed: dict[str, tuple[bool, ...]] = field(init=False)
    success: bool = field(init=False)

    def __post_init__(self) -> None:
        passed = {r.name: r.passed(self.alpha) for r in self.results}
        object.__setattr__(self, "passed", passed)
        object.__setattr__(self, "success", all(all(v) for v in passed.values()))

    def __getitem__(self, name: str) -> NistResult:
        for r in self.results:
            if r.name == name:
                return r
        raise KeyError(f"no test named {name!r}; expected one of {TEST_NAMES}")

    @property
    def not_applicable(self) -> tuple[str, ...]:
        """Names of the tests that could not be applied."""
        return tuple(r.name for r in self.results if not r.applicable)

    def summary(self) -> str:
        """A plain-text table: test, number of P-values, smallest P-value, passed/total."""
        lines = [f"SP 800-22 on n = {self.n} bits, alpha = {self.alpha:g}"]
        for r in self.results:
            if not r.applicable:
                lines.append(f"  {r.name:36s} not applicable: {r.reason}")
                continue
            ok = sum(self.passed[r.name])
            lines.append(f"  {r.name:36s} min P = {r.p_value:.6f}  passed {ok}/{len(r.p_values)}")
        return "\n".join(lines)


def _ok(name: str, p_values, labels, parameters: dict, reason: str = "") -> NistResult:
    return NistResult(name, tuple(float(p) for p in np.atleast_1d(p_values)), tuple(labels),
                      parameters, True, reason)


def _na(name: str, parameters: dict, reason: str) -> NistResult:
    return NistResult(name, (), (), parameters, False, reason)


# --------------------------------------------------------------------------- input
def unpack(data: bytes | bytearray | memoryview | ArrayLike, n_bits: int | None = None) -> np.ndarray:
    """Bits of packed bytes, most significant bit of each byte first.

    Parameters
    ----------
    data : bytes, bytearray, memoryview or array_like of uint8
        Packed bytes (e.g. the output of a generator or of :func:`numpy.packbits`).
    n_bits : int, optional
        Keep only the first ``n_bits`` bits (default: all ``8 * len(data)``).

    Returns
    -------
    ndarray of uint8, ``(n_bits,)``
        The bits, 0 or 1.

    Examples
    --------
    >>> unpack(b"\\xa5").tolist()
    [1, 0, 1, 0, 0, 1, 0, 1]
    >>> unpack(bytes([0xff, 0x00]), n_bits=10).tolist()
    [1, 1, 1, 1, 1, 1, 1, 1, 0, 0]
    """
    if isinstance(data, (bytes, bytearray, memoryview)):
        arr = np.frombuffer(data, dtype=np.uint8)
    else:
        arr = np.asarray(data)
        if arr.ndim != 1 or arr.dtype != np.uint8:
            raise ValueError(f"data must be bytes or a 1-D uint8 array, got {arr.dtype} of shape {arr.shape}")
    bits = np.unpackbits(arr)
    if n_bits is not None:
        if not 0 <= n_bits <= bits.size:
            raise ValueError(f"n_bits must be in [0, {bits.size}], got {n_bits}")
        bits = bits[:n_bits]
    return bits


def _bits(bits: ArrayLike) -> np.ndarray:
    """Check a bit sequence at the boundary: a 1-D array of 0/1 -> contiguous uint8."""
    if isinstance(bits, (bytes, bytearray, memoryview, str)):
        raise TypeError("bits must be an array of 0/1; use nfkg.randomness.unpack() for packed bytes")
    arr = np.asarray(bits)
    if arr.ndim != 1:
        raise ValueError(f"bits must be 1-D, got shape {arr.shape}")
    if arr.dtype == np.bool_:
        return np.ascontiguousarray(arr.view(np.uint8))
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"bits must be integers or bools (0/1), got dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() > 1):
        raise ValueError("bits must contain only 0 and 1")
    return np.ascontiguousarray(arr, dtype=np.uint8)


def _template_bits(template: str | ArrayLike) -> np.ndarray:
    if isinstance(template, str):
        if not template or set(template) - {"0", "1"}:
            raise ValueError(f"template must be a string of 0/1, got {template!r}")
        return np.frombuffer(template.encode(), np.uint8) - 48
    t = _bits(template)
    if t.size == 0:
        raise ValueError("template must not be empty")
    return t


def _bits_to_str(b: np.ndarray) -> str:
    return "".join("1" if v else "0" for v in b)


# --------------------------------------------------------------------------- shared kernels
def _windows(bits: np.ndarray, m: int, cyclic: bool) -> np.ndarray:
    """Integer value (first bit most significant) of the m-bit window at every position.

    ``cyclic``: the n windows of the sequence extended by its first m - 1 bits (serial,
    approximate entropy); otherwise the n - m + 1 windows inside the sequence.
    """
    n = bits.size
    count = n if cyclic else n - m + 1
    if count <= 0:
        return np.zeros(0, np.uint64)
    ext = np.resize(bits, n + m - 1) if cyclic else bits
    if m > 57:  # 64-bit words at byte offsets reach 57 bits at every bit offset
        out = np.zeros(count, np.uint64)
        for k in range(m):
            out = (out << np.uint64(1)) | ext[k:k + count]
        return out
    nw = (count + 7) // 8
    packed = np.zeros(nw + 8, np.uint8)
    pk = np.packbits(ext)
    packed[:pk.size] = pk
    # big-endian 64-bit word starting at every byte (overlapping strided view)
    words = np.ndarray((nw,), dtype=">u8", buffer=packed, strides=(1,)).astype(np.uint64)
    out = np.empty(count, np.uint64)
    mask = np.uint64((1 << m) - 1)
    for r in range(8):
        sel = out[r::8]
        sel[:] = (words[:sel.size] >> np.uint64(64 - m - r)) & mask
    return out


def _window_counts(bits: np.ndarray, m: int) -> np.ndarray:
    """Counts of the cyclic m-bit patterns (the nonzero ones; all 2^m when that is small)."""
    if m == 0:
        return np.array([bits.size], np.int64)
    w = _windows(bits, m, cyclic=True)
    if (1 << m) <= 4 * bits.size + (1 << 16):
        return np.bincount(w.astype(np.intp), minlength=1 << m)
    return np.unique(w, return_counts=True)[1]


def _igamc(a: float, x: float) -> float:
    """Regularised upper incomplete gamma Q(a, x) (cephes_igamc of the reference code)."""
    return float(gammaincc(a, x))


def _walk(bits: np.ndarray) -> np.ndarray:
    """Partial sums S_k = sum_{i<=k} (2 eps_i - 1), k = 1..n, in 64-bit integers."""
    return np.cumsum(bits.astype(np.int64) * 2 - 1)


# --------------------------------------------------------------------------- 2.1 frequency
def frequency(bits: ArrayLike, strict: bool = True) -> NistResult:
    r"""Frequency (monobit) test, SP 800-22 section 2.1.

    .. math::
        s_{obs} = \frac{|\sum_i (2\varepsilon_i - 1)|}{\sqrt n},\qquad
        P = \operatorname{erfc}\Big(\frac{s_{obs}}{\sqrt 2}\Big).

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    strict : bool
        Require SP 800-22's recommended minimum length n >= 100.

    Returns
    -------
    NistResult
        One P-value.

    Examples
    --------
    >>> import numpy as np
    >>> round(frequency(np.array([1, 0, 1, 1, 0, 1, 0, 1, 0, 1]), strict=False).p_values[0], 6)
    0.527089
    """
    eps = _bits(bits)
    n = eps.size
    par = {"n": n}
    if n < 1 or (strict and n < 100):
        return _na("frequency", par, f"n = {n} < 100 (SP 800-22 2.1.7)")
    s = 2 * int(np.count_nonzero(eps)) - n
    return _ok("frequency", erfc(abs(s) / math.sqrt(n) / math.sqrt(2.0)), ("",), par)


# --------------------------------------------------------------------------- 2.2 block frequency
def block_frequency(bits: ArrayLike, block_size: int = 128, strict: bool = True) -> NistResult:
    r"""Frequency test within a block, SP 800-22 section 2.2.

    .. math::
        \chi^2 = 4M \sum_{i=1}^{N} (\pi_i - \tfrac12)^2,\qquad
        P = Q\big(\tfrac N2, \tfrac{\chi^2}2\big),\quad N = \lfloor n/M \rfloor,

    with :math:`\pi_i` the proportion of ones in block i and Q the regularised upper
    incomplete gamma function.

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    block_size : int
        M (sts-2.1.2 default 128).
    strict : bool
        Require n >= 100 and M >= 20. (The document also asks for M > 0.01 n and
        N < 100, which its own Appendix B and the reference default M = 128 on 10^6
        bits do not meet; they are not checked.)

    Returns
    -------
    NistResult
        One P-value.
    """
    eps = _bits(bits)
    n, m = eps.size, int(block_size)
    if m < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size}")
    nb = n // m
    par = {"n": n, "M": m, "N": nb}
    if nb < 1:
        return _na("block_frequency", par, f"n = {n} < M = {m}: no block")
    if strict and (n < 100 or m < 20):
        return _na("block_frequency", par, f"n = {n} < 100 or M = {m} < 20 (SP 800-22 2.2.7)")
    ones = eps[:nb * m].reshape(nb, m).sum(axis=1, dtype=np.int64)
    v = ones / m - 0.5
    chi2 = 4.0 * m * float(np.sum(v * v))
    return _ok("block_frequency", _igamc(nb / 2.0, chi2 / 2.0), ("",), par)


# --------------------------------------------------------------------------- 2.3 runs
def runs(bits: ArrayLike, strict: bool = True) -> NistResult:
    r"""Runs test, SP 800-22 section 2.3.

    .. math::
        P = \operatorname{erfc}\Big(\frac{|V_n - 2n\pi(1-\pi)|}{2\sqrt{2n}\,\pi(1-\pi)}\Big),

    with :math:`V_n` the number of runs and :math:`\pi` the proportion of ones.

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    strict : bool
        Require n >= 100.

    Returns
    -------
    NistResult
        One P-value. When the frequency prerequisite fails
        (:math:`|\pi - \tfrac12| > 2/\sqrt n`, as the reference code tests it) the
        P-value is 0.0 as SP 800-22 2.3.4 prescribes, and ``reason`` says so.
    """
    eps = _bits(bits)
    n = eps.size
    par = {"n": n}
    if n < 1 or (strict and n < 100):
        return _na("runs", par, f"n = {n} < 100 (SP 800-22 2.3.7)")
    pi = np.count_nonzero(eps) / n
    if abs(pi - 0.5) > 2.0 / math.sqrt(n):
        return _ok("runs", 0.0, ("",), par,
                   "frequency prerequisite failed (|pi - 1/2| > 2/sqrt(n)): P-value set to 0")
    if pi in (0.0, 1.0):  # n < 16: the prerequisite cannot reject a constant sequence
        return _ok("runs", 0.0, ("",), par, "constant sequence: P-value 0")
    v = 1 + int(np.count_nonzero(eps[1:] != eps[:-1]))
    arg = abs(v - 2.0 * n * pi * (1 - pi)) / (2.0 * pi * (1 - pi) * math.sqrt(2 * n))
    return _ok("runs", erfc(arg), ("",), par)


# --------------------------------------------------------------------------- 2.4 longest run
_LONGEST_RUN_TABLE = {
    # M: (v_min, v_max, probabilities of sts-2.1.2)
    8: (1, 4, (0.21484375, 0.3671875, 0.23046875, 0.1875)),
    128: (4, 9, (0.1174035788, 0.242955959, 0.249363483, 0.17517706, 0.102701071, 0.112398847)),
    10000: (10, 16, (0.0882, 0.2092, 0.2483, 0.1933, 0.1208, 0.0675, 0.0727)),
}


@lru_cache(maxsize=None)
def _longest_run_probabilities(m: int, v_min: int, v_max: int) -> tuple[float, ...]:
    """Exact class probabilities of the longest run of ones in m fair bits.

    ``P(longest <= k) = a_k(m) / 2^m`` with :math:`a_k(i) = 2 a_k(i-1) - a_k(i-k-2)`
    the number of i-bit strings without a run of k + 1 ones (exact integers).
    """
    def at_most(k: int) -> Fraction:
        a = [1 << i for i in range(k + 1)] + [(1 << (k + 1)) - 1]  # a(0), ..., a(k + 1)
        for i in range(k + 2, m + 1):
            a.append(2 * a[i - 1] - a[i - k - 2])
        return Fraction(a[m], 1 << m)

    cdf = [at_most(k) for k in range(v_min, v_max)]
    probs = [cdf[0]] + [cdf[i] - cdf[i - 1] for i in range(1, len(cdf))] + [1 - cdf[-1]]
    return tuple(float(p) for p in probs)


def longest_run_of_ones(bits: ArrayLike, block_size: int | None = None, probabilities: str = "reference",
                        strict: bool = True) -> NistResult:
    r"""Test for the longest run of ones in a block, SP 800-22 section 2.4.

    The longest run in each of the :math:`N = \lfloor n/M\rfloor` blocks is binned into
    K + 1 classes :math:`v \le v_{min}, \dots, v \ge v_{max}`, and

    .. math::
        \chi^2 = \sum_{i=0}^{K} \frac{(\nu_i - N\pi_i)^2}{N\pi_i},\qquad
        P = Q\big(\tfrac K2, \tfrac{\chi^2}2\big).

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    block_size : {None, 8, 128, 10000}
        M; by default from SP 800-22's table: 8 for n < 6272, 128 for n < 750000,
        10^4 above (n >= 128 in every case).
    probabilities : {'reference', 'exact'}
        ``'reference'``: the class probabilities of the reference code, with which
        Appendix B was computed; ``'exact'``: computed exactly with integers. The two
        agree for M = 8 (the reference has the exact 0.21484375, 0.3671875, 0.23046875,
        0.1875, which the document's example needs: its rounded table gives 0.180598
        instead of 0.180609) and to 1e-9 for M = 128. For M = 10^4 the reference's
        values (SP 800-22 3.4: 0.0882, 0.2092, ...) are an approximation, off by up to
        1.6e-3 (exact: 0.086632, 0.208201, 0.248419, 0.193913, 0.121458, 0.068011,
        0.073366); Appendix B was computed with them (pi: 0.024390; exact: 0.027295).
    strict : bool
        Require the table's minimum length for M (128, 6272, 750000).

    Returns
    -------
    NistResult
        One P-value.
    """
    eps = _bits(bits)
    n = eps.size
    if probabilities not in ("reference", "exact"):
        raise ValueError(f"probabilities must be 'reference' or 'exact', got {probabilities!r}")
    if block_size is None:
        m = 8 if n < 6272 else 128 if n < 750000 else 10000
    else:
        m = int(block_size)
        if m not in _LONGEST_RUN_TABLE:
            raise ValueError(f"block_size must be one of 8, 128, 10000 (SP 800-22 table), got {block_size}")
    v_min, v_max, ref = _LONGEST_RUN_TABLE[m]
    k = v_max - v_min
    nb = n // m
    par = {"n": n, "M": m, "N": nb, "K": k}
    n_min = {8: 128, 128: 6272, 10000: 750000}[m]
    if nb < 1 or (strict and n < n_min):
        return _na("longest_run_of_ones", par, f"n = {n} < {n_min} for M = {m} (SP 800-22 2.4.2)")
    pi = np.array(ref if probabilities == "reference" else _longest_run_probabilities(m, v_min, v_max))
    # longest run per block: runs of ones delimited by a zero column on each side
    x = np.zeros((nb, m + 2), np.int8)
    x[:, 1:-1] = eps[:nb * m].reshape(nb, m)
    d = np.diff(x.ravel())
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)
    longest = np.zeros(nb, np.int64)
    np.maximum.at(longest, starts // (m + 2), ends - starts)
    nu = np.bincount(np.clip(longest, v_min, v_max) - v_min, minlength=k + 1)
    chi2 = float(np.sum((nu - nb * pi) ** 2 / (nb * pi)))
    return _ok("longest_run_of_ones", _igamc(k / 2.0, chi2 / 2.0), ("",), par)


# --------------------------------------------------------------------------- 2.5 rank
def _gf2_rank(rows: np.ndarray, n_cols: int) -> np.ndarray:
    """Ranks over GF(2) of a stack of matrices given as packed rows ``(N, M)`` uint64."""
    r = rows.copy()
    rank = np.zeros(r.shape[0], np.int64)
    idx = np.arange(r.shape[0])
    one = np.uint64(1)
    for c in range(n_cols):
        bit = ((r >> np.uint64(c)) & one).astype(bool)
        has = bit.any(axis=1)
        pivot = r[idx, bit.argmax(axis=1)] * has  # 0 where the column has no pivot
        r ^= np.where(bit, pivot[:, None], np.uint64(0))  # clears the pivot row too
        rank += has
    return rank


def _rank_probability(r: int, m: int, q: int) -> float:
    """Probability that a random m x q matrix over GF(2) has rank r (SP 800-22 3.5)."""
    prod = 1.0
    for i in range(r):
        prod *= (1.0 - 2.0 ** (i - q)) * (1.0 - 2.0 ** (i - m)) / (1.0 - 2.0 ** (i - r))
    return 2.0 ** (r * (q + m - r) - m * q) * prod


def binary_matrix_rank(bits: ArrayLike, rows: int = 32, cols: int = 32,
                       probabilities: str = "exact", strict: bool = True) -> NistResult:
    r"""Binary matrix rank test, SP 800-22 section 2.5.

    The sequence fills :math:`N = \lfloor n/(MQ)\rfloor` matrices row by row; with
    :math:`F_M, F_{M-1}` the numbers of full-rank and rank M - 1 matrices,

    .. math::
        \chi^2 = \frac{(F_M - p_M N)^2}{p_M N} + \frac{(F_{M-1} - p_{M-1}N)^2}{p_{M-1}N}
                 + \frac{(N - F_M - F_{M-1} - p_{\le M-2}N)^2}{p_{\le M-2}N},\qquad
        P = e^{-\chi^2/2}.

    Ranks are computed exactly by GF(2) elimination on packed rows, all matrices at once.

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    rows, cols : int
        M and Q (at most 64 columns).
    probabilities : {'exact', 'document'}
        ``'exact'``: the rank probabilities of an M x Q matrix (for 32 x 32 those of the
        reference code, 0.288788, 0.577576, 0.133636). ``'document'``: the rounded
        32 x 32 constants 0.2888, 0.5776, 0.1336 of SP 800-22 2.5.4, whatever M and Q
        (what the document's 3 x 3 worked example uses).
    strict : bool
        Require n >= 38 M Q (SP 800-22 2.5.7).

    Returns
    -------
    NistResult
        One P-value.
    """
    eps = _bits(bits)
    m, q = int(rows), int(cols)
    if not (1 <= m and 1 <= q <= 64):
        raise ValueError(f"rows must be >= 1 and cols in [1, 64], got {rows} x {cols}")
    if probabilities not in ("exact", "document"):
        raise ValueError(f"probabilities must be 'exact' or 'document', got {probabilities!r}")
    n = eps.size
    nb = n // (m * q)
    par = {"n": n, "M": m, "Q": q, "N": nb}
    if nb < 1:
        return _na("binary_matrix_rank", par, f"n = {n} < M Q = {m * q}: no matrix")
    if strict and n < 38 * m * q:
        return _na("binary_matrix_rank", par, f"n = {n} < 38 M Q = {38 * m * q} (SP 800-22 2.5.7)")
    full = min(m, q)
    if probabilities == "exact":
        p_full = _rank_probability(full, m, q)
        p_less = _rank_probability(full - 1, m, q) if full > 1 else 0.0
    else:
        p_full, p_less = 0.2888, 0.5776
    p_rest = 1.0 - (p_full + p_less)
    mat = eps[:nb * m * q].reshape(nb * m, q)
    packed = np.zeros((nb * m, 8), np.uint8)
    packed[:, 8 - (q + 7) // 8:] = np.packbits(mat, axis=1)
    row_words = packed.view(">u8").astype(np.uint64).reshape(nb, m)
    rank = _gf2_rank(row_words, 64)
    f_full = int(np.count_nonzero(rank == full))
    f_less = int(np.count_nonzero(rank == full - 1))
    f_rest = nb - f_full - f_less
    chi2 = 0.0
    for f, p in ((f_full, p_full), (f_less, p_less), (f_rest, p_rest)):
        if p > 0:
            chi2 += (f - nb * p) ** 2 / (nb * p)
    return _ok("binary_matrix_rank", math.exp(-chi2 / 2.0), ("",), par)


# --------------------------------------------------------------------------- 2.6 DFT
def discrete_fourier_transform(bits: ArrayLike, strict: bool = True) -> NistResult:
    r"""Discrete Fourier transform (spectral) test, SP 800-22 section 2.6.

    With :math:`X = \mathrm{DFT}(2\varepsilon - 1)`, :math:`N_1` the number of
    :math:`|X_k|, k = 0..\lfloor n/2\rfloor - 1`, below :math:`T = \sqrt{2.995732274\,n}`
    (:math:`\ln 20` as the reference code writes it) and :math:`N_0 = 0.95\,n/2`,

    .. math::
        d = \frac{N_1 - N_0}{\sqrt{n\,(0.95)(0.05)/4}},\qquad
        P = \operatorname{erfc}\Big(\frac{|d|}{\sqrt 2}\Big).

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    strict : bool
        Require n >= 1000.

    Returns
    -------
    NistResult
        One P-value.

    Notes
    -----
    The document's worked example (2.6.8) counts :math:`N_1 = 46` on its 100-bit
    sequence; the reference code and this function count 48, and Appendix B agrees.
    """
    eps = _bits(bits)
    n = eps.size
    par = {"n": n}
    if n < 2 or (strict and n < 1000):
        return _na("discrete_fourier_transform", par, f"n = {n} < 1000 (SP 800-22 2.6.7)")
    x = eps.astype(np.float64) * 2.0 - 1.0
    spec = np.fft.rfft(x)[: n // 2]
    n1 = int(np.count_nonzero(np.abs(spec) < math.sqrt(2.995732274 * n)))
    d = (n1 - 0.95 * n / 2.0) / math.sqrt(n / 4.0 * 0.95 * 0.05)
    return _ok("discrete_fourier_transform", erfc(abs(d) / math.sqrt(2.0)), ("",), par)


# --------------------------------------------------------------------------- 2.7 non-overlapping templates
@lru_cache(maxsize=None)
def _aperiodic_values(m: int) -> tuple[int, ...]:
    v = np.arange(1 << m, dtype=np.int64)
    ok = np.ones(v.size, bool)
    for k in range(1, m):
        ok &= (v >> (m - k)) != (v & ((1 << k) - 1))
    return tuple(int(x) for x in np.flatnonzero(ok))


def aperiodic_templates(m: int) -> np.ndarray:
    """The aperiodic templates of length m (no proper prefix equals a suffix).

    Parameters
    ----------
    m : int
        Template length, 2 <= m <= 21.

    Returns
    -------
    ndarray of uint8, ``(T, m)``
        One template per row, in increasing binary order, which is the order of NIST's
        ``templates/template<m>`` files (T = 148 for m = 9).

    Examples
    --------
    >>> t = aperiodic_templates(9)
    >>> t.shape, "".join(map(str, t[0])), "".join(map(str, t[-1]))
    ((148, 9), '000000001', '111111110')
    """
    if not 2 <= m <= 21:
        raise ValueError(f"m must be in [2, 21], got {m}")
    vals = np.array(_aperiodic_values(m), np.int64)
    return ((vals[:, None] >> np.arange(m - 1, -1, -1)) & 1).astype(np.uint8)


def _is_aperiodic(t: np.ndarray) -> bool:
    m = t.size
    return all(not np.array_equal(t[:k], t[m - k:]) for k in range(1, m))


#: Least expected number of matches per block, (M - m + 1)/2^m, of the non-overlapping template test
#: in strict mode (its chi-square needs near-normal counts; see :func:`non_overlapping_template_matching`).
NON_OVERLAPPING_MIN_MEAN = 20


def non_overlapping_template_matching(bits: ArrayLike, m: int = 9,
                                      templates: str | ArrayLike | Sequence | None = None,
                                      n_blocks: int = 8, strict: bool = True) -> NistResult:
    r"""Non-overlapping template matching test, SP 800-22 section 2.7.

    In each of the N blocks of :math:`M = \lfloor n/N\rfloor` bits, :math:`W_j` counts the
    occurrences of the template B (the window restarts after each match), and

    .. math::
        \mu = \frac{M - m + 1}{2^m},\quad
        \sigma^2 = M\Big(\frac1{2^m} - \frac{2m-1}{2^{2m}}\Big),\quad
        \chi^2 = \sum_{j=1}^{N}\frac{(W_j - \mu)^2}{\sigma^2},\quad
        P = Q\big(\tfrac N2, \tfrac{\chi^2}2\big).

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    m : int
        Template length (default 9) when ``templates`` is None.
    templates : str, array_like or sequence of them, optional
        The template(s) B, e.g. ``'000000001'``. Default: every aperiodic template of
        length m (:func:`aperiodic_templates`; 148 for m = 9), one P-value each.
    n_blocks : int
        N (8 in the reference code).
    strict : bool
        Require N <= 100 and M > 0.01 n (SP 800-22 2.7.7) and at least
        :data:`NON_OVERLAPPING_MIN_MEAN` expected matches per block,
        :math:`\mu = (M - m + 1)/2^m \ge 20` (n >= 81,984 for m = 9, N = 8; see Notes).

    Returns
    -------
    NistResult
        One P-value per template, labelled by the template.

    Notes
    -----
    An aperiodic template cannot overlap itself, so its non-overlapping count equals its
    count at every position; all aperiodic templates are then counted at once from the
    histogram of m-bit windows per block. A periodic template supplied by the caller is
    scanned with the restart rule.

    SP 800-22 2.7.7 sets no minimum n, but the chi-square of 2.7.4 takes every count
    :math:`W_j` as normal with mean :math:`\mu`, which it is not when few matches are
    expected: with N = 8 and m = 9, P < 0.01 for 3.5 % of random 1,000-bit sequences
    (:math:`\mu = 0.23`), 2.3 % at 5,000 bits (1.2), 1.5 % at 20,000 bits (4.9) and 1.1 % at
    100,000 bits (24), measured over all 148 templates of 1,000 sequences each. Strict mode
    therefore also requires :math:`\mu \ge 20`.
    """
    eps = _bits(bits)
    n = eps.size
    if templates is None:
        tmpl = aperiodic_templates(int(m))
    elif isinstance(templates, str) or (isinstance(templates, np.ndarray) and templates.ndim == 1) \
            or all(isinstance(v, (int, np.integer)) for v in templates):
        tmpl = _template_bits(templates)[None, :]
    else:
        tl = [_template_bits(t) for t in templates]
        if len({t.size for t in tl}) != 1:
            raise ValueError("templates must all have the same length")
        tmpl = np.stack(tl)
    m = tmpl.shape[1]
    nb = int(n_blocks)
    if nb < 1:
        raise ValueError(f"n_blocks must be >= 1, got {n_blocks}")
    bl = n // nb
    par = {"n": n, "m": m, "N": nb, "M": bl, "n_templates": tmpl.shape[0]}
    lam = (bl - m + 1) / 2.0 ** m
    if lam <= 0:
        return _na("non_overlapping_template_matching", par,
                   f"block length M = {bl} < m = {m} (lambda <= 0)")
    if strict and (nb > 100 or bl <= 0.01 * n):
        return _na("non_overlapping_template_matching", par,
                   f"N = {nb} > 100 or M = {bl} <= 0.01 n (SP 800-22 2.7.7)")
    if strict and lam < NON_OVERLAPPING_MIN_MEAN:
        n_min = nb * (NON_OVERLAPPING_MIN_MEAN * 2 ** m + m - 1)
        return _na("non_overlapping_template_matching", par,
                   f"mu = (M - m + 1)/2^m = {lam:.3g} < {NON_OVERLAPPING_MIN_MEAN} expected matches per block: "
                   f"too few for the chi-square of SP 800-22 2.7.4 (n >= {n_min:,} for m = {m}, N = {nb})")
    var = bl * (1.0 / 2.0 ** m - (2.0 * m - 1.0) / 2.0 ** (2.0 * m))
    # windows inside each block: positions i*M + j, j = 0..M-m
    w = _windows(eps[:nb * bl], m, cyclic=False)
    wpad = np.zeros(nb * bl, np.int64)
    wpad[:w.size] = w
    wb = wpad.reshape(nb, bl)[:, : bl - m + 1]
    tval = (tmpl.astype(np.int64) << np.arange(m - 1, -1, -1)).sum(axis=1)
    counts = np.empty((tmpl.shape[0], nb), np.float64)
    aper = np.array([_is_aperiodic(t) for t in tmpl])
    if aper.any():
        if (1 << m) <= 4 * bl + (1 << 16):
            hist = np.stack([np.bincount(row, minlength=1 << m) for row in wb])  # (N, 2^m)
            counts[aper] = hist[:, tval[aper]].T
        else:
            for i in np.flatnonzero(aper):
                counts[i] = (wb == tval[i]).sum(axis=1)
    for i in np.flatnonzero(~aper):
        for j in range(nb):
            pos = np.flatnonzero(wb[j] == tval[i])
            c, nxt = 0, -1
            for p in pos.tolist():
                if p >= nxt:
                    c += 1
                    nxt = p + m
            counts[i, j] = c
    chi2 = np.sum((counts - lam) ** 2, axis=1) / var
    p = gammaincc(nb / 2.0, chi2 / 2.0)
    return _ok("non_overlapping_template_matching", p, [_bits_to_str(t) for t in tmpl], par)


# --------------------------------------------------------------------------- 2.8 overlapping template
def _overlapping_probabilities(m: int, block: int, k: int = 5) -> np.ndarray:
    """Class probabilities of the reference code (``Pr(u, eta)``), u = 0..K-1, and the rest."""
    eta = (block - m + 1) / 2.0 ** m / 2.0
    pi = np.empty(k + 1)
    pi[0] = math.exp(-eta)
    for u in range(1, k):
        pi[u] = sum(math.exp(-eta - u * math.log(2) + l * math.log(eta) - math.lgamma(l + 1)
                             + math.lgamma(u) - math.lgamma(l) - math.lgamma(u - l + 1))
                    for l in range(1, u + 1))
    pi[k] = 1.0 - pi[:k].sum()
    return pi


def overlapping_template_matching(bits: ArrayLike, m: int = 9, template: str | ArrayLike | None = None,
                                  block_size: int = 1032, strict: bool = True) -> NistResult:
    r"""Overlapping template matching test, SP 800-22 section 2.8.

    In each of the :math:`N = \lfloor n/M\rfloor` blocks of M = 1032 bits the
    occurrences of B (all ones, m = 9, counted at every position) are binned into
    0, 1, 2, 3, 4, >= 5 and

    .. math::
        \chi^2 = \sum_{i=0}^{5}\frac{(\nu_i - N\pi_i)^2}{N\pi_i},\qquad
        P = Q\big(\tfrac52, \tfrac{\chi^2}2\big).

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    m : int
        Template length when ``template`` is None (the template is then m ones).
    template : str or array_like, optional
        B; default ``'1' * m``.
    block_size : int
        M (1032).
    strict : bool
        Require n >= 10^6 (SP 800-22 2.8.7).

    Returns
    -------
    NistResult
        One P-value.

    Notes
    -----
    The probabilities are those the reference code computes,
    :math:`\pi_0 = e^{-\eta}`, :math:`\pi_u = \sum_{l=1}^{u} e^{-\eta}2^{-u}\eta^l/l!\,
    \binom{u-1}{l-1}` with :math:`\eta = (M - m + 1)/2^{m+1}` (0.367879, 0.183940, 0.137955,
    0.099634, 0.069935, 0.140657 for the defaults), with which Appendix B was computed;
    not the corrected values 0.364091, 0.185659, 0.139381, 0.100571, 0.070432, 0.139865 of
    section 3.8.
    """
    eps = _bits(bits)
    tb = np.ones(int(m), np.uint8) if template is None else _template_bits(template)
    m = tb.size
    n = eps.size
    bl = int(block_size)
    nb = n // bl
    par = {"n": n, "m": m, "M": bl, "N": nb, "K": 5, "template": _bits_to_str(tb)}
    if nb < 1 or bl < m:
        return _na("overlapping_template_matching", par, f"no block of M = {bl} >= m bits in n = {n}")
    if strict and n < 1_000_000:
        return _na("overlapping_template_matching", par, f"n = {n} < 1000000 (SP 800-22 2.8.7)")
    pi = _overlapping_probabilities(m, bl)
    tval = int((tb.astype(np.int64) << np.arange(m - 1, -1, -1)).sum())
    w = _windows(eps[:nb * bl], m, cyclic=False)
    hit = np.zeros(nb * bl, bool)
    hit[:w.size] = w == tval
    counts = hit.reshape(nb, bl)[:, : bl - m + 1].sum(axis=1)
    nu = np.bincount(np.minimum(counts, 5), minlength=6)
    chi2 = float(np.sum((nu - nb * pi) ** 2 / (nb * pi)))
    return _ok("overlapping_template_matching", _igamc(2.5, chi2 / 2.0), ("",), par)


# --------------------------------------------------------------------------- 2.9 universal
_UNIVERSAL_EXPECTED = (0.0, 0.7326495, 1.5374383, 2.4016068, 3.3112247, 4.2534266, 5.2177052,
                       6.1962507, 7.1836656, 8.1764248, 9.1723243, 10.170032, 11.168765,
                       12.168070, 13.167693, 14.167488, 15.167379)
_UNIVERSAL_VARIANCE = (0.0, 0.690, 1.338, 1.901, 2.358, 2.705, 2.954, 3.125, 3.238, 3.311,
                       3.356, 3.384, 3.401, 3.410, 3.416, 3.419, 3.421)
_UNIVERSAL_MIN_N = (387840, 904960, 2068480, 4654080, 10342400, 22753280, 49643520,
                    107560960, 231669760, 496435200, 1059061760)  # n at which L = 6, 7, ..., 16


def universal(bits: ArrayLike, block_length: int | None = None, init_blocks: int | None = None,
              sigma_correction: bool = True, strict: bool = True) -> NistResult:
    r"""Maurer's "universal statistical" test, SP 800-22 section 2.9.

    The first Q blocks of L bits initialise a table of last positions; for the K next
    blocks

    .. math::
        f_n = \frac1K\sum_{i=Q+1}^{Q+K}\log_2(i - T_{b_i}),\quad
        \sigma = c\sqrt{\frac{\mathrm{variance}(L)}{K}},\quad
        c = 0.7 - \frac{0.8}{L} + \Big(4 + \frac{32}{L}\Big)\frac{K^{-3/L}}{15},\quad
        P = \operatorname{erfc}\Big(\frac{|f_n - \mathrm{expectedValue}(L)|}{\sqrt2\,\sigma}\Big).

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    block_length : int, optional
        L in [1, 16]; default from SP 800-22's table by n (L = 6 from n = 387,840, ...,
        16 from n = 1,059,061,760; 5 below, which strict mode rejects).
    init_blocks : int, optional
        Q; default :math:`10\cdot 2^L`.
    sigma_correction : bool
        Use :math:`\sigma = c\sqrt{\mathrm{variance}(L)/K}` (the test's definition and
        the reference code). False uses :math:`\sigma = \sqrt{\mathrm{variance}(L)}`,
        which is what the document's worked example (2.9.8, P = 0.767189) does.
    strict : bool
        Require 6 <= L <= 16 and Q >= 10 * 2^L (the reference code's checks).

    Returns
    -------
    NistResult
        One P-value.
    """
    eps = _bits(bits)
    n = eps.size
    if block_length is None:
        if init_blocks is not None:
            raise ValueError("init_blocks needs block_length")
        big_l = 5 + int(np.searchsorted(_UNIVERSAL_MIN_N, n, side="right"))
    else:
        big_l = int(block_length)
        if not 1 <= big_l <= 16:
            raise ValueError(f"block_length must be in [1, 16], got {block_length}")
    q = 10 * 2 ** big_l if init_blocks is None else int(init_blocks)
    k = n // big_l - q
    par = {"n": n, "L": big_l, "Q": q, "K": k}
    if strict and not 6 <= big_l <= 16:
        return _na("universal", par, f"L = {big_l} not in [6, 16]: n = {n} < 387840 (SP 800-22 2.9.7)")
    if strict and q < 10 * 2 ** big_l:
        return _na("universal", par, f"Q = {q} < 10 * 2^L = {10 * 2 ** big_l} (SP 800-22 2.9.7)")
    if k < 1 or q < 1:
        return _na("universal", par, f"n = {n} too short for Q = {q} blocks of L = {big_l} plus one")
    nblk = q + k
    vals = np.packbits(eps[:nblk * big_l].reshape(nblk, big_l), axis=1, bitorder="little")
    # block values (any fixed bijection of the pattern will do: only equality matters)
    v = np.zeros(nblk, np.int64)
    for b in range(vals.shape[1]):
        v |= vals[:, b].astype(np.int64) << (8 * b)
    order = np.argsort(v, kind="stable")
    sv = v[order]
    prev = np.zeros(nblk, np.int64)  # 1-based index of the previous block with the same value, 0 if none
    same = sv[1:] == sv[:-1]
    prev[order[1:][same]] = order[:-1][same] + 1
    i = np.arange(q + 1, nblk + 1)
    fn = float(np.sum(np.log2(i - prev[q:]))) / k
    if sigma_correction:
        c = 0.7 - 0.8 / big_l + (4 + 32 / big_l) * k ** (-3 / big_l) / 15
        sigma = c * math.sqrt(_UNIVERSAL_VARIANCE[big_l] / k)
    else:
        sigma = math.sqrt(_UNIVERSAL_VARIANCE[big_l])
    p = erfc(abs(fn - _UNIVERSAL_EXPECTED[big_l]) / (math.sqrt(2.0) * sigma))
    return _ok("universal", p, ("",), {**par, "fn": fn})


# --------------------------------------------------------------------------- 2.10 linear complexity
def _linear_complexities(blocks: np.ndarray) -> np.ndarray:
    """Berlekamp-Massey linear complexity of every row of ``blocks`` ``(N, M)``, at once.

    The connection polynomial C(x) is kept aligned with the sequence: bit q + 1 of ``e``
    holds the coefficient of C that multiplies s_q at step t, so the discrepancy is the
    parity of ``e & s``; ``g`` holds B(x) in the same frame, fixed since its last update,
    so C <- C + x^(t-m) B is ``e ^= g``; ``e`` shifts by one bit per step.
    """
    nb, m = blocks.shape
    nw = (m + 1 + 63) // 64
    sb = np.zeros((nb, nw * 64), np.uint8)
    sb[:, 1:m + 1] = blocks
    s = np.packbits(sb, axis=1, bitorder="little").view("<u8").astype(np.uint64)
    e = np.zeros((nb, nw), np.uint64)
    e[:, 0] = 2  # C = 1 at step 0: bit 1
    g = np.zeros((nb, nw), np.uint64)
    g[:, 0] = 1  # B = 1 with m = -1: bit 0
    lc = np.zeros(nb, np.int64)
    one = np.uint64(1)
    s63 = np.uint64(63)
    for t in range(m):
        w = min(nw, (t + 1) // 64 + 1)  # the words that hold bits 0..t+1
        d = np.bitwise_count(np.bitwise_xor.reduce(e[:, :w] & s[:, :w], axis=1)) & 1
        dmask = (-d.astype(np.int64)).astype(np.uint64)[:, None]
        upd = (d == 1) & (2 * lc <= t)
        umask = (-upd.astype(np.int64)).astype(np.uint64)[:, None]
        g_new = g ^ ((e ^ g) & umask)
        e ^= g & dmask
        g = g_new
        lc = np.where(upd, t + 1 - lc, lc)
        hi = e >> s63
        e <<= one
        e[:, 1:] |= hi[:, :-1]
    return lc


_LC_PI_REFERENCE = (0.01047, 0.03125, 0.12500, 0.50000, 0.25000, 0.06250, 0.020833)
_LC_PI_EXACT = (1 / 96, 1 / 32, 1 / 8, 1 / 2, 1 / 4, 1 / 16, 1 / 48)


def linear_complexity(bits: ArrayLike, block_size: int = 500, probabilities: str = "reference",
                      strict: bool = True) -> NistResult:
    r"""Linear complexity test, SP 800-22 section 2.10.

    With :math:`L_i` the Berlekamp-Massey linear complexity of block i of M bits,

    .. math::
        \mu = \frac M2 + \frac{9 + (-1)^{M+1}}{36} - \frac{M/3 + 2/9}{2^M},\quad
        T_i = (-1)^M (L_i - \mu) + \frac29,

    binned at -2.5, -1.5, ..., 2.5 into 7 classes, and
    :math:`P = Q(3, \chi^2/2)`, :math:`\chi^2 = \sum (\nu_i - N\pi_i)^2/(N\pi_i)`.

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    block_size : int
        M (500).
    probabilities : {'reference', 'exact'}
        ``'reference'``: the reference code's
        (0.01047, 0.03125, 0.125, 0.5, 0.25, 0.0625, 0.020833), with which Appendix B
        was computed (its :math:`\pi_0 = 0.01047` is a typo for 1/96 = 0.010417);
        ``'exact'``: 1/96, 1/32, 1/8, 1/2, 1/4, 1/16, 1/48.
    strict : bool
        Require n >= 10^6, 500 <= M <= 5000 and N >= 200 (SP 800-22 2.10.7).

    Returns
    -------
    NistResult
        One P-value.
    """
    eps = _bits(bits)
    n, m = eps.size, int(block_size)
    if m < 1:
        raise ValueError(f"block_size must be >= 1, got {block_size}")
    if probabilities not in ("reference", "exact"):
        raise ValueError(f"probabilities must be 'reference' or 'exact', got {probabilities!r}")
    nb = n // m
    par = {"n": n, "M": m, "N": nb, "K": 6}
    if nb < 1:
        return _na("linear_complexity", par, f"n = {n} < M = {m}: no block")
    if strict and (n < 1_000_000 or not 500 <= m <= 5000 or nb < 200):
        return _na("linear_complexity", par,
                   f"n = {n} < 1000000, M = {m} not in [500, 5000] or N = {nb} < 200 (SP 800-22 2.10.7)")
    lc = _linear_complexities(eps[:nb * m].reshape(nb, m))
    sign = -1.0 if (m + 1) % 2 == 0 else 1.0
    mean = m / 2.0 + (9.0 + sign) / 36.0 - math.ldexp(1.0, -m) * (m / 3.0 + 2.0 / 9.0)
    sign = 1.0 if m % 2 == 0 else -1.0
    t = sign * (lc - mean) + 2.0 / 9.0
    cls = np.searchsorted(np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5]), t, side="left")
    nu = np.bincount(cls, minlength=7)
    pi = np.array(_LC_PI_REFERENCE if probabilities == "reference" else _LC_PI_EXACT)
    chi2 = float(np.sum((nu - nb * pi) ** 2 / (nb * pi)))
    return _ok("linear_complexity", _igamc(3.0, chi2 / 2.0), ("",), par)


# --------------------------------------------------------------------------- 2.11 serial
def _psi2(counts: np.ndarray, n: int, m: int) -> float:
    if m <= 0:
        return 0.0
    s = float(np.sum(counts.astype(np.int64) ** 2))
    return s * 2.0 ** m / n - n


def serial(bits: ArrayLike, m: int = 16, strict: bool = True) -> NistResult:
    r"""Serial test, SP 800-22 section 2.11.

    With :math:`\psi^2_m = \frac{2^m}{n}\sum_{\text{m-bit } i} \nu_i^2 - n` over the
    cyclically extended sequence,

    .. math::
        \nabla\psi^2_m = \psi^2_m - \psi^2_{m-1},\quad
        \nabla^2\psi^2_m = \psi^2_m - 2\psi^2_{m-1} + \psi^2_{m-2},\quad
        P_1 = Q\big(2^{m-2}, \tfrac{\nabla\psi^2_m}{2}\big),\;
        P_2 = Q\big(2^{m-3}, \tfrac{\nabla^2\psi^2_m}{2}\big).

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    m : int
        Block length (16), >= 2.
    strict : bool
        Require :math:`m < \lfloor\log_2 n\rfloor - 2` (SP 800-22 2.11.7).

    Returns
    -------
    NistResult
        Two P-values, labelled ``'p1'`` and ``'p2'``.

    Notes
    -----
    The document's worked example (2.11.8, m = 3) prints P1 = 0.9057, P2 = 0.8805; the
    correct values (and the reference code's) are 0.808792 and 0.670320.
    """
    eps = _bits(bits)
    n, m = eps.size, int(m)
    if m < 2:
        raise ValueError(f"m must be >= 2, got {m}")
    par = {"n": n, "m": m}
    if n < 1:
        return _na("serial", par, "empty sequence")
    if strict and m >= int(math.log2(n)) - 2:
        return _na("serial", par,
                   f"m = {m} >= floor(log2 n) - 2 = {int(math.log2(n)) - 2} (SP 800-22 2.11.7)")
    c0 = _window_counts(eps, m)
    if c0.size == 1 << m:  # marginals of the full histogram: prefixes of the m-bit windows
        c1 = c0.reshape(-1, 2).sum(axis=1)
        c2 = c1.reshape(-1, 2).sum(axis=1)
    else:
        c1, c2 = _window_counts(eps, m - 1), _window_counts(eps, m - 2)
    psi0, psi1, psi2 = _psi2(c0, n, m), _psi2(c1, n, m - 1), _psi2(c2, n, m - 2)
    d1 = psi0 - psi1
    d2 = psi0 - 2.0 * psi1 + psi2
    p = [_igamc(2.0 ** (m - 1) / 2, d1 / 2.0), _igamc(2.0 ** (m - 2) / 2, d2 / 2.0)]
    return _ok("serial", p, ("p1", "p2"), par)


# --------------------------------------------------------------------------- 2.12 approximate entropy
def _phi(counts: np.ndarray, n: int) -> float:
    c = counts[counts > 0].astype(np.float64)
    return float(np.sum(c * np.log(c / n))) / n


def approximate_entropy(bits: ArrayLike, m: int = 10, strict: bool = True) -> NistResult:
    r"""Approximate entropy test, SP 800-22 section 2.12.

    .. math::
        \varphi^{(m)} = \sum_i \pi_i \ln \pi_i,\quad
        \mathrm{ApEn}(m) = \varphi^{(m)} - \varphi^{(m+1)},\quad
        \chi^2 = 2n(\ln 2 - \mathrm{ApEn}(m)),\quad
        P = Q\big(2^{m-1}, \tfrac{\chi^2}{2}\big),

    with :math:`\pi_i` the frequencies of the cyclic m-bit patterns.

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    m : int
        Block length (10), >= 1.
    strict : bool
        Require :math:`m < \lfloor\log_2 n\rfloor - 5` (SP 800-22 2.12.7).

    Returns
    -------
    NistResult
        One P-value.
    """
    eps = _bits(bits)
    n, m = eps.size, int(m)
    if m < 1:
        raise ValueError(f"m must be >= 1, got {m}")
    par = {"n": n, "m": m}
    if n < 1:
        return _na("approximate_entropy", par, "empty sequence")
    if strict and m >= int(math.log2(n)) - 5:
        return _na("approximate_entropy", par,
                   f"m = {m} >= floor(log2 n) - 5 = {int(math.log2(n)) - 5} (SP 800-22 2.12.7)")
    c1 = _window_counts(eps, m + 1)
    c0 = c1.reshape(-1, 2).sum(axis=1) if c1.size == 1 << (m + 1) else _window_counts(eps, m)
    apen = _phi(c0, n) - _phi(c1, n)
    chi2 = 2.0 * n * (math.log(2) - apen)
    return _ok("approximate_entropy", _igamc(2.0 ** (m - 1), chi2 / 2.0), ("",), {**par, "ApEn": apen})


# --------------------------------------------------------------------------- 2.13 cumulative sums
def _cusum_p(z: int, n: int) -> float:
    """P-value of the cumulative sums test for a maximal excursion z (reference summation limits)."""
    a = n // z  # the reference code's integer n/z; its limits truncate towards zero
    sq = math.sqrt(n)
    k1 = np.arange(-((a - 1) // 4), (a - 1) // 4 + 1)
    k2 = np.arange(-((a + 3) // 4), (a - 1) // 4 + 1)
    s1 = np.sum(ndtr((4 * k1 + 1) * z / sq) - ndtr((4 * k1 - 1) * z / sq))
    s2 = np.sum(ndtr((4 * k2 + 3) * z / sq) - ndtr((4 * k2 + 1) * z / sq))
    return float(1.0 - s1 + s2)


def cumulative_sums(bits: ArrayLike, strict: bool = True) -> NistResult:
    r"""Cumulative sums (cusum) test, forward and reverse, SP 800-22 section 2.13.

    With :math:`z = \max_k |S_k|` of the partial sums of :math:`2\varepsilon - 1`
    (forward; reverse: of the reversed sequence),

    .. math::
        P = 1 - \sum_{k=\lfloor(-n/z+1)/4\rfloor}^{\lfloor(n/z-1)/4\rfloor}
            \Big[\Phi\Big(\tfrac{(4k+1)z}{\sqrt n}\Big) - \Phi\Big(\tfrac{(4k-1)z}{\sqrt n}\Big)\Big]
          + \sum_{k=\lfloor(-n/z-3)/4\rfloor}^{\lfloor(n/z-1)/4\rfloor}
            \Big[\Phi\Big(\tfrac{(4k+3)z}{\sqrt n}\Big) - \Phi\Big(\tfrac{(4k+1)z}{\sqrt n}\Big)\Big].

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    strict : bool
        Require n >= 100.

    Returns
    -------
    NistResult
        Two P-values, ``'forward'`` and ``'reverse'``.

    Notes
    -----
    Partial sums are 64-bit. The summation limits are computed as the reference code
    does, with C's integer division (``n/z`` and the division by 4 truncate towards
    zero), which is what the worked examples and Appendix B use.
    """
    eps = _bits(bits)
    n = eps.size
    par = {"n": n}
    if n < 1 or (strict and n < 100):
        return _na("cumulative_sums", par, f"n = {n} < 100 (SP 800-22 2.13.7)")
    s = _walk(eps)
    sup, inf, total = max(int(s.max()), 0), min(int(s.min()), 0), int(s[-1])
    z_fwd = max(sup, -inf)
    z_rev = max(sup - total, total - inf)
    return _ok("cumulative_sums", (_cusum_p(z_fwd, n), _cusum_p(z_rev, n)), ("forward", "reverse"),
               {**par, "z_forward": z_fwd, "z_reverse": z_rev})


# --------------------------------------------------------------------------- 2.14/2.15 random excursions
def _cycles(bits: np.ndarray) -> tuple[np.ndarray, int]:
    s = _walk(bits)
    zero = s == 0
    j = int(np.count_nonzero(zero)) + (1 if s[-1] != 0 else 0)
    return s, j


def _excursion_check(name: str, n: int, j: int, par: dict, strict: bool) -> NistResult | None:
    """The not-applicable result of a random excursions test, or None when it can run."""
    section = "2.15.7" if name.endswith("variant") else "2.14.7"
    if j < 1:
        return _na(name, par, "no cycle (J = 0)")
    if strict and n < 1_000_000:
        return _na(name, par, f"n = {n} < 1000000 (SP 800-22 {section})")
    limit = max(0.005 * math.sqrt(n), 500)
    if strict and j < limit:
        return _na(name, par, f"J = {j} cycles < {limit:g} (SP 800-22 {section}, reference code)")
    return None


_EXCURSION_STATES = (-4, -3, -2, -1, 1, 2, 3, 4)
_VARIANT_STATES = tuple(range(-9, 0)) + tuple(range(1, 10))


def _excursion_pi(x: int, probabilities: str) -> np.ndarray:
    a = 1.0 / (2 * abs(x))
    pi = np.array([1 - a] + [(1 - a) ** (k - 1) / (4 * x * x) for k in range(1, 5)] + [a * (1 - a) ** 4])
    return np.round(pi, 4) if probabilities == "document" else pi


def random_excursions(bits: ArrayLike, probabilities: str = "exact", strict: bool = True) -> NistResult:
    r"""Random excursions test, states x = -4..-1, 1..4, SP 800-22 section 2.14.

    The walk :math:`S_k` of :math:`2\varepsilon - 1` is cut into J cycles at its zeros;
    :math:`\nu_k(x)` counts the cycles that visit x exactly k times (k = 0..4, >= 5), and

    .. math::
        \chi^2(x) = \sum_{k=0}^{5}\frac{(\nu_k(x) - J\pi_k(x))^2}{J\pi_k(x)},\qquad
        P(x) = Q\big(\tfrac52, \tfrac{\chi^2(x)}{2}\big),

    with :math:`\pi_0 = 1 - \frac1{2|x|}`,
    :math:`\pi_k = \frac1{4x^2}(1 - \frac1{2|x|})^{k-1}` (k = 1..4),
    :math:`\pi_5 = \frac1{2|x|}(1 - \frac1{2|x|})^4`.

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    probabilities : {'exact', 'document'}
        ``'exact'``: the formulas above (the reference code tabulates them to 10
        digits, which changes P-values by less than 1e-9). ``'document'``: the table of
        SP 800-22 section 3.14, rounded to 4 decimals (:math:`\pi_4(1) = \pi_5(1) =
        0.0312`), which the document's worked example (2.14.8, J = 3, P = 0.502529) uses;
        the exact value there is 0.502488.
    strict : bool
        Require n >= 10^6 and :math:`J \ge \max(0.005\sqrt n, 500)` (the reference
        code's check).

    Returns
    -------
    NistResult
        Eight P-values, labelled ``'x=-4'`` .. ``'x=+4'``.
    """
    if probabilities not in ("exact", "document"):
        raise ValueError(f"probabilities must be 'exact' or 'document', got {probabilities!r}")
    eps = _bits(bits)
    n = eps.size
    par: dict[str, Any] = {"n": n}
    if n < 1:
        return _na("random_excursions", par, "empty sequence")
    s, j = _cycles(eps)
    par["J"] = j
    bad = _excursion_check("random_excursions", n, j, par, strict)
    if bad is not None:
        return bad
    zero = s == 0
    cycle = np.concatenate(([0], np.cumsum(zero[:-1], dtype=np.int64)))  # cycle of position k
    inside = (s != 0) & (np.abs(s) <= 4)
    state = s[inside] + 4 - (s[inside] > 0)  # -4..-1 -> 0..3, 1..4 -> 4..7
    visits = np.bincount(cycle[inside] * 8 + state, minlength=j * 8).reshape(j, 8)
    p = []
    for i, x in enumerate(_EXCURSION_STATES):
        nu = np.bincount(np.minimum(visits[:, i], 5), minlength=6)
        pi = _excursion_pi(x, probabilities)
        chi2 = float(np.sum((nu - j * pi) ** 2 / (j * pi)))
        p.append(_igamc(2.5, chi2 / 2.0))
    return _ok("random_excursions", p, [f"x={x:+d}" for x in _EXCURSION_STATES], par)


def random_excursions_variant(bits: ArrayLike, strict: bool = True) -> NistResult:
    r"""Random excursions variant test, states x = -9..-1, 1..9, SP 800-22 section 2.15.

    With :math:`\xi(x)` the number of visits of the walk to x and J the number of cycles,

    .. math::
        P(x) = \operatorname{erfc}\Big(\frac{|\xi(x) - J|}{\sqrt{2J(4|x| - 2)}}\Big).

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    strict : bool
        Require n >= 10^6 and :math:`J \ge \max(0.005\sqrt n, 500)`.

    Returns
    -------
    NistResult
        Eighteen P-values, labelled ``'x=-9'`` .. ``'x=+9'``.
    """
    eps = _bits(bits)
    n = eps.size
    par: dict[str, Any] = {"n": n}
    if n < 1:
        return _na("random_excursions_variant", par, "empty sequence")
    s, j = _cycles(eps)
    par["J"] = j
    bad = _excursion_check("random_excursions_variant", n, j, par, strict)
    if bad is not None:
        return bad
    near = s[np.abs(s) <= 9]
    xi = np.bincount(near + 9, minlength=19)
    x = np.array(_VARIANT_STATES)
    p = erfc(np.abs(xi[x + 9] - j) / np.sqrt(2.0 * j * (4.0 * np.abs(x) - 2)))
    return _ok("random_excursions_variant", p, [f"x={v:+d}" for v in _VARIANT_STATES], par)


# --------------------------------------------------------------------------- suite
def length_defaults(n: int) -> dict[str, int]:
    """Serial and approximate-entropy block lengths for an ``n``-bit sequence.

    SP 800-22 asks for ``m < floor(log2 n) - 2`` (serial, 2.11.7) and
    ``m < floor(log2 n) - 5`` (approximate entropy, 2.12.7); the defaults 16 and 10 are
    kept where they fit (n >= 2^19 and n >= 2^16) and lowered to the largest allowed
    value otherwise, so that a short sequence is still tested (e.g. 20,000 bits: 11 and 8).
    """
    lg = int(math.floor(math.log2(max(int(n), 2))))
    return {"serial_m": max(1, min(16, lg - 3)), "approximate_entropy_m": max(1, min(10, lg - 6))}


def run_all(bits: ArrayLike, alpha: float = 0.01, strict: bool = True, by_length: bool = True) -> SuiteResult:
    """Run the fifteen SP 800-22 tests with their default parameters.

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence (use :func:`unpack` for packed bytes).
    alpha : float
        Significance level; a P-value passes when ``P >= alpha``.
    strict : bool
        Apply SP 800-22's recommended minimum sizes (see each test).
    by_length : bool
        Lower the serial and approximate-entropy block lengths for short sequences
        (:func:`length_defaults`; no change from 2^19 bits on).

    Returns
    -------
    SuiteResult
        The results in the order of :data:`TEST_NAMES`, with ``passed`` (one bool per
        P-value) and ``success``.

    Notes
    -----
    Defaults (SP 800-22 / sts-2.1.2): block frequency M = 128; longest run M by n
    (8 / 128 / 10^4); rank 32 x 32; non-overlapping templates: all 148 aperiodic
    templates of m = 9, N = 8; overlapping template m = 9, M = 1032; universal L and Q
    by n; linear complexity M = 500; serial m = 16; approximate entropy m = 10.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    eps = _bits(bits)
    tests = (frequency, block_frequency, runs, longest_run_of_ones, binary_matrix_rank,
             discrete_fourier_transform, non_overlapping_template_matching,
             overlapping_template_matching, universal, linear_complexity, serial,
             approximate_entropy, cumulative_sums, random_excursions, random_excursions_variant)
    options: dict[Any, dict[str, int]] = {}
    if by_length:
        m = length_defaults(eps.size)
        options = {serial: {"m": m["serial_m"]}, approximate_entropy: {"m": m["approximate_entropy_m"]}}
    results = tuple(_run_one(t, eps, strict, options.get(t, {})) for t in tests)
    return SuiteResult(results, float(alpha), int(eps.size))


def _run_one(test, eps: np.ndarray, strict: bool, options: dict[str, int]) -> NistResult:
    """One test of :func:`run_all`: a test that cannot run on the sequence is not applicable, with why."""
    n = eps.size
    if test is serial and options.get("m", 16) < 2:  # n < 32: no serial block length m >= 2 fits
        return _na("serial", {"n": n, "m": options["m"]},
                   f"n = {n} < 32: no block length m >= 2 with m < floor(log2 n) - 2 (SP 800-22 2.11.7)")
    try:
        return test(eps, strict=strict, **options)
    except ValueError as e:  # any other arithmetic the sequence cannot support: say why, run the rest
        return _na(test.__name__, {"n": n, **options}, f"cannot run on n = {n} bits ({e})")


# --------------------------------------------------------------------------- one verdict per key
#: How :func:`key_verdict` decides, in one line (printed by ``nfkg nist`` and ``nfkg keygen --json``).
VERDICT_RULE = ("applicable tests only (SP 800-22 input sizes); a test fails when one of its m P-values is below "
                "alpha / (k m) (Bonferroni over the k applicable tests and their P-values)")


def key_verdict(bits: ArrayLike, alpha: float = 0.01, *, suite: SuiteResult | None = None
                ) -> tuple[str, dict[str, Any]]:
    r"""One SP 800-22 verdict for one bit sequence (a key): ``'passed'``, ``'failed'`` or ``'not applicable'``.

    Only the tests applicable to the sequence's length count (:func:`run_all` in strict
    mode: each test's "Input Size Recommendation" of SP 800-22 section 2). With k of them:

    a test with m P-values (1, 2, or many: 148 templates, 8 or 18 excursion states) fails when
    one of them is below :math:`\alpha/(k m)`: Bonferroni over the tests and their P-values, so
    that a random sequence fails the whole family with probability at most :math:`\alpha`.
    SP 800-22 gives a level per P-value and, for many *sequences*, a proportion rule (4.2.1); it
    has no rule for one sequence under several tests. At :math:`\alpha` each, the nine tests
    applicable at 1,000 bits would fail about 9 % of random keys, and the proportion rule applied
    to the correlated P-values of one sequence (templates, excursion states) failed 3 % of random
    100,000-bit and 9 % of 10^6-bit keys (BENCHMARKS.md).

    The sequence fails when one applicable test fails; with no applicable test (fewer
    than 32 bits) the verdict is ``'not applicable'``. Random sequences of 1,000, 5,000
    and 20,000 bits fail at 0.5 % each (``benchmarks/bench_nist_verdict.py``).

    Parameters
    ----------
    bits : array_like of 0/1, ``(n,)``
        The sequence.
    alpha : float
        Significance level in (0, 1).
    suite : SuiteResult, optional
        ``run_all(bits, alpha=alpha)`` when already computed (it is not recomputed; ``bits``
        may then be None).

    Returns
    -------
    verdict : str
        ``'passed'``, ``'failed'`` or ``'not applicable'``.
    details : dict
        ``n``, ``alpha``, ``rule`` (:data:`VERDICT_RULE`), ``applicable`` (k), ``failed``
        (names of the failing tests) and ``tests``: per test its ``name``, ``applicable``,
        ``reason``, ``p_values`` (how many), ``passed`` (how many are >= alpha), the
        ``rule`` applied (``'bonferroni'``) with its ``threshold``
        (the least P-value that passes), and its ``verdict``.

    Examples
    --------
    >>> import numpy as np
    >>> key_verdict(np.random.default_rng(0).integers(0, 2, 20_000, dtype=np.uint8))[0]
    'passed'
    >>> v, d = key_verdict(np.zeros(20_000, np.uint8))
    >>> v, d["failed"][:2]
    ('failed', ['frequency', 'block_frequency'])
    >>> key_verdict(np.ones(20, np.uint8))[0]
    'not applicable'
    """
    if suite is None:
        suite = run_all(bits, alpha=alpha)
    elif suite.alpha != alpha:
        raise ValueError(f"suite: computed at alpha = {suite.alpha}, not {alpha}")
    applied = [r for r in suite.results if r.applicable]
    k = len(applied)
    tests: list[dict[str, Any]] = []
    failed: list[str] = []
    for r in suite.results:
        entry: dict[str, Any] = {"name": r.name, "applicable": r.applicable, "reason": r.reason,
                                 "p_values": len(r.p_values), "passed": sum(r.passed(alpha))}
        if not r.applicable:
            entry.update(rule=None, threshold=None, verdict="not applicable")
        else:
            m = len(r.p_values)
            level = alpha / (k * m)
            ok = min(r.p_values) >= level
            entry.update(rule="bonferroni", threshold=level)
            entry["verdict"] = "passed" if ok else "failed"
            if not ok:
                failed.append(r.name)
        tests.append(entry)
    verdict = "not applicable" if k == 0 else "failed" if failed else "passed"
    return verdict, {"n": suite.n, "alpha": suite.alpha, "rule": VERDICT_RULE, "applicable": k,
                     "failed": failed, "tests": tests}
