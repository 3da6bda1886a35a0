"""Uniform planar arrays (UPA) in 3-D and nodes off the x-y plane.

* ``array_rows = 1`` with ``el = 0`` gives the numbers of the ULA code as committed before
  the UPA existed, bit for bit (``tests/data/ula_reference.npz``, written by this file's
  ``__main__`` with that code on the import path).
* The UPA channel is checked against a direct per-element formula in mpmath (40 digits):
  element (m, n) at ``(delta_n d, 0, delta_m d)``, node at
  ``(r cos el sin psi, r cos el cos psi, r sin el)``, each element's own distance.
"""

from __future__ import annotations

import hashlib
import math
import sys
from pathlib import Path

import mpmath as mp
import numpy as np
import pytest

import nfkg
from nfkg import Scenario, ULA, evaluate, parse_scenario
from nfkg.model import channel as ch
from nfkg.model import planar
from nfkg.model.scenario_file import ScenarioError
from nfkg.model.units import SPEED_OF_LIGHT

REFERENCE = Path(__file__).parent / "data" / "ula_reference.npz"

# (N, carrier, users, eves, pt_dbm): the cases of the reference file
CASES = [
    (16, 28e9, [(3.0, 0.4)], [(3.2, 0.41)], 20.0),
    (64, 30e9, [(12.2, 0.2), (9.0, -1.2)], [(12.0, 0.2), (9.1, -1.19)], 30.0),
    (256, 30e9, [(12.0, -0.6), (13.0, 0.6)], [(11.98, -0.6), (12.98, 0.6)], 20.0),
    (1024, 100e9, [(5.0, 0.0), (40.0, 1.5), (300.0, -0.3), (2.0, -1.5)],
     [(5.1, 0.01), (39.0, 1.49), (301.0, -0.31), (2.1, -1.49)], 10.0),
]
SCHEMES = ("ras", "mrc", "svd", "svd-pa")


def _batch_nodes():
    r = np.linspace(3.0, 30.0, 5)
    users = np.stack([np.stack([r, np.full(5, 0.3)], -1), np.stack([r + 1, np.full(5, -0.7)], -1)], 1)
    return users, users + np.array([0.05, 0.01])


def _sha(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def _with_el(nodes):
    """(r, psi) -> (r, psi, 0.0): the elevation given explicitly, as zero."""
    nodes = np.asarray(nodes, dtype=float)
    return np.concatenate([nodes, np.zeros((*nodes.shape[:-1], 1))], axis=-1)


def reference(path: str) -> None:
    """Write the reference file (run with the committed pre-UPA code first on ``sys.path``)."""
    out = {}
    for i, (n, fc, users, eves, pt) in enumerate(CASES):
        s = Scenario.from_dbm(ULA(n, fc), users=users, eves=eves, pt_dbm=pt, noise_dbm=-100)
        f, h = s.channels()
        out[f"c{i}_f"], out[f"c{i}_h"] = f, h
        for sc in SCHEMES:
            out[f"c{i}_{sc}"] = evaluate(s, sc).skr
    users, eves = _batch_nodes()
    s = Scenario.from_dbm(ULA(128, 30e9), users=users[None], eves=eves[None], pt_dbm=np.array([[10.0], [25.0]]))
    out["batch_f"], out["batch_h"] = s.channels()
    out["batch_svd-pa"] = evaluate(s, "svd-pa").skr
    small = {}
    for k, v in out.items():
        if k.endswith(("_f", "_h")):
            small[k + "_sha256"] = np.array(_sha(v))
            small[k + "_row0"] = v.reshape(-1, v.shape[-1])[0]
        else:
            small[k] = v
    np.savez_compressed(path, **small)


# --------------------------------------------------------------------------- ULA: bit for bit
@pytest.fixture(scope="module")
def ref():
    with np.load(REFERENCE) as data:
        return {k: data[k] for k in data.files}


@pytest.mark.parametrize("i", range(len(CASES)))
@pytest.mark.parametrize("explicit", [False, True])
def test_ula_numbers_bit_for_bit(ref, i, explicit):
    n, fc, users, eves, pt = CASES[i]
    if explicit:  # rows = 1 and el = 0 written out
        s = Scenario.from_dbm(ULA(n, fc, rows=1), users=_with_el(users), eves=_with_el(eves), pt_dbm=pt,
                              noise_dbm=-100)
    else:
        s = Scenario.from_dbm(ULA(n, fc), users=users, eves=eves, pt_dbm=pt, noise_dbm=-100)
    f, h = s.channels()
    assert _sha(f) == str(ref[f"c{i}_f_sha256"]) and _sha(h) == str(ref[f"c{i}_h_sha256"])
    assert np.array_equal(f[0], ref[f"c{i}_f_row0"])
    for sc in SCHEMES:
        assert np.array_equal(evaluate(s, sc).skr, ref[f"c{i}_{sc}"]), sc


def test_ula_batch_bit_for_bit(ref):
    users, eves = _batch_nodes()
    s = Scenario.from_dbm(ULA(128, 30e9, rows=1), users=_with_el(users)[None], eves=_with_el(eves)[None],
                          pt_dbm=np.array([[10.0], [25.0]]))
    f, h = s.channels()
    assert _sha(f) == str(ref["batch_f_sha256"]) and _sha(h) == str(ref["batch_h_sha256"])
    assert np.array_equal(evaluate(s, "svd-pa").skr, ref["batch_svd-pa"])


def test_ula_scenario_file_bit_for_bit(ref):
    n, fc, users, eves, pt = CASES[2]
    data = {"antennas": n, "carrier_ghz": fc / 1e9, "pt_dbm": pt, "noise_dbm": -100, "array_rows": 1,
            "users": [{"r": r, "psi": p, "el": 0.0} for r, p in users],
            "eves": [{"r": r, "psi": p} for r, p in eves]}
    s = parse_scenario(data)
    assert _sha(s.channels()[0]) == str(ref["c2_f_sha256"])
    assert np.array_equal(evaluate(s, "svd-pa").skr, ref["c2_svd-pa"])
    # the dump of such a file is the dump of the file without the new keys (sweep hashes unchanged)
    from nfkg.model.scenario_file import parse_config

    plain = {k: v for k, v in data.items() if k != "array_rows"}
    plain["users"] = [{"r": r, "psi": p} for r, p in users]
    assert parse_config(data).model_dump() == parse_config(plain).model_dump()
    assert "array_rows" not in parse_config(plain).model_dump()


# --------------------------------------------------------------------------- UPA: independent formula
def _mp_channel(r, psi, el, rows, cols, fc, spacing_wl=0.5, dps=40):
    """The channel element by element in mpmath: positions, distances, phases (a loop).

    The wavelength and the spacing enter as the float64 values nfkg works with (converted
    exactly), so the reference measures the arithmetic, not the rounding of c / f_c.
    """
    with mp.workdps(dps):
        lam_f = SPEED_OF_LIGHT / fc
        lam = mp.mpf(lam_f)
        d = mp.mpf(spacing_wl * lam_f)
        r, psi, el = mp.mpf(r), mp.mpf(psi), mp.mpf(el)
        node = (r * mp.cos(el) * mp.sin(psi), r * mp.cos(el) * mp.cos(psi), r * mp.sin(el))
        out = np.empty(rows * cols, dtype=complex)
        for m in range(rows):
            for n in range(cols):
                pos = (mp.mpf(2 * n - cols + 1) / 2 * d, mp.mpf(0), mp.mpf(2 * m - rows + 1) / 2 * d)
                dist = mp.sqrt(sum((a - b) ** 2 for a, b in zip(node, pos)))
                amp = lam / (4 * mp.pi * dist)
                phase = -2 * mp.pi * (dist - r) / lam
                out[m * cols + n] = complex(amp * mp.cos(phase), amp * mp.sin(phase))
        return out


@pytest.mark.parametrize("rows, cols, r, psi, el", [
    (4, 8, 3.0, 0.3, 0.2),
    (8, 8, 0.05, -0.7, -0.9),      # inside the reactive near field of the aperture
    (16, 16, 12.0, 1.2, 0.5),
    (32, 4, 250.0, -0.1, 1.3),
    (1, 32, 7.0, 0.4, 0.35),        # a ULA seen from above the plane
    (32, 1, 7.0, 0.4, -0.35),       # a vertical ULA
])
def test_upa_channel_against_mpmath(rows, cols, r, psi, el):
    fc = 30e9
    want = _mp_channel(r, psi, el, rows, cols, fc)
    got = ULA(rows * cols, fc, rows=rows).channel(r, psi, el)
    err = np.max(np.abs(got - want)) / np.max(np.abs(want))
    assert err < 2e-15, err
    lam = SPEED_OF_LIGHT / fc
    dist = planar.element_distances(r, psi, el, rows, cols, lam / 2)
    np.testing.assert_allclose(np.abs(want), lam / (4 * np.pi * dist), rtol=1e-14)


def test_upa_batched_equals_one_by_one():
    rng = np.random.default_rng(5)
    r = rng.uniform(1.0, 40.0, (3, 4))
    psi = rng.uniform(-1.5, 1.5, (3, 4))
    el = rng.uniform(-1.0, 1.0, (3, 4))
    arr = ch.planar_array(8, 16, 28e9)
    batch = arr.channel(r, psi, el)
    assert batch.shape == (3, 4, 128)
    for idx in np.ndindex(3, 4):
        np.testing.assert_allclose(batch[idx], arr.channel(r[idx], psi[idx], el[idx]), rtol=0, atol=1e-18)


def test_upa_mirror_symmetry():
    """A node at -el sees the array upside down: its channel is the row-reversed one."""
    arr = ULA(6 * 10, 30e9, rows=6)
    up = arr.channel(5.0, 0.3, 0.4).reshape(6, 10)
    down = arr.channel(5.0, 0.3, -0.4).reshape(6, 10)
    np.testing.assert_allclose(down, up[::-1], rtol=1e-13)
    left = arr.channel(5.0, -0.3, 0.4).reshape(6, 10)
    np.testing.assert_allclose(left, up[:, ::-1], rtol=1e-13)


def test_planar_function_with_one_row_agrees_with_the_ula_code():
    lam = SPEED_OF_LIGHT / 30e9
    ula = ULA(512, 30e9).channel([3.0, 40.0], [0.5, -1.4])
    upa = planar.planar_near_field_channel([3.0, 40.0], [0.5, -1.4], 0.0, 1, 512, lam)
    # both are float64 evaluations of the same phase; at r = 3 m the curvature term is ~27 cycles,
    # so each carries ~5e-14 of round-off against mpmath there
    assert np.max(np.abs(upa - ula)) / np.max(np.abs(ula)) < 1e-13


# --------------------------------------------------------------------------- near-field boundaries
def test_rayleigh_and_reactive_use_the_diagonal():
    arr = ULA(32 * 16, 30e9, rows=16)
    lam, d = arr.wavelength, arr.spacing
    corners = np.array([[-15.5 * d, -7.5 * d], [15.5 * d, 7.5 * d]])   # the extreme elements (J)
    diag_j = math.dist(*corners)
    assert arr.aperture("J") == pytest.approx(diag_j, rel=1e-15)
    assert arr.rayleigh_distance("J") == pytest.approx(2 * diag_j**2 / lam, rel=1e-14)
    assert arr.reactive_distance("J") == pytest.approx(0.62 * math.sqrt(diag_j**3 / lam), rel=1e-14)
    assert arr.aperture("C") == pytest.approx(math.hypot(32 * d, 16 * d), rel=1e-15)
    ula = ULA(32, 30e9)
    assert ula.aperture("J") == 31 * ula.spacing and ula.aperture("C") == 32 * ula.spacing


# --------------------------------------------------------------------------- scenarios on a UPA
def test_upa_scenario_scores_every_scheme():
    s = Scenario.from_dbm(ULA(8 * 8, 30e9, rows=8), users=[(4.0, 0.3, 0.2), (6.0, -0.5, -0.1)],
                          eves=[(4.05, 0.31, 0.2), (6.0, -0.45, 0.1)], pt_dbm=25, noise_dbm=-100)
    f, h = s.channels()
    np.testing.assert_array_equal(f[0], ULA(64, 30e9, rows=8).channel(4.0, 0.3, 0.2))
    for scheme in nfkg.scheme_names():
        skr = evaluate(s, scheme).skr
        assert skr.shape == (2,) and np.all(np.isfinite(skr)) and np.all(skr >= 0), scheme
    # the same channels handed over: the same numbers
    own = Scenario.from_channels(f, h, pt_dbm=25, noise_dbm=-100)
    assert np.array_equal(evaluate(own, "svd-pa").skr, evaluate(s, "svd-pa").skr)


def test_upa_elevation_matters():
    """An Eve right above the user (same r, psi) is not the user on a planar array."""
    arr = ULA(16 * 16, 30e9, rows=16)
    s = Scenario.from_dbm(arr, users=[(3.0, 0.2, 0.0)], eves=[(3.0, 0.2, 0.05)], pt_dbm=20)
    same = Scenario.from_dbm(arr, users=[(3.0, 0.2, 0.0)], eves=[(3.0, 0.2, 0.0)], pt_dbm=20)
    # Eve at the user's place only differs by her noise: log2(4/3) = 0.415 bit (equal SNRs);
    # 0.05 rad above, the 16 rows resolve her (the SVD schemes null her): 16 bit/probing
    assert evaluate(same, "svd-pa").skr[0] == pytest.approx(math.log2(4 / 3), rel=1e-6)
    assert evaluate(s, "svd-pa").skr[0] > 10.0


def test_upa_clearance_and_errors():
    arr = ULA(4 * 4, 30e9, rows=4)
    d = arr.spacing
    top = (math.hypot(0.5 * d, 1.5 * d), math.pi / 2, math.atan2(1.5, 0.5))   # on element (3, 2)
    with pytest.raises(ValueError, match=r"^users\[0\]: sits on an antenna of the array .* antenna 15 of 16"):
        Scenario.from_dbm(arr, users=[top], eves=[(3.0, 0.0, 0.0)])
    with pytest.raises(ValueError, match=r"^ula\.rows: must divide the number of antennas"):
        Scenario.from_dbm(ULA(10, 30e9, rows=4), users=[(3.0, 0.0)], eves=[(3.0, 0.1)])
    with pytest.raises(ValueError, match=r"^eves\[0\]\.el: must be between -pi/2 and pi/2"):
        Scenario.from_dbm(arr, users=[(3.0, 0.0, 0.0)], eves=[(3.0, 0.1, 2.0)])
    with pytest.raises(ValueError, match=r"^users: must be given as \(r, psi\) pairs or \(r, psi, el\) triples"):
        Scenario.from_dbm(arr, users=[(3.0, 0.0, 0.0, 1.0)], eves=[(3.0, 0.1)])


@pytest.mark.parametrize("extra, words", [
    ({"array_rows": 3}, "array_rows: must divide antennas (N = 256 is not a multiple of R = 3)"),
    ({"array_rows": 0}, "array_rows: must be an integer between 1 and 65,536"),
    ({"array_rows": 2.0}, "array_rows: must be an integer"),
    ({"users": [{"r": 3.0, "psi": 0.0, "el": 1.7}]}, "users[0].el: must be between -pi/2 and pi/2"),
    ({"users": [{"r": 3.0, "psi": 0.0, "elevation": 0.1}]}, "users[0]: unknown key 'elevation'"),
])
def test_scenario_file_upa_errors(extra, words):
    data = {"users": [{"r": 3.0, "psi": 0.0}], "eves": [{"r": 3.0, "psi": 0.1}], **extra}
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, source="s.toml")
    assert str(info.value).startswith("s.toml: ") and words in str(info.value), str(info.value)


def test_scenario_file_upa():
    data = {"antennas": 64, "array_rows": 8, "pt_dbm": 25, "noise_dbm": -100,
            "users": [{"r": 4.0, "psi": 0.3, "el": 0.2}], "eves": [{"r": 4.05, "psi": 0.31, "el": 0.2}]}
    s = parse_scenario(data)
    want = Scenario.from_dbm(ULA(64, 30e9, rows=8), users=[(4.0, 0.3, 0.2)], eves=[(4.05, 0.31, 0.2)],
                             pt_dbm=25, noise_dbm=-100)
    assert s.ula.rows == 8 and np.array_equal(s.channels()[1], want.channels()[1])


def test_sweep_on_a_upa(tmp_path):
    pytest.importorskip("pyarrow")
    from nfkg.scale.sweep import load_sweep, read_results, run_sweep

    (tmp_path / "u.toml").write_text(
        'schemes = ["svd", "mrc"]\n[base]\nantennas = 64\narray_rows = 8\n'
        'users = [{r = 4.0, psi = 0.3, el = 0.2}]\neves = [{r = 4.05, psi = 0.31, el = 0.2}]\n'
        '[sweep]\npt_dbm = [0, 10]\n')
    run_sweep(load_sweep(tmp_path / "u.toml"), tmp_path / "out")
    for _, row in read_results(tmp_path / "out").iterrows():
        s = Scenario.from_dbm(ULA(64, 30e9, rows=8), users=[(4.0, 0.3, 0.2)], eves=[(4.05, 0.31, 0.2)],
                              pt_dbm=row["pt_dbm"])
        np.testing.assert_allclose(row["skr"], evaluate(s, row["scheme"]).skr, rtol=1e-12)


def test_map_takes_the_plane_of_the_nodes():
    """Eve moves in the horizontal plane through her height: each point equals a direct evaluation."""
    from nfkg.scale.maps import MapSpec, map_grid, secrecy_map

    z0 = 4.1 * math.sin(0.3)   # Eve 1 moves: the plane through her
    s = Scenario.from_dbm(ULA(8 * 8, 30e9, rows=8), users=[(4.0, 0.2, 0.3), (5.0, -0.4, 0.0)],
                          eves=[(4.1, 0.25, 0.3), (5.0, -0.35, 0.0)], pt_dbm=20)
    spec = MapSpec(s, ("svd-pa", "mrc"), user=1)
    assert spec.plane_z == pytest.approx(z0, rel=1e-15)
    x, y = map_grid((-1.0, 1.0, 2.0, 3.0), (2, 2))
    m = secrecy_map(spec, x, y)
    for j, yy in enumerate(y):
        for i, xx in enumerate(x):
            rho = math.hypot(xx, yy)
            eve = (math.hypot(rho, z0), math.atan2(xx, yy), math.atan2(z0, rho))
            direct = Scenario.from_dbm(ULA(64, 30e9, rows=8), users=[(4.0, 0.2, 0.3), (5.0, -0.4, 0.0)],
                                       eves=[eve, (5.0, -0.35, 0.0)], pt_dbm=20)
            for name in ("svd-pa", "mrc"):
                np.testing.assert_allclose(m.skr[name][j, i], evaluate(direct, name).skr, rtol=1e-9, atol=1e-12)


def test_map_refuses_own_channels():
    from nfkg.scale.maps import MapSpec

    f = np.ones((1, 8), complex) * 1e-3
    with pytest.raises(ValueError, match=r"^map: needs the array model and the node positions"):
        MapSpec(Scenario.from_channels(f, 1j * f, pt_dbm=20, noise_dbm=-90), ("svd",))


def test_cli_info_on_a_upa(tmp_path, capsys):
    from nfkg.cli import main

    (tmp_path / "u.toml").write_text('antennas = 1024\narray_rows = 32\nusers = [{r = 4.0, psi = 0.3, el = 0.2}]\n'
                                     'eves = [{r = 40.05, psi = 0.31}]\n')
    assert main(["info", str(tmp_path / "u.toml")]) == 0
    out = capsys.readouterr().out
    arr = ULA(1024, 30e9, rows=32)
    assert "1024 (32 rows x 32 columns, a planar array in the x-z plane)" in out
    assert f"Rayleigh distance:   {arr.rayleigh_distance('J'):.3f} m (J)" in out
    assert f"reactive distance:   {arr.reactive_distance('J'):.3f} m (J)" in out
    assert "el [rad]" in out and f"{4.0 * math.sin(0.2):.3f}" in out


def test_position_error_studies_refuse_what_they_do_not_model():
    from nfkg.studies.robustness import csi_error

    upa = Scenario.from_dbm(ULA(64, 30e9, rows=8), users=[(4.0, 0.3)], eves=[(4.1, 0.3)], pt_dbm=20)
    with pytest.raises(ValueError, match=r"^scenario: position errors and NLoS paths are modelled for a ULA"):
        csi_error(upa, "svd", 0.01, 0.001, draws=2)
    f = np.ones((1, 8), complex) * 1e-3
    with pytest.raises(ValueError, match=r"^scenario: needs the array model"):
        csi_error(Scenario.from_channels(f, 1j * f, pt_dbm=20, noise_dbm=-90), "svd", 0.01, 0.001, draws=2)


if __name__ == "__main__":  # PYTHONPATH=<old src> python tests/test_upa.py tests/data/ula_reference.npz
    reference(sys.argv[1])
