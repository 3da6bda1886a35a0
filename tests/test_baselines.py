"""The literature's baselines zf and rbf (and the split of the scheme modules), against explicit N x N
covariances and the determinant form of the SKR computed here from the channels alone."""

import numpy as np
import pytest
from scipy.linalg import null_space

from nfkg.engine.mismatch import score_mismatched
from nfkg.model.channel import ULA
from nfkg.model.scenario import Scenario
from nfkg.schemes.precoding import evaluate, get_scheme, precode, scheme_names

from conftest import random_scenario


# --------------------------------------------------------------------------- independent reference
def _zf_beams(f: np.ndarray, h: np.ndarray) -> np.ndarray:
    """u_k = P_perp([f_i (i != k), h_1..h_K]) f_k / ||.||, the projector B B^H (N x N) from SciPy's
    null_space (full SVD) of the 2K-1 channels (accurate where the Eve is close: ||P_perp f_k|| << ||f_k||)."""
    k_users, n = f.shape
    u = np.zeros_like(f)
    for k in range(k_users):
        a = np.concatenate([np.delete(f, k, axis=0), h])                   # (2K-1) x N, rows x_p^T
        b = null_space(a.conj())                                          # N x (N - 2K + 1): x_p^H b = 0
        v = b @ (b.conj().T @ f[k])
        u[k] = v / np.linalg.norm(v)
    return u


def _covariances(scheme: str, f: np.ndarray, h: np.ndarray, p_max: float) -> np.ndarray:
    """Explicit W_k, (K, N, N)."""
    k_users, n = f.shape
    if scheme == "zf":
        u = _zf_beams(f, h)
        return p_max / k_users * np.einsum("kn,km->knm", u, u.conj())
    if scheme == "rbf":
        return np.broadcast_to(p_max / k_users * np.eye(n) / n, (k_users, n, n)).astype(complex)
    raise AssertionError(scheme)


def _det_skr(scenario: Scenario, w: np.ndarray, f: np.ndarray, h: np.ndarray, scoring: str,
             index: tuple = ()) -> np.ndarray:
    """SKR_k = log2(det K_ae det K_be / (var(z_e) det K_abe)) of the observations (z_a, z_b, z_e)."""
    v = scenario.pilot_length
    s_a, s_b, s_e = (float(np.broadcast_to(x, scenario.batch_shape)[index]) for x in
                     (scenario.sigma2_a, scenario.sigma2_b, scenario.sigma2_e))
    p_b = float(np.broadcast_to(scenario.p_b, scenario.batch_shape)[index])
    g = f.sum(axis=0)
    out = []
    for k in range(f.shape[0]):
        w_obs = w.sum(axis=0) if scoring == "general" else w[k]
        var_na = np.trace(w[k]).real * s_a / (v * p_b)
        c = np.empty((3, 3), dtype=complex)
        c[0, 0] = g.conj() @ w[k] @ g + var_na
        c[0, 1] = g.conj() @ w[k] @ f[k]
        c[0, 2] = g.conj() @ w[k] @ h[k]
        c[1, 1] = f[k].conj() @ w_obs @ f[k] + s_b / v
        c[1, 2] = f[k].conj() @ w_obs @ h[k]
        c[2, 2] = h[k].conj() @ w_obs @ h[k] + s_e / v
        for i, j in ((1, 0), (2, 0), (2, 1)):
            c[i, j] = np.conj(c[j, i])
        k_ae = c[np.ix_([0, 2], [0, 2])]
        k_be = c[np.ix_([1, 2], [1, 2])]
        det = lambda m: np.linalg.det(m).real  # noqa: E731
        out.append(np.log2(det(k_ae) * det(k_be) / (c[2, 2].real * det(c))))
    return np.array(out)


def _scenarios():
    rng = np.random.default_rng(19)
    yield Scenario.from_dbm(ULA(16, 30e9), users=[(4.0, 0.3)], eves=[(3.5, 0.1)], pt_dbm=[0.0, 10.0, 20.0])
    yield Scenario.from_dbm(ULA(32, 30e9), users=[(5.0, -0.5), (6.0, 0.4)], eves=[(4.0, -0.3), (5.5, 0.6)],
                            pt_dbm=[0.0, 15.0])
    yield Scenario.from_dbm(ULA(64, 28e9), users=[(8.0, -0.6), (9.0, 0.0), (10.0, 0.6)],
                            eves=[(7.5, -0.55), (8.0, 0.05), (9.5, 0.7)], pt_dbm=[5.0, 25.0])
    yield random_scenario(rng, n_ant=48, n_users=2, pt_dbm=10.0)


@pytest.mark.parametrize("scheme", ["zf", "rbf"])
@pytest.mark.parametrize("scoring", ["general", "per-user"])
def test_skr_equals_determinant_form_of_explicit_covariances(scheme, scoring):
    n_checked = 0
    for s in _scenarios():
        ev = evaluate(s, scheme, scoring=scoring)
        f_all, h_all = s.channels()
        for index in np.ndindex(*s.batch_shape):
            f = np.broadcast_to(f_all, (*s.batch_shape, *f_all.shape[-2:]))[index]
            h = np.broadcast_to(h_all, (*s.batch_shape, *h_all.shape[-2:]))[index]
            p_max = float(np.broadcast_to(s.p_max, s.batch_shape)[index])
            w = _covariances(scheme, f, h, p_max)
            ref = _det_skr(s, w, f, h, scoring, index)
            np.testing.assert_allclose(ev.skr[index], ref, rtol=1e-9, atol=1e-12)   # measured: 2.3e-11
            np.testing.assert_allclose(ev.result.p_a[index] if np.ndim(ev.result.p_a) else ev.result.p_a,
                                       np.trace(w, axis1=-2, axis2=-1).real, rtol=1e-12)
            n_checked += 1
    assert n_checked == 8


@pytest.mark.parametrize("scheme", ["zf", "rbf"])
def test_n_space_realisation_equals_explicit_covariance(scheme):
    """The precoders sampled by Monte Carlo probing (PrecodingResult.covariance) are the W_k above,
    and scoring them against the channels (nfkg.mismatch) gives evaluate's SKR."""
    s = Scenario.from_dbm(ULA(32, 30e9), users=[(5.0, -0.5), (6.0, 0.4)], eves=[(4.0, -0.3), (5.5, 0.6)],
                          pt_dbm=12.0)
    f, h = (x for x in s.channels())
    res = precode(s, scheme)
    w = _covariances(scheme, f, h, float(s.p_max))
    x = np.concatenate([f, h]).T                                            # N x 2K
    np.testing.assert_allclose(res.covariance.gram(x), np.einsum("pn,knm,mq->kpq", x.conj().T, w, x),
                               rtol=1e-10, atol=1e-12 * np.abs(x).max() ** 2 * float(s.p_max))
    m = score_mismatched(res, f, h, s)
    np.testing.assert_allclose(m.skr, evaluate(s, scheme).skr, rtol=1e-9)


def test_zf_nulls_the_other_users_and_every_eve():
    rng = np.random.default_rng(5)
    s = random_scenario(rng, n_ant=40, n_users=3, batch=(4,))
    f, h = s.channels()
    u = precode(s, "zf").covariance.shapes[0].basis[..., 0]                 # (4, K, N), unit beams
    np.testing.assert_allclose(np.linalg.norm(u, axis=-1), 1.0, rtol=1e-12)
    for k in range(3):
        for i in range(3):
            for x in ([h[:, i]] if i == k else [f[:, i], h[:, i]]):
                leak = np.abs(np.einsum("bn,bn->b", x.conj(), u[:, k])) / np.linalg.norm(x, axis=-1)
                assert leak.max() < 1e-12
    # ... and the engine sees the same beam: f_k^H u_k = ||P_perp f_k||, the only non-zero row.
    view = precode(s, "zf").views[0].view[..., 0]                          # (4, K, 2K)
    gain = np.abs(np.einsum("bkn,bkn->bk", f.conj(), u))
    np.testing.assert_allclose(np.abs(view[:, np.arange(3), np.arange(3)]), gain, rtol=1e-10)
    off = view.copy()
    off[:, np.arange(3), np.arange(3)] = 0
    assert np.all(off == 0)


def test_zf_equal_scorings_and_closed_form():
    """Nothing leaks: both scorings agree, and SKR_k = log2(1 + a^2/((na + nb) a + na nb)), a = P ||P_perp f_k||^2."""
    s = Scenario.from_dbm(ULA(64, 30e9), users=[(12.0, -0.6), (13.0, 0.6)],
                          eves=[(11.98, -0.6), (12.98, 0.6)], pt_dbm=np.array([0.0, 20.0, 30.0]))
    gen, per = evaluate(s, "zf"), evaluate(s, "zf", scoring="per-user")
    np.testing.assert_allclose(gen.skr, per.skr, rtol=1e-12)
    f, h = (x[0] for x in s.channels())                                    # one geometry, three powers
    gain2 = np.empty(2)
    for k in range(2):                                                     # ||P_perp f_k||^2 = ||B^H f_k||^2
        b = null_space(np.concatenate([np.delete(f, k, axis=0), h]).conj())
        gain2[k] = np.linalg.norm(b.conj().T @ f[k]) ** 2
    assert np.all(np.sqrt(gain2) < 3e-4 * np.linalg.norm(f, axis=-1))    # the close Eves eat the beam's gain
    p = s.p_max[:, None] / 2
    a = p * gain2
    na = p * s.sigma2_a[..., None] / s.p_b[..., None]
    nb = s.sigma2_b[..., None]
    np.testing.assert_allclose(gen.skr, np.log1p(a**2 / ((na + nb) * a + na * nb)) / np.log(2), rtol=1e-10)


def test_zf_edge_cases():
    # N < 2K: one line naming the key.
    s = Scenario.from_dbm(ULA(3, 30e9), users=[(5.0, -0.5), (6.0, 0.4)], eves=[(4.0, -0.3), (5.5, 0.6)], pt_dbm=10)
    with pytest.raises(ValueError, match=r"^antennas: zf needs N >= 2K = 4 for K = 2 users.*got N = 3$"):
        evaluate(s, "zf")
    # N = 2K works (a one-dimensional null space per user).
    s4 = Scenario.from_dbm(ULA(4, 30e9), users=[(5.0, -0.5), (6.0, 0.4)], eves=[(4.0, -0.3), (5.5, 0.6)], pt_dbm=10)
    assert np.all(evaluate(s4, "zf").skr > 0)
    # Eve on her user: f_k lies in the span of h_k, so no beam and nothing radiated to user k (no NaN).
    s_eq = Scenario.from_dbm(ULA(32, 30e9), users=[(5.0, -0.5), (6.0, 0.4)], eves=[(5.0, -0.5), (5.5, 0.6)],
                             pt_dbm=10)
    ev = evaluate(s_eq, "zf")
    assert np.all(np.isfinite(ev.skr))
    assert ev.skr[0] == 0 and ev.result.p_a[0] == 0 and ev.skr[1] > 0
    assert np.all(precode(s_eq, "zf").covariance.shapes[0].basis[0, :, 0] == 0)
    # Two Eves at the same place (dependent columns of A_k): the projector still uses the true span.
    s_dup = Scenario.from_dbm(ULA(32, 30e9), users=[(5.0, -0.5), (6.0, 0.4)], eves=[(4.0, -0.3), (4.0, -0.3)],
                              pt_dbm=10)
    f, h = s_dup.channels()
    w = _covariances("zf", f, h, float(s_dup.p_max))
    np.testing.assert_allclose(evaluate(s_dup, "zf").skr, _det_skr(s_dup, w, f, h, "general"), rtol=1e-7)


def test_rbf_radiates_the_equal_split_isotropically():
    s = Scenario.from_dbm(ULA(3, 30e9), users=[(5.0, -0.5), (6.0, 0.4)], eves=[(4.0, -0.3), (5.5, 0.6)], pt_dbm=10)
    ev = evaluate(s, "rbf")                    # any N, even N < 2K
    f, h = s.channels()
    np.testing.assert_allclose(ev.skr, _det_skr(s, _covariances("rbf", f, h, float(s.p_max)), f, h, "general"),
                               rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(ev.result.p_a, float(s.p_max) / 2, rtol=1e-15)
    # Its precoders are i.i.d. per antenna: the sample covariance of 4000 draws is (P/K) I/N.
    w = precode(s, "rbf").covariance.sample(np.random.default_rng(0), 4000)      # (T, K, N)
    emp = np.einsum("tkn,tkm->knm", w, w.conj()) / 4000
    per_antenna = float(s.p_max) / 2 / 3                                          # P_max/K over N = 3
    np.testing.assert_allclose(emp, np.broadcast_to(np.eye(3) * per_antenna, emp.shape), atol=0.08 * per_antenna)


def test_registered_and_in_the_module_split():
    names = scheme_names()
    assert names[:4] == ["ras", "mrc", "zf", "rbf"] and {"svd", "svd-mf"} <= set(names)
    for name in ("zf", "rbf"):
        spec = get_scheme(name)
        assert spec.package == "nfkg" and not spec.plugin and not spec.uses_shaping
        assert spec.func.__module__ == "nfkg.schemes.baselines" and spec.func.__doc__
    assert get_scheme("svd-pa").func.__module__ == "nfkg.schemes.svd"
    # the former names still import from nfkg.schemes.precoding
    from nfkg.schemes.precoding import (_REGISTRY, _svd_pa, evaluate as ev2, register_scheme,  # noqa: F401
                                        true_objective)
    from nfkg.schemes import registry

    assert _REGISTRY is registry._REGISTRY and ev2 is registry.evaluate


def test_beyond_j5_shows_the_baselines():
    from nfkg.studies.beyond import BEYOND_J5_DEFAULTS
    from nfkg.studies.tables import run_table

    assert {"zf", "rbf"} <= set(BEYOND_J5_DEFAULTS["schemes"])
    d = run_table("beyond-j5", {"pt_dbm": [10, 30], "n_ant": 64, "schemes": ["svd-pa", "zf", "rbf", "svd-mf"]})
    s = Scenario.from_dbm(ULA(64, 30e9), users=[(12.0, -0.6), (13.0, 0.6)],   # the J5 geometry
                          eves=[(11.98, -0.6), (12.98, 0.6)], pt_dbm=np.array([10.0, 30.0]))
    col = {h: i for i, h in enumerate(d.header)}
    for scheme, label in (("zf", "ZF (no AN)"), ("rbf", "RBF (isotropic)")):
        np.testing.assert_allclose([r[col[label]] for r in d.rows], evaluate(s, scheme).sum_skr, rtol=1e-12)
    assert "zf" in d.text and "rbf" in d.text
