"""Engine v2: reduced coordinates against the N-space construction, exact forms, svd-pa's choice."""

import numpy as np
import pytest

from nfkg.schemes import optimize as opt
from nfkg.model.channel import ULA
from nfkg.schemes.precoding import evaluate, score, svd_shapes
from nfkg.engine.reduced import channel_coordinates, geometry, svd_views
from nfkg.model.scenario import Scenario
from nfkg.engine.secrecy import alpha_factored, covariance_from_rows, skr_factored

from conftest import random_scenario


def _dense_gram_of_shape(shape, f, h):
    """x_p^H R_k x_q over the 2K channels from an N-space Shape (independent: thin SVDs in C^N)."""
    x = np.swapaxes(np.concatenate([f, h], axis=-2), -1, -2)          # (..., N, 2K)
    return shape.gram(x[..., None, :, :])                              # (..., K, 2K, 2K)


def test_coordinates_reproduce_every_inner_product():
    rng = np.random.default_rng(0)
    s = random_scenario(rng, n_ant=40, n_users=3, batch=(4,))
    f, h = s.channels()
    c = channel_coordinates(f, h, chunk=3)                             # chunking must not matter
    x = np.concatenate([f, h], axis=-2)
    np.testing.assert_allclose(np.swapaxes(c.conj(), -1, -2) @ c, x.conj() @ np.swapaxes(x, -1, -2),
                               rtol=1e-12, atol=1e-12 * np.abs(x).max() ** 2 * 40)
    assert np.allclose(np.tril(c, -1), 0)


@pytest.mark.parametrize("n_ant, n_users", [(48, 1), (48, 2), (48, 4), (3, 2), (5, 3), (7, 4)])
@pytest.mark.parametrize("shaping", ["isotropic", "matched"])
@pytest.mark.parametrize("jamming", ["isotropic", "targeted"])
def test_views_equal_n_space_shapes(n_ant, n_users, shaping, jamming):
    """The trailing-block views give the same bilinear forms as J(13)-(16) built by SVD in C^N."""
    rng = np.random.default_rng(n_ant * 10 + n_users)
    s = random_scenario(rng, n_ant=n_ant, n_users=n_users, batch=(3,))
    f, h = s.channels()
    sig_n, jam_n = svd_shapes(f, h, shaping, jamming)
    sig, jam = svd_views(geometry(s).blocks(), shaping, jamming)
    scale = np.abs(f).max() ** 2 * n_ant
    if n_ant == 2 * n_users - 1 and jamming == "targeted":
        # Empty jamming null space: P_perp h_k is round-off; both forms give the zero shape
        # (never a normalised round-off direction).
        np.testing.assert_array_equal(jam.view, 0.0)
        np.testing.assert_array_equal(jam.trace, 0.0)
    for view, shape in ((sig, sig_n), (jam, jam_n)):
        np.testing.assert_allclose(view.gram(), _dense_gram_of_shape(shape, f, h), atol=1e-10 * scale)
        np.testing.assert_array_equal(view.trace, shape.trace)


def test_eve_on_her_user_is_rank_deficient_but_exact():
    """h_k = f_k: the jamming null space hides nothing from Eve; the ranks drop by one."""
    users = [(10.0, -0.4), (14.0, 0.3)]
    s = Scenario.from_dbm(ULA(32, 30e9), users=users, eves=users, pt_dbm=30)
    b = geometry(s).blocks()
    np.testing.assert_array_equal(b.t22, 0.0)                         # h_k in span(f_1..f_K)
    np.testing.assert_array_equal(b.rank_k, [1, 1])                  # {f_j, h_j = f_j}
    np.testing.assert_array_equal(b.rank_ek, [2, 2])
    f, h = s.channels()
    sig_n, _ = svd_shapes(f, h, "isotropic")
    np.testing.assert_array_equal(sig_n.rank, b.rank_k)


def test_view_coefficients_match_n_space_and_wedge_is_exact():
    rng = np.random.default_rng(1)
    s = random_scenario(rng, n_ant=64, n_users=3, batch=(5,))
    f, h = s.channels()
    c_n = opt.svd_coefficients(f, h, *svd_shapes(f, h, "isotropic"))
    c_v = opt.view_coefficients(*svd_views(geometry(s).blocks(), "isotropic", "isotropic"))
    for key in ("s1", "s2", "s4", "s5"):
        np.testing.assert_allclose(c_v[key], c_n[key], rtol=1e-9)
    np.testing.assert_array_equal(c_v["s3"], 0.0)                     # R_ek f_k = 0 exactly
    np.testing.assert_allclose(c_v["w"], c_v["s2"] * c_v["s5"] - c_v["s1"], rtol=1e-6)
    assert np.all(c_v["w"] > 0)


def test_wedge_survives_where_the_difference_cancels():
    """Eve 0.1 mm behind her user: s2 s5 - s1 loses ~10 digits, the product form keeps them.

    Reference: the Gram determinant (|f|^2 |h|^2 - |f^H h|^2)/N^2 of K = 1's R = I/N, from
    50-digit channels (tests/mpref.py, no nfkg code).
    """
    import mpmath as mp
    import mpref

    n_ant, fc = 256, 30e9
    s = Scenario.from_dbm(ULA(n_ant, fc), users=[(12.0, 0.2)], eves=[(12.0001, 0.2)], pt_dbm=20)
    c = opt.view_coefficients(*svd_views(geometry(s).blocks(), "isotropic", "isotropic"))
    with mp.workdps(50):
        lam = mpref.C_LIGHT / mp.mpf(fc)
        f = mpref.channel(12.0, 0.2, n_ant, lam, lam / 2)
        h = mpref.channel(12.0001, 0.2, n_ant, lam, lam / 2)
        nf, nh = sum(abs(x) ** 2 for x in f), sum(abs(x) ** 2 for x in h)
        fh = abs(mp.fsum(mp.conj(x) * y for x, y in zip(f, h))) ** 2
        exact = float((nf * nh - fh) / n_ant**2)
    np.testing.assert_allclose(c["w"], exact, rtol=1e-9)              # measured 2.4e-11
    assert abs((c["s2"] * c["s5"] - c["s1"]) / exact - 1) > 1e-8     # the difference: 1.4e-7 off


def test_power_sweep_factors_the_channels_once():
    s = Scenario.from_dbm(ULA(128, 30e9), users=[(12, -0.6), (13, 0.6)], eves=[(11.98, -0.6), (12.98, 0.6)],
                          pt_dbm=np.arange(0.0, 31.0))
    evaluate(s, "svd-pa")
    assert geometry(s).coords.shape == (2 * 2, 2 * 2)
    # broadcast node arrays (stride 0), as the figure presets make them, are detected too
    users = np.broadcast_to(np.array([(12.0, -0.6), (13.0, 0.6)]), (31, 2, 2))
    eves = np.broadcast_to(np.array([(11.98, -0.6), (12.98, 0.6)]), (31, 2, 2))
    s2 = Scenario.from_dbm(ULA(128, 30e9), users=users, eves=eves, pt_dbm=np.arange(0.0, 31.0))
    ev2 = evaluate(s2, "svd-pa")
    assert geometry(s2).coords.shape == (1, 4, 4)
    np.testing.assert_allclose(ev2.skr, evaluate(s, "svd-pa").skr, rtol=1e-12)


def test_skr_factored_equals_determinants_at_moderate_snr():
    """Random factors: the factored SKR equals log2(|K_ae||K_be| / (K_ee |K_abe|)) by numpy.linalg.det,
    with K = M M^H + D built here. The rows a, b, e are drawn independently (rank up to 3), and e
    partly along a or b, so Eve's conditioning and the Gram term of delta = b - a off a both count."""
    rng = np.random.default_rng(2)
    leak = []
    for i in range(200):
        n = int(rng.integers(1, 7))
        a, b, e = (rng.standard_normal((3, n)) + 1j * rng.standard_normal((3, n))) * rng.uniform(0.1, 10, 3)[:, None]
        if i % 3 == 1:
            e = e * 0.1 + rng.uniform(0.5, 2) * (a if i % 2 else b)        # Eve close to one side
        na, nb, ne = rng.uniform(0.05, 2.0, 3)
        rows = np.stack([a, b, e])
        k = rows @ rows.conj().T + np.diag([na, nb, ne])
        np.testing.assert_allclose(covariance_from_rows(a, b, e, na, nb, ne), k, rtol=1e-12)
        det = lambda idx: np.linalg.det(k[np.ix_(idx, idx)]).real  # noqa: E731
        ref = np.log2(det([0, 2]) * det([1, 2]) / (k[2, 2].real * det([0, 1, 2])))
        assert float(skr_factored(a, b, e, b - a, na, nb, ne)) == pytest.approx(ref, rel=1e-9, abs=1e-12)
        if n >= 2:  # what conditioning on Eve changes: I(a; b) - I(a; b | e), either sign
            leak.append(np.log2(det([0]) * det([1]) / det([0, 1])) - ref)
    leak = np.abs(leak)
    assert np.mean(leak > 0.05) > 0.5 and leak.max() > 1.0          # Eve's term is exercised


def test_alpha_factored_equals_its_definition():
    rng = np.random.default_rng(3)
    b, e = rng.standard_normal((2, 50, 4)) + 1j * rng.standard_normal((2, 50, 4))
    ne = rng.uniform(0.1, 3, 50)
    sb, se, sae = (np.abs(b) ** 2).sum(-1), (np.abs(e) ** 2).sum(-1), (b.conj() * e).sum(-1)
    np.testing.assert_allclose(alpha_factored(b, e, ne), sb - np.abs(sae) ** 2 / (se + ne), rtol=1e-10)


def test_no_randomness_sent_gives_zero_not_nan():
    one = np.ones(2) + 0j
    assert float(skr_factored(one * 0, one, one, one, 0.0, 1.0, 1.0)) == 0.0


@pytest.mark.parametrize("scoring", ["general", "per-user"])
def test_svd_schemes_are_scored_alike_by_both_conventions(scoring):
    rng = np.random.default_rng(4)
    s = random_scenario(rng, n_ant=32, n_users=3, batch=(3,))
    for scheme in ("svd", "svd-pa"):
        np.testing.assert_allclose(evaluate(s, scheme, scoring=scoring).skr, evaluate(s, scheme).skr, rtol=1e-12)


def test_per_user_scoring_is_j19_for_mrc():
    """Per-user: W replaced by W_k in z_b and z_e, checked with explicit N x N matrices."""
    rng = np.random.default_rng(5)
    s = random_scenario(rng, n_ant=16, n_users=2)
    ev = evaluate(s, "mrc", scoring="per-user")
    f, h = s.channels()
    p = float(s.p_max) / 2
    g = f.sum(0)
    for k in range(2):
        u = f[k] / np.linalg.norm(f[k])
        w = p * np.outer(u, u.conj())
        na = p * float(s.sigma2_a) / float(s.p_b)
        kk = np.array([[g.conj() @ w @ g + na, g.conj() @ w @ f[k], g.conj() @ w @ h[k]],
                       [0, f[k].conj() @ w @ f[k] + s.sigma2_b, f[k].conj() @ w @ h[k]],
                       [0, 0, h[k].conj() @ w @ h[k] + s.sigma2_e]])
        kk = np.triu(kk) + np.triu(kk, 1).conj().T
        det = lambda idx: np.linalg.det(kk[np.ix_(idx, idx)]).real  # noqa: E731
        ref = np.log2(det([0, 2]) * det([1, 2]) / (kk[2, 2].real * det([0, 1, 2])))
        assert float(ev.skr[k]) == pytest.approx(ref, rel=1e-8)


@pytest.mark.parametrize("n_users", [1, 2, 3, 4])
def test_svd_pa_returns_the_split_the_engine_scores_higher(n_users):
    """J(25) is an inequality: svd-pa keeps the better of its AO split and the equal split. The choice
    is made with the closed form J(41)-(42); here the exact engine (score) scores both splits, and
    svd-pa's SKR must be the engine's larger one, its total within P_max, nothing radiated into an
    empty jamming null space (N = 2K - 1)."""
    rng = np.random.default_rng(10 + n_users)
    for n_ant in (2 * n_users - 1, 2 * n_users, 64):
        shape = (12, n_users)
        users = np.stack([rng.uniform(3, 25, shape), rng.uniform(-1.2, 1.2, shape)], -1)
        close = rng.random(shape) < 0.5  # half the Eves within 5 cm of their users
        eves = np.where(close[..., None], users + rng.uniform(-0.05, 0.05, (*shape, 2)) * [1, 0.01],
                        np.stack([rng.uniform(3, 25, shape), rng.uniform(-1.2, 1.2, shape)], -1))
        s = Scenario.from_dbm(ULA(max(n_ant, 1), 30e9), users=users, eves=eves,
                              pt_dbm=rng.uniform(-10, 50, 12), noise_dbm=rng.uniform(-150, -80, 12))
        for shaping in ("isotropic", "matched"):
            pa = evaluate(s, "svd-pa", shaping=shaping)
            x = pa.result.extra
            ao, _ = score(s, pa.result.views, np.stack([x["ao_p_s"], x["ao_p_n"]], -1))
            eq, _ = score(s, pa.result.views, evaluate(s, "svd", shaping=shaping).result.powers)
            want = np.maximum(ao.sum(-1), eq.sum(-1))
            np.testing.assert_allclose(pa.sum_skr, want, rtol=1e-9, atol=1e-12, err_msg=f"{n_ant} {shaping}")
            assert np.all(pa.result.p_a.sum(-1) <= s.p_max * (1 + 1e-12))
            if n_ant == 2 * n_users - 1 and n_users > 1:
                assert np.all(pa.result.p_n == 0)


def test_svd_pa_returns_the_equal_split_at_n_equal_2k_minus_1():
    """The issue's case: K = 2, N = 3 (empty jamming null space), where the AO radiated all of P_max."""
    s = Scenario.from_dbm(ULA(3, 30e9), users=[(5, -0.5), (6, 0.5)], eves=[(5.5, -0.4), (6.5, 0.6)], pt_dbm=20)
    pa, svd = evaluate(s, "svd-pa"), evaluate(s, "svd")
    assert "equal split" in pa.result.message
    np.testing.assert_array_equal(pa.result.powers, svd.result.powers)
    np.testing.assert_array_equal(pa.skr, svd.skr)
    # and the AO's split, scored by the engine, is indeed lower here
    x = pa.result.extra
    ao, _ = score(s, pa.result.views, np.stack([x["ao_p_s"], x["ao_p_n"]], -1))
    assert float(ao.sum()) < float(svd.sum_skr)
    # the engine, fed the returned split, gives the returned SKR
    skr, _ = score(s, pa.result.views, pa.result.powers)
    np.testing.assert_allclose(skr, pa.skr, rtol=1e-12)


def test_whole_accepted_range_gives_finite_nonnegative_skr_and_pa_above_svd():
    """Random scenarios over every key's accepted range (nfkg.model.limits), Eves on, near and far from
    their users: every scheme and scoring returns a finite SKR >= 0 without a warning."""
    import warnings

    rng = np.random.default_rng(7)
    n_done = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(40):
            k = int(rng.integers(1, 5))
            n = int(rng.choice([2 * k - 1, 2 * k, 8, 64, 512]))
            ula = ULA(n, 10 ** rng.uniform(-1, 3) * 1e9, 10 ** rng.uniform(-2, 2), rng.uniform(0, 6))
            r, psi = 10 ** rng.uniform(-1, 4, k), rng.uniform(-1.5, 1.5, k)
            mode = rng.integers(3)
            if mode == 0:
                r_e, psi_e = r * (1 + rng.uniform(-1e-4, 1e-4, k)), psi
            elif mode == 1:
                r_e, psi_e = r, psi
            else:
                r_e, psi_e = 10 ** rng.uniform(-1, 4, k), rng.uniform(-1.5, 1.5, k)
            try:
                s = Scenario.from_dbm(ula, np.stack([r, psi], -1), np.stack([r_e, psi_e], -1),
                                      pt_dbm=rng.uniform(-50, 60), noise_dbm=rng.uniform(-200, 60),
                                      pilot_length=int(10 ** rng.uniform(0, 6)))
            except ValueError:  # e.g. a node within 1 mm of an antenna
                continue
            n_done += 1
            for scheme in ("ras", "mrc", "svd", "svd-pa"):
                for scoring in ("general", "per-user"):
                    ev = evaluate(s, scheme, scoring=scoring)
                    assert np.all(np.isfinite(ev.skr)) and np.all(ev.skr >= 0), (scheme, scoring)
            assert float(evaluate(s, "svd-pa").sum_skr) >= float(evaluate(s, "svd").sum_skr) * (1 - 1e-12)
    assert n_done >= 30
