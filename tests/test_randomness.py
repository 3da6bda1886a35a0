"""NIST SP 800-22 tests (nfkg.randomness): the document's worked examples and Appendix B to
six decimals, the cached binary expansions against mpmath, the vectorised kernels against
plain ports of the reference code's loops, and every P-value against NIST's C code
(``sp80022suite``, skipped when it is not installed).

The 10^6-bit expansions of pi, e, sqrt(2), sqrt(3) (integer part included: pi = 11.0010...)
live in ``tests/data/<name>.bin`` as ``np.packbits`` output; ``python tests/test_randomness.py``
regenerates them with mpmath.
"""

import hashlib
import math
from pathlib import Path

import numpy as np
import pytest
from scipy.special import gammaincc

from nfkg import randomness as nist

DATA = Path(__file__).parent / "data"
CONSTANTS = ("pi", "e", "sqrt2", "sqrt3")
N_BITS = 1_000_000
SHA256 = {
    "pi": "e31af8c5229974786fbac6931fb44f8596d4466eaa853f40df458fd352453155",
    "e": "7ae61691f949a9a92d5ed8b65722bfcf0179964064d5f2c7e2a971b32ac97d49",
    "sqrt2": "5de671f07b9fefe7c0ff7d9ca2146944157c17aa6032c3338d1b9c2ae8658a87",
    "sqrt3": "4c75e3c54dd821f70215e1e016744a74bd8cfb76cbd9be35a37964ae57443cf2",
}
TOL = 1e-6


def b(s: str) -> np.ndarray:
    return np.frombuffer(s.encode(), np.uint8) - 48


EPS100 = b("1100100100001111110110101010001000100001011010001100001000110100"
           "110001001100011001100010100010111000")


# --------------------------------------------------------------------------- binary expansions
def expansion_bits(name: str, n: int) -> np.ndarray:
    """First n bits of the binary expansion of a constant, integer part included (exact)."""
    if name in ("sqrt2", "sqrt3"):
        a = 2 if name == "sqrt2" else 3  # 1.xxx: one integer bit
        v = math.isqrt(a << (2 * (n - 1)))  # floor(sqrt(a) 2^(n-1))
    else:
        import mpmath

        guard = 64  # pi = 11.0..., e = 10.1...: two integer bits
        with mpmath.workprec(n + guard + 16):
            x = +(mpmath.pi if name == "pi" else mpmath.e)
            full = int(mpmath.floor(mpmath.ldexp(x, n - 2 + guard)))
        low = full & ((1 << guard) - 1)
        assert 0 < low < (1 << guard) - 1, "guard bits cannot decide the floor"
        v = full >> guard
    s = bin(v)[2:]
    assert len(s) == n
    return b(s)


def load(name: str) -> np.ndarray:
    return nist.unpack(np.fromfile(DATA / f"{name}.bin", dtype=np.uint8))


@pytest.mark.parametrize("name", CONSTANTS)
def test_cache_is_intact(name):
    raw = (DATA / f"{name}.bin").read_bytes()
    assert len(raw) == N_BITS // 8
    assert hashlib.sha256(raw).hexdigest() == SHA256[name]


@pytest.mark.parametrize("name", CONSTANTS)
def test_cache_matches_mpmath(name):
    pytest.importorskip("mpmath")
    np.testing.assert_array_equal(load(name)[:10_000], expansion_bits(name, 10_000))


def test_expansions_start_with_the_integer_part():
    assert "".join(map(str, load("pi")[:8])) == "11001001"  # 11.001001
    assert "".join(map(str, load("e")[:6])) == "101011"  # 10.1011
    assert "".join(map(str, load("sqrt2")[:6])) == "101101"  # 1.01101
    np.testing.assert_array_equal(load("pi")[:100], EPS100)


# --------------------------------------------------------------------------- worked examples
EXAMPLES = [
    # (id, function, input, keyword arguments, expected P-values)
    ("frequency-10", nist.frequency, b("1011010101"), {}, (0.527089,)),
    ("frequency-100", nist.frequency, EPS100, {}, (0.109599,)),
    ("block-frequency-10", nist.block_frequency, b("0110011010"), {"block_size": 3}, (0.801252,)),
    ("block-frequency-100", nist.block_frequency, EPS100, {"block_size": 10}, (0.706438,)),
    ("runs-10", nist.runs, b("1001101011"), {}, (0.147232,)),
    ("runs-100", nist.runs, EPS100, {}, (0.500798,)),
    ("longest-run", nist.longest_run_of_ones,
     b("11001100000101010110110001001100111000000000001001001101010100010001001111010110100000001101011111"
       "001100111001101101100010110010"), {"block_size": 8}, (0.180609,)),
    ("longest-run-exact", nist.longest_run_of_ones,
     b("11001100000101010110110001001100111000000000001001001101010100010001001111010110100000001101011111"
       "001100111001101101100010110010"), {"probabilities": "exact"}, (0.180609,)),
    ("rank", nist.binary_matrix_rank, b("01011001001010101101"),
     {"rows": 3, "cols": 3, "probabilities": "document"}, (0.741948,)),
    ("non-overlapping", nist.non_overlapping_template_matching, b("10100100101110010110"),
     {"templates": "001", "n_blocks": 2}, (0.344154,)),
    ("universal", nist.universal, b("01011010011101010111"),
     {"block_length": 2, "init_blocks": 4, "sigma_correction": False}, (0.767189,)),
    ("serial", nist.serial, b("0011011101"), {"m": 3}, (0.808792, 0.670320)),
    ("apen-10", nist.approximate_entropy, b("0100110101"), {"m": 3}, (0.261961,)),
    ("apen-100", nist.approximate_entropy, EPS100, {"m": 2}, (0.235301,)),
    ("cusum-10", nist.cumulative_sums, b("1011010111"), {}, (0.411659, None)),
    ("cusum-100", nist.cumulative_sums, EPS100, {}, (0.219194, 0.114866)),
    ("excursions", nist.random_excursions, b("0110110101"), {"probabilities": "document"},
     (None,) * 4 + (0.502529,) + (None,) * 3),
    ("excursions-variant", nist.random_excursions_variant, b("0110110101"), {},
     (None,) * 9 + (0.683091,) + (None,) * 8),
]


@pytest.mark.parametrize("fn, bits, kwargs, expected", [e[1:] for e in EXAMPLES],
                         ids=[e[0] for e in EXAMPLES])
def test_worked_example(fn, bits, kwargs, expected):
    r = fn(bits, strict=False, **kwargs)
    assert r.applicable
    assert len(r.p_values) == len(expected) == len(r.labels)
    for got, want in zip(r.p_values, expected):
        if want is not None:
            assert got == pytest.approx(want, abs=TOL)


def test_worked_examples_are_too_short_in_strict_mode():
    for _, fn, bits, kwargs, _ in EXAMPLES:
        r = fn(bits, **kwargs)
        if fn is nist.non_overlapping_template_matching:  # no minimum n in SP 800-22, but mu = 1 < 20
            assert not r.applicable and "expected matches per block" in r.reason
        elif bits.size < 100 or fn in (nist.block_frequency, nist.approximate_entropy):  # M < 20; m too large
            assert not r.applicable and r.reason and r.p_values == ()
        else:
            assert r == fn(bits, strict=False, **kwargs)


def test_document_errors_are_not_reproduced():
    """Where the document's example is wrong or uses rounded constants, the default differs."""
    # serial: the document prints 0.9057 / 0.8805
    assert nist.serial(b("0011011101"), 3, strict=False).p_values[1] != pytest.approx(0.8805, abs=1e-3)
    # rank: the exact 3 x 3 probabilities; random excursions: exact pi_k(x)
    assert nist.binary_matrix_rank(b("01011001001010101101"), 3, 3, strict=False).p_values[0] \
        == pytest.approx(0.820962, abs=TOL)
    assert nist.random_excursions(b("0110110101"), strict=False).p_values[4] \
        == pytest.approx(0.502488, abs=TOL)
    # universal with the corrected sigma = c sqrt(variance / K)
    assert nist.universal(b("01011010011101010111"), 2, 4, strict=False).p_values[0] \
        == pytest.approx(0.063454, abs=TOL)


# --------------------------------------------------------------------------- Appendix B
APPENDIX_B = {
    # (test, label): (pi, e, sqrt2, sqrt3)
    ("frequency", ""): (0.578211, 0.953749, 0.811881, 0.610051),
    ("block_frequency", ""): (0.380615, 0.211072, 0.833222, 0.473961),
    ("runs", ""): (0.419268, 0.561917, 0.313427, 0.261123),
    ("longest_run_of_ones", ""): (0.024390, 0.718945, 0.012117, 0.446726),
    ("binary_matrix_rank", ""): (0.083553, 0.306156, 0.823810, 0.314498),
    ("discrete_fourier_transform", ""): (0.010186, 0.847187, 0.581909, 0.776046),
    ("non_overlapping_template_matching", "000000001"): (0.165757, 0.078790, 0.569461, 0.532235),
    ("overlapping_template_matching", ""): (0.296897, 0.110434, 0.791982, 0.082716),
    ("universal", ""): (0.669012, 0.282568, 0.130805, 0.165981),
    ("linear_complexity", ""): (0.255475, 0.826335, 0.317127, 0.346469),
    ("serial", "p1"): (0.143005, 0.766182, 0.861925, 0.157500),
    ("approximate_entropy", ""): (0.361595, 0.700073, 0.884740, 0.180481),
    ("cumulative_sums", "forward"): (0.628308, 0.669886, 0.879009, 0.917121),
    ("cumulative_sums", "reverse"): (0.663369, 0.724265, 0.957206, 0.689519),
    ("random_excursions", "x=+1"): (0.844143, 0.786868, 0.216235, 0.783283),
    ("random_excursions_variant", "x=-1"): (0.760966, 0.826009, 0.566118, 0.155066),
}


@pytest.fixture(scope="module")
def suites():
    return {name: nist.run_all(load(name)) for name in CONSTANTS}


@pytest.mark.parametrize("key", list(APPENDIX_B), ids=["-".join(k).rstrip("-") for k in APPENDIX_B])
def test_appendix_b(suites, key):
    test, label = key
    for name, want in zip(CONSTANTS, APPENDIX_B[key]):
        r = suites[name][test]
        assert r.applicable, (name, r.reason)
        assert r.p_values[r.labels.index(label)] == pytest.approx(want, abs=TOL), name


def test_appendix_b_extra_values_for_e():
    e = load("e")
    assert nist.serial(e).p_values == pytest.approx((0.766182, 0.462921), abs=TOL)
    assert nist.binary_matrix_rank(e[:100_000]).p_values[0] == pytest.approx(0.532069, abs=TOL)
    assert nist.serial(e, m=2).p_values == pytest.approx((0.843764, 0.561915), abs=TOL)
    assert nist.linear_complexity(e, block_size=1000).p_values[0] == pytest.approx(0.845406, abs=TOL)


def test_suite_on_pi_is_complete(suites):
    s = suites["pi"]
    assert [r.name for r in s.results] == list(nist.TEST_NAMES)
    assert s.not_applicable == ()
    counts = {r.name: len(r.p_values) for r in s.results}
    assert counts["non_overlapping_template_matching"] == 148
    assert counts["serial"] == counts["cumulative_sums"] == 2
    assert counts["random_excursions"] == 8 and counts["random_excursions_variant"] == 18
    assert sum(counts.values()) == 188
    assert s.passed["discrete_fourier_transform"] == (True,)  # 0.010186 >= 0.01
    assert s.alpha == 0.01 and s.n == N_BITS
    assert nist.run_all(load("pi"), alpha=0.02).passed["discrete_fourier_transform"] == (False,)
    params = s["linear_complexity"].parameters
    assert (params["M"], params["N"]) == (500, 2000)
    assert (s["universal"].parameters["L"], s["universal"].parameters["Q"]) == (7, 1280)
    assert s["longest_run_of_ones"].parameters["M"] == 10_000
    assert "not applicable" not in s.summary()


def test_exact_probabilities_move_appendix_b():
    """The reference code's rounded probabilities are what Appendix B was computed with."""
    pi = load("pi")
    assert nist.longest_run_of_ones(pi, probabilities="exact").p_values[0] == pytest.approx(0.027295, abs=TOL)
    assert nist.linear_complexity(pi, probabilities="exact").p_values[0] == pytest.approx(0.246801, abs=TOL)


# --------------------------------------------------------------------------- constants
def test_longest_run_probabilities():
    exact = nist._longest_run_probabilities
    assert exact(8, 1, 4) == (0.21484375, 0.3671875, 0.23046875, 0.1875)
    ref128 = nist._LONGEST_RUN_TABLE[128][2]
    np.testing.assert_allclose(exact(128, 4, 9), ref128, atol=1e-9)
    ref10k = nist._LONGEST_RUN_TABLE[10000][2]  # an approximation in the reference code
    np.testing.assert_allclose(exact(10000, 10, 16), ref10k, atol=2e-3)
    np.testing.assert_allclose(exact(10000, 10, 16), (0.086632, 0.208201, 0.248419, 0.193913, 0.121458,
                                                      0.068011, 0.073366), atol=1e-6)
    assert sum(exact(10000, 10, 16)) == pytest.approx(1.0, abs=1e-14)
    for m in (8, 11, 14):  # against enumeration of all 2^m blocks
        x = (np.arange(1 << m)[:, None] >> np.arange(m)) & 1
        longest = np.array([max(map(len, "".join(map(str, r)).split("0"))) for r in x])
        freq = np.bincount(np.clip(longest, 2, 6) - 2, minlength=5) / (1 << m)
        np.testing.assert_allclose(exact(m, 2, 6), freq, atol=1e-15)


def test_overlapping_probabilities_are_the_reference_codes():
    np.testing.assert_allclose(nist._overlapping_probabilities(9, 1032),
                               (0.367879, 0.183940, 0.137955, 0.099634, 0.069935, 0.140657), atol=1e-6)


def test_rank_probabilities():
    p = [nist._rank_probability(r, 32, 32) for r in (32, 31)]
    np.testing.assert_allclose(p + [1 - sum(p)], (0.2888, 0.5776, 0.1336), atol=1e-4)
    # every rank of a 3 x 4 matrix: the probabilities sum to one
    assert sum(nist._rank_probability(r, 3, 4) for r in range(4)) == pytest.approx(1.0, abs=1e-15)


def test_aperiodic_templates():
    counts = [nist.aperiodic_templates(m).shape[0] for m in range(2, 11)]
    assert counts == [2, 4, 6, 12, 20, 40, 74, 148, 284]  # NIST's numOfTemplates
    t = nist.aperiodic_templates(9)
    vals = t.astype(int) @ (1 << np.arange(8, -1, -1))
    assert np.all(np.diff(vals) > 0)  # the order of NIST's template9 file
    assert "".join(map(str, t[73])) == "011111111" and "".join(map(str, t[74])) == "100000000"
    with pytest.raises(ValueError, match="m must be"):
        nist.aperiodic_templates(1)


# --------------------------------------------------------------------------- kernels vs plain loops
def test_windows():
    rng = np.random.default_rng(3)
    for n in (1, 5, 9, 64, 1001):
        x = rng.integers(0, 2, n, dtype=np.uint8)
        for m in (1, 3, 9, 16, 25, 57, 60):
            ext = np.resize(x, n + m - 1)
            cyc = [int("".join(map(str, ext[i:i + m])), 2) for i in range(n)]
            np.testing.assert_array_equal(nist._windows(x, m, cyclic=True), cyc)
            lin = [int("".join(map(str, x[i:i + m])), 2) for i in range(n - m + 1)]
            np.testing.assert_array_equal(nist._windows(x, m, cyclic=False), lin)


def _gf2_rank_loop(a: np.ndarray) -> int:
    a = a.copy()
    r = 0
    for c in range(a.shape[1]):
        piv = [i for i in range(r, a.shape[0]) if a[i, c]]
        if piv:
            a[[r, piv[0]]] = a[[piv[0], r]]
            for i in range(a.shape[0]):
                if i != r and a[i, c]:
                    a[i] ^= a[r]
            r += 1
    return r


def test_gf2_rank():
    rng = np.random.default_rng(4)
    mats = []
    for k in range(300):
        r = rng.integers(0, 33)
        if k % 2:  # rank r at most
            a = (rng.integers(0, 2, (32, r)) @ rng.integers(0, 2, (r, 32))) % 2
        else:
            a = rng.integers(0, 2, (32, 32))
        mats.append(a.astype(np.uint8))
    mats = np.stack(mats)
    rows = np.packbits(mats, axis=2).view(">u4").astype(np.uint64)[..., 0]
    np.testing.assert_array_equal(nist._gf2_rank(rows, 64), [_gf2_rank_loop(a) for a in mats])


def _berlekamp_massey_loop(s: np.ndarray) -> int:
    """The reference code's loop (linearComplexity.c)."""
    m = s.size
    c = np.zeros(m + 1, np.uint8)
    bb = np.zeros(m + 1, np.uint8)
    c[0] = bb[0] = 1
    big_l, last = 0, -1
    for t in range(m):
        d = (int(s[t]) + int(np.dot(c[1:big_l + 1], s[t - big_l:t][::-1]))) % 2
        if d:
            tmp = c.copy()
            shift = t - last
            c[shift:] ^= bb[: m + 1 - shift]
            if big_l <= t // 2:
                big_l, last, bb = t + 1 - big_l, t, tmp
    return big_l


def test_linear_complexity_kernel():
    rng = np.random.default_rng(5)
    for m in (1, 2, 7, 63, 64, 65, 130, 200):
        blocks = rng.integers(0, 2, (12, m), dtype=np.uint8)
        blocks[0] = 0  # L = 0
        blocks[1] = 0
        blocks[1, -1] = 1  # 0...01: L = M
        blocks[2] = 1  # L = 1
        np.testing.assert_array_equal(nist._linear_complexities(blocks),
                                      [_berlekamp_massey_loop(x) for x in blocks], err_msg=f"M={m}")


def test_longest_run_counts_against_loop():
    rng = np.random.default_rng(6)
    x = (rng.random(7000) < 0.6).astype(np.uint8)
    r = nist.longest_run_of_ones(x)
    m, nb = 128, 7000 // 128
    longest = []
    for i in range(nb):
        run = best = 0
        for v in x[i * m:(i + 1) * m]:
            run = run + 1 if v else 0
            best = max(best, run)
        longest.append(best)
    nu = np.bincount(np.clip(longest, 4, 9) - 4, minlength=6)
    pi = np.array(nist._LONGEST_RUN_TABLE[128][2])
    chi2 = np.sum((nu - nb * pi) ** 2 / (nb * pi))
    assert r.p_values[0] == pytest.approx(gammaincc(2.5, chi2 / 2), abs=1e-12)


def _template_counts_loop(x: np.ndarray, t: np.ndarray, n_blocks: int) -> list[int]:
    m, bl = t.size, x.size // n_blocks
    out = []
    for i in range(n_blocks):
        j = c = 0
        while j < bl - m + 1:
            if np.array_equal(x[i * bl + j:i * bl + j + m], t):
                c += 1
                j += m
            else:
                j += 1
        out.append(c)
    return out


@pytest.mark.parametrize("template", ["000000001", "101101011", "111", "0000", "1010", "110110"])
def test_non_overlapping_counts_against_loop(template):
    """Aperiodic templates (histogram path) and periodic ones (restart scan)."""
    rng = np.random.default_rng(7)
    x = rng.integers(0, 2, 20_000, dtype=np.uint8)
    t = b(template)
    r = nist.non_overlapping_template_matching(x, templates=template, strict=False)  # mu < 20 for m >= 7
    m, bl = t.size, x.size // 8
    lam = (bl - m + 1) / 2 ** m
    var = bl * (1 / 2 ** m - (2 * m - 1) / 2 ** (2 * m))
    w = np.array(_template_counts_loop(x, t, 8))
    assert r.labels == (template,)
    assert r.p_values[0] == pytest.approx(gammaincc(4, np.sum((w - lam) ** 2) / var / 2), abs=1e-12)


def test_non_overlapping_template_arguments():
    x = np.random.default_rng(8).integers(0, 2, 82_000, dtype=np.uint8)  # mu >= 20 for m = 9
    all9 = nist.non_overlapping_template_matching(x)
    some = nist.non_overlapping_template_matching(x, templates=["000000001", np.array([1] * 8 + [0])])
    assert some.labels == ("000000001", "111111110")
    assert some.p_values == (all9.p_values[0], all9.p_values[-1])
    assert nist.non_overlapping_template_matching(x, m=4).labels \
        == ("0001", "0011", "0111", "1000", "1100", "1110")
    assert nist.non_overlapping_template_matching(x, templates=[0, 0, 1]).labels == ("001",)
    with pytest.raises(ValueError, match="same length"):
        nist.non_overlapping_template_matching(x, templates=["01", "011"])


def test_universal_against_loop():
    rng = np.random.default_rng(9)
    x = rng.integers(0, 2, 400_000, dtype=np.uint8)
    r = nist.universal(x)
    big_l, q, k = 6, 640, 400_000 // 6 - 640
    last = {}
    total = 0.0
    for i in range(1, q + k + 1):
        v = tuple(x[(i - 1) * big_l:i * big_l])
        if i > q:
            total += math.log2(i - last.get(v, 0))
        last[v] = i
    assert r.parameters["fn"] == pytest.approx(total / k, rel=1e-11)


def test_random_excursions_against_loop():
    x = load("sqrt2")[:200_000]
    r = nist.random_excursions(x, strict=False)
    s = np.cumsum(2 * x.astype(np.int64) - 1)
    cycles, cur = [], []
    for v in s:
        if v == 0:
            cycles.append(cur)
            cur = []
        else:
            cur.append(int(v))
    if cur:
        cycles.append(cur)
    assert r.parameters["J"] == len(cycles)
    for p, x_state in zip(r.p_values, (-4, -3, -2, -1, 1, 2, 3, 4)):
        nu = np.bincount([min(c.count(x_state), 5) for c in cycles], minlength=6)
        pi = nist._excursion_pi(x_state, "exact")
        chi2 = np.sum((nu - len(cycles) * pi) ** 2 / (len(cycles) * pi))
        assert p == pytest.approx(gammaincc(2.5, chi2 / 2), abs=1e-12)
    v = nist.random_excursions_variant(x, strict=False)
    for p, x_state in zip(v.p_values, [*range(-9, 0), *range(1, 10)]):
        xi = int(np.count_nonzero(s == x_state))
        j = len(cycles)
        want = math.erfc(abs(xi - j) / math.sqrt(2 * j * (4 * abs(x_state) - 2)))
        assert p == pytest.approx(want, abs=1e-12)


def test_cumulative_sums_reverse_is_forward_of_reversed():
    x = np.random.default_rng(10).integers(0, 2, 10_001, dtype=np.uint8)
    f, r = nist.cumulative_sums(x).p_values
    assert nist.cumulative_sums(x[::-1]).p_values == (r, f)


def test_cumulative_sums_uses_64_bit_sums():
    x = np.ones(70_000, np.uint8)  # |S| would overflow int16 partial sums
    r = nist.cumulative_sums(x)
    assert r.parameters["z_forward"] == 70_000 and r.p_values == pytest.approx((0.0, 0.0), abs=1e-12)


# --------------------------------------------------------------------------- applicability and input
def test_not_applicable_reasons():
    x = np.random.default_rng(11).integers(0, 2, 10_000, dtype=np.uint8)
    s = nist.run_all(x, by_length=False)
    assert set(s.not_applicable) == {"binary_matrix_rank", "overlapping_template_matching", "universal",
                                     "linear_complexity", "serial", "approximate_entropy",
                                     "random_excursions", "random_excursions_variant",
                                     "non_overlapping_template_matching"}
    for name in s.not_applicable:
        r = s[name]
        assert r.p_values == () and r.passed() == () and r.p_value is None and "SP 800-22" in r.reason
        assert s.passed[name] == ()
    assert "not applicable" in s.summary()
    loose = nist.run_all(x, strict=False)
    assert loose.not_applicable == ()  # everything computes once the recommendations are lifted


def test_random_excursions_need_500_cycles():
    x = np.random.default_rng(0).integers(0, 2, N_BITS, dtype=np.uint8)  # J = 174
    r = nist.random_excursions(x)
    assert not r.applicable and r.parameters["J"] == 174 and "J = 174 cycles < 500" in r.reason
    assert not nist.random_excursions_variant(x).applicable
    assert nist.random_excursions(x, strict=False).applicable


def test_runs_prerequisite():
    r = nist.runs(np.ones(1000, np.uint8))
    assert r.applicable and r.p_values == (0.0,) and "prerequisite" in r.reason


def test_degenerate_sequences():
    for x in (np.zeros(0, np.uint8), np.zeros(5, np.uint8)):
        for name in nist.TEST_NAMES:
            r = getattr(nist, name)(x, strict=False)
            assert r.applicable in (True, False)
    assert not nist.random_excursions(np.zeros(0, np.uint8), strict=False).applicable
    assert not nist.binary_matrix_rank(np.ones(1000, np.uint8), strict=False).applicable  # no 32 x 32 matrix


def test_input_checks_and_unpack():
    x = np.random.default_rng(12).integers(0, 2, 4096, dtype=np.uint8)
    packed = np.packbits(x)
    np.testing.assert_array_equal(nist.unpack(packed.tobytes()), x)
    np.testing.assert_array_equal(nist.unpack(packed, n_bits=100), x[:100])
    np.testing.assert_array_equal(nist.unpack(bytearray(packed.tobytes())), x)
    assert nist.frequency(x.astype(bool)) == nist.frequency(x) == nist.frequency(x.astype(np.int64))
    with pytest.raises(TypeError, match="unpack"):
        nist.frequency(packed.tobytes())
    with pytest.raises(ValueError, match="only 0 and 1"):
        nist.frequency(x * 2)
    with pytest.raises(ValueError, match="1-D"):
        nist.frequency(x.reshape(64, 64))
    with pytest.raises(ValueError, match="integers or bools"):
        nist.frequency(x.astype(float))
    with pytest.raises(ValueError, match="n_bits"):
        nist.unpack(b"\x00", n_bits=9)
    with pytest.raises(ValueError, match="alpha"):
        nist.run_all(x, alpha=1.5)
    with pytest.raises(ValueError, match="block_size must be one of"):
        nist.longest_run_of_ones(x, block_size=100)
    with pytest.raises(ValueError, match="probabilities"):
        nist.linear_complexity(x, probabilities="rounded")
    with pytest.raises(KeyError, match="no test named"):
        nist.run_all(x)["dft"]


# --------------------------------------------------------------------------- NIST's C code as oracle
ORACLE_SEQUENCES = [(100_000, 0), (100_000, 1), (1_000_000, 1), (1_000_000, 2)]  # seeds with J >= 500 at 10^6


@pytest.fixture
def oracle(tmp_path, monkeypatch):
    """sp80022suite (NIST's sts-2.1.2 C code); its non-overlapping test reads ./templates/template<m>."""
    sp = pytest.importorskip("sp80022suite")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "template9").write_text(
        "".join(" ".join(map(str, t)) + "\n" for t in nist.aperiodic_templates(9)))
    monkeypatch.chdir(tmp_path)
    return sp


def _oracle_p_values(sp, bits: np.ndarray) -> dict:
    """The oracle's P-value per test, None where it refuses. Multi-P tests return their minimum."""
    raw = bits.tobytes()
    calls = {
        "frequency": lambda: sp.frequency(raw),
        "block_frequency": lambda: sp.block_frequency(128, raw),
        "runs": lambda: sp.runs(raw),
        "longest_run_of_ones": lambda: sp.longest_run_of_ones(raw),
        "binary_matrix_rank": lambda: sp.rank(raw),
        "discrete_fourier_transform": lambda: sp.discrete_fourier_transform(raw),
        "non_overlapping_template_matching": lambda: sp.non_overlapping_template_matchings(9, raw),
        "overlapping_template_matching": lambda: sp.overlapping_template_matchings(9, raw),
        "universal": lambda: sp.universal(raw),
        "linear_complexity": lambda: sp.linear_complexity(500, raw),
        "serial": lambda: sp.serial(16, raw),
        "approximate_entropy": lambda: sp.approximate_entropy(10, raw),
        "cumulative_sums": lambda: sp.cumulative_sums(raw),
        "random_excursions": lambda: sp.random_excursions(raw),
        "random_excursions_variant": lambda: sp.random_excursions_variant(raw),
    }
    out = {}
    for name, call in calls.items():
        try:
            p = call()
        except ValueError:  # random excursions: "Insufficient number of cycles."
            p = None
        if name == "universal" and p is not None and p > 1:  # L < 6: the wrapper returns n
            p = None
        out[name] = p
    return out


@pytest.mark.parametrize("n, seed", ORACLE_SEQUENCES, ids=[f"n{n}-seed{s}" for n, s in ORACLE_SEQUENCES])
def test_against_nist_c_code(oracle, n, seed):
    bits = np.random.default_rng(seed).integers(0, 2, n, dtype=np.uint8)
    ref = _oracle_p_values(oracle, bits)
    strict, loose = nist.run_all(bits, by_length=False), nist.run_all(bits, strict=False, by_length=False)
    compared = 0
    for name in nist.TEST_NAMES:
        if ref[name] is None:
            assert not strict[name].applicable, name  # where NIST's code refuses, so do we
            continue
        # the oracle returns min over templates / (p1, p2) / (forward, reverse) / states
        assert loose[name].p_value == pytest.approx(ref[name], abs=TOL), name
        compared += 1
    assert compared == (15 if n == 1_000_000 else 12)


def test_each_template_against_nist_c_code(oracle, tmp_path):
    """All 148 template P-values, not only their minimum: the oracle reads its templates
    from ./templates/template9, so a file repeating one template 148 times returns that
    template's P-value."""
    bits = np.random.default_rng(13).integers(0, 2, 20_000, dtype=np.uint8)
    mine = nist.non_overlapping_template_matching(bits, strict=False)  # mu = 4.9 < 20: not in strict mode
    assert mine.applicable and len(mine.p_values) == 148
    for t, p in zip(nist.aperiodic_templates(9), mine.p_values):
        (tmp_path / "templates" / "template9").write_text((" ".join(map(str, t)) + "\n") * 148)
        assert p == pytest.approx(oracle.non_overlapping_template_matchings(9, bits.tobytes()), abs=TOL)


if __name__ == "__main__":  # regenerate the cached expansions (about 10 s)
    DATA.mkdir(exist_ok=True)
    for const in CONSTANTS:
        np.packbits(expansion_bits(const, N_BITS)).tofile(DATA / f"{const}.bin")
        print(const, hashlib.sha256((DATA / f"{const}.bin").read_bytes()).hexdigest())


def test_length_defaults():
    assert nist.length_defaults(10**6) == {"serial_m": 16, "approximate_entropy_m": 10}
    assert nist.length_defaults(20_000) == {"serial_m": 11, "approximate_entropy_m": 8}
    bits = np.random.default_rng(3).integers(0, 2, 20_000, dtype=np.uint8)
    suite = nist.run_all(bits)
    assert suite["serial"].parameters["m"] == 11 and suite["serial"].applicable
    assert suite["approximate_entropy"].parameters["m"] == 8
    assert not nist.run_all(bits, by_length=False)["serial"].applicable
