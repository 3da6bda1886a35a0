"""Scenarios on one's own channels: Scenario.from_channels and the scenario file's ``channels`` key.

The reference for every number is the geometric scenario whose channels are handed over:
the engine sees only the 2K channel vectors, so scoring them through ``from_channels``
must give the geometric scenario's values (to 1e-12, in practice exactly).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io

import nfkg
from nfkg import Scenario, ULA, evaluate, load_scenario
from nfkg.model.channel_file import MAX_CHANNEL_FILE_BYTES, read_channels
from nfkg.model.scenario_file import ScenarioError
from nfkg.protocol.keygen import keygen
from nfkg.protocol.probing import probe

USERS = [(12.2, 0.2), (9.5, -0.45)]   # K = 2: svd-dlpa ships models for K = 2, 4, 6
EVES = [(12.0, 0.2), (9.7, -0.4)]


@pytest.fixture(scope="module")
def pair():
    """A batched geometric scenario (2 power levels x 2 node sets) and the same on its channels."""
    users = np.array([USERS, [(u[0] + 1.0, u[1]) for u in USERS]])      # (2, K, 2)
    eves = np.array([EVES, [(e[0] + 1.0, e[1]) for e in EVES]])
    pt = np.array([[5.0], [30.0]])                                       # (2, 1): batch (2, 2)
    geo = Scenario.from_dbm(ULA(32, 30e9), users=users, eves=eves, pt_dbm=pt, noise_dbm=-100, ue_dbm=25)
    f, h = geo.channels()
    assert f.shape == (2, 2, 2, 32)
    own = Scenario.from_channels(f[0], h[0], pt_dbm=pt, noise_dbm=-100, ue_dbm=25)  # node axis broadcasts
    return geo, own


@pytest.mark.parametrize("scheme", nfkg.scheme_names())
@pytest.mark.parametrize("scoring", ["general", "per-user"])
def test_every_scheme_equals_the_geometric_scenario(pair, scheme, scoring):
    geo, own = pair
    assert own.batch_shape == geo.batch_shape == (2, 2)
    want = evaluate(geo, scheme, scoring=scoring)
    got = evaluate(own, scheme, scoring=scoring)
    assert got.skr.shape == want.skr.shape
    np.testing.assert_allclose(got.skr, want.skr, rtol=1e-12, atol=1e-12 * float(np.max(want.skr)))
    assert np.all(want.skr >= 0) and np.any(want.skr > 0)


def test_channels_are_handed_back_unchanged(pair):
    geo, own = pair
    f, h = own.channels()
    g_f, g_h = geo.channels()
    assert np.array_equal(f, g_f) and np.array_equal(h, g_h)
    assert not own.has_geometry and geo.has_geometry


def test_probing_and_keygen_equal_the_geometric_scenario():
    geo = Scenario.from_dbm(ULA(16, 30e9), users=USERS[:2], eves=EVES[:2], pt_dbm=30, noise_dbm=-95)
    own = Scenario.from_channels(*geo.channels(), pt_dbm=30, noise_dbm=-95)
    a, b = probe(geo, "svd-pa", rounds=500, seed=3), probe(own, "svd-pa", rounds=500, seed=3)
    for name in ("z_a", "z_b", "z_e"):
        np.testing.assert_allclose(getattr(b, name), getattr(a, name), rtol=1e-12, atol=1e-12)
    ka = keygen(geo, "svd", rounds=600, seed=2, quantizer="one-bit")
    kb = keygen(own, "svd", rounds=600, seed=2, quantizer="one-bit")
    assert [u.to_dict() for u in ka.users] == [u.to_dict() for u in kb.users]


def test_independent_channels_score_as_the_closed_form_mrc():
    """Random (not near-field) channels: MRC's SINRs from a direct N-dimensional computation."""
    rng = np.random.default_rng(7)
    f = (rng.standard_normal((1, 8)) + 1j * rng.standard_normal((1, 8))) * 1e-3
    h = (rng.standard_normal((1, 8)) + 1j * rng.standard_normal((1, 8))) * 1e-3
    s = Scenario.from_channels(f, h, pt_dbm=20, noise_dbm=-90)
    ev = evaluate(s, "mrc")
    # K = 1, MRC: W = P |u><u| random amplitude, u = f/|f|; the key is the BS/user/Eve
    # Gaussian triple of J(5)-(11): gains g_b = |f^H u|^2, g_e = |h^H u|^2 per unit power.
    p, sa, sb, se = 0.1, 1e-12, 1e-12, 1e-12
    u = f[0] / np.linalg.norm(f[0])
    gb, ge = abs(np.vdot(f[0], u)) ** 2, abs(np.vdot(h[0], u)) ** 2
    # z_a = a g + n_a/sqrt(...), z_b, z_e: covariance of (z_a, z_b, z_e) with a ~ CN(0, P)
    va = p * gb + p * sa / p   # BS noise after precoding, J(11): P_a sigma_a^2 / (V P_b), P_b = P
    vb, ve = p * gb + sb, p * ge + se
    cab, cae, cbe = p * gb, p * np.sqrt(gb * ge), p * np.sqrt(gb * ge)
    cov = np.array([[va, cab, cae], [cab, vb, cbe], [cae, cbe, ve]])
    def logdet(m):
        return np.linalg.slogdet(m)[1]
    i_ab_given_e = (logdet(cov[np.ix_([0, 2], [0, 2])]) + logdet(cov[np.ix_([1, 2], [1, 2])])
                    - logdet(cov) - logdet(cov[np.ix_([2], [2])])) / np.log(2)
    np.testing.assert_allclose(ev.skr[0], i_ab_given_e, rtol=1e-9)


# --------------------------------------------------------------------------- bad arrays
def _f(k=2, n=8):
    return np.ones((k, n), complex) * 1e-3


@pytest.mark.parametrize("f, h, name, words", [
    (np.ones(8), np.ones(8), "f", "shape (..., K, N)"),
    (_f(), _f(3), "h", "one Eve per user"),
    (_f(), _f(2, 7), "h", "N = 7"),
    (_f().astype(str), _f(), "f", "complex numbers"),
    (_f() > 0, _f(), "f", "booleans"),
    (np.array([[1e-3, np.nan]]), np.array([[1e-3, 1e-3]]), "f[0]", "finite"),
    (np.array([[1e-3, 1e-3]]), np.array([[np.inf, 1e-3]]), "h[0]", "finite"),
    (_f(), np.stack([_f(1)[0], np.zeros(8)]), "h[1]", "all zero"),
    (np.zeros((2, 8)), _f(), "f[0]", "all zero"),
    (_f() * 1e20, _f(), "f[0]", "|x| must be"),
    (np.ones((3, 2, 8)), np.ones((2, 2, 8)), "h", "broadcast"),
    (np.ones((65, 8)), np.ones((65, 8)), "f", "at most 64"),
])
def test_bad_arrays_one_line_naming_the_array(f, h, name, words):
    with pytest.raises(ValueError) as info:
        Scenario.from_channels(f, h, pt_dbm=20, noise_dbm=-90)
    msg = str(info.value)
    assert msg.startswith(name + ":") and words in msg and "\n" not in msg, msg


def test_bad_powers_and_array():
    f = _f()
    with pytest.raises(ValueError, match=r"^pt_dbm: shape \(3,\) does not broadcast"):
        Scenario.from_channels(np.stack([f, f]), f, pt_dbm=[1, 2, 3], noise_dbm=-90)
    with pytest.raises(ValueError, match=r"^noise_dbm: must be between"):
        Scenario.from_channels(f, f, pt_dbm=20, noise_dbm=100)
    with pytest.raises(ValueError, match=r"^array: has n_ant = 16 antennas, the channels have N = 8"):
        Scenario.from_channels(f, f, pt_dbm=20, noise_dbm=-90, array=ULA(16))
    with pytest.raises(ValueError, match=r"^users: must be \(r, psi\) pairs"):
        Scenario.from_channels(f, f, pt_dbm=20, noise_dbm=-90, users=[(1.0, 0.0)])


def test_svd_needs_enough_antennas():
    f = _f(2, 2)
    s = Scenario.from_channels(f, f * 1j, pt_dbm=20, noise_dbm=-90)
    assert evaluate(s, "mrc").skr.shape == (2,)
    for scheme in ("svd", "svd-pa", "svd-opt", "svd-mf", "svd-maxmin", "svd-dlpa"):
        with pytest.raises(ValueError, match=r"^f: SVD precoding needs N >= 2K-1 = 3 antennas for K = 2 users; "
                                             r"the channel arrays f, h have N = 2 \(their last axis\)$"):
            evaluate(s, scheme)


def test_geometry_needing_work_says_so():
    s = Scenario.from_channels(_f(), _f() * 1j, pt_dbm=20, noise_dbm=-90)
    with pytest.raises(ValueError, match=r"^map: needs the array model and the node positions; this scenario "
                                         r"has its own channels"):
        s.require_geometry("map")


# --------------------------------------------------------------------------- scenario files
@pytest.fixture(scope="module")
def geo_file_pair(tmp_path_factory):
    d = tmp_path_factory.mktemp("own")
    geo = Scenario.from_dbm(ULA(16, 28e9), users=USERS[:2], eves=EVES[:2], pt_dbm=27, noise_dbm=-97)
    f, h = geo.channels()
    np.savez(d / "ch.npz", f=f, h=h, carrier_hz=28e9)            # extra (metadata) arrays are ignored
    (d / "sub").mkdir()
    scipy.io.savemat(d / "sub" / "ch.mat", {"f": f, "h": h})
    return d, geo


@pytest.mark.parametrize("name", ["ch.npz", "sub/ch.mat"])
def test_scenario_file_routes(geo_file_pair, name, tmp_path, monkeypatch):
    d, geo = geo_file_pair
    (d / "s.toml").write_text(f'carrier_ghz = 28\npt_dbm = 27\nnoise_dbm = -97\nchannels = "{name}"\n')
    monkeypatch.chdir(tmp_path)                       # relative to the scenario file, not the working dir
    s = load_scenario(d / "s.toml")
    assert (s.n_ant, s.n_users, s.ula.carrier_hz) == (16, 2, 28e9)
    for scheme in ("mrc", "svd-pa"):
        np.testing.assert_array_equal(evaluate(s, scheme).skr, evaluate(geo, scheme).skr)


def test_scenario_file_with_positions(geo_file_pair):
    d, _ = geo_file_pair
    (d / "p.toml").write_text('channels = "ch.npz"\nantennas = 16\n'
                              'users = [{r = 12.2, psi = 0.2}, {r = 13.0, psi = -0.5}]\n')
    s = load_scenario(d / "p.toml")
    assert np.allclose(s.r_b, [12.2, 13.0]) and np.all(np.isnan(s.r_e))


@pytest.mark.parametrize("toml, arrays, words", [
    ('channels = "bad.npz"\n', {"f": "F", "g": "H"}, "channels: {d}/bad.npz: has no array 'h'"),
    ('channels = "bad.npz"\n', {"f": "F", "h": "H1"}, "channels: {d}/bad.npz: h: need exactly one Eve"),
    ('channels = "bad.npz"\n', {"f": "F0", "h": "H"}, "channels: {d}/bad.npz: f[0]: the channel of user 0 is all"),
    ('channels = "bad.npz"\n', {"f": "F3", "h": "H3"}, "channels: {d}/bad.npz: f: must have shape (K, N)"),
    ('channels = "missing.npz"\n', None, "channels: {d}/missing.npz: no such file"),
    ('channels = "ch.csv"\n', None, "channels: {d}/ch.csv: no such file"),
    ('channels = "s.toml"\n', None, "channels: {d}/s.toml: must be a .npz or a .mat file"),
    ('channels = "ch.npz"\nantennas = 8\n', None, "antennas: is 8, but the channels"),
    ('channels = "ch.npz"\neves = [{r = 1, psi = 0}]\n', None, "eves: has 1 node(s), the channels"),
    ("channels = 3\n", None, "channels: must be a file name"),
    ("pt_dbm = 3\n", None, "users: missing required key (or give channels = FILE)"),
    ('channels = "junk.mat"\n', None, "channels: {d}/junk.mat: not a MATLAB .mat file"),
])
def test_scenario_file_errors(geo_file_pair, toml, arrays, words):
    d, geo = geo_file_pair
    (d / "s.toml").write_text("pt_dbm = 1\n")
    (d / "junk.mat").write_text("not matlab")
    f, h = geo.channels()
    pool = {"F": f, "H": h, "H1": h[:1], "F0": np.zeros_like(f), "F3": f[None], "H3": h[None]}
    if arrays:
        np.savez(d / "bad.npz", **{k: pool[v] for k, v in arrays.items()})
    (d / "b.toml").write_text(toml)
    with pytest.raises(ScenarioError) as info:
        load_scenario(d / "b.toml")
    msg = str(info.value)
    assert msg.startswith(f"{d}/b.toml: ") and words.format(d=d) in msg and "\n" not in msg, msg


def test_channel_file_size_guard(tmp_path, monkeypatch):
    import nfkg.model.channel_file as sf

    f = np.ones((2, 64), complex)
    np.savez_compressed(tmp_path / "c.npz", f=f, h=f)
    monkeypatch.setattr(sf, "MAX_CHANNEL_FILE_BYTES", 1000)   # members of 2 KiB uncompressed, file < 1000 B
    with pytest.raises(ValueError, match=r"array 'f' is larger than"):
        read_channels(tmp_path / "c.npz")
    assert MAX_CHANNEL_FILE_BYTES >= 2 * 64 * 65_536 * 16


def test_mat_v73_and_column_vectors(tmp_path):
    (tmp_path / "v73.mat").write_bytes(b"MATLAB 7.3 MAT-file, Platform: GLNXA64" + b" " * 90 + b"\x00\x02IM"
                                       + b"\x00" * 400)
    with pytest.raises(ValueError, match=r"v7.3|not a MATLAB"):
        read_channels(tmp_path / "v73.mat")
    col = np.ones((100, 1), complex)
    scipy.io.savemat(tmp_path / "col.mat", {"f": col, "h": col})
    with pytest.raises(ValueError, match=r"^f: must hold at most 64 users .* transpose column vectors"):
        read_channels(tmp_path / "col.mat")


def test_sweep_on_a_channel_file(tmp_path):
    """A channels file as a sweep's base (relative to its scenario file): rows equal the geometric values."""
    pytest.importorskip("pyarrow")
    from nfkg.scale.sweep import load_sweep, read_results, run_sweep

    geo = Scenario.from_dbm(ULA(16, 30e9), users=USERS, eves=EVES, pt_dbm=20, noise_dbm=-100)
    (tmp_path / "sub").mkdir()
    np.savez(tmp_path / "sub" / "ch.npz", f=geo.channels()[0], h=geo.channels()[1])
    (tmp_path / "sub" / "s.toml").write_text('channels = "ch.npz"\nnoise_dbm = -100\n')
    (tmp_path / "sw.toml").write_text('base = "sub/s.toml"\nschemes = ["svd-pa", "mrc"]\n[sweep]\npt_dbm = [0, 20]\n')
    run_sweep(load_sweep(tmp_path / "sw.toml"), tmp_path / "out")
    rows = read_results(tmp_path / "out")
    for _, row in rows.iterrows():
        want = evaluate(Scenario.from_dbm(ULA(16, 30e9), users=USERS, eves=EVES, pt_dbm=row["pt_dbm"],
                                          noise_dbm=-100), row["scheme"]).skr
        np.testing.assert_allclose(row["skr"], want, rtol=1e-12)


def test_cli_on_a_channel_file(geo_file_pair, capsys):
    from nfkg.cli import main

    d, geo = geo_file_pair
    (d / "c.toml").write_text('channels = "ch.npz"\ncarrier_ghz = 28\npt_dbm = 27\nnoise_dbm = -97\n')
    assert main(["info", str(d / "c.toml")]) == 0
    out = capsys.readouterr().out
    assert f"channels:            {d}/ch.npz (K = 2 users and Eves, N = 16" in out
    assert "positions not given" in out
    assert main(["evaluate", str(d / "c.toml"), "-s", "svd-pa", "--json"]) == 0
    import json

    got = json.loads(capsys.readouterr().out)
    want = evaluate(geo, "svd-pa").skr
    np.testing.assert_allclose([u["skr"] for u in got["users"]], want, rtol=1e-12)
    assert main(["map", str(d / "c.toml"), "-s", "svd", "--out", str(d / "m")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"nfkg: error: {d}/c.toml: nfkg map needs the array model and node positions; the "
                   f"scenario's channels come from {d}/ch.npz")
