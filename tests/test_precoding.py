"""Schemes (SPEC 5): null-space structure, single-user reduction, edge cases."""

import numpy as np
import pytest

from nfkg.schemes import optimize as opt
from nfkg.model.channel import ULA
from nfkg.schemes.precoding import evaluate, get_scheme, precode, scheme_names, score, svd_shapes
from nfkg.model.scenario import Scenario
from nfkg.engine.secrecy import skr_closed_form

from conftest import random_scenario

SCHEMES = ["ras", "mrc", "svd", "svd-pa"]


@pytest.mark.parametrize("shaping", ["isotropic", "matched"])
@pytest.mark.parametrize("jamming", ["isotropic", "targeted"])
def test_svd_precoders_null_other_users_and_eves(shaping, jamming):
    rng = np.random.default_rng(0)
    s = random_scenario(rng, n_ant=48, n_users=4)
    f, h = s.channels()
    res = precode(s, "svd", shaping=shaping, jamming=jamming)
    w = res.covariance.sample(np.random.default_rng(1), 20)  # (T, K, N)
    for k in range(4):
        wn = np.linalg.norm(w[:, k], axis=-1)
        for i in range(4):
            fi = np.abs(w[:, k] @ f[i].conj()) / (np.linalg.norm(f[i]) * wn)
            if i != k:
                assert fi.max() < 1e-10
                hi = np.abs(w[:, k] @ h[i].conj()) / (np.linalg.norm(h[i]) * wn)
                assert hi.max() < 1e-10
    # The jamming part alone is also orthogonal to the user's own channel (R_ek f_k = 0).
    jam = res.covariance.shapes[1].sample(np.random.default_rng(2), 10)
    for k in range(4):
        assert np.abs(jam[:, k] @ f[k].conj()).max() < 1e-10 * np.linalg.norm(f[k]) * np.linalg.norm(jam[:, k], axis=-1).max()


def test_single_user_matched_reproduces_c_formulas():
    """K = 1, matched: the library equals C(23)-(31) evaluated directly from f and h."""
    for pt in (0.0, 20.0, 40.0):
        s = Scenario.from_dbm(ULA(256, 30e9), users=[(12.2, 0.2)], eves=[(12.0, 0.2)], pt_dbm=pt)
        f, h = (x[0] for x in s.channels())
        n, p_a = 256, float(s.p_max)
        ne, nb, na = float(s.sigma2_e), float(s.sigma2_b), float(s.sigma2_a) * p_a / float(s.p_b)
        tr_b = np.vdot(f, f).real                       # Tr(B)
        tr_bbar_a = abs(np.vdot(f, h)) ** 2 / tr_b      # Tr(B-bar A), B-bar = u u^H
        tr_bbar_ab = abs(np.vdot(f, h)) ** 2            # Tr(B-bar A B)
        tr_ca = (np.vdot(h, h).real - tr_bbar_a) / (n - 1)  # C = U_n U_n^H/(N-1)
        tr_cab = 0.0                                     # C f = 0
        m1 = tr_bbar_ab - tr_b * tr_bbar_a + tr_ca * tr_b - tr_cab
        m2 = p_a * tr_cab - p_a * tr_b * tr_ca - ne * tr_b
        m3 = tr_bbar_a - tr_ca
        m4 = p_a * tr_ca + ne
        ps = np.linspace(0, p_a, 200001)
        neg_alpha = (m1 * ps**2 + m2 * ps) / (m3 * ps + m4)
        a_best = -neg_alpha.min()
        skr_c = np.log2(1 + a_best**2 / ((na + nb) * a_best + na * nb))
        ev = evaluate(s, "svd-pa")
        assert ev.result.shaping == "matched"
        assert float(ev.sum_skr) == pytest.approx(skr_c, rel=1e-6)
        # ... and the K-user alternating optimiser run on K = 1 gives the same point.
        assert float(ev.result.p_a[0]) == pytest.approx(p_a, rel=1e-12)


def test_svd_engine_equals_closed_form_for_pa_power_split():
    rng = np.random.default_rng(3)
    s = random_scenario(rng, n_ant=64, n_users=3, batch=(3,))
    ev = evaluate(s, "svd-pa")
    c = ev.cov
    closed = skr_closed_form(c[..., 1, 1].real - s.var_nb, c[..., 2, 2].real - s.var_ne, c[..., 1, 2],
                             s.var_na(ev.result.p_a), s.var_nb, s.var_ne)
    np.testing.assert_allclose(ev.skr, closed, rtol=1e-8)
    # J(42)'s alpha from the s-coefficients equals the engine's alpha.
    a42 = opt.alpha_of_powers(ev.result.extra["coefficients"], ev.result.p_s, ev.result.p_n, s.var_ne)
    a_engine = c[..., 1, 1].real - s.var_nb - np.abs(c[..., 1, 2]) ** 2 / c[..., 2, 2].real
    np.testing.assert_allclose(a42, a_engine, rtol=1e-7)


@pytest.mark.parametrize("n_users", [1, 2])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_eve_on_top_of_user_gives_zero_and_no_nan(scheme, n_users):
    # Eve sees exactly Bob's signal; only the independence of their noises is left, so
    # the SKR sits at a noise floor below 1 bit (log2(4/3) or log2(3/2) at high SNR) that
    # does not grow with power, against 10-20 bits when Eve is elsewhere.
    users = [(12.0, -0.3), (13.0, 0.4)][:n_users]
    s = Scenario.from_dbm(ULA(64, 30e9), users=users, eves=users, pt_dbm=np.array([30.0, 60.0]))
    ev = evaluate(s, scheme)
    assert np.all(np.isfinite(ev.skr))
    assert np.all(ev.skr >= 0)
    assert np.all(ev.skr < 1.0)
    np.testing.assert_allclose(ev.skr[1], ev.skr[0], atol=0.05)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_skr_finite_nonnegative_from_minus_50_to_60_dbm(scheme):
    pt = np.arange(-50.0, 60.1, 5.0)
    for users, eves in [([(12.2, 0.2)], [(12.0, 0.2)]), ([(12, -0.6), (13, 0.6)], [(11.98, -0.6), (12.98, 0.6)])]:
        s = Scenario.from_dbm(ULA(256, 30e9), users=users, eves=eves, pt_dbm=pt)
        ev = evaluate(s, scheme)
        assert ev.skr.shape == (pt.size, len(users))
        assert np.all(np.isfinite(ev.skr)) and np.all(ev.skr >= 0)
        assert np.all(np.isfinite(ev.result.p_s)) and np.all(ev.result.p_n >= -1e-15 * ev.result.p_a)
        np.testing.assert_allclose(ev.result.p_a.sum(-1), s.p_max, rtol=1e-9)


def test_svd_pa_on_c3_geometry_is_the_best_split_of_a_dense_search():
    """C Fig. 3 (K = 1): svd-pa is the best of 4001 splits P_S + P_N = P_max scored by the exact engine
    (the grid's spacing bounds the gap), svd is its midpoint; svd >= mrc, svd-pa increasing in P_t."""
    pt = np.arange(0, 41, 5.0)
    geo = dict(users=[(12.2, 0.2)], eves=[(12.0, 0.2)])
    s = Scenario.from_dbm(ULA(256, 30e9), pt_dbm=pt, **geo)
    mrc, svd, pa = (evaluate(s, k).sum_skr for k in ("mrc", "svd", "svd-pa"))
    frac = np.linspace(0.0, 1.0, 4001)
    many = Scenario.from_dbm(ULA(256, 30e9), pt_dbm=np.repeat(pt, frac.size), **geo)
    f, pm = np.tile(frac, pt.size), many.p_max
    grid, _ = score(many, precode(many, "svd").views, np.stack([f * pm, (1 - f) * pm], -1)[:, None, :])
    grid = grid[:, 0].reshape(pt.size, frac.size)
    np.testing.assert_allclose(svd, grid[:, 2000], rtol=1e-12)
    assert np.all(pa >= grid.max(1) * (1 - 1e-12))                    # no grid point is better
    assert np.all(pa <= grid.max(1) * (1 + 1e-5))                     # and the grid gets close
    assert np.all(svd >= mrc)
    assert np.all(np.diff(pa) > 0)


def test_n_smaller_than_2k_minus_1_is_a_clear_error():
    s = Scenario.from_dbm(ULA(4, 30e9), users=[(5, -0.5), (6, 0.0), (7, 0.5)],
                          eves=[(5, -0.4), (6, 0.1), (7, 0.6)], pt_dbm=20)
    for scheme in ("svd", "svd-pa"):
        with pytest.raises(ValueError, match=r"antennas: .*N >= 2K-1 = 5"):
            evaluate(s, scheme)
    assert np.all(np.isfinite(evaluate(s, "mrc").skr))  # baselines need no null space


def test_n_equal_2k_minus_1_is_allowed():
    s = Scenario.from_dbm(ULA(3, 30e9), users=[(5, -0.5), (6, 0.5)], eves=[(5.5, -0.4), (6.5, 0.6)], pt_dbm=20)
    for scheme in ("svd", "svd-pa"):
        ev = evaluate(s, scheme)
        assert np.all(np.isfinite(ev.skr))
        # The jamming null space of [f_1, f_2, h_other] is empty in C^3: nothing radiated there.
        np.testing.assert_array_equal(ev.result.p_n, 0.0)
        np.testing.assert_allclose(ev.result.p_a, ev.result.covariance.trace)


def test_registry():
    assert set(SCHEMES) <= set(scheme_names())
    with pytest.raises(ValueError, match="unknown scheme 'nope'"):
        get_scheme("nope")
    with pytest.raises(ValueError, match="shaping"):
        precode(random_scenario(np.random.default_rng(0)), "svd", shaping="round")


def test_evaluation_json_dict(j5_scenario):
    ev = evaluate(j5_scenario, "svd-pa")
    d = ev.to_dict((1,))
    assert d["scheme"] == "svd-pa" and d["shaping"] == "isotropic"
    assert d["sum_skr"] == pytest.approx(sum(u["skr"] for u in d["users"]))
    for u in d["users"]:
        assert u["p_a"] == pytest.approx(u["p_s"] + u["p_n"])


def test_same_seed_same_precoders():
    s = random_scenario(np.random.default_rng(0), n_ant=16)
    cov = precode(s, "svd").covariance
    a = cov.sample(np.random.default_rng(42), 5)
    b = cov.sample(np.random.default_rng(42), 5)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bad, msg", [(dict(users=[(-1.0, 0.0)]), r"users\[0\]\.r"), (dict(users=[(5.0, 2.0)]), r"users\[0\]\.psi"),
                                      (dict(pt_dbm=np.nan), "pt_dbm")])
def test_scenario_validation(bad, msg):
    kw = dict(users=[(5.0, 0.0)], eves=[(6.0, 0.0)], pt_dbm=20.0) | bad
    with pytest.raises(ValueError, match=msg):
        Scenario.from_dbm(ULA(8, 30e9), **kw)
