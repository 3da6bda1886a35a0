r"""The SP 800-22 suite: all fifteen tests at once (:func:`run_all`) and one verdict per key
(:func:`key_verdict`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._common import NistResult, SuiteResult, _bits, _na
from ._complexity import approximate_entropy, linear_complexity, serial, universal
from ._excursions import random_excursions, random_excursions_variant
from ._frequency import block_frequency, cumulative_sums, frequency, longest_run_of_ones, runs
from ._matrix_spectral import binary_matrix_rank, discrete_fourier_transform
from ._templates import non_overlapping_template_matching, overlapping_template_matching

__all__ = ["length_defaults", "run_all", "key_verdict", "VERDICT_RULE"]


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
# How key_verdict decides, in one line (documented in nfkg.randomness).
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
    100,000-bit and 9 % of 10^6-bit keys (docs/benchmarks/probing.md).

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
