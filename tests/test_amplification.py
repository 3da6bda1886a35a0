"""Privacy amplification, confirmation tags and the model's entropies (nfkg.amplification, nfkg.bounds)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ndtr

from nfkg.amplification import (TAG_BITS, aep_penalty, confirmation_tag, key_length, public_bits,
                                toeplitz_hash)
from nfkg.bounds import bit_posteriors, conditional_entropy, correlation, one_way_rate, thresholds
from nfkg.channel import ULA
from nfkg.precoding import evaluate
from nfkg.probing import probe
from nfkg.quantization import multi_bit, one_bit
from nfkg.scenario import Scenario


def _toeplitz_dense(x, ell, seed):
    n = x.size
    t = public_bits(seed, ell + n - 1)
    T = np.array([[t[i - j + n - 1] for j in range(n)] for i in range(ell)], dtype=np.int64)
    return (T @ x.astype(np.int64)) % 2


@pytest.mark.parametrize("n, ell", [(1, 1), (7, 3), (64, 64), (300, 17), (1000, 999)])
def test_toeplitz_hash_equals_gf2_product(n, ell):
    x = np.random.default_rng(n).integers(0, 2, n, dtype=np.uint8)
    np.testing.assert_array_equal(toeplitz_hash(x, ell, 5), _toeplitz_dense(x, ell, 5))


def test_toeplitz_hash_large_exact():
    """FFT products at n = 2e5 still round to the exact parity (checked on a few rows)."""
    n, ell = 200_000, 50
    x = np.random.default_rng(1).integers(0, 2, n, dtype=np.uint8)
    y = toeplitz_hash(x, ell, 9)
    t = public_bits(9, ell + n - 1).astype(np.int64)
    for i in (0, 17, ell - 1):
        row = t[i + n - 1 - np.arange(n)]
        assert y[i] == int(row @ x) % 2


def test_toeplitz_universal_collisions():
    """2-universal: two fixed different inputs collide with probability 2^-ell over the seed."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, 200, dtype=np.uint8)
    y = x.copy()
    y[3] ^= 1
    ell, trials = 4, 4000
    coll = sum(np.array_equal(toeplitz_hash(x, ell, s), toeplitz_hash(y, ell, s)) for s in range(trials))
    assert abs(coll / trials - 2.0**-ell) < 4 * math.sqrt(2.0**-ell / trials)
    assert toeplitz_hash(x, 0, 1).size == 0


def test_confirmation_tag():
    x = np.random.default_rng(2).integers(0, 2, 5000, dtype=np.uint8)
    a = confirmation_tag(x, 3)
    assert len(a) == TAG_BITS // 4 and a == confirmation_tag(x.copy(), 3)
    y = x.copy()
    y[4999] ^= 1
    assert confirmation_tag(y, 3) != a
    assert confirmation_tag(x, 4) != a


def test_key_length_leftover_hash_lemma():
    n, h, leak = 200_000, 0.6, 50_000
    pen = aep_penalty(n)
    assert pen == pytest.approx(math.sqrt(n) * 4 * math.log2(2 + math.sqrt(2)) * math.sqrt(math.log2(2e18)))
    ell = key_length(n, h, leak)
    assert ell == math.floor(n * h - pen - leak - 2 * math.log2(1e9))
    assert key_length(n, h, leak, finite_size=False) == math.floor(n * h - leak - 2 * math.log2(1e9))
    assert key_length(n, 0.01, leak) == 0 and key_length(0, 1.0, 0) == 0
    assert key_length(n, h, leak, eps_pa=1e-3) > ell


# --------------------------------------------------------------------------- the model's entropies
def _h_dense(rho, bits, n=400_001):
    """H(Q_b(u) | v) by the trapezoid rule on a dense grid (independent of conditional_entropy's quad)."""
    t = np.linspace(-10, 10, n)
    s = math.sqrt(1 - rho * rho)
    tau = np.concatenate([[-np.inf], thresholds(bits), [np.inf]])
    q = np.diff(ndtr((tau[None, :] - rho * t[:, None]) / s), axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.sum(np.where(q > 0, q * np.log2(np.where(q > 0, q, 1)), 0), axis=1)
    return float(np.trapezoid(h * np.exp(-t * t / 2) / math.sqrt(2 * math.pi), t))


@pytest.mark.parametrize("bits", [1, 2, 3])
@pytest.mark.parametrize("rho", [0.1, 0.5, 0.9, 0.99, 0.99999])
def test_conditional_entropy_two_quadratures(rho, bits):
    assert conditional_entropy(rho, bits) == pytest.approx(_h_dense(rho, bits), rel=1e-6, abs=1e-9)


def test_conditional_entropy_edges():
    assert conditional_entropy(0.0, 1) == 1.0 and conditional_entropy(0.0, 3) == 3.0
    assert conditional_entropy(1.0, 2) == 0.0
    assert 0 < conditional_entropy(0.999999, 1) < 0.01
    # one bit, rho -> 0: 1 - rho^2 / (pi ln 2) to second order
    assert conditional_entropy(0.01, 1) == pytest.approx(1 - 1e-4 / (math.pi * math.log(2)), abs=1e-8)


def _scen(de=0.5, pt=10.0):
    return Scenario.from_dbm(ULA(128, 30e9), users=[(12.0, -0.6), (13.0, 0.6)],
                             eves=[(12.0 - de, -0.6), (13.0 - de, 0.6)], pt_dbm=pt)


@pytest.mark.parametrize("bits", [1, 2])
def test_bit_posteriors_are_calibrated(bits):
    """The predicted error rate of the MAP bits matches the Monte Carlo one (BS vs user and vs Eve)."""
    s = _scen(0.5, 5.0)
    ev = evaluate(s, "svd")
    c = ev.cov[0]
    p = probe(s, "svd", rounds=20_000, seed=4)
    sig = math.sqrt(c[0, 0].real / 2)
    x_a = one_bit(p.z_a[:, 0]) if bits == 1 else multi_bit(p.z_a[:, 0], bits, sigma=sig).bits
    for who, z, j in (("user", p.z_b[:, 0], 1), ("eve", p.z_e[:, 0], 2)):
        post = bit_posteriors(z, c[0, 0].real, c[j, j].real, c[0, j], bits)
        assert post.shape == x_a.shape
        err = np.mean(x_a != (post > 0.5))
        pred = np.mean(np.minimum(post, 1 - post))
        se = math.sqrt(pred * (1 - pred) / x_a.size) * 3  # correlated bits: a generous 3x
        assert abs(err - pred) < 4 * se + 0.002, (who, err, pred)


def test_one_way_rate_below_skr_and_zero_for_a_close_eve():
    for de, pt in ((0.5, 10.0), (1.5, 20.0), (0.02, 20.0)):
        s = _scen(de, pt)
        for scheme in ("mrc", "svd", "svd-pa"):
            ev = evaluate(s, scheme)
            for bits in (1, 2):
                r = one_way_rate(ev.cov, bits)
                assert r.shape == (2,) and np.all(r >= 0) and np.all(r <= 2 * bits)
                assert np.all(r <= ev.skr + 1e-9), (de, scheme, bits, r, ev.skr)
    close = evaluate(_scen(0.02, 20.0), "svd")
    assert np.all(one_way_rate(close.cov, 1) < 0.01) and np.all(close.skr > 0.5)


def test_correlation():
    assert correlation(4.0, 1.0, 1j) == pytest.approx(0.5)
    assert correlation(1.0, 1.0, 2.0) == 1.0
