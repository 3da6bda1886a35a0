"""Figure presets and runs (SPEC 7): shapes, overrides, batching and the papers' claims."""

import dataclasses

import numpy as np
import pytest

from nfkg.channel import ULA
from nfkg.claims import check_claims
from nfkg.experiments import (PRESETS, SCHEME_LABELS, FigureData, figure_ids, resolve_params,
                              run_figure)
from nfkg.precoding import evaluate
from nfkg.scenario import Scenario

# Small sweeps: a few points per figure, so the whole module runs in a few seconds.
SMALL = {
    "c3": {"pt_dbm": [0, 20, 40]},
    "c4": {"r_e": [10.0, 14.0, 18.0]},
    "c5": {"psi_e": [-0.5, 0.0, 0.5]},
    "j4": {"dpsi": [-0.05, 0.0, 0.05]},
    "j5": {"pt_dbm": [0, 30]},
    "j6": {"dr": [-1.0, 0.0, 1.0]},
    "j7": {"n_ant": [32, 64]},
    "j8": {"pt_dbm": [10.0]},
}


def _claims(data):
    return {c.text: c for c in check_claims(data)}


def test_figure_ids_and_presets():
    assert figure_ids() == ["c3", "c4", "c5", "j4", "j5", "j6", "j7", "j8"]
    assert set(SMALL) == set(figure_ids())
    for fid, p in PRESETS.items():
        assert p.params["carrier_ghz"] == 30.0 and p.params["noise_dbm"] == -105.0
        assert p.params["pilot_length"] == 1 and p.params["spacing_wavelengths"] == 0.5
        assert p.params["shaping"] == ("matched" if fid.startswith("c") else "isotropic")
        assert p.x_key in p.params
    assert PRESETS["c3"].params["schemes"] == ("mrc", "svd", "svd-pa")
    assert PRESETS["j5"].params["schemes"] == ("ras", "mrc", "svd", "svd-pa")


def test_preset_grids_contain_special_points():
    c4 = PRESETS["c4"].params
    assert np.any(c4["r_e"] == c4["r_b"]) and c4["r_e"].min() == 5 and c4["r_e"].max() == 25
    psi = PRESETS["c5"].params["psi_e"]
    assert psi.size >= 1001 and np.any(psi == 0.0) and np.array_equal(psi, -psi[::-1])
    assert psi[0] == -np.pi / 2 and psi[-1] == np.pi / 2
    assert np.any(PRESETS["j4"].params["dpsi"] == 0.0) and np.any(PRESETS["j6"].params["dr"] == 0.0)
    assert PRESETS["j7"].params["n_ant"].min() == 32 and PRESETS["j7"].params["n_ant"].max() == 1024
    assert PRESETS["j8"].params["n_users"] == (4, 6)


@pytest.mark.parametrize("fid", list(SMALL))
def test_every_figure_runs_small(fid):
    data = run_figure(fid, SMALL[fid])
    n = len(next(iter(SMALL[fid].values())))
    assert isinstance(data, FigureData) and data.id == fid
    assert data.x.shape == (n,)
    n_schemes = len(PRESETS[fid].params["schemes"])
    assert len(data.curves) == (2 * n_schemes if fid == "j8" else n_schemes)
    for label, y in data.curves.items():
        assert y.shape == (n,), label
        assert np.all(np.isfinite(y)) and np.all(y >= 0), label
    assert data.y_label in ("SKR (bits/probing)", "Sum SKR (bits/probing)")
    assert data.paper_ref.startswith(("C Fig.", "J Fig."))
    assert all(isinstance(c.holds, bool) for c in check_claims(data))


def test_labels_and_j8_labels():
    assert list(run_figure("c3", SMALL["c3"]).curves) == ["MRC", "SVD w/o PA", "SVD w/ PA"]
    assert list(run_figure("j5", SMALL["j5"]).curves) == ["RAS w/o P", "MRC", "SVD w/o PA", "SVD w/ PA"]
    labels = list(run_figure("j8", SMALL["j8"]).curves)
    assert "SVD w/ PA, K=4" in labels and "MRC, K=6" in labels and len(labels) == 8


def test_overrides_replace_values():
    data = run_figure("c3", {"n_ant": 64, "pt_dbm": 25})
    assert data.params["n_ant"] == 64 and data.x.tolist() == [25.0]
    assert resolve_params("j5", {"r_b": [11, 12]})["r_b"] == (11.0, 12.0)
    assert PRESETS["c3"].params["n_ant"] == 256  # the preset is untouched
    # the override really changes the result
    assert run_figure("c3", {"n_ant": 64, "pt_dbm": 25}).curves["SVD w/ PA"][0] != \
        run_figure("c3", {"pt_dbm": 25}).curves["SVD w/ PA"][0]
    one = run_figure("j5", {"pt_dbm": [20], "schemes": ["mrc"]})
    assert list(one.curves) == ["MRC"]


def test_unknown_override_key_and_bad_values():
    with pytest.raises(ValueError, match="n_antennas"):
        run_figure("c3", {"n_antennas": 64})
    with pytest.raises(ValueError, match="fig_id"):
        run_figure("c9")
    with pytest.raises(ValueError, match="scheme"):
        run_figure("c3", {"schemes": ["nope"]})
    with pytest.raises(ValueError, match="n_ant"):
        run_figure("c3", {"n_ant": 10.5})
    with pytest.raises(ValueError, match="shaping"):
        run_figure("c3", {"shaping": "fancy"})


def test_figure_data_is_frozen():
    data = run_figure("c3", SMALL["c3"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.x = np.zeros(3)


def test_batched_run_matches_point_by_point():
    """One batched scenario gives the same numbers as scenarios built one point at a time."""
    xs = [9.0, 14.0, 19.0]
    data = run_figure("c4", {"r_e": xs})
    for i, r_e in enumerate(xs):
        s = Scenario.from_dbm(ULA(256, 30e9), users=[(14.0, 0.2)], eves=[(r_e, 0.2)], pt_dbm=30)
        for name in ("mrc", "svd", "svd-pa"):
            ref = float(evaluate(s, name, "matched").sum_skr)
            assert data.curves[SCHEME_LABELS[name]][i] == pytest.approx(ref, rel=1e-9, abs=1e-12)


def test_j7_and_j8_loops_match_single_runs():
    j7 = run_figure("j7", {"n_ant": [32, 64]})
    j5 = run_figure("j5", {"pt_dbm": [20.0], "n_ant": 64})
    for label in j5.curves:
        assert j7.curves[label][1] == pytest.approx(j5.curves[label][0], rel=1e-9)
    j8 = run_figure("j8", {"pt_dbm": [10.0], "n_users": [4]})
    assert list(j8.curves) == [f"{SCHEME_LABELS[s]}, K=4" for s in ("ras", "mrc", "svd", "svd-pa")]


# --------------------------------------------------------------------------- the papers' claims
def test_c3_claims_hold():
    data = run_figure("c3")  # full preset: 41 points, a few ms
    claims = check_claims(data)
    assert len(claims) == 5 and all(c.holds for c in claims), [c for c in claims if not c.holds]
    c = data.curves
    assert np.all(np.diff(c["SVD w/ PA"]) > 0) and np.all(np.diff(c["SVD w/o PA"]) > 0)
    assert np.all(c["SVD w/ PA"] >= c["SVD w/o PA"]) and np.all(c["SVD w/o PA"] >= c["MRC"])


def test_c4_dip_at_rb_and_mrc_small_below_rb():
    data = run_figure("c4")  # full preset: 201 points
    claims = check_claims(data)
    assert all(c.holds for c in claims), [c for c in claims if not c.holds]
    c, x = data.curves, data.x
    i_b = int(np.flatnonzero(x == 14.0)[0])
    for label in ("SVD w/o PA", "SVD w/ PA"):
        assert int(np.argmin(c[label])) == i_b
        assert c[label][i_b] < 0.1 * c["SVD w/ PA"].max()
    assert c["MRC"][x <= 14.0].max() < 0.1 * c["SVD w/ PA"].max()
    tol = 1e-6 * c["SVD w/ PA"].max()
    assert np.all(c["SVD w/ PA"] >= c["SVD w/o PA"] - tol) and np.all(c["SVD w/o PA"] >= c["MRC"] - tol)


def test_c5_symmetry_zero_at_psi_b_and_ordering():
    grid = np.pi / 2 * np.linspace(0, 1, 301)
    psi = np.concatenate([-grid[:0:-1], grid])  # symmetric, contains 0 = psi_b
    data = run_figure("c5", {"psi_e": psi})
    claims = _claims(data)
    assert claims["SKR symmetric about psi_e = 0"].holds
    assert claims["SKR about 0 at psi_e = psi_b = 0 (< 10% of max SVD w/ PA)"].holds
    assert claims["SVD w/ PA >= SVD w/o PA at every point"].holds
    assert claims["SVD w/ PA >= MRC at every point"].holds
    c = data.curves
    for y in c.values():
        np.testing.assert_allclose(y, y[::-1], rtol=1e-6, atol=1e-9)
    assert np.all(c["SVD w/ PA"] >= c["SVD w/o PA"] - 1e-6 * c["SVD w/ PA"].max())
    # SVD w/o PA >= MRC holds near Eve's angle; far from it MRC (no jamming power) can win
    near = np.abs(psi) <= 0.5
    assert np.all(c["SVD w/o PA"][near] >= c["MRC"][near] - 1e-6 * c["SVD w/ PA"].max())


def test_j4_about_zero_at_dpsi_0():
    data = run_figure("j4", {"dpsi": np.linspace(-0.06, 0.06, 13)})
    i0 = int(np.flatnonzero(np.isclose(data.x, 0.0))[0])
    ref = data.curves["SVD w/ PA"].max()
    for label, y in data.curves.items():
        assert y[i0] < 0.1 * ref, label
    claims = _claims(data)
    assert claims["SKR about 0 at dpsi = 0 (< 10% of max SVD w/ PA)"].holds
    assert claims["SVD w/ PA has its minimum at dpsi = 0"].holds


def test_j6_dip_at_dr_0():
    data = run_figure("j6", {"dr": np.round(np.linspace(-2, 2, 21), 12)})
    i0 = int(np.flatnonzero(data.x == 0.0)[0])
    for label in ("SVD w/o PA", "SVD w/ PA"):
        assert int(np.argmin(data.curves[label])) == i0
    claims = _claims(data)
    assert claims["SVD w/ PA has its minimum at dr = 0"].holds
    assert claims["SKR about 0 at dr = 0 (< 10% of max SVD w/ PA)"].holds


def test_j5_gain_claims_are_compared_not_forced():
    data = run_figure("j5", {"pt_dbm": [0, 10, 20, 30]})
    claims = check_claims(data)
    gain = [c for c in claims if c.text.startswith("Average gain of SVD w/ PA over RAS w/o P")]
    assert len(gain) == 1 and gain[0].paper_value == "+10.25" and "mean(" in gain[0].measured
    assert not any("DLPA" in c.text for c in claims)  # no DLPA curve, no DLPA claim


def test_j7_j8_claims():
    j7 = run_figure("j7", {"n_ant": [32, 256, 1024]})
    assert _claims(j7)["SVD w/ PA rises with N"].holds
    j8 = run_figure("j8", {"pt_dbm": [0.0, 30.0]})
    assert _claims(j8)["SVD w/ PA: sum SKR for K=6 > K=4 at every P_t"].holds


def test_claims_skip_missing_curves():
    data = run_figure("c3", {"pt_dbm": [0, 40], "schemes": ["mrc"]})
    assert all("SVD" not in c.text for c in check_claims(data))
