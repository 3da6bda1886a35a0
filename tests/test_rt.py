"""Ray-traced channels (nfkg.model.rt, issue 19 item 3) against nfkg's near-field model.

In free space (an empty Sionna scene, LoS only) Sionna RT's per-element channels must
equal nfkg's spherical-wave channel up to one common constant: for an N = 64 ULA
(nfkg's ``near_field_channel``) and an 8 x 8 UPA (nfkg's ``planar_near_field_channel``,
itself checked here against the formula of the UPA convention written out in numpy), at
several distances, angles and elevations, with the array at the origin and moved/rotated
in the scene. Sionna is the independent reference: the field's standard ray tracer.

``nfkg rt`` (the command): a tiny free-space trace written as a channel file, read back by
``Scenario.from_channels`` and by a scenario file (``channels = ...``), and fed to the
``rt-street`` figure, where free space makes the three panels agree. Float32 tracing: max relative
error <= 2e-3 per element (measured <= 1.2e-3; the error is Sionna's float32 path
length, ~1e-7 r, so the distances stay <= 13 m); the common constant within 1e-6 of 1
in magnitude (measured 4e-8).
"""

from __future__ import annotations

import sys
from importlib import resources

import numpy as np
import pytest

from nfkg import load_scenario
from nfkg.cli import main
from nfkg.model import rt as nrt
from nfkg.model.channel import ULA, near_field_channel, planar_near_field_channel
from nfkg.model.scenario import Scenario
from nfkg.model.units import SPEED_OF_LIGHT
from nfkg.schemes.precoding import evaluate

FC = 30e9
LAM = SPEED_OF_LIGHT / FC
D = LAM / 2

# (r [m], psi [rad]) in the plane of the ULA
ULA_USERS = [(2.0, 0.0), (5.0, -0.9), (8.0, 0.4), (12.0, -0.6)]
ULA_EVES = [(11.98, -0.6), (13.0, 0.6), (7.0, 1.2)]
# (r [m], psi [rad], el [rad]) around the UPA
UPA_USERS = [(3.0, 0.3, 0.5), (6.0, -0.7, -0.4), (10.0, 0.0, 0.9)]
UPA_EVES = [(13.0, 1.0, -0.2), (4.0, -0.2, 0.0), (8.0, 0.6, -1.0)]


def upa_reference(nodes, rows, cols, spacing, wavelength):
    """nfkg's spherical-wave channel of the UPA convention, from the formula (numpy, float64).

    Element (m, n) at (delta_n d, 0, delta_m d), index m*C + n; node at
    (r cos el sin psi, r cos el cos psi, r sin el);
    f[m*C + n] = lambda/(4 pi r_mn) exp(-j 2 pi (r_mn - r)/lambda).
    """
    nodes = np.asarray(nodes, dtype=float)
    r, psi, el = nodes[:, 0], nodes[:, 1], nodes[:, 2]
    p = np.stack([r * np.cos(el) * np.sin(psi), r * np.cos(el) * np.cos(psi), r * np.sin(el)], -1)
    dn = (2 * np.arange(cols) - cols + 1) / 2
    dm = (2 * np.arange(rows) - rows + 1) / 2
    e = np.zeros((rows, cols, 3))
    e[..., 0] = dn[None, :] * spacing
    e[..., 2] = dm[:, None] * spacing
    e = e.reshape(rows * cols, 3)
    rn = np.linalg.norm(p[:, None, :] - e[None, :, :], axis=-1)
    return wavelength / (4 * np.pi * rn) * np.exp(-2j * np.pi * (rn - r[:, None]) / wavelength)


def _compare(got, ref):
    """Common constant c (least squares over all entries) and max relative error |got - c ref|/|c ref|."""
    c = np.vdot(ref, got) / np.vdot(ref, ref)
    return c, float(np.max(np.abs(got - c * ref) / np.abs(c * ref)))


@pytest.fixture(scope="module")
def traced():
    """The three free-space traces (ULA at the origin, ULA moved and turned, UPA), once."""
    out = {}
    kw = dict(frequency=FC, max_depth=0, samples_per_src=1000)
    f, h = nrt.trace_channels(None, users=ULA_USERS, eves=ULA_EVES, antennas=64, **kw)
    out["ula"] = (f, h)
    f, h = nrt.trace_channels(None, users=ULA_USERS, eves=ULA_EVES, antennas=64,
                              position=(3.0, -2.0, 1.5), yaw=0.7, **kw)
    out["ula_moved"] = (f, h)
    f, h = nrt.trace_channels(None, users=UPA_USERS, eves=UPA_EVES, rows=8, antennas=64,
                              spacing=D, **kw)
    out["upa"] = (f, h)
    return out


def test_free_space_ula_equals_near_field_model(traced):
    nodes = np.array(ULA_USERS + ULA_EVES)
    ref = near_field_channel(nodes[:, 0], nodes[:, 1], 64, LAM, D)
    for key in ("ula", "ula_moved"):
        f, h = traced[key]
        assert f.shape == (len(ULA_USERS), 64) and h.shape == (len(ULA_EVES), 64)
        c, err = _compare(np.concatenate([f, h]), ref)
        assert err <= 2e-3, (key, err)
        assert abs(abs(c) - 1) <= 1e-6, (key, c)


def _upa(nodes, rows=8, cols=8):
    """nfkg's own UPA channel of (r, psi, el) rows."""
    nodes = np.asarray(nodes, dtype=float)
    return planar_near_field_channel(nodes[:, 0], nodes[:, 1], nodes[:, 2], rows, cols, LAM, D)


def test_nfkg_upa_equals_the_formula():
    """nfkg's planar channel (and ULA(rows=8).channel) against the convention written out above."""
    # tolerance: the naive formula's own round-off (r_n - r in float64 at r/lambda ~ 1e3: measured 1.2e-12)
    ref = upa_reference(UPA_USERS + UPA_EVES, 8, 8, D, LAM)
    np.testing.assert_allclose(_upa(UPA_USERS + UPA_EVES), ref, rtol=1e-11, atol=0)
    nodes = np.array(UPA_USERS + UPA_EVES)
    np.testing.assert_allclose(ULA(64, FC, rows=8).channel(nodes[:, 0], nodes[:, 1], el=nodes[:, 2]), ref,
                               rtol=1e-11, atol=0)


def test_free_space_upa_equals_near_field_model(traced):
    ref = _upa(UPA_USERS + UPA_EVES)
    f, h = traced["upa"]
    assert f.shape == (3, 64) and h.shape == (3, 64)
    c, err = _compare(np.concatenate([f, h]), ref)
    assert err <= 2e-3, err
    assert abs(abs(c) - 1) <= 1e-6, c


def test_one_common_constant_for_all_cases(traced):
    """One constant for the ULA and the UPA together (nfkg's scaling: it is 1)."""
    nodes = np.array(ULA_USERS + ULA_EVES)
    refs = [near_field_channel(nodes[:, 0], nodes[:, 1], 64, LAM, D), _upa(UPA_USERS + UPA_EVES)]
    gots = [np.concatenate(traced["ula"]), np.concatenate(traced["upa"])]
    c, err = _compare(np.concatenate(gots), np.concatenate(refs))
    assert err <= 2e-3 and abs(abs(c) - 1) <= 1e-6 and abs(np.angle(c)) <= 1e-3, (c, err)


def test_geometry_convention():
    pos = nrt.element_positions(2, 4, 1.0)
    assert pos[1 * 4 + 3].tolist() == [1.5, 0.0, 0.5]      # (m, n) = (1, 3) at index m*C + n
    assert pos[0].tolist() == [-1.5, 0.0, -0.5]
    p = nrt.node_positions(2.0, np.pi / 2, 0.0)
    assert np.allclose(p, [2.0, 0.0, 0.0])
    assert np.allclose(nrt.node_positions(2.0, 0.3, np.pi / 2), [0.0, 0.0, 2.0])


def test_bad_arguments():
    with pytest.raises(ValueError, match="multiple of rows"):
        nrt.trace_channels(None, users=[(5.0, 0.0)], eves=[(6.0, 0.0)], rows=3, antennas=64)
    with pytest.raises(ValueError, match="users"):
        nrt.trace_channels(None, users=[(5.0,)], eves=[(6.0, 0.0)])
    with pytest.raises(ValueError, match="1 mm"):
        nrt.trace_channels(None, users=[(1e-4, 0.0)], eves=[(6.0, 0.0)], antennas=1)


def test_missing_extra_names_pip_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sionna", None)
    monkeypatch.setitem(sys.modules, "sionna.rt", None)
    with pytest.raises(nrt.RTUnavailable) as info:
        nrt.import_sionna()
    msg = str(info.value)
    assert "pip install nfkg[rt]" in msg and "\n" not in msg


def test_save_load_roundtrip(tmp_path):
    f = (np.arange(6) + 1j).reshape(2, 3).astype(np.complex64)
    path = nrt.save_channels(tmp_path / "c.npz", f, 2 * f, frequency=30e9, scene="x", users=[[1.0, 2.0]])
    f2, h2, meta = nrt.load_channels(path)
    assert f2.dtype == np.complex64 and np.array_equal(f2, f) and np.array_equal(h2, 2 * f)
    assert float(meta["frequency"]) == 30e9 and str(meta["scene"]) == "x"
    with pytest.raises(ValueError, match="numbers or strings"):
        nrt.save_channels(tmp_path / "d.npz", f, f, bad={"a": 1})


def test_shipped_street_channels():
    """The traced street-canyon channels ship with the package, in nfkg's shapes."""
    ref = resources.files("nfkg") / "data" / "rt_street.npz"
    with resources.as_file(ref) as path:
        f, h, meta = nrt.load_channels(path)
    assert f.shape == (2, 256) and h.shape == (2, 256)
    assert np.iscomplexobj(f) and np.all(np.isfinite(f)) and np.all(np.isfinite(h))
    users = np.asarray(meta["users"])
    los = near_field_channel(users[:, 0], users[:, 1], 256, SPEED_OF_LIGHT / float(meta["frequency"]))
    corr = np.abs(np.sum(f.conj() * los, 1)) / np.linalg.norm(f, axis=1) / np.linalg.norm(los, axis=1)
    assert np.all(corr > 0.5)  # LoS dominant, multipath present
    assert np.all(corr < 0.9999)


# --------------------------------------------------------------------------- nfkg rt
CLI_USERS, CLI_EVES = ["4.0,-0.5", "5.0,0.4,0.1"], ["3.0,-0.2", "6.0,0.7"]


@pytest.fixture(scope="module")
def cli_trace(tmp_path_factory):
    """``nfkg rt free-space`` on a 2 x 8 UPA: the channel file, a scenario file, and the output."""
    folder = tmp_path_factory.mktemp("rt_cli")
    out, scen = folder / "ch.npz", folder / "street.toml"
    args = ["rt", "free-space", "--users", CLI_USERS[0], "-u", CLI_USERS[1], "--eves", ";".join(CLI_EVES),
            "--antennas", "16", "--rows", "2", "--max-depth", "0", "--samples", "1000", "--out", str(out),
            "--scenario", str(scen)]
    return out, scen, main(args)


def test_cli_writes_a_channel_file_equal_to_the_model(cli_trace, capsys):
    out, scen, rc = cli_trace
    assert rc == 0 and out.is_file() and scen.is_file()
    f, h, meta = nrt.load_channels(out)
    assert f.shape == (2, 16) and h.shape == (2, 16) and f.dtype == np.complex64
    assert str(meta["scene"]) == "free-space" and int(meta["rows"]) == 2 and float(meta["frequency"]) == 30e9
    nodes = np.array([[float(v) for v in (t + ",0").split(",")[:3]] for t in CLI_USERS + CLI_EVES])
    np.testing.assert_array_equal(np.concatenate([meta["users"], meta["eves"]]), nodes)
    ref = planar_near_field_channel(nodes[:, 0], nodes[:, 1], nodes[:, 2], 2, 8, LAM, D)
    c, err = _compare(np.concatenate([f, h]).astype(complex), ref)
    assert err <= 2e-3 and abs(c - 1) <= 2e-3, (c, err)


def test_cli_file_loads_with_from_channels_and_a_scenario_file(cli_trace):
    out, scen, _ = cli_trace
    f, h, _ = nrt.load_channels(out)
    own = Scenario.from_channels(f, h, pt_dbm=20, noise_dbm=-105)
    loaded = load_scenario(scen)                       # channels = "ch.npz", relative to the file
    assert loaded.n_ant == 16 and loaded.n_users == 2 and loaded.ula.rows == 2
    for scheme in ("svd", "mrc"):
        np.testing.assert_allclose(evaluate(loaded, scheme).skr, evaluate(own, scheme).skr, rtol=1e-12)
    text = scen.read_text()
    assert 'channels = "ch.npz"' in text and "array_rows = 2" in text


def test_rt_street_on_a_free_space_trace(cli_trace):
    """The rt-street figure on `nfkg rt`'s file: in free space the traced channels are the LoS
    model's (to float32), so the three panels agree."""
    from nfkg.studies.rt_street import PANELS
    from nfkg.studies.tables import run_table

    out, _, _ = cli_trace
    d = run_table("rt-street", {"channels": str(out), "pt_dbm": [10.0, 20.0], "schemes": ["svd", "zf", "mrc"]})
    assert not [r for r in d.rows if r[0] == "all"]
    los, full, designed = (d.curves[p] for p in PANELS)
    assert set(los) == {"SVD w/o PA", "ZF (no AN)", "MRC"}
    for label, y in los.items():   # measured: 1.1e-5 (full CSI), 1.8e-4 (designed on LoS)
        np.testing.assert_allclose(full[label], y, rtol=1e-3)
        np.testing.assert_allclose(designed[label], y, rtol=1e-3)


def test_cli_bad_input_one_line(tmp_path, capsys):
    base = ["--users", "4,0", "--eves", "3,0", "--out", str(tmp_path / "x.npz")]
    cases = [
        (["rt", "nowhere", *base], "'nowhere' is neither a scene file nor a Sionna built-in scene"),
        (["rt", "free-space", "--users", "4", "--eves", "3,0", "--out", str(tmp_path / "x.npz")], "R,PSI"),
        (["rt", "free-space", "--users", "4,3", "--eves", "3,0", "--out", str(tmp_path / "x.npz")],
         "--users[1].psi"),
        (["rt", "free-space", *base, "--eves", "5,0"], "one Eve per user"),
        (["rt", "free-space", *base, "--antennas", "10", "--rows", "3"], "--rows: must divide"),
        (["rt", "free-space", *base, "--position", "1,2"], "X,Y,Z"),
        (["rt", "free-space", "--users", "4,0", "--eves", "3,0", "--out", str(tmp_path / "x.txt")], ".npz"),
    ]
    for args, needle in cases:
        assert main(args) == 2, args
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("nfkg: error: ") and needle in err, (args, err)
    bad = tmp_path / "bad.xml"
    bad.write_text('<scene version="2.1.0"><bad')
    assert main(["rt", str(bad), *base]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "could not load" in err


def test_cli_missing_extra_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "sionna", None)
    monkeypatch.setitem(sys.modules, "sionna.rt", None)
    rc = main(["rt", "free-space", "--users", "4,0", "--eves", "3,0", "--out", str(tmp_path / "x.npz")])
    err = capsys.readouterr().err
    assert rc == 1 and err.count("\n") == 1 and "pip install nfkg[rt]" in err


def test_cli_help_lists_every_option(capsys):
    assert main(["rt", "--help"]) == 0
    text = capsys.readouterr().out
    for opt in ("--users", "--eves", "--out", "--antennas", "--rows", "--carrier-ghz", "--spacing-wavelengths",
                "--max-depth", "--position", "--yaw", "--samples", "--seed", "--scenario", "free-space"):
        assert opt in text, opt
