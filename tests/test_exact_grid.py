"""The grid method of the exact split of J(41) (nfkg.schemes.optimum.exact_allocation, the default):
against the multi-start SLSQP, a global search and svd-pa; batch independence, bit for bit."""

import numpy as np
import pytest
from scipy.optimize import differential_evolution, minimize

from nfkg.schemes import precoding
from nfkg.model.channel import ULA
from nfkg.schemes.optimum import best_split, exact_allocation, true_skr
from nfkg.model.scenario import Scenario

COMBOS = (("isotropic", "isotropic"), ("matched", "targeted"))


def _scenarios(rng, k, n, b, pt=None):
    r = rng.uniform(6.0, 25.0, (b, k))
    psi = (np.linspace(-0.9, 0.9, k) + rng.uniform(-0.15, 0.15, (b, k))) if k > 1 else rng.uniform(-0.9, 0.9, (b, 1))
    eves = np.stack([r - rng.uniform(0.01, 2.0, (b, k)), psi + rng.uniform(-0.02, 0.02, (b, k))], -1)
    pt = rng.uniform(0.0, 40.0, b) if pt is None else pt
    return Scenario.from_dbm(ULA(n, 30e9), users=np.stack([r, psi], -1), eves=eves, pt_dbm=pt)


def _problem(scen, shaping, jamming):
    pa = precoding._svd_pa(scen, shaping, jamming, None)
    sig, jam = pa.views
    shape = (*scen.batch_shape, scen.n_users)
    bs = lambda v: np.array(np.broadcast_to(v, scen.batch_shape), float)  # noqa: E731
    return dict(s={k: np.array(v) for k, v in pa.extra["coefficients"].items()},
                t_s=np.array(np.broadcast_to(sig.trace, shape)), t_n=np.array(np.broadcast_to(jam.trace, shape)),
                p_max=bs(scen.p_max), kappa=bs(scen.sigma2_a / (scen.pilot_length * scen.p_b)),
                var_nb=bs(scen.sigma2_b / scen.pilot_length), var_ne=bs(scen.sigma2_e / scen.pilot_length),
                p_s0=np.array(pa.powers[..., 0]), p_n0=np.array(pa.powers[..., 1]))


def _take(pr, idx):
    return {k: ({a: b[idx] for a, b in v.items()} if isinstance(v, dict) else v[idx]) for k, v in pr.items()}


def _value(pr, p_s, p_n):
    return true_skr(pr["s"], p_s, p_n, pr["t_s"], pr["t_n"], pr["kappa"][..., None], pr["var_nb"][..., None],
                    pr["var_ne"][..., None]).sum(-1)


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_grid_never_below_multistart_nor_svd_pa(k):
    """~32 scenarios in all: N = 2K-1 and random N, P_t in 0-40 dBm, -50 and 60 dBm, both shape combinations."""
    rng = np.random.default_rng(100 + k)
    for combo in COMBOS:
        for n, pt in ((int(rng.integers(16, 257)), None), (2 * k - 1, None), (64, np.array([-50.0, 60.0]))):
            b = 2 if pt is not None or n == 2 * k - 1 else 3
            pr = _problem(_scenarios(rng, k, n, b, pt), *combo)
            new = exact_allocation(**pr)
            old = exact_allocation(**pr, method="multistart")
            assert np.all(new.fun >= old.fun - 1e-9 * np.maximum(1.0, np.abs(old.fun)))
            assert np.all(new.fun >= _value(pr, pr["p_s0"], pr["p_n0"]))
            np.testing.assert_allclose(_value(pr, new.x, new.p_n), new.fun, rtol=1e-12)
            assert np.all(new.x >= 0) and np.all(new.p_n >= 0)
            assert np.all((new.x + new.p_n).sum(-1) <= pr["p_max"] * (1 + 1e-12))
            np.testing.assert_allclose(new.unused, pr["p_max"] - (new.x + new.p_n).sum(-1), atol=1e-12 * pr["p_max"].max())


@pytest.mark.parametrize("k, seed", [(1, 0), (1, 1), (2, 2), (2, 3), (3, 4)])
def test_grid_matches_a_global_search(k, seed):
    rng = np.random.default_rng(seed)
    pr = _take(_problem(_scenarios(rng, k, 16, 1, rng.uniform(0.0, 40.0, 1)), *COMBOS[seed % 2]), 0)
    pm = float(pr["p_max"])

    def neg(y):
        y = np.clip(y, 0.0, None)
        x = y / max(1.0, y.sum())
        return -float(true_skr(pr["s"], x[:k] * pm, x[k:] * pm, pr["t_s"], pr["t_n"], pr["kappa"], pr["var_nb"],
                               pr["var_ne"]).sum())

    de = differential_evolution(neg, [(0.0, 1.0)] * (2 * k), popsize=20, tol=1e-10, seed=seed, polish=True)
    nm = minimize(neg, de.x, method="Nelder-Mead", options={"xatol": 1e-13, "fatol": 1e-15, "maxiter": 5000})
    ref = max(-de.fun, -nm.fun)
    got = float(exact_allocation(**pr).fun)
    assert got >= ref - 1e-6 * max(1.0, abs(ref))


def test_batch_independent_bit_for_bit_and_reproducible():
    rng = np.random.default_rng(7)
    for k in (1, 2, 3):
        for combo in COMBOS:
            pr = _problem(_scenarios(rng, k, 48, 5), *combo)
            a = exact_allocation(**pr)
            b = exact_allocation(**pr)
            np.testing.assert_array_equal(a.x, b.x)
            np.testing.assert_array_equal(a.fun, b.fun)
            for i in range(5):
                one = exact_allocation(**_take(pr, slice(i, i + 1)))
                np.testing.assert_array_equal(one.x[0], a.x[i])
                np.testing.assert_array_equal(one.p_n[0], a.p_n[i])
                np.testing.assert_array_equal(one.fun[0], a.fun[i])
            rev = exact_allocation(**_take(pr, slice(None, None, -1)), chunk=2)
            np.testing.assert_array_equal(rev.x[::-1], a.x)
            np.testing.assert_array_equal(rev.fun[::-1], a.fun)


def test_best_split_is_the_best_split_of_a_total():
    rng = np.random.default_rng(5)
    pr = _take(_problem(_scenarios(rng, 2, 64, 1, 25.0), *COMBOS[0]), 0)
    p = np.geomspace(1e-6, 1.0, 7)[:, None] * float(pr["p_max"])
    val, ps = best_split(pr["s"], p, pr["t_s"], pr["t_n"], pr["kappa"], pr["var_nb"], pr["var_ne"])
    phi = np.linspace(0.0, 1.0, 2001)[:, None, None]
    dense = true_skr(pr["s"], phi * p, (1 - phi) * p, pr["t_s"], pr["t_n"], pr["kappa"], pr["var_nb"], pr["var_ne"])
    assert np.all(val >= dense.max(0) - 1e-12)
    np.testing.assert_allclose(val, true_skr(pr["s"], ps, p - ps, pr["t_s"], pr["t_n"], pr["kappa"], pr["var_nb"],
                                             pr["var_ne"]), rtol=1e-14)


def test_full_power_and_method_option():
    rng = np.random.default_rng(6)
    pr = _problem(_scenarios(rng, 2, 32, 3), *COMBOS[1])
    a = exact_allocation(**pr, full_power=True)
    b = exact_allocation(**pr, full_power=True, method="multistart")
    np.testing.assert_allclose((a.x + a.p_n).sum(-1), pr["p_max"], rtol=1e-12)
    assert np.all(a.fun >= b.fun - 1e-9 * np.maximum(1.0, np.abs(b.fun)))
    with pytest.raises(ValueError, match="method"):
        exact_allocation(**pr, method="newton")
