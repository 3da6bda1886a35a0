"""Designs scored against a different truth: nfkg.engine.mismatch (scoring), nfkg.studies.robustness (Eve CSI, NLoS)."""

from __future__ import annotations

import numpy as np
import pytest

from nfkg.model.channel import ULA
from nfkg.model.limits import MIN_CLEARANCE_M, nearest_antenna
from nfkg.engine.mismatch import score_mismatched, true_views
from nfkg.schemes.precoding import evaluate, precode
from nfkg.studies.robustness import (csi_error, nlos_skr, nlos_truth, perturb_positions, rician_gains,
                             robust_csi_error)
from nfkg.model.scenario import Scenario
from nfkg.studies.tables import run_table, save_table

J5_USERS = [(12.0, -0.6), (13.0, 0.6)]
J5_EVES = [(11.98, -0.6), (12.98, 0.6)]
INF = float("inf")


@pytest.fixture(scope="module")
def j5():
    return Scenario.from_dbm(ULA(256, 30e9), users=J5_USERS, eves=J5_EVES, pt_dbm=20)


@pytest.mark.parametrize("scheme", ["ras", "mrc", "svd", "svd-pa"])
@pytest.mark.parametrize("pt_dbm", [0.0, 30.0])
def test_mismatch_scorer_equals_evaluate_on_matched_channels(scheme, pt_dbm):
    s = Scenario.from_dbm(ULA(256, 30e9), users=J5_USERS, eves=J5_EVES, pt_dbm=pt_dbm)
    ev = evaluate(s, scheme)
    f, h = s.channels()
    m = score_mismatched(ev.result, f, h, s)
    np.testing.assert_allclose(m.skr, ev.skr, rtol=1e-10, atol=0)
    np.testing.assert_allclose(m.p_a, ev.result.p_a, rtol=1e-12)
    np.testing.assert_allclose(m.cov, ev.cov, rtol=1e-9, atol=1e-12 * np.abs(ev.cov).max())


def test_mismatch_scorer_single_user_matched_and_targeted():
    s = Scenario.from_dbm(ULA(128, 30e9), users=[(12.2, 0.2)], eves=[(12.0, 0.2)], pt_dbm=30)
    f, h = s.channels()
    for jam in ("isotropic", "targeted"):
        ev = evaluate(s, "svd", "matched", jamming=jam)
        np.testing.assert_allclose(score_mismatched(ev.result, f, h, s).skr, ev.skr, rtol=1e-10)


def test_true_views_are_a_square_root_of_gram(j5):
    res = precode(j5, "svd-pa")
    cov = res.covariance
    rng = np.random.default_rng(1)
    f = rng.standard_normal((3, 2, 256)) + 1j * rng.standard_normal((3, 2, 256))
    h = rng.standard_normal((3, 2, 256)) + 1j * rng.standard_normal((3, 2, 256))
    views = true_views(cov, f, h)
    gram = sum(cov.powers[..., j, None, None] * v.gram() for j, v in enumerate(views))
    x = np.swapaxes(np.concatenate([f, h], axis=-2), -1, -2)
    ref = cov.gram(x)
    np.testing.assert_allclose(gram, ref, rtol=0, atol=1e-12 * np.abs(ref).max())


def test_scoring_names_still_importable_from_robustness():
    import nfkg.engine.mismatch as mismatch
    import nfkg.studies.robustness as robustness
    for name in ("MismatchEvaluation", "true_views", "score_mismatched"):
        assert getattr(robustness, name) is getattr(mismatch, name)
        assert name in robustness.__all__


@pytest.mark.parametrize("scheme", ["ras", "mrc", "svd", "svd-pa", "svd-opt"])
def test_zero_csi_error_is_nominal_bit_for_bit(j5, scheme):
    res = csi_error(j5, scheme, 0.0, 0.0, draws=3, seed=5)
    ev = evaluate(j5, scheme)
    assert np.array_equal(res.skr, np.broadcast_to(ev.skr, (3, 2)))
    assert res.nominal == float(ev.sum_skr) == res.p10
    assert res.mean == pytest.approx(res.nominal, rel=1e-12)   # the mean of identical draws, to round-off


def test_csi_same_seed_same_numbers(j5):
    a = csi_error(j5, "svd-pa", 0.01, 0.001, draws=4, seed=7)
    b = csi_error(j5, "svd-pa", 0.01, 0.001, draws=4, seed=7)
    c = csi_error(j5, "svd-pa", 0.01, 0.001, draws=4, seed=8)
    assert np.array_equal(a.sum_skr, b.sum_skr) and np.array_equal(a.r_hat, b.r_hat)
    assert not np.array_equal(a.r_hat, c.r_hat)
    # the users' channels are exact: a design that ignores Eve's CSI does not move
    m = csi_error(j5, "mrc", 0.01, 0.001, draws=4, seed=7)
    np.testing.assert_allclose(m.sum_skr, m.nominal, rtol=1e-10)


def test_perturbed_positions_are_redrawn_valid():
    r_hat, psi_hat = perturb_positions([0.02, 12.0], [1.5, -1.55], [0.05, 1.0], [0.2, 0.3], 500, 3,
                                       n_ant=256, spacing=0.005)
    assert r_hat.shape == (500, 2)
    assert np.all(r_hat > 0) and np.all(np.abs(psi_hat) <= np.pi / 2)
    assert np.all(nearest_antenna(r_hat, psi_hat, 256, 0.005)[0] >= MIN_CLEARANCE_M)


def test_robust_design_without_error_is_svd(j5):
    for jam in ("isotropic", "targeted"):
        res = robust_csi_error(j5, 0.0, 0.0, draws=2, jamming=jam)
        np.testing.assert_allclose(res.sum_skr, res.nominal, rtol=1e-10)
    assert robust_csi_error(j5, 0.01, 0.001, draws=2, seed=1).mean > 0


def test_infinite_rician_factor_is_nominal(j5):
    f, h = nlos_truth(j5, [INF, 10.0], draws=5, seed=2)
    f0, h0 = j5.channels()
    assert np.array_equal(f[0], np.broadcast_to(f0, f[0].shape))
    assert np.array_equal(h[0], np.broadcast_to(h0, h[0].shape))
    assert not np.allclose(f[1], f0)
    for scheme in ("ras", "mrc", "svd", "svd-pa"):
        res = nlos_skr(j5, scheme, [INF, 10.0], truth=(f, h))
        np.testing.assert_allclose(res.sum_skr[0], res.nominal, rtol=1e-10)
        assert res.nominal == float(evaluate(j5, scheme).sum_skr)


def test_nlos_same_seed_and_rician_power(j5):
    a = nlos_skr(j5, "svd", [0.0, 10.0], draws=3, seed=4)
    b = nlos_skr(j5, "svd", [0.0, 10.0], draws=3, seed=4)
    assert np.array_equal(a.sum_skr, b.sum_skr)
    # K_R = LoS power / mean scattered power
    los = np.ones((1, 8)) + 0j
    paths = np.full((1, 4, 8), 0.5 + 0j)
    rng = np.random.default_rng(0)
    z = (rng.standard_normal((20000, 4)) + 1j * rng.standard_normal((20000, 4))) / np.sqrt(2)
    g = rician_gains(los, paths, z, 10.0)
    nlos = np.einsum("...d,...dn->...n", g, paths) / 2.0
    ratio = np.sum(np.abs(los) ** 2) / np.mean(np.sum(np.abs(nlos) ** 2, axis=-1))
    assert ratio == pytest.approx(10.0, rel=0.05)


@pytest.mark.parametrize("fig, over", [
    ("csi", {"draws": 2, "sigma_r_mm": [0.0, 5.0], "schemes": ["mrc", "svd"]}),
    ("nlos", {"draws": 2, "rician_db": [0.0, INF], "schemes": ["ras", "svd-pa"], "eve_correlation": [0.0]}),
])
def test_figure_runs_with_tiny_overrides(tmp_path, fig, over):
    data = run_table(fig, over)
    assert data.id == fig and data.rows and data.header[0] == "curve"
    assert data.text and all(c.holds for c in data.claims)
    assert len(data.formatted_rows()) == len(data.rows)
    paths = save_table(data, tmp_path)
    assert sorted(p.suffix for p in paths) == [".csv", ".pdf", ".png"]
    assert all(p.stat().st_size > 0 for p in paths)


def test_bad_input_names_the_parameter(j5):
    with pytest.raises(ValueError, match="sigma_r"):
        csi_error(j5, "svd", -0.01, 0.0)
    with pytest.raises(ValueError, match="sigma_psi"):
        csi_error(j5, "svd", 0.01, float("nan"))
    with pytest.raises(ValueError, match="draws"):
        csi_error(j5, "svd", 0.01, 0.0, draws=0)
    with pytest.raises(ValueError, match="rician_db"):
        nlos_skr(j5, "svd", [float("nan")])
    with pytest.raises(ValueError, match="rician_db"):
        nlos_truth(j5, -INF, draws=2)
    with pytest.raises(ValueError, match="sigma_r_mm"):
        run_table("csi", {"sigma_r_mm": [-1.0]})
    with pytest.raises(ValueError, match="rician_db"):
        run_table("nlos", {"rician_db": [float("nan")]})
    with pytest.raises(ValueError, match="unknown key"):
        run_table("nlos", {"rican_db": [1.0]})
    f, h = j5.channels()
    with pytest.raises(ValueError, match="f:"):
        score_mismatched(precode(j5, "svd"), f[..., :10], h, j5)
    with pytest.raises(ValueError, match="scenario"):
        batch = Scenario.from_dbm(ULA(64, 30e9), users=[J5_USERS, J5_USERS], eves=[J5_EVES, J5_EVES])
        csi_error(batch, "svd", 0.01, 0.0)
