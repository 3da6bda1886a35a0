"""The model's rates and entropies (nfkg.protocol.bounds) against independent references.

References used here, none of them the module's quadrature: closed forms, determinants of
sample covariances of Gaussian draws, the previous adaptive-quadrature routine (copied below),
mpmath quadrature, a dense trapezoid rule, and Monte Carlo averages of exact posterior entropies.
"""

from __future__ import annotations

import math
import time

import mpmath as mpm
import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import ndtr

from nfkg.protocol.bounds import (REFERENCE, conditional_entropy, conditional_renyi_entropy, direction_correlations,
                         gaussian_mutual_information, gaussian_one_way_bs, gaussian_one_way_user, level_entropies,
                         one_way_rate, quantizer_bound, thresholds, uniform_thresholds)


# --------------------------------------------------------------------------- helpers (references)
def _cov(snr_b: float, snr_e: float, phase: float = 0.3) -> np.ndarray:
    """z_b = z_a + n_b, z_e = e^{j phase} z_a + n_e, z_a ~ CN(0, 1), independent noises of variance 1/SNR."""
    u = np.exp(1j * phase)
    return np.array([[1.0, 1.0, np.conj(u)],
                     [1.0, 1.0 + 1.0 / snr_b, np.conj(u)],
                     [u, u, 1.0 + 1.0 / snr_e]], dtype=complex)


def _random_cov(rng: np.random.Generator) -> np.ndarray:
    g = rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3))
    return g @ g.conj().T + 0.05 * np.eye(3)


def _draw(cov: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n circular complex Gaussian vectors with covariance cov, (n, 3)."""
    w = (rng.normal(size=(n, 3)) + 1j * rng.normal(size=(n, 3))) / math.sqrt(2)
    return w @ np.linalg.cholesky(cov).T


def _mi_det(k: np.ndarray, i: int, j: int) -> float:
    """I(z_i; z_j) = log2(K_ii K_jj / det K_{ij}) from a covariance (determinant form)."""
    sub = k[np.ix_([i, j], [i, j])]
    return math.log2(k[i, i].real * k[j, j].real / np.linalg.det(sub).real)


def _old_conditional_entropy(rho: float, bits: int = 1) -> float:
    """The previous implementation (adaptive quad with break points), kept as an independent reference."""
    rho = float(min(max(rho, 0.0), 1.0))
    if rho <= 0.0:
        return float(bits)
    if rho >= 1.0:
        return 0.0
    s = math.sqrt(max(1.0 - rho * rho, 0.0))
    tau = np.concatenate([[-np.inf], thresholds(bits), [np.inf]])

    def integrand(t: float) -> float:
        q = np.clip(np.diff(ndtr((tau - rho * t) / s)), 0.0, 1.0)
        h = -np.sum(q[q > 0] * np.log2(q[q > 0]))
        return float(h) * math.exp(-0.5 * t * t) / math.sqrt(2 * math.pi)

    edges = {-12.0, 12.0}
    for x in tau[1:-1]:
        c = float(x) / rho
        for d in (0.0, 1.0, 4.0, 10.0):
            edges.update({c - d * s / rho, c + d * s / rho})
    edges = sorted(e for e in edges if -12.0 <= e <= 12.0)
    val = sum(quad(integrand, a, b, limit=200, epsabs=1e-14, epsrel=1e-10)[0] for a, b in zip(edges[:-1], edges[1:]))
    return float(min(max(val, 0.0), bits))


def _mp_reference(rho: float, tau, alpha: float | None = None, dps: int = 20) -> float:
    """H(Q|V) (alpha None) or H_alpha(Q|V) by mpmath Gauss-Legendre quadrature over [-12, 12]."""
    with mpm.workdps(dps):
        r = mpm.mpf(rho)
        s = mpm.sqrt((1 - r) * (1 + r))
        tt = [mpm.mpf(float(x)) for x in tau]

        def f(t):
            c = [mpm.mpf(0)] + [mpm.ncdf((x - r * t) / s) for x in tt] + [mpm.mpf(1)]
            q = [c[i + 1] - c[i] for i in range(len(c) - 1)]
            if alpha is None:
                v = -sum(p * mpm.log(p, 2) for p in q if p > 0)
            else:
                v = sum(p ** alpha for p in q)
            return mpm.npdf(t) * v

        pts = {mpm.mpf(-12), mpm.mpf(12)}
        for x in tt:
            for d in (0, 1, 3, 6, 10):
                for sg in (-1, 1):
                    v = (x + sg * d * s) / r
                    if -12 < v < 12:
                        pts.add(v)
        val = mpm.quad(f, sorted(pts), method="gauss-legendre")
        return float(val) if alpha is None else float(mpm.log(val, 2) / (1 - alpha))


def _cells(m: np.ndarray, s: float, tau: np.ndarray) -> np.ndarray:
    """All cell masses under N(m, s^2), (n, L), straightforwardly."""
    edges = np.concatenate([[-np.inf], tau, [np.inf]])
    return np.clip(np.diff(ndtr((edges[None, :] - m[:, None]) / s), axis=1), 0.0, 1.0)


def _entropy(q: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.sum(np.where(q > 0, q * np.log2(np.where(q > 0, q, 1.0)), 0.0), axis=-1)


# --------------------------------------------------------------------------- Gaussian rates
def test_gaussian_mutual_information_closed_form_and_edges():
    assert float(gaussian_mutual_information(1.0, 1.0, 0.5j)) == pytest.approx(-math.log2(0.75), rel=1e-15)
    # y = x + n: I = log2(1 + SNR)
    for snr in (1e-3, 0.7, 10.0, 1e6):
        got = float(gaussian_mutual_information(1.0, 1.0 + 1.0 / snr, 1.0))
        assert got == pytest.approx(math.log2(1 + snr), rel=1e-9)
    # broadcasting
    out = gaussian_mutual_information(np.ones((2, 1)), np.array([1.0, 2.0, 4.0]), 0.5)
    assert out.shape == (2, 3)
    np.testing.assert_allclose(out[1], -np.log2(1 - 0.25 / np.array([1.0, 2.0, 4.0])))
    # exact correlation: large finite; zero variance: 0; never NaN or a warning (warnings are errors here)
    assert float(gaussian_mutual_information(1.0, 4.0, 2.0)) == pytest.approx(-math.log2(1e-300))
    assert float(gaussian_mutual_information(1.0, 1.0, 1.0 + 1e-15)) == pytest.approx(-math.log2(1e-300))
    assert float(gaussian_mutual_information(0.0, 1.0, 0.0)) == 0.0


def test_gaussian_one_way_closed_form():
    """z_b = z_a + n_b, z_e = z_a + n_e: BS: log2(1+SNR_b) - log2(1+SNR_e); user: from 1 - rho_be^2."""
    sb, se = 20.0, 3.0
    c = _cov(sb, se)
    vb, ve = 1 / sb, 1 / se
    assert float(gaussian_one_way_bs(c)) == pytest.approx(math.log2(1 + sb) - math.log2(1 + se), rel=1e-12)
    i_ab = math.log2(1 + sb)
    i_be = math.log2((1 + vb) * (1 + ve) / (vb + ve + vb * ve))
    assert float(gaussian_one_way_user(c)) == pytest.approx(i_ab - i_be, rel=1e-12)
    # Eve better than the side: zero; a stack keeps its shape
    stack = np.stack([_cov(sb, se), _cov(se, sb)])[None]
    assert gaussian_one_way_bs(stack).shape == (1, 2) and gaussian_one_way_bs(stack)[0, 1] == 0.0


def test_gaussian_one_way_against_sample_covariance():
    """The formulas on the true covariance vs determinant-form MI on the sample covariance of 10^5 draws."""
    rng = np.random.default_rng(7)
    c = _cov(8.0, 1.5, phase=1.1)
    z = _draw(c, 100_000, rng)
    batches = z.reshape(20, -1, 3)

    def est(zz):
        k = zz.T @ zz.conj() / zz.shape[0]
        return (_mi_det(k, 0, 1) - _mi_det(k, 0, 2), _mi_det(k, 0, 1) - _mi_det(k, 1, 2))

    full = np.array(est(z))
    per = np.array([est(b) for b in batches])
    se = per.std(axis=0, ddof=1) / math.sqrt(len(per))  # standard error of a 10^5-sample estimate
    model = np.array([float(gaussian_one_way_bs(c)), float(gaussian_one_way_user(c))])
    assert np.all(model > 0.3)
    assert np.all(np.abs(full - model) < 5 * se + 1e-3), (full, model, se)


def test_one_way_rates_below_skr():
    """Both one-way rates are at most I(z_a; z_b | z_e), computed from determinants."""
    rng = np.random.default_rng(3)
    for _ in range(50):
        c = _random_cov(rng)
        det = np.linalg.det(c).real
        dae = np.linalg.det(c[np.ix_([0, 2], [0, 2])]).real
        dbe = np.linalg.det(c[np.ix_([1, 2], [1, 2])]).real
        skr = math.log2(dae * dbe / (c[2, 2].real * det))
        assert float(gaussian_one_way_bs(c)) <= skr + 1e-9
        assert float(gaussian_one_way_user(c)) <= skr + 1e-9


# --------------------------------------------------------------------------- directions, quantisers
def test_direction_correlations():
    assert REFERENCE == {"bs": (0, 1), "user": (1, 0)}
    c = _cov(20.0, 3.0)
    rs, re = direction_correlations(c, "bs")
    assert float(rs) == pytest.approx(1 / math.sqrt(1 + 1 / 20))
    assert float(re) == pytest.approx(1 / math.sqrt(1 + 1 / 3))
    rs_u, re_u = direction_correlations(c, "user")
    assert float(rs_u) == pytest.approx(float(rs))
    assert float(re_u) == pytest.approx(1 / math.sqrt((1 + 1 / 20) * (1 + 1 / 3)))
    a, b = direction_correlations(np.stack([c, c, c]), "user")
    assert a.shape == b.shape == (3,)
    with pytest.raises(ValueError):
        direction_correlations(c, "eve")


def test_uniform_thresholds():
    t = uniform_thresholds(0.25, 8)
    np.testing.assert_allclose(t, [-0.75, -0.5, -0.25, 0.0, 0.25, 0.5, 0.75])
    big = uniform_thresholds(1e-3, 65536)
    assert big.size == 65535 and np.all(np.diff(big) > 0)
    np.testing.assert_allclose(big, -big[::-1], atol=1e-12)
    for bad in (1, 3, 6, 131072):
        with pytest.raises(ValueError):
            uniform_thresholds(0.1, bad)
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError):
            uniform_thresholds(bad, 4)


# --------------------------------------------------------------------------- conditional entropy
@pytest.mark.parametrize("bits", [1, 2, 3, 4])
def test_conditional_entropy_matches_previous_routine(bits):
    for rho in (0.0, 0.5, 0.99, 0.999999, 1 - 1e-10, 1.0):
        new = conditional_entropy(rho, bits)
        assert new == pytest.approx(_old_conditional_entropy(rho, bits), rel=1e-9, abs=1e-15)
        assert new == pytest.approx(conditional_entropy(rho, thresholds=thresholds(bits)), rel=0, abs=0)


@pytest.mark.parametrize("rho, tau, alpha", [
    (0.999999, thresholds(1), None),
    (0.999999, uniform_thresholds(0.5 * math.sqrt(1 - 0.999999**2), 4), None),
    (0.9, uniform_thresholds(0.7, 4), None),
    (0.5, thresholds(2), None),
    (0.999999, thresholds(1), 2.0),
    (0.9, uniform_thresholds(0.7, 4), 1.3),
])
def test_entropies_against_mpmath(rho, tau, alpha):
    ref = _mp_reference(rho, tau, alpha)
    got = (conditional_entropy(rho, thresholds=tau) if alpha is None
           else conditional_renyi_entropy(rho, alpha, thresholds=tau))
    assert got == pytest.approx(ref, rel=1e-10)


def test_conditional_entropy_fine_quantizer_against_dense_trapezoid():
    """1024 levels, step s/2, rho near 1: a trapezoid rule with 16 points per s/rho (spectrally accurate)."""
    rho = 0.9995
    s = math.sqrt(1 - rho * rho)
    tau = uniform_thresholds(0.5 * s, 1024)
    lim = (tau[-1] + 12 * s) / rho
    t = np.linspace(-lim, lim, int(2 * lim / (s / rho / 16)) | 1)
    h = np.concatenate([_entropy(_cells(rho * c, s, tau)) for c in np.array_split(t, 40)])
    ref = float(np.trapezoid(h * np.exp(-t * t / 2) / math.sqrt(2 * math.pi), t))
    assert conditional_entropy(rho, thresholds=tau) == pytest.approx(ref, rel=1e-8)


def test_conditional_entropy_uniform_64_monte_carlo():
    """E_v[h(P(Q | v))] by sampling v (exact posterior entropy per sample) for a 64-level uniform quantiser."""
    rng = np.random.default_rng(11)
    rho = 0.995
    s = math.sqrt(1 - rho * rho)
    tau = uniform_thresholds(0.4 * s, 64)        # covers +-1.28 sigma: the end cells matter too
    v = rng.normal(size=50_000)
    h = _entropy(_cells(rho * v, s, tau))
    est, se = h.mean(), h.std(ddof=1) / math.sqrt(h.size)
    assert abs(conditional_entropy(rho, thresholds=tau) - est) < 5 * se


def test_conditional_entropy_edges_and_arrays():
    tau = uniform_thresholds(0.5, 8)
    p = np.diff(ndtr(np.concatenate([[-np.inf], tau, [np.inf]])))
    assert conditional_entropy(0.0, thresholds=tau) == pytest.approx(float(_entropy(p)), rel=1e-13)
    assert conditional_entropy(1.0, thresholds=tau) == 0.0
    assert conditional_entropy(-0.7, thresholds=tau) == conditional_entropy(0.7, thresholds=tau)
    arr = conditional_entropy(np.array([[0.3, 0.9]]), 2)
    assert arr.shape == (1, 2) and arr[0, 1] == conditional_entropy(0.9, 2)
    with pytest.raises(ValueError):
        conditional_entropy(0.5, thresholds=[0.5, 0.1])


def test_conditional_entropy_speed_1024_levels():
    rho = 0.9999
    s = math.sqrt(1 - rho * rho)
    tau = uniform_thresholds(0.5 * s, 1024)
    conditional_entropy(rho, thresholds=tau)
    best = min(_timed(lambda: conditional_entropy(rho, thresholds=tau)) for _ in range(5))
    assert best < 0.05, best
    # the extremes of the brief: 4096 levels, step 0.2 s, rho = 1 - 1e-10
    r2 = 1 - 1e-10
    s2 = math.sqrt(1 - r2 * r2)
    assert _timed(lambda: conditional_entropy(r2, thresholds=uniform_thresholds(0.2 * s2, 4096))) < 1.0


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


# --------------------------------------------------------------------------- levels
@pytest.mark.parametrize("rho, step, levels", [(0.99, 0.25, 16), (0.9995, 0.016, 1024), (0.5, 0.5, 8),
                                               (1 - 1e-10, 2e-6, 4096), (0.9, 0.1, 2)])
def test_level_entropies_sum_rule(rho, step, levels):
    tau = uniform_thresholds(step, levels)
    h = level_entropies(rho, tau)
    assert h.shape == (int(math.log2(levels)),)
    assert np.all((h >= 0) & (h <= 1))
    assert h.sum() == pytest.approx(conditional_entropy(rho, thresholds=tau), rel=1e-9, abs=1e-12)


def test_level_entropies_monte_carlo_one_level():
    """H(B_1 | V, B_0) for 16 uniform levels: mean binary entropy of the exact posterior of B_1 given (v, b_0)."""
    rng = np.random.default_rng(5)
    rho, levels = 0.99, 16
    s = math.sqrt(1 - rho * rho)
    tau = uniform_thresholds(0.1, levels)
    n = 100_000
    v = rng.normal(size=n)
    u = rho * v + s * rng.normal(size=n)
    q = np.searchsorted(tau, u)                    # the cell index of u
    b0 = q & 1
    p = _cells(rho * v, s, tau)                    # (n, 16)
    idx = np.arange(levels)
    same = (idx[None, :] & 1) == b0[:, None]       # cells consistent with the decoded level 0
    p1 = np.sum(p * (same & ((idx[None, :] >> 1) & 1 == 1)), axis=1) / np.sum(p * same, axis=1)
    hb = _entropy(np.stack([p1, 1 - p1], axis=1))
    est, se = hb.mean(), hb.std(ddof=1) / math.sqrt(n)
    h = level_entropies(rho, tau)
    assert 0.05 < h[1] < 0.95
    assert abs(h[1] - est) < 5 * se
    with pytest.raises(ValueError):
        level_entropies(rho, uniform_thresholds(0.1, 8)[:-1])   # 7 cells


# --------------------------------------------------------------------------- Renyi
def test_renyi_limits_and_monotonicity():
    tau = uniform_thresholds(0.05, 256)
    for rho in (0.3, 0.99, 0.99999):
        h = conditional_entropy(rho, thresholds=tau)
        assert conditional_renyi_entropy(rho, 1.0, thresholds=tau) == h
        assert conditional_renyi_entropy(rho, 1 + 1e-7, thresholds=tau) == pytest.approx(h, rel=1e-6)
        vals = [conditional_renyi_entropy(rho, a, thresholds=tau) for a in (1.001, 1.01, 1.1, 1.5, 2.0)]
        assert np.all(np.diff(vals) <= 1e-12) and vals[0] <= h
    # rho = 0, equiprobable: the Renyi entropy of a uniform distribution is log2 L for every alpha
    assert conditional_renyi_entropy(0.0, 1.7, bits=3) == pytest.approx(3.0, rel=1e-13)
    assert conditional_renyi_entropy(1.0, 1.5, bits=2) == 0.0
    with pytest.raises(ValueError):
        conditional_renyi_entropy(0.5, 0.9)


def test_renyi_two_monte_carlo():
    """H_2(Q|V) = -log2 E_v[sum_x P(x|v)^2] by sampling v, 64 uniform levels."""
    rng = np.random.default_rng(2)
    rho = 0.995
    s = math.sqrt(1 - rho * rho)
    tau = uniform_thresholds(0.4 * s, 64)
    g = np.sum(_cells(rho * rng.normal(size=50_000), s, tau) ** 2, axis=1)
    est, se = g.mean(), g.std(ddof=1) / math.sqrt(g.size)
    got = 2.0 ** -conditional_renyi_entropy(rho, 2.0, thresholds=tau)
    assert abs(got - est) < 5 * se


# --------------------------------------------------------------------------- quantiser bound
def test_one_way_rate_is_the_bs_quantizer_bound():
    rng = np.random.default_rng(9)
    covs = np.stack([_random_cov(rng) for _ in range(6)]).reshape(2, 3, 3, 3)
    for bits in (1, 2):
        np.testing.assert_array_equal(one_way_rate(covs, bits), quantizer_bound(covs, "bs", bits=bits))
    assert quantizer_bound(covs, "user").shape == (2, 3)


def test_quantizer_bound_user_is_bs_with_roles_swapped():
    c = _cov(30.0, 5.0, phase=0.7)
    swap = c[np.ix_([1, 0, 2], [1, 0, 2])]
    tau = uniform_thresholds(0.1, 64)
    assert float(quantizer_bound(c, "user", thresholds=tau)) == float(quantizer_bound(swap, "bs", thresholds=tau))


def test_quantizer_bound_below_gaussian_and_converges_to_it():
    """Quantising loses key (data processing, Eve degraded), and a fine uniform quantiser recovers it."""
    c = _cov(50.0, 4.0)
    for direction, gauss in (("bs", gaussian_one_way_bs), ("user", gaussian_one_way_user)):
        g = float(gauss(c))
        for bits in (1, 2, 3):
            assert float(quantizer_bound(c, direction, bits=bits)) <= g + 1e-12
        rs, _ = direction_correlations(c, direction)
        s = math.sqrt(1 - float(rs) ** 2)
        fine = float(quantizer_bound(c, direction, thresholds=uniform_thresholds(0.05 * s, 2048)))
        assert fine <= g + 1e-12 and fine == pytest.approx(g, rel=2e-3)


@pytest.mark.parametrize("step, rho", [(0.0003, 0.9999), (0.002, 0.99)])
def test_high_resolution_closed_forms_match_the_quadrature(step, rho):
    """Fine uniform quantisers (s >= 40 steps): the closed forms equal the quadrature to 1e-9."""
    from nfkg.protocol import bounds as b

    L = 1 << math.ceil(math.log2(14 / step))
    tau = b.uniform_thresholds(step, L)
    s = math.sqrt(1 - rho ** 2)
    assert b._fine_step(tau, s) == pytest.approx(step)
    closed = [b.conditional_entropy(rho, thresholds=tau)] + [b.conditional_renyi_entropy(rho, a, thresholds=tau)
                                                             for a in (1.001, 1.5, 2.0)]
    saved = b._FINE_RATIO
    try:
        b._FINE_RATIO = math.inf                                   # force the quadrature
        quad = [b.conditional_entropy(rho, thresholds=tau)] + [b.conditional_renyi_entropy(rho, a, thresholds=tau)
                                                               for a in (1.001, 1.5, 2.0)]
    finally:
        b._FINE_RATIO = saved
    np.testing.assert_allclose(closed, quad, rtol=1e-9)
    assert b._fine_step(b.thresholds(3), 1.0) is None               # not uniform
    assert b._fine_step(tau, 10 * step) is None                     # not fine


def test_renyi_entropies_of_several_alphas_at_once():
    """The batched H_alpha (one quadrature for several alphas, as the key length uses it) gives
    each alpha's value of conditional_renyi_entropy bit for bit, and agrees with mpmath."""
    from nfkg.protocol.bounds import _renyi_entropies

    alphas = (1.00001, 1.001, 1.1, 1.3, 2.0)
    for rho, tau in [(0.9, uniform_thresholds(0.7, 4)), (0.999, uniform_thresholds(0.02, 1024)),
                     (0.99, thresholds(2)), (0.3, uniform_thresholds(0.01, 2048))]:   # the last: closed form
        many = _renyi_entropies(rho, alphas, tau)
        assert many == [conditional_renyi_entropy(rho, a, thresholds=tau) for a in alphas]
    assert _renyi_entropies(0.9, (1.3,), uniform_thresholds(0.7, 4))[0] == pytest.approx(
        _mp_reference(0.9, uniform_thresholds(0.7, 4), 1.3), rel=1e-10)


def test_quadrature_pieces_do_not_change_the_sums(monkeypatch):
    """The cell masses are computed in cache-sized pieces of each chunk: any piece size gives the
    same entropies bit for bit (rows keep the chunk's width, so their sums are the same)."""
    from nfkg.protocol import cell_quadrature as cq

    tau = uniform_thresholds(0.003, 4096)
    cases = [lambda: conditional_entropy(0.99999, thresholds=tau), lambda: level_entropies(0.9999, tau).tolist(),
             lambda: conditional_renyi_entropy(0.9999, 1.2, thresholds=tau), lambda: conditional_entropy(0.9, 3)]
    monkeypatch.setattr(cq, "_SUB_CELLS", 1 << 30)
    whole = [f() for f in cases]
    for piece in (3000, 1 << 15):
        monkeypatch.setattr(cq, "_SUB_CELLS", piece)
        assert [f() for f in cases] == whole
