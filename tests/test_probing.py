"""Monte Carlo probing and quantisation against the analytic model (J(4)-(11), J(45)-(46))."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import ndtri
from scipy.stats import ks_2samp, norm

from nfkg.model.channel import ULA
from nfkg.schemes.precoding import evaluate, precode
from nfkg.protocol.probing import BLOCK, probe, sample_covariance, zadoff_chu
from nfkg.protocol.quantization import (gray_code, kdr, kdr_one_bit_gaussian, multi_bit, one_bit, stack_real)
from nfkg.model.scenario import Scenario

USERS = {1: [(12.0, -0.6)], 2: [(12.0, -0.6), (13.0, 0.6)], 3: [(12.0, -0.6), (13.0, 0.0), (14.0, 0.6)]}
EVES = {1: [(11.5, -0.55)], 2: [(11.5, -0.55), (12.7, 0.62)], 3: [(11.5, -0.55), (12.7, 0.03), (14.4, 0.6)]}


def _scen(k=2, n_ant=48, pt=10.0, noise=-80.0, **kw):
    return Scenario.from_dbm(ULA(n_ant, 30e9), users=USERS[k], eves=EVES[k], pt_dbm=pt, noise_dbm=noise, **kw)


def _check_cov(p, analytic, n_se=5.0):
    """Every entry of the sample covariance within n_se standard errors of the analytic one."""
    z = np.stack([p.z_a, p.z_b, p.z_e], axis=-1)                       # (T, K, 3)
    prod = z[..., :, None] * z[..., None, :].conj()                    # (T, K, 3, 3)
    mean = prod.mean(0)
    se_re = prod.real.std(0) / np.sqrt(z.shape[0])
    se_im = prod.imag.std(0) / np.sqrt(z.shape[0])
    scale = np.sqrt(np.einsum("kii,kjj->kij", analytic, analytic).real)
    tiny = 1e-9 * scale                                                 # exact zeros (SVD nulling)
    assert np.all(np.abs(mean.real - analytic.real) <= n_se * se_re + tiny)
    assert np.all(np.abs(mean.imag - analytic.imag) <= n_se * se_im + tiny)
    np.testing.assert_allclose(mean, sample_covariance(p), rtol=1e-12, atol=1e-30)


@pytest.mark.parametrize("scheme,k,method", [
    *((sc, k, "reduced") for sc in ("ras", "mrc", "svd", "svd-pa", "svd-mf") for k in (1, 2, 3)),
    *((sc, k, "explicit") for sc in ("ras", "mrc", "svd", "svd-pa") for k in (2, 3))])
def test_sample_covariance_matches_engine(scheme, k, method):
    s = _scen(k)
    ev = evaluate(s, scheme)
    p = probe(s, scheme, rounds=20_000, seed=3, method=method)
    assert p.z_a.shape == (20_000, k) and p.pilots == "explicit" and p.method == method
    _check_cov(p, ev.cov)


@pytest.mark.parametrize("method", ["reduced", "explicit"])
def test_matched_shaping_and_long_pilot_ls_vs_explicit(method):
    s = _scen(2, n_ant=32, pilot_length=16, noise=-70.0)
    ev = evaluate(s, "svd-pa", "matched")
    for pilots in ("explicit", "ls"):
        p = probe(s, "svd-pa", rounds=12_000, seed=5, shaping="matched", pilots=pilots, method=method)
        assert p.pilots == pilots and p.method == method
        _check_cov(p, ev.cov)


@pytest.mark.parametrize("method", ["reduced", "explicit"])
def test_same_seed_same_samples_for_any_chunk(method):
    s = _scen(2)
    ref = probe(s, "svd", rounds=2 * BLOCK + 37, seed=11, chunk=BLOCK, method=method)
    for chunk in (1, 3 * BLOCK, 10**6):
        other = probe(s, "svd", rounds=2 * BLOCK + 37, seed=11, chunk=chunk, method=method)
        for a, b in ((ref.z_a, other.z_a), (ref.z_b, other.z_b), (ref.z_e, other.z_e)):
            np.testing.assert_array_equal(a, b)
    # whole blocks do not depend on the number of rounds after them; another seed differs
    longer = probe(s, "svd", rounds=3 * BLOCK, seed=11, method=method)
    np.testing.assert_array_equal(longer.z_b[:2 * BLOCK], ref.z_b[:2 * BLOCK])
    np.testing.assert_array_equal(longer.z_a[:2 * BLOCK], ref.z_a[:2 * BLOCK])
    assert not np.array_equal(probe(s, "svd", rounds=2 * BLOCK + 37, seed=12, method=method).z_b, ref.z_b)


def test_progress_and_bad_input():
    s = _scen(2)
    seen = []
    probe(s, "mrc", rounds=3 * BLOCK, seed=0, chunk=BLOCK, progress=seen.append)
    assert seen == [BLOCK, 2 * BLOCK, 3 * BLOCK]
    for bad in (0, -3, 1.5, True, "10", None, float("nan")):
        with pytest.raises(ValueError, match="rounds"):
            probe(s, "mrc", rounds=bad)
    assert probe(s, "mrc", rounds=7.0).rounds == 7 and probe(s, "mrc", rounds=np.int64(5)).z_a.shape == (5, 2)
    with pytest.raises(ValueError, match="pilots"):
        probe(s, "mrc", rounds=10, pilots="fast")
    with pytest.raises(ValueError, match="method"):
        probe(s, "mrc", rounds=10, method="fast")
    assert probe(s, "svd-mf", rounds=10).method == "reduced"          # 'auto': every registered scheme
    batch = Scenario.from_dbm(ULA(48, 30e9), users=USERS[2], eves=EVES[2], pt_dbm=np.array([0.0, 10.0]))
    with pytest.raises(ValueError, match="one scenario"):
        probe(batch, "mrc", rounds=10)


def test_zadoff_chu_unit_modulus():
    for n in (1, 7, 16):
        x = zadoff_chu(n)
        assert x.shape == (n,) and np.allclose(np.abs(x), 1.0)


# --------------------------------------------------------------------------- reduced vs explicit simulation
def _dense_w(cov):
    """``W_k`` as N x N matrices (test only) from the shapes: QQ^H/r or (I - QQ^H)/(N - r)."""
    n = cov.shapes[0].n_ant
    w = 0
    for j, sh in enumerate(cov.shapes):
        qq = np.einsum("knm,kpm->knp", sh.basis, sh.basis.conj())
        r = (np.eye(n) - qq) if sh.complement else qq
        w = w + (cov.powers[:, j] * sh._scale())[:, None, None] * r
    return w


def _fourth_moments(s, cov):
    r"""Analytic :math:`E|z_{a_j}|^2|z_{a_k}|^2` ``(K, K)``.

    Given the BS noise n, the :math:`z_{a_k} = (g + n)^H w_k` are independent
    :math:`\mathcal{CN}(0, s_k)`, :math:`s_k = (g + n)^H W_k (g + n)`, so the moment is
    :math:`(1 + \delta_{jk}) E[s_js_k]` with :math:`n \sim \mathcal{CN}(0, \kappa I)`:
    :math:`E s_j E s_k + 2\kappa\,\mathrm{Re}\,g^HW_jW_kg + \kappa^2 \mathrm{tr}\,W_jW_k`.
    """
    w = _dense_w(cov)
    f, _ = s.channels()
    g = f.sum(axis=0)
    kappa = float(s.sigma2_a / (s.pilot_length * s.p_b))
    mean = np.einsum("n,knp,p->k", g.conj(), w, g).real + kappa * np.einsum("knn->k", w).real
    wg = w @ g                                                          # W_k g, (K, N)
    cross = (wg.conj() @ wg.T).real                                     # g^H W_j W_k g
    tr = np.einsum("jnp,kpn->jk", w, w).real
    k = w.shape[0]
    return (1 + np.eye(k)) * (np.outer(mean, mean) + 2 * kappa * cross + kappa**2 * tr)


def _check_fourth(p, analytic, n_se=5.0):
    a2 = np.abs(p.z_a) ** 2
    prod = a2[:, :, None] * a2[:, None, :]
    se = prod.std(0) / np.sqrt(a2.shape[0])
    assert np.all(np.abs(prod.mean(0) - analytic) <= n_se * se), (prod.mean(0) / analytic)


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("scheme", ["ras", "mrc", "svd", "svd-pa", "svd-mf", "svd-maxmin"])
def test_reduced_covariance_is_the_n_space_one(scheme, k):
    """W_k = Q C_k Q^H + sigma_k^2 (I - QQ^H) reproduces every bilinear form x^H W_k y, any x, y."""
    s = _scen(k, n_ant=24)
    cov = precode(s, scheme).covariance
    f, h = s.channels()
    red = cov.reduce(np.concatenate([f, h]).T)
    assert red.dim < 24 // 2                     # 2K (ras: 2K + 1), or a few more where channels nearly align
    x = np.random.default_rng(k).standard_normal((24, 5, 2)).view(complex)[..., 0]
    x = np.concatenate([f.T, h.T, x], axis=1)
    np.testing.assert_allclose(red.gram(x), cov.gram(x), rtol=0, atol=1e-12 * np.abs(cov.gram(x)).max())
    np.testing.assert_allclose(red.gram(x), np.einsum("np,knm,mq->kpq", x.conj(), _dense_w(cov), x),
                               rtol=0, atol=1e-12 * np.abs(cov.gram(x)).max())


def test_reduced_precoders_sample_in_n_space():
    """ReducedPrecoders.sample: w_k = Q L_k xi + sigma_k u_k has the covariance W_k (second moments)."""
    s = _scen(2, n_ant=24)
    f, h = s.channels()
    cov = precode(s, "svd-pa").covariance
    red = cov.reduce(np.concatenate([f, h]).T)
    w = red.sample(np.random.default_rng(5), 20_000)                    # (T, K, N)
    x = np.concatenate([f.T, h.T, np.eye(24)[:, :2]], axis=1)           # channels and two off-span axes
    proj = np.einsum("np,tkn->tkp", x.conj(), w)
    prod = proj[..., :, None] * proj[..., None, :].conj()               # (x_p^H w) (x_q^H w)^*
    se = np.abs(prod).std(0) / np.sqrt(w.shape[0])
    assert np.all(np.abs(prod.mean(0) - cov.gram(x)) <= 5 * se + 1e-9 * np.abs(cov.gram(x)).max())


@pytest.mark.parametrize("scheme,k,n_ant,v", [("svd", 1, 6, 1), ("svd", 2, 8, 1), ("svd-pa", 3, 9, 1),
                                              ("svd-mf", 2, 8, 1), ("ras", 2, 8, 1), ("mrc", 3, 8, 1),
                                              ("svd", 2, 48, 1), ("svd-pa", 2, 8, 4)])
def test_reduced_and_explicit_same_distribution(scheme, k, n_ant, v):
    """A BS-noise-dominated regime (z_a far from Gaussian; at small N the Gamma of the complement
    matters): fourth moments E|z_aj|^2|z_ak|^2 against the analytic ones, both simulations; a
    two-sample KS test on |z_a| and the one-bit KDR, reduced against explicit. V = 4: explicit pilots."""
    s = _scen(k, n_ant=n_ant, pt=10.0, noise=-85.0, noise_a_dbm=-60.0, pilot_length=v)
    ev = evaluate(s, scheme)
    t = 30_000
    pr = probe(s, ev.result, rounds=t, seed=21, method="reduced")
    pe = probe(s, ev.result, rounds=t, seed=22, method="explicit")
    analytic = _fourth_moments(s, ev.result.covariance)
    for p in (pr, pe):
        _check_cov(p, ev.cov)
        _check_fourth(p, analytic)
    kurt = np.diagonal(analytic) / ev.cov[:, 0, 0].real ** 2
    assert np.all(kurt > 2.0)                                           # a scale mixture (Gaussian: 2)
    for i in range(k):
        assert ks_2samp(np.abs(pr.z_a[:, i]), np.abs(pe.z_a[:, i])).pvalue > 1e-3
        for z in ("z_b", "z_e"):
            kr = kdr(one_bit(pr.z_a[:, i]), one_bit(getattr(pr, z)[:, i]))
            ke = kdr(one_bit(pe.z_a[:, i]), one_bit(getattr(pe, z)[:, i]))
            se = np.sqrt(2 * 0.25 / t)                                  # two independent estimates
            assert abs(kr - ke) <= 4 * se, (i, z, kr, ke)


def test_reduced_j5_at_n256_matches_engine():
    """The J5 scenario of the benchmarks (N = 256, Eves 2 cm closer, 20 dBm), svd-mf and svd-pa."""
    s = Scenario.from_dbm(ULA(256, 30e9), users=USERS[2], eves=[(11.98, -0.6), (12.98, 0.6)], pt_dbm=20.0)
    for scheme in ("svd-mf", "svd-pa"):
        ev = evaluate(s, scheme)
        p = probe(s, ev.result, rounds=40_000, seed=1)
        assert p.method == "reduced" and ev.result.covariance.reduce(np.concatenate(s.channels()).T).dim == 4
        _check_cov(p, ev.cov)
        _check_fourth(p, _fourth_moments(s, ev.result.covariance))


# --------------------------------------------------------------------------- quantisation and KDR
def test_one_bit_is_j45():
    g = np.array([1 + 2j, -1 + 0.5j, 0.0 - 3j])
    np.testing.assert_array_equal(stack_real(g), [1, -1, 0, 2, 0.5, -3])
    np.testing.assert_array_equal(one_bit(g), [1, 0, 0, 1, 1, 0])  # 0 maps to 0 (J(45): <= 0)


@pytest.mark.parametrize("scheme", ["svd", "svd-pa"])
def test_one_bit_kdr_matches_gaussian_closed_form(scheme):
    """With a negligible BS noise the measurements are jointly Gaussian: KDR = arccos(rho)/pi."""
    s = _scen(2, pt=0.0, noise=-85.0, noise_a_dbm=-200.0)
    ev = evaluate(s, scheme)
    t = 20_000
    p = probe(s, scheme, rounds=t, seed=9)
    for k in range(2):
        c = ev.cov[k]
        expected = float(kdr_one_bit_gaussian(c[0, 0].real, c[1, 1].real, c[0, 1]))
        assert 0.02 < expected < 0.45  # a regime where the test has power
        got = kdr(one_bit(p.z_a[:, k]), one_bit(p.z_b[:, k]))
        se = np.sqrt(expected * (1 - expected) / t)  # conservative: T, not 2T, independent pairs
        assert abs(got - expected) <= 4 * se, (k, got, expected)
        eve = kdr(one_bit(p.z_a[:, k]), one_bit(p.z_e[:, k]))
        expected_e = float(kdr_one_bit_gaussian(c[0, 0].real, c[2, 2].real, c[0, 2]))
        assert abs(eve - expected_e) <= 4 * np.sqrt(expected_e * (1 - expected_e) / t)


def test_kdr_closed_form_values():
    assert kdr_one_bit_gaussian(1.0, 1.0, 1.0) == 0.0
    assert kdr_one_bit_gaussian(1.0, 1.0, 0.0) == pytest.approx(0.5)
    assert kdr_one_bit_gaussian(4.0, 1.0, 1.0) == pytest.approx(np.arccos(0.5) / np.pi)
    assert kdr_one_bit_gaussian(1.0, 1.0, 1j) == pytest.approx(0.5)  # imaginary correlation: no agreement
    with pytest.raises(ValueError, match="different shapes"):
        kdr([0, 1], [0])
    with pytest.raises(ValueError, match="empty"):
        kdr([], [])


def test_gray_code_neighbours_differ_in_one_bit():
    for b in range(1, 6):
        table = gray_code(b)
        assert len({tuple(r) for r in table}) == 2 ** b
        assert np.all(np.sum(table[1:] != table[:-1], axis=1) == 1)


def test_multi_bit_one_level_equals_one_bit():
    g = np.random.default_rng(0).standard_normal(500) + 1j * np.random.default_rng(1).standard_normal(500)
    q = multi_bit(g, bits=1)
    np.testing.assert_array_equal(q.bits, one_bit(g))
    assert q.keep.all()


def test_multi_bit_equiprobable_and_guard_fraction():
    rng = np.random.default_rng(2)
    t = 100_000
    g = (rng.standard_normal(t) + 1j * rng.standard_normal(t)) / np.sqrt(2)
    q = multi_bit(g, bits=2, sigma=np.sqrt(0.5))
    counts = np.bincount(q.levels, minlength=4) / (2 * t)
    np.testing.assert_allclose(counts, 0.25, atol=0.005)
    assert q.bits.size == 2 * 2 * t
    gamma = 0.2
    qg = multi_bit(g, bits=2, guard=gamma, sigma=np.sqrt(0.5))
    thr = ndtri(np.arange(1, 4) / 4)
    dropped = np.sum(norm.cdf(thr + gamma / 2) - norm.cdf(thr - gamma / 2))
    assert 1 - qg.keep.mean() == pytest.approx(dropped, abs=0.005)
    assert qg.bits.size == 2 * qg.keep.sum()
    # both sides keep the indices both kept
    other = multi_bit(g * 1.01, bits=2, guard=gamma, sigma=np.sqrt(0.5), keep=qg.keep)
    assert np.all(other.keep <= qg.keep)


def test_multi_bit_guard_lowers_kdr():
    s = _scen(2, pt=0.0, noise=-85.0)
    p = probe(s, "svd", rounds=8_000, seed=4)
    a, b = p.z_a[:, 0], p.z_b[:, 0]
    rates = []
    for guard in (0.0, 0.5):
        qa, qb = multi_bit(a, 2, guard), multi_bit(b, 2, guard)
        keep = qa.keep & qb.keep
        ka, kb = multi_bit(a, 2, guard, keep=keep), multi_bit(b, 2, guard, keep=keep)
        rates.append(kdr(ka.bits, kb.bits))
    assert rates[1] < rates[0]
    with pytest.raises(ValueError, match="bits"):
        multi_bit(a, bits=0)
    with pytest.raises(ValueError, match="guard"):
        multi_bit(a, guard=-1)
