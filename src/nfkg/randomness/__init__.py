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

The tests live in private modules by family, all re-exported here: ``_frequency`` (2.1-2.4,
2.13), ``_matrix_spectral`` (2.5, 2.6), ``_templates`` (2.7, 2.8), ``_complexity`` (2.9-2.12),
``_excursions`` (2.14, 2.15), ``_suite`` (run_all, key_verdict) and ``_common`` (results,
input checks, bit kernels).

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

from . import _common, _suite, _templates
from ._common import NistResult, SuiteResult, unpack
from ._complexity import approximate_entropy, linear_complexity, serial, universal
from ._excursions import random_excursions, random_excursions_variant
from ._frequency import block_frequency, cumulative_sums, frequency, longest_run_of_ones, runs
from ._matrix_spectral import binary_matrix_rank, discrete_fourier_transform
from ._suite import key_verdict, length_defaults, run_all
from ._templates import aperiodic_templates, non_overlapping_template_matching, overlapping_template_matching

# Internals that the tests check against independent computations (not public).
from ._common import _windows  # noqa: F401
from ._complexity import _linear_complexities  # noqa: F401
from ._excursions import _excursion_pi  # noqa: F401
from ._frequency import _LONGEST_RUN_TABLE, _longest_run_probabilities  # noqa: F401
from ._matrix_spectral import _gf2_rank, _rank_probability  # noqa: F401
from ._templates import _overlapping_probabilities  # noqa: F401

#: The names of the fifteen tests, in SP 800-22's order (also the order of :func:`run_all`).
TEST_NAMES: tuple[str, ...] = _common.TEST_NAMES

#: Least expected number of matches per block, (M - m + 1)/2^m, of the non-overlapping template test
#: in strict mode (its chi-square needs near-normal counts; see :func:`non_overlapping_template_matching`).
#: The test reads ``nfkg.randomness._templates.NON_OVERLAPPING_MIN_MEAN``.
NON_OVERLAPPING_MIN_MEAN: int = _templates.NON_OVERLAPPING_MIN_MEAN

#: How :func:`key_verdict` decides, in one line (printed by ``nfkg nist`` and ``nfkg keygen --json``).
VERDICT_RULE: str = _suite.VERDICT_RULE

__all__ = ["NistResult", "SuiteResult", "unpack", "length_defaults", "aperiodic_templates", *TEST_NAMES,
           "run_all", "key_verdict", "VERDICT_RULE", "NON_OVERLAPPING_MIN_MEAN", "TEST_NAMES"]
