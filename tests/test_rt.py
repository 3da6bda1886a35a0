"""Ray-traced channels (nfkg.model.rt, issue 19 item 3) against nfkg's near-field model.

In free space (an empty Sionna scene, LoS only) Sionna RT's per-element channels must
equal nfkg's spherical-wave channel up to one common constant: for an N = 64 ULA
(nfkg's ``near_field_channel``) and an 8 x 8 UPA (the formula of the UPA convention,
computed here with numpy), at several distances, angles and elevations, with the
array at the origin and moved/rotated in the scene. Float32 tracing: max relative
error <= 2e-3 per element (measured <= 1.2e-3; the error is Sionna's float32 path
length, ~1e-7 r, so the distances stay <= 13 m); the common constant within 1e-6 of 1
in magnitude (measured 4e-8).
"""

from __future__ import annotations

import sys
from importlib import resources

import numpy as np
import pytest

from nfkg.model import rt as nrt
from nfkg.model.channel import near_field_channel
from nfkg.model.units import SPEED_OF_LIGHT

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


def test_free_space_upa_equals_formula(traced):
    ref = upa_reference(UPA_USERS + UPA_EVES, 8, 8, D, LAM)
    f, h = traced["upa"]
    assert f.shape == (3, 64) and h.shape == (3, 64)
    c, err = _compare(np.concatenate([f, h]), ref)
    assert err <= 2e-3, err
    assert abs(abs(c) - 1) <= 1e-6, c


def test_one_common_constant_for_all_cases(traced):
    """One constant for the ULA and the UPA together (nfkg's scaling: it is 1)."""
    nodes = np.array(ULA_USERS + ULA_EVES)
    refs = [near_field_channel(nodes[:, 0], nodes[:, 1], 64, LAM, D),
            upa_reference(UPA_USERS + UPA_EVES, 8, 8, D, LAM)]
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
