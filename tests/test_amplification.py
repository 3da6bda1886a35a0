"""Privacy amplification, confirmation tags and the model's entropies (nfkg.protocol.amplification, nfkg.protocol.bounds)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ndtr

from nfkg.protocol.amplification import (TAG_BITS, aep_penalty, confirmation_tag, key_length, public_bits, renyi_min_entropy,
                                renyi_penalty, toeplitz_hash, toeplitz_hash_many)
from nfkg.protocol.bounds import (bit_posteriors, conditional_entropy, conditional_renyi_entropy, correlation, one_way_rate,
                         thresholds, uniform_thresholds)
from nfkg.model.channel import ULA
from nfkg.schemes.precoding import evaluate
from nfkg.protocol.probing import probe
from nfkg.protocol.quantization import multi_bit, one_bit
from nfkg.model.scenario import Scenario


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
    """FFT products at n = 2e5 still round to the exact parity (checked on a few rows); short outputs too."""
    n, ell = 200_000, 1_000
    x = np.random.default_rng(1).integers(0, 2, n, dtype=np.uint8)
    y = toeplitz_hash(x, ell, 9)
    t = public_bits(9, ell + n - 1).astype(np.int64)
    for i in (0, 17, ell - 1):
        row = t[i + n - 1 - np.arange(n)]
        assert y[i] == int(row @ x) % 2
    np.testing.assert_array_equal(toeplitz_hash(x, 64, 9)[[0, 63]], [int(t[n - 1 - np.arange(n)] @ x) % 2,
                                                                   int(t[63 + n - 1 - np.arange(n)] @ x) % 2])


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


# --------------------------------------------------------------------------- Renyi finite-size bound
def _bsc(p):
    """X a uniform bit, Z = X xor Bernoulli(p): H(X|Z) and alpha -> H_alpha(X|Z) in closed form."""
    h = -p * math.log2(p) - (1 - p) * math.log2(1 - p)
    return h, (lambda a: math.log2(p**a + (1 - p) ** a) / (1 - a))


def _water_level(cond, weight, eps):
    """Smallest max_{x,z} P~(x|z) over P~ <= P with mass eps removed (P(x,z) = weight * cond): -log2 of it is
    the exact smooth min-entropy of this removal kind (a lower bound on the smooth min-entropy)."""
    order = np.argsort(-cond)
    c, w = cond[order], weight[order]
    cw, cm = np.cumsum(w * c), np.cumsum(w)
    # removing down to level lam costs cw[k] - lam * cm[k] over the k+1 largest; find lam with cost eps
    c_next = np.append(c[1:], 0.0)
    cost_at_next = cw - c_next * cm            # cost when lam reaches the next value
    k = int(np.searchsorted(cost_at_next, eps))
    return (cw[k] - eps) / cm[k]


def test_renyi_key_length_api():
    h, h_a = _bsc(0.1)
    with pytest.raises(ValueError):
        key_length(10_000, h, 0, method="renyi")
    with pytest.raises(ValueError):
        key_length(10_000, h, 0, method="chernoff", h_alpha=h_a)
    assert key_length(0, h, 0, method="renyi", h_alpha=h_a) == 0
    # finite_size=False is the asymptotic length whatever the method; the default is still the AEP
    assert key_length(10_000, h, 5, finite_size=False, method="renyi", h_alpha=h_a) == \
        key_length(10_000, h, 5, finite_size=False)
    assert key_length(200_000, h, 5) == key_length(200_000, h, 5, method="aep")
    bound, alpha = renyi_min_entropy(10_000, h_a, 1e-9)
    assert key_length(10_000, h, 7, method="renyi", h_alpha=h_a) == math.floor(bound - 7 - 2 * math.log2(1e9))
    pen, alpha2 = renyi_penalty(10_000, h_a, h, 1e-9)
    assert alpha2 == alpha and pen == pytest.approx(10_000 * h - bound)


@pytest.mark.parametrize("p, n, eps", [(0.1, 10_000, 1e-9), (0.01, 2_000, 1e-3), (0.3, 10**7, 1e-15),
                                       (0.45, 50, 1e-2)])
def test_renyi_search_matches_dense_alpha_grid(p, n, eps):
    _, h_a = _bsc(p)
    bound, alpha = renyi_min_entropy(n, h_a, eps)
    grid = 1 + np.concatenate([np.geomspace(1e-9, 1, 20_000), [1.0]])
    vals = np.array([n * h_a(a) - math.log2(1 / eps) / (a - 1) for a in grid])
    assert 1 < alpha <= 2
    assert bound == pytest.approx(n * h_a(alpha) - math.log2(1 / eps) / (alpha - 1), rel=1e-12)
    assert bound >= vals.max() - 1e-6 * abs(vals.max()) - 1e-9


def test_renyi_never_exceeds_the_asymptotic_length():
    """A random sweep over n, the source (closed-form BSC and the Gaussian one-bit model), eps and the leak."""
    rng = np.random.default_rng(0)
    model = {rho: (conditional_entropy(rho, 1), (lambda a, r=rho: conditional_renyi_entropy(r, a, bits=1)))
             for rho in (0.5, 0.979, 0.99996)}
    for _ in range(60):
        n = int(10 ** rng.uniform(1, 8))
        eps_s, eps_pa = 10 ** rng.uniform(-15, -1), 10 ** rng.uniform(-15, -1)
        if rng.random() < 0.5:
            h, h_a = _bsc(float(rng.uniform(0.001, 0.5)))
        else:
            h, h_a = model[float(rng.choice(list(model)))]
        leak = int(rng.uniform(0, 0.5) * n * h)
        asym = key_length(n, h, leak, eps_pa, eps_s, finite_size=False)
        ren = key_length(n, h, leak, eps_pa, eps_s, method="renyi", h_alpha=h_a)
        assert 0 <= ren <= asym
        assert renyi_penalty(n, h_a, h, eps_s)[0] > 0


def test_renyi_beats_the_aep_at_n_2e5_one_bit():
    """J Fig. 5-like: Eve's correlation 0.979 (svd, 0 dBm), one-bit quantiser, n = 2e5 bits."""
    rho, n = 0.979, 200_000
    h = conditional_entropy(rho, 1)
    h_a = lambda a: conditional_renyi_entropy(rho, a, bits=1)  # noqa: E731
    pen, alpha = renyi_penalty(n, h_a, h, 1e-9)
    assert pen / n < 0.02 < 0.12 < aep_penalty(n, 2, 1e-9) / n
    leak = int(0.2 * n * h)
    assert key_length(n, h, leak, method="renyi", h_alpha=h_a) > key_length(n, h, leak) > 0


def test_renyi_fine_quantizer_penalty():
    """1024-level uniform quantiser, n = 2e6: the penalty is about sqrt(2 n V ln2 log2(1/eps)) / n, V = 1/(2 ln^2 2)."""
    rho_s, rho_e, n = 0.9993228, 0.999, 2_000_000
    step = 0.5 * math.sqrt(1 - rho_s**2)
    tau = uniform_thresholds(step, 1024)
    h = conditional_entropy(rho_e, thresholds=tau)
    pen, alpha = renyi_penalty(n, lambda a: conditional_renyi_entropy(rho_e, a, thresholds=tau), h, 1e-9)
    gauss = math.sqrt(2 * n * (0.5 / math.log(2) ** 2) * math.log(2) * math.log2(1e9)) / n
    assert pen / n == pytest.approx(gauss, rel=0.1)
    assert pen / n < 0.01 < 0.1 < aep_penalty(n, 1024, 1e-9) / n


@pytest.mark.parametrize("p, eps", [(0.2, 1e-1), (0.3, 1e-2), (0.45, 1e-3)])
def test_renyi_bound_below_exact_smooth_min_entropy_bsc(p, eps):
    """n = 20: all 2^20 x given z = 0 (every z alike for a uniform X through a BSC)."""
    n = 20
    w = np.bitwise_count(np.arange(1 << n, dtype=np.uint32)).astype(float)   # flips of each x
    cond = p**w * (1 - p) ** (n - w)
    assert cond.sum() == pytest.approx(1.0)
    exact = -math.log2(_water_level(cond, np.ones_like(cond), eps))
    _, h_a = _bsc(p)
    bound, _ = renyi_min_entropy(n, h_a, eps)
    assert 0 < bound <= exact
    assert -math.log2(cond.max()) <= exact          # smoothing only helps


@pytest.mark.parametrize("p, eps", [(0.1, 1e-6), (0.3, 1e-9), (0.02, 1e-3)])
def test_renyi_bound_below_exact_smooth_min_entropy_bsc_types(p, eps):
    """n = 1000 by type classes (k flips: C(n, k) sequences of probability p^k (1-p)^(n-k)); interior alpha."""
    from scipy.special import gammaln

    n = 1000
    k = np.arange(n + 1)
    cond = np.exp(k * math.log(p) + (n - k) * math.log(1 - p))
    mult = np.exp(gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1))
    assert np.sum(mult * cond) == pytest.approx(1.0, rel=1e-9)
    exact = -math.log2(_water_level(cond, mult, eps))
    _, h_a = _bsc(p)
    bound, alpha = renyi_min_entropy(n, h_a, eps)
    assert 1.05 < alpha < 1.95
    assert exact - 20 < bound <= exact               # valid, and not loose by more than 20 bits here


def test_renyi_bound_below_exact_smooth_min_entropy_asymmetric():
    """n = 10, P(z=1) = 0.3, P(x=1|z=0) = 0.3, P(x=1|z=1) = 0.45: all 2^10 x 2^10 pairs enumerated."""
    n, pz1, px = 10, 0.3, (0.3, 0.45)
    idx = np.arange(1 << n)
    bits = (idx[:, None] >> np.arange(n)) & 1       # (2^n, n)
    z, x = bits[:, None, :], bits[None, :, :]
    pz = np.prod(np.where(z == 1, pz1, 1 - pz1), axis=-1)                        # (2^n, 1)
    p1 = np.where(z == 1, px[1], px[0])
    cond = np.prod(np.where(x == 1, p1, 1 - p1), axis=-1)                        # (2^n, 2^n): P(x|z)
    weight = np.broadcast_to(pz, cond.shape)
    assert np.sum(weight * cond) == pytest.approx(1.0)

    def h_a(a):
        per = (1 - pz1) * (px[0] ** a + (1 - px[0]) ** a) + pz1 * (px[1] ** a + (1 - px[1]) ** a)
        return math.log2(per) / (1 - a)

    for eps in (3e-1, 1e-1, 1e-2):
        exact = -math.log2(_water_level(cond.ravel(), weight.ravel(), eps))
        bound, _ = renyi_min_entropy(n, h_a, eps)
        assert 0 < bound <= exact, (eps, bound, exact)


@pytest.mark.parametrize("n, ell", [(1, 1), (63, 64), (65, 65), (200, 128), (1000, 129), (3000, 700)])
def test_toeplitz_hash_many_shares_the_matrix(n, ell):
    """Several strings hashed with one matrix equal a GF(2) product each (direct and FFT paths)."""
    rng = np.random.default_rng(n + ell)
    xs = [rng.integers(0, 2, n).astype(np.uint8) for _ in range(3)]
    got = toeplitz_hash_many(xs, ell, 11)
    for x, y in zip(xs, got):
        np.testing.assert_array_equal(y, _toeplitz_dense(x, ell, 11))
    with pytest.raises(ValueError, match="xs"):
        toeplitz_hash_many([xs[0], xs[0][:-1]], ell, 11) if n > 1 else toeplitz_hash_many([xs[0], xs[0][:0]], ell, 11)
