r"""Shared pieces of the SP 800-22 tests: the result types, the input checks and the bit kernels.

Every test of :mod:`nfkg.randomness` returns a :class:`NistResult`; :func:`run_all` a
:class:`SuiteResult`. The kernels count m-bit windows (serial, approximate entropy,
templates), walk the +/-1 partial sums (cumulative sums, random excursions) and give
the regularised upper incomplete gamma function of the reference code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import gammaincc

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
)  # SP 800-22's order (documented in nfkg.randomness)


__all__ = ["NistResult", "SuiteResult", "TEST_NAMES", "unpack"]


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
