"""Secrecy engine (SPEC 3-4) against dense determinants, the closed form and Monte Carlo."""

import numpy as np
import pytest

from nfkg.model.channel import ULA
from nfkg.schemes.precoding import PrecoderCovariance, evaluate, svd_shapes
from nfkg.model.scenario import Scenario
from nfkg.engine.secrecy import (PrecisionError, alpha, measurement_covariance, skr_closed_form, skr_logdet,
                          skr_of_alpha)
from nfkg.engine.subspace import Shape

from conftest import random_scenario


def _dense_skr(cov):
    """log2(|K_ae||K_be| / (var(z_e)|K_abe|)) with plain determinants, C(13)."""
    kae = cov[np.ix_([0, 2], [0, 2])]
    kbe = cov[np.ix_([1, 2], [1, 2])]
    return np.log2(np.linalg.det(kae).real * np.linalg.det(kbe).real / (cov[2, 2].real * np.linalg.det(cov).real))


def test_logdet_matches_dense_determinants_on_random_covariances():
    rng = np.random.default_rng(1)
    for _ in range(200):
        a = rng.standard_normal((3, 5)) + 1j * rng.standard_normal((3, 5))
        cov = a @ a.conj().T + rng.uniform(0.01, 1) * np.eye(3)
        assert skr_logdet(cov) == pytest.approx(max(_dense_skr(cov), 0.0), rel=1e-9, abs=1e-12)


def test_closed_form_equals_logdet_when_cross_terms_vanish():
    rng = np.random.default_rng(2)
    n = 500
    sb = 10 ** rng.uniform(-9, -3, n)
    se = 10 ** rng.uniform(-9, -3, n)
    rho = rng.uniform(0, 1, n) * np.exp(2j * np.pi * rng.uniform(size=n))
    sae = rho * np.sqrt(sb * se)  # |sAE|^2 <= sB sE (Cauchy-Schwarz)
    na, nb, ne = (10 ** rng.uniform(-14, -9, n) for _ in range(3))
    cov = np.empty((n, 3, 3), complex)
    cov[:, 0] = np.stack([sb + na, sb, sae], -1)
    cov[:, 1] = np.stack([sb, sb + nb, sae], -1)
    cov[:, 2] = np.stack([sae.conj(), sae.conj(), se + ne], -1)
    np.testing.assert_allclose(skr_closed_form(sb, se, sae, na, nb, ne), skr_logdet(cov), rtol=1e-7, atol=1e-10)


def test_alpha_is_clipped_not_nan():
    # Round-off can make alpha slightly negative when Eve sees exactly what Bob sees.
    assert alpha(1.0, 1.0, 1.0 + 1e-15, 0.0) == 0.0
    assert skr_of_alpha(0.0, 0.0, 0.0) == 0.0
    assert np.isfinite(skr_of_alpha(1e-300, 1e-300, 1e-300))


def test_logdet_raises_instead_of_returning_a_cancelled_number():
    # z_b = z_e to working precision: the covariance form cannot tell 0 from round-off.
    c = np.array([[2.0, 1, 1], [1, 2, 2], [1, 2, 2 + 1e-300]])
    with pytest.raises(PrecisionError, match="singular to working precision"):
        skr_logdet(c)


def _dense_w(shape: Shape, k: int, index=()):
    """N x N covariance of one shape (for the test only)."""
    q = shape.basis[index + (k,)]
    n = q.shape[0]
    r = int(shape.rank[index + (k,)])
    if shape.complement:
        return (np.eye(n) - q @ q.conj().T) / (n - r)
    return q @ q.conj().T / max(r, 1)


@pytest.mark.parametrize("scheme", ["ras", "mrc", "svd"])
def test_engine_equals_dense_matrix_covariance(scheme):
    rng = np.random.default_rng(3)
    s = random_scenario(rng, n_ant=24, n_users=3)
    ev = evaluate(s, scheme)
    f, h = s.channels()
    cov_obj = ev.result.covariance
    ws = [sum(cov_obj.powers[k, j] * _dense_w(sh, k) for j, sh in enumerate(cov_obj.shapes)) for k in range(3)]
    w_all = sum(ws)
    g = f.sum(0)
    for k in range(3):
        fk, hk = f[k], h[k]
        na = np.trace(ws[k]).real * s.sigma2_a / s.p_b
        expected = np.array([
            [g.conj() @ ws[k] @ g + na, g.conj() @ ws[k] @ fk, g.conj() @ ws[k] @ hk],
            [0, fk.conj() @ w_all @ fk + s.sigma2_b, fk.conj() @ w_all @ hk],
            [0, 0, hk.conj() @ w_all @ hk + s.sigma2_e]])
        expected = np.triu(expected) + np.triu(expected, 1).conj().T
        np.testing.assert_allclose(ev.cov[k], expected, rtol=1e-10, atol=1e-22)


def test_engine_matches_monte_carlo_probing():
    """Sample covariance of simulated (z_a, z_b, z_e) converges to the engine's."""
    rng = np.random.default_rng(4)
    s = Scenario.from_dbm(ULA(16, 30e9), users=[(5.0, -0.3), (6.0, 0.4)], eves=[(5.5, -0.2), (6.5, 0.5)], pt_dbm=20)
    ev = evaluate(s, "mrc")  # MRC leaks between users, so every cross term is exercised
    f, h = s.channels()
    t = 200_000
    w = ev.result.covariance.sample(rng, t)  # (T, K, N)
    g = f.sum(0)
    cn = lambda var, shape: np.sqrt(var / 2) * (rng.standard_normal(shape) + 1j * rng.standard_normal(shape))
    wsum = w.sum(1)
    p_a = ev.result.p_a
    for k in range(2):
        za = w[:, k] @ g.conj() + cn(p_a[k] * s.sigma2_a / s.p_b, t)
        zb = wsum @ f[k].conj() + cn(s.sigma2_b, t)
        ze = wsum @ h[k].conj() + cn(s.sigma2_e, t)
        z = np.stack([za, zb, ze])
        emp = z @ z.conj().T / t
        scale = np.sqrt(np.outer(np.diag(emp).real, np.diag(emp).real))
        np.testing.assert_allclose(emp / scale, ev.cov[k] / scale, atol=0.02)


def test_svd_engine_equals_closed_form_j22():
    rng = np.random.default_rng(5)
    s = random_scenario(rng, n_ant=32, n_users=3, batch=(4,))
    for shaping in ("matched", "isotropic"):
        ev = evaluate(s, "svd", shaping=shaping)
        c = ev.cov
        sb, se, sae = c[..., 1, 1].real - s.var_nb, c[..., 2, 2].real - s.var_ne, c[..., 1, 2]
        closed = skr_closed_form(sb, se, sae, s.var_na(ev.result.p_a), s.var_nb, s.var_ne)
        np.testing.assert_allclose(ev.skr, closed, rtol=1e-8)
