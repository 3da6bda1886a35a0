"""Power allocation: Dinkelbach vs dense search, water-filling vs KKT and SciPy, AO monotonicity."""

import numpy as np
import pytest
from scipy.optimize import minimize, minimize_scalar

from nfkg import optimize as opt
from nfkg.channel import ULA
from nfkg.precoding import evaluate, precode, score, svd_shapes
from nfkg.reduced import geometry, svd_views
from nfkg.scenario import Scenario

from conftest import random_scenario


def _engine_skr_at(s, views, p_s, p_a):
    """SKR of user 0 from the exact engine with W = p_s R + (p_a - p_s) R_e (K = 1)."""
    skr, _ = score(s, views, np.array([[p_s, p_a - p_s]]))
    return float(skr[0])


def _dense_search(fun, lo, hi, n=4001):
    grid = np.linspace(lo, hi, n)
    vals = np.array([fun(x) for x in grid])
    i = int(np.argmax(vals))
    a, b = grid[max(i - 1, 0)], grid[min(i + 1, n - 1)]
    res = minimize_scalar(lambda x: -fun(x), bounds=(a, b), method="bounded",
                          options={"xatol": 1e-14 * hi, "maxiter": 500})
    return max(vals[i], -res.fun)


@pytest.mark.parametrize("pt_dbm, r_e, psi_e", [(30, 12.0, 0.2), (0, 12.0, 0.2), (40, 12.0, 0.2),
                                                (30, 20.0, 0.2), (30, 15.0, -0.3), (10, 13.9, 0.2)])
def test_dinkelbach_equals_dense_search(pt_dbm, r_e, psi_e):
    s = Scenario.from_dbm(ULA(256, 30e9), users=[(14.0, 0.2)], eves=[(r_e, psi_e)], pt_dbm=pt_dbm)
    ev = evaluate(s, "svd-pa", shaping="matched")
    views = svd_views(geometry(s).blocks(), "matched", "isotropic")
    p_a = float(s.p_max)
    best = _dense_search(lambda p: _engine_skr_at(s, views, p, p_a), 0.0, p_a)
    # 1e-9 relative: the engine's own round-off at 30-40 dB SNR is ~1e-10.
    assert float(ev.sum_skr) == pytest.approx(best, rel=1e-9)


def test_dinkelbach_textbook_cases():
    # Interior minimum of a convex numerator over a positive denominator.
    res = opt.dinkelbach(2.0, -3.0, 0.5, 1.0, 10.0)
    grid = np.linspace(0, 10, 200001)
    ratio = (2 * grid**2 - 3 * grid) / (0.5 * grid + 1)
    assert float(res.fun) == pytest.approx(ratio.min(), rel=1e-8)
    # Concave numerator: the minimum is at an end point.
    res = opt.dinkelbach(-1.0, 0.5, 0.0, 1.0, 2.0)
    assert float(res.x) == 2.0
    assert res.success and res.nit < 10


def test_dinkelbach_batched_equals_scalar_calls():
    rng = np.random.default_rng(0)
    m1, m2 = rng.normal(size=50), rng.normal(size=50)
    m3, m4, pa = rng.uniform(-0.1, 0.1, 50), rng.uniform(1, 2, 50), rng.uniform(0.5, 1, 50)
    batch = opt.dinkelbach(m1, m2, m3, m4, pa)
    for i in range(50):
        one = opt.dinkelbach(m1[i], m2[i], m3[i], m4[i], pa[i])
        assert batch.fun[i] == pytest.approx(float(one.fun), rel=1e-12, abs=1e-15)


def _wf_problem(seed, n_users):
    rng = np.random.default_rng(seed)
    s = random_scenario(rng, n_ant=64, n_users=n_users, pt_dbm=rng.uniform(0, 30))
    f, h = s.channels()
    coef = opt.svd_coefficients(f, h, *svd_shapes(f, h, "isotropic"))
    p_max = float(s.p_max)
    p_a0 = np.full(n_users, p_max / n_users)
    p_s = opt.dinkelbach(*opt.dinkelbach_coefficients(coef, p_a0, s.var_ne), p_a0).x
    y = opt.waterfill_coefficients(coef, p_s, s.var_ne)
    return s, coef, y, p_s, p_max


@pytest.mark.parametrize("seed, n_users", [(0, 2), (1, 3), (2, 4), (3, 2), (4, 6), (5, 3)])
def test_waterfill_meets_kkt_and_matches_scipy(seed, n_users):
    s, coef, y, p_s, p_max = _wf_problem(seed, n_users)
    na, nb = s.var_na_worst, s.var_nb
    res = opt.waterfill(y, p_s, p_max, na, nb)
    p = res.x
    assert p.sum() == pytest.approx(p_max, rel=1e-9)
    assert np.all(p >= p_s * (1 - 1e-12))
    # KKT (J(40)) with numerical derivatives: equal slopes mu above the bound, <= mu at it.
    obj = lambda q: opt.waterfill_objective(y, q, na, nb)
    eps = 1e-7 * p_max
    slope = (obj(p + eps) - obj(np.maximum(p - eps, p_s))) / (p + eps - np.maximum(p - eps, p_s))
    free = p > p_s * (1 + 1e-9)
    mu = float(res.mu)
    np.testing.assert_allclose(slope[free], mu, rtol=1e-4)
    assert np.all(slope[~free] <= mu * (1 + 1e-4))
    # A general constrained solver finds nothing better.
    x0 = p_s + (p_max - p_s.sum()) / n_users
    sc = minimize(lambda q: -obj(q).sum() , x0, method="SLSQP",
                  bounds=[(lo, p_max) for lo in p_s],
                  constraints=[{"type": "eq", "fun": lambda q: q.sum() - p_max}],
                  options={"ftol": 1e-14, "maxiter": 500})
    assert float(res.fun) >= -sc.fun - 1e-7 * abs(sc.fun)
    assert float(res.fun) == pytest.approx(-sc.fun, rel=1e-5)


@pytest.mark.parametrize("seed", range(4))
def test_alternating_objective_never_decreases(seed):
    rng = np.random.default_rng(seed)
    s = random_scenario(rng, n_ant=64, n_users=3, pt_dbm=25.0, batch=(5,))
    res = precode(s, "svd-pa", shaping="isotropic")
    hist = res.history
    assert np.all(np.diff(hist, axis=0) >= -1e-9 * np.abs(hist[1:]))
    assert res.success


def test_alternating_svd_pa_beats_equal_split():
    rng = np.random.default_rng(11)
    s = random_scenario(rng, n_ant=64, n_users=3, pt_dbm=20.0, batch=(6,))
    obj_pa = precode(s, "svd-pa").extra["objective"]
    hist0 = precode(s, "svd-pa").history[0]  # objective at the equal split (SVD w/o PA)
    assert np.all(obj_pa >= hist0)


def test_dinkelbach_scalar_path_equals_batched_path():
    rng = np.random.default_rng(5)
    m1, m2 = rng.normal(size=20), rng.normal(size=20)
    m3, m4, pa = rng.uniform(-0.1, 0.1, 20), rng.uniform(1, 2, 20), rng.uniform(0.5, 1, 20)
    batch = opt.dinkelbach(m1, m2, m3, m4, pa)
    for i in range(20):
        one = opt.dinkelbach(m1[i], m2[i], m3[i], m4[i], pa[i])
        assert float(one.x) == pytest.approx(batch.x[i], rel=1e-12, abs=1e-15)
        assert one.nit <= batch.nit
