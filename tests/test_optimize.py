"""Power allocation: Dinkelbach vs dense search, water-filling vs KKT and SciPy, the AO's end point vs SLSQP."""

import numpy as np
import pytest
from scipy.optimize import minimize, minimize_scalar

from nfkg.schemes import optimize as opt
from nfkg.model.channel import ULA
from nfkg.schemes.precoding import evaluate, precode, score, svd_shapes
from nfkg.engine.reduced import geometry, svd_views
from nfkg.model.scenario import Scenario

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


def _ao_objective(s, p_s, p_a, na, nb, ne):
    """The AO's sum objective written out, J(42) and J(22) with the worst-case BS noise ``na``."""
    num = p_s * s["s5"] * ((p_a - p_s) * s["s4"] + ne) + p_s**2 * s["w"] - p_s * (p_a - p_s) * s["s3"]
    a = np.maximum(num / (p_s * s["s2"] + (p_a - p_s) * s["s4"] + ne), 0.0)
    return np.log2(1.0 + a * a / ((na + nb) * a + na * nb)).sum(-1)


def _close_eve_batch(rng, batch, n_users, n_ant=64):
    """Eves within 10 cm / 0.01 rad of their users: jamming pays, users are free in the water-filling."""
    shape = (batch, n_users)
    users = np.stack([rng.uniform(5, 20, shape), rng.uniform(-1.0, 1.0, shape)], -1)
    eves = users + np.stack([rng.uniform(-0.1, 0.1, shape), rng.uniform(-0.01, 0.01, shape)], -1)
    return Scenario.from_dbm(ULA(n_ant, 30e9), users=users, eves=eves, pt_dbm=rng.uniform(15, 40, batch))


@pytest.mark.parametrize("seed", range(3))
def test_alternating_ends_where_neither_step_improves(seed):
    """The AO (batched) stops at a point that SLSQP cannot improve in P_a given P_S and a dense search
    cannot improve in any P_S,k given P_a; its history starts at the equal split P_S = P_a/2."""
    rng = np.random.default_rng(seed)
    s = _close_eve_batch(rng, 6, 3)
    res = precode(s, "svd-pa")
    assert res.success
    c = res.extra["coefficients"]
    na = s.p_max * s.sigma2_a / (s.pilot_length * s.p_b)
    nb, ne = float(np.ravel(s.var_nb)[0]), float(np.ravel(s.var_ne)[0])
    n_jam = 0
    for i in range(6):
        si = {key: v[i] for key, v in c.items()}
        pm = float(s.p_max[i])
        p_s, p_a = res.extra["ao_p_s"][i], res.extra["ao_p_s"][i] + res.extra["ao_p_n"][i]
        obj = lambda ps, pa: _ao_objective(si, ps, pa, na[i], nb, ne)  # noqa: E731
        got = float(obj(p_s, p_a))
        assert got == pytest.approx(float(res.history[-1][i]), rel=1e-12)
        eq = np.full(3, pm / 3)
        assert float(res.history[0][i]) == pytest.approx(float(obj(eq / 2, eq)), rel=1e-12)
        n_jam += int(np.any(p_s < p_a * (1 - 1e-9)))
        sc = minimize(lambda q: -obj(p_s, q), p_s + (pm - p_s.sum()) / 3, method="SLSQP",
                      bounds=[(lo, pm) for lo in p_s], constraints=[{"type": "eq", "fun": lambda q: q.sum() - pm}],
                      options={"ftol": 1e-15, "maxiter": 500})
        assert got >= -sc.fun * (1 - 1e-10), (i, got, -sc.fun)
        for k in range(3):
            q = np.repeat(p_s[None, :], 4001, axis=0)
            q[:, k] = np.linspace(0.0, p_a[k], 4001)
            assert got >= float(obj(q, p_a).max()) * (1 - 1e-9), (i, k)
    assert n_jam >= 3


def test_alternating_single_user_batch_equals_dense_search():
    """K = 1 over a batch (the batched Dinkelbach; the scalar path is tested above): svd-pa is the
    maximum of the exact engine's SKR over a dense grid of the split, refined by a bounded search."""
    pt = np.array([0.0, 10.0, 20.0, 30.0, 40.0])
    geo = dict(users=[(14.0, 0.2)], eves=[(13.9, 0.21)])
    ev = evaluate(Scenario.from_dbm(ULA(128, 30e9), pt_dbm=pt, **geo), "svd-pa", shaping="matched")
    frac = np.linspace(0.0, 1.0, 2001)
    many = Scenario.from_dbm(ULA(128, 30e9), pt_dbm=np.repeat(pt, frac.size), **geo)
    f, pm = np.tile(frac, pt.size), many.p_max
    grid, _ = score(many, svd_views(geometry(many).blocks(), "matched", "isotropic"),
                    np.stack([f * pm, (1 - f) * pm], -1)[:, None, :])
    grid = grid[:, 0].reshape(pt.size, frac.size)
    for i in range(pt.size):
        one = Scenario.from_dbm(ULA(128, 30e9), pt_dbm=pt[i], **geo)
        views, p_a = svd_views(geometry(one).blocks(), "matched", "isotropic"), float(one.p_max)
        m = int(np.argmax(grid[i]))
        lo, hi = frac[max(m - 1, 0)] * p_a, frac[min(m + 1, frac.size - 1)] * p_a
        best = max(grid[i, m], _dense_search(lambda p: _engine_skr_at(one, views, p, p_a), lo, hi, n=21))
        assert float(ev.skr[i, 0]) == pytest.approx(best, rel=1e-9), (pt[i], float(ev.skr[i, 0]), best)


def test_dinkelbach_scalar_path_equals_batched_path():
    rng = np.random.default_rng(5)
    m1, m2 = rng.normal(size=20), rng.normal(size=20)
    m3, m4, pa = rng.uniform(-0.1, 0.1, 20), rng.uniform(1, 2, 20), rng.uniform(0.5, 1, 20)
    batch = opt.dinkelbach(m1, m2, m3, m4, pa)
    for i in range(20):
        one = opt.dinkelbach(m1[i], m2[i], m3[i], m4[i], pa[i])
        assert float(one.x) == pytest.approx(batch.x[i], rel=1e-12, abs=1e-15)
        assert one.nit <= batch.nit
