"""Privacy amplification at the protocol's lengths, and the rank test on its outputs.

Why a key hashed with a given public seed can fail one SP 800-22 test again and again: the
Toeplitz output is exact at the protocol's lengths (checked here against integer arithmetic,
no floating point), a shorter output is a prefix of a longer one (so a rerun with the same seed
and the same hash input replays the same key bits), and the rank test on hashed random inputs
with the seeds of keygen's second user (seed 1) is uniform, with rank frequencies of an
independent GF(2) elimination.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import kstest

from nfkg.protocol.amplification import public_bits, toeplitz_hash, toeplitz_hash_many
from nfkg.randomness import binary_matrix_rank

#: A prime with 2^23 | P - 1 and primitive root 3: number-theoretic transforms up to 2^23 points.
_P, _G = 998_244_353, 3


def _ntt(a: np.ndarray, invert: bool = False) -> np.ndarray:
    """Radix-2 number-theoretic transform mod :data:`_P` (integers only: products < 2^60)."""
    n = a.size
    lg = n.bit_length() - 1
    idx = np.arange(n)
    rev = np.zeros(n, np.int64)
    for b in range(lg):
        rev |= ((idx >> b) & 1) << (lg - 1 - b)
    a = a[rev]
    length = 2
    while length <= n:
        w = pow(_G, (_P - 1) // length, _P)
        if invert:
            w = pow(w, _P - 2, _P)
        half = length // 2
        ws = np.ones(half, np.int64)
        m = 1
        while m < half:
            ws[m:2 * m] = ws[:m] * pow(w, m, _P) % _P
            m *= 2
        a = a.reshape(-1, length)
        u, v = a[:, :half].copy(), a[:, half:] * ws % _P
        a = np.concatenate(((u + v) % _P, (u - v) % _P), axis=1).ravel()
        length *= 2
    return a * pow(n, _P - 2, _P) % _P if invert else a


def _toeplitz_exact(x: np.ndarray, ell: int, seed) -> np.ndarray:
    """T x mod 2 from the exact integer sums of the convolution t * x (entries n-1 .. n+ell-2)."""
    n = x.size
    t = public_bits(seed, ell + n - 1)
    size = 1 << (n + ell - 2).bit_length()
    a = np.zeros(size, np.int64)
    b = np.zeros(size, np.int64)
    a[:t.size], b[:n] = t, x
    c = _ntt(_ntt(a) * _ntt(b) % _P, invert=True)          # exact: every sum <= n < _P
    return (c[n - 1:n - 1 + ell] & 1).astype(np.uint8)


def test_ntt_reference_is_a_gf2_product():
    rng = np.random.default_rng(0)
    n, ell = 300, 17
    x = rng.integers(0, 2, n, dtype=np.uint8)
    t = public_bits(5, ell + n - 1).astype(np.int64)
    dense = np.array([[t[i - j + n - 1] for j in range(n)] for i in range(ell)]) @ x % 2
    np.testing.assert_array_equal(_toeplitz_exact(x, ell, 5), dense)


def test_toeplitz_hash_exact_at_the_protocols_length():
    """Every output bit of one privacy-amplification segment of J5 svd-opt (1.8 Mbit in, 125 kbit out,
    keygen's public seed of user 2, segment 0, seed 1) equals the exact integer computation."""
    n, ell = 1_800_000, 125_000
    seed = np.random.SeedSequence(1, spawn_key=(3, 1, 0))
    x = np.random.default_rng(1).integers(0, 2, n, dtype=np.uint8)
    np.testing.assert_array_equal(toeplitz_hash(x, ell, seed), _toeplitz_exact(x, ell, seed))


@pytest.mark.parametrize("short, long", [(64, 128), (100, 129), (1000, 5000)])
def test_toeplitz_output_prefix(short, long):
    """Output i depends on the seed's bits i .. i+n-1 and the input only: a shorter output is a prefix
    of a longer one (direct and FFT paths), so the same seed and input give the same key bits whatever
    length the leak allows."""
    x = np.random.default_rng(short).integers(0, 2, 3000, dtype=np.uint8)
    seed = np.random.SeedSequence(1, spawn_key=(3, 1, 0))
    np.testing.assert_array_equal(toeplitz_hash(x, short, seed), toeplitz_hash(x, long, seed)[:short])


def _rank_python(rows: list[int]) -> int:
    """GF(2) rank of rows given as Python ints (an XOR basis keyed by the leading bit)."""
    basis: dict[int, int] = {}
    for r in rows:
        while r:
            top = r.bit_length() - 1
            if top not in basis:
                basis[top] = r
                break
            r ^= basis[top]
    return len(basis)


def test_rank_test_on_hashed_random_inputs_is_uniform():
    """Random inputs hashed with user 2's public seeds (seed 1): the rank frequencies of 32 x 32
    matrices of the outputs are SP 800-22's (0.2888, 0.5776, 0.1336) by an independent elimination,
    and the test's P-values are uniform (the failure of one key is not in the matrix or the test)."""
    rng = np.random.default_rng(2)
    ell, n = 38 * 1024, 60_000
    keys = [toeplitz_hash_many([rng.integers(0, 2, n, dtype=np.uint8)], ell,
                               np.random.SeedSequence(1, spawn_key=(3, 1, j)))[0] for j in range(120)]
    ranks = []
    for y in keys:
        words = np.packbits(y.reshape(-1, 32), axis=1).view(">u4")[:, 0]
        ranks += [_rank_python([int(w) for w in words[i:i + 32]]) for i in range(0, words.size, 32)]
    ranks = np.array(ranks)
    freq = [np.mean(ranks == 32), np.mean(ranks == 31), np.mean(ranks <= 30)]
    np.testing.assert_allclose(freq, (0.2888, 0.5776, 0.1336), atol=0.025)   # 4560 matrices: 3.4 sigma
    p = [binary_matrix_rank(y).p_values[0] for y in keys]
    assert kstest(p, "uniform").pvalue > 1e-3
