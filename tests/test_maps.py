"""Secrecy maps (nfkg.scale.maps, `nfkg map`): the map equals the engine on the same nodes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nfkg import ULA, Scenario, evaluate
from nfkg.cli import main
from nfkg.scale.maps import MapSpec, default_extent, map_grid, secrecy_map, to_dataset

BASE = Scenario.from_dbm(ULA(128, 30e9), users=[(8.0, -0.4), (9.0, 0.5)], eves=[(7.98, -0.4), (8.95, 0.5)],
                         pt_dbm=20)


def _reference(scen: Scenario, k: int, moving: str, x: np.ndarray, y: np.ndarray) -> Scenario:
    """The same points as an ordinary batched scenario (the engine's own channels and QR)."""
    xx, yy = np.meshgrid(x, y)
    r, psi = np.hypot(xx, yy).ravel(), np.arctan2(xx, yy).ravel()
    n = r.size
    rb, pb, re, pe = (np.repeat(getattr(scen, a)[None], n, 0) for a in ("r_b", "psi_b", "r_e", "psi_e"))
    if moving == "eve":
        re[:, k - 1], pe[:, k - 1] = r, psi
    else:
        rb[:, k - 1], pb[:, k - 1] = r, psi
    return Scenario(scen.ula, rb, pb, re, pe, scen.p_max, scen.p_b, scen.sigma2_a, scen.sigma2_b, scen.sigma2_e)


@pytest.mark.parametrize("moving", ["eve", "user"])
@pytest.mark.parametrize("k", [1, 2])
def test_map_equals_engine(moving, k):
    x, y = map_grid((-9, 9, 0.5, 10), (5, 4))
    schemes = ("ras", "mrc", "svd", "svd-pa")
    m = secrecy_map(MapSpec(BASE, schemes, user=k, moving=moving), x, y)
    ref = _reference(BASE, k, moving, x, y)
    for name in schemes:
        got = m.skr[name].reshape(-1, 2)
        want = evaluate(ref, name).skr
        tol = 1e-8 if name == "svd-pa" else 1e-11  # svd-pa: the AO's tolerance
        np.testing.assert_allclose(got, want, rtol=tol, atol=1e-12, err_msg=name)


def test_map_near_the_user_keeps_precision():
    # Eve 1 mm, 1 cm and 10 cm from user 1 along x: the moving channel is almost f_1.
    xb, yb = BASE.r_b[0] * np.sin(BASE.psi_b[0]), BASE.r_b[0] * np.cos(BASE.psi_b[0])
    x = xb + np.array([1e-3, 1e-2, 1e-1])
    y = np.array([yb])
    m = secrecy_map(MapSpec(BASE, ("svd", "mrc")), x, y)
    ref = _reference(BASE, 1, "eve", x, y)
    for name in ("svd", "mrc"):
        np.testing.assert_allclose(m.skr[name].reshape(-1, 2), evaluate(ref, name).skr, rtol=1e-9)
    assert np.all(m.user_skr("svd") > 0)


def test_chunks_do_not_change_a_closed_form_map():
    x, y = map_grid((-9, 9, 0.5, 10), (9, 7))
    a = secrecy_map(MapSpec(BASE, ("svd", "mrc")), x, y)
    b = secrecy_map(MapSpec(BASE, ("svd", "mrc")), x, y, chunk=5)
    for name in ("svd", "mrc"):
        # the same numbers up to BLAS blocking: a chunk changes the matrix shapes, and some
        # OpenBLAS kernels (seen on AMD EPYC) then round the last bits differently
        np.testing.assert_allclose(a.skr[name], b.skr[name], rtol=1e-12, atol=1e-15)


def test_grid_and_spec_errors():
    with pytest.raises(ValueError, match="^extent: y_min"):
        map_grid((-1, 1, 0.0, 2), (3, 3))
    with pytest.raises(ValueError, match="^extent: every point"):
        map_grid((-1, 1, 1, 20_000), (3, 3))
    with pytest.raises(ValueError, match="^extent: need"):
        map_grid((1, -1, 1, 2), (3, 3))
    with pytest.raises(ValueError, match="^grid:"):
        map_grid((-1, 1, 1, 2), (0, 3))
    with pytest.raises(ValueError, match="^user:"):
        MapSpec(BASE, ("svd",), user=3)
    with pytest.raises(ValueError, match="^scheme:"):
        MapSpec(BASE, ("nope",))
    x0, x1, y0, y1 = default_extent(BASE)
    assert x0 < 0 < x1 and 0 < y0 < y1


def test_dataset_coordinates_follow_spec2(tmp_path):
    xr = pytest.importorskip("xarray")
    x, y = map_grid((-6, 6, 1, 9), (4, 3))
    m = secrecy_map(MapSpec(BASE, ("svd",), user=2), x, y)
    from nfkg.scale.maps import save_map

    paths = save_map(m, tmp_path, {"antennas": 128})
    assert {p.name for p in paths} == {"map.png", "map.pdf", "map.nc"}
    ds = xr.open_dataset(tmp_path / "map.nc")
    assert ds["skr"].dims == ("y", "x") and ds["skr"].attrs["units"] == "bits/probing"
    assert ds.attrs["scheme"] == "svd" and ds.attrs["moving"] == "eve" and int(ds.attrs["user"]) == 2
    assert json.loads(ds.attrs["scenario"]) == {"antennas": 128}
    # the point (x, y) is Eve 2 at r = hypot(x, y), psi = atan2(x, y)
    xi, yj = float(ds.x[1]), float(ds.y[2])
    one = Scenario.from_dbm(ULA(128, 30e9), users=[(8.0, -0.4), (9.0, 0.5)],
                            eves=[(7.98, -0.4), (np.hypot(xi, yj), np.arctan2(xi, yj))], pt_dbm=20)
    assert float(ds["skr"].sel(x=xi, y=yj)) == pytest.approx(float(evaluate(one, "svd").skr[1]), rel=1e-11)
    ds.close()
    multi = to_dataset(secrecy_map(MapSpec(BASE, ("svd", "mrc")), x, y))
    assert multi["skr"].dims == ("scheme", "y", "x") and list(multi.scheme.values) == ["svd", "mrc"]


SCEN = """antennas = 64
pt_dbm = 20
users = [ {r = 6.0, psi = -0.3}, {r = 7.0, psi = 0.4} ]
eves = [ {r = 5.98, psi = -0.3}, {r = 6.9, psi = 0.4} ]
"""


def test_cli_map(tmp_path, capsys):
    f = tmp_path / "s.toml"
    f.write_text(SCEN)
    rc = main(["map", str(f), "-s", "svd,mrc", "--user", "2", "--grid", "12x10", "--out", str(tmp_path / "m"),
               "-q", "--log"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert (tmp_path / "m" / "map.nc").exists() and (tmp_path / "m" / "map.png").exists()
    assert "svd: SKR of user 2" in out.out
    rc = main(["map", str(f), "-s", "svd", "--user-moves", "--eve-fixed", "--grid", "6x5",
               "--extent", "-2,2,4,8", "--out", str(tmp_path / "u"), "-q"])
    assert rc == 0


@pytest.mark.parametrize("args, words", [
    (["--grid", "12"], "--grid"),
    (["--extent", "0,1,2"], "--extent"),
    (["--extent", "-1,1,0,2"], "extent: y_min"),
    (["--user", "3"], "--user"),
    (["-s", "svd,nope"], "nope"),
    (["--jamming", "targeted", "-s", "mrc"], "--jamming"),
    (["--workers", "1", "--scheduler", "tcp://127.0.0.1:1"], "not both"),
    (["--scheduler", "localhost"], "--scheduler"),
])
def test_cli_map_errors(tmp_path, capsys, args, words):
    f = tmp_path / "s.toml"
    f.write_text(SCEN)
    base = ["map", str(f), "--grid", "4x4", "--out", str(tmp_path / "m"), "-q"]
    if "-s" not in args:
        base += ["-s", "svd"]
    rc = main(base + args)
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and words in err[0], err


def test_cli_map_model_and_jamming(tmp_path, capsys):
    from pathlib import Path

    import nfkg

    f = tmp_path / "s.toml"
    f.write_text(SCEN)
    k2 = Path(nfkg.__file__).parent / "schemes" / "models" / "k2"
    assert main(["map", str(f), "-s", "svd-dlpa", "--model", str(k2), "--grid", "4x3", "--out",
                 str(tmp_path / "d"), "-q"]) == 0
    assert main(["map", str(f), "-s", "svd,svd-pa", "--jamming", "targeted", "--grid", "4x3", "--out",
                 str(tmp_path / "t"), "-q"]) == 0
    assert main(["map", str(f), "-s", "svd", "--model", str(k2), "--grid", "4x3", "--out",
                 str(tmp_path / "x"), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--model" in err[0]


def test_map_with_targeted_jamming_equals_engine():
    x, y = map_grid((-9, 9, 0.5, 10), (4, 3))
    m = secrecy_map(MapSpec(BASE, ("svd",), options={"jamming": "targeted"}), x, y)
    ref = _reference(BASE, 1, "eve", x, y)
    np.testing.assert_allclose(m.skr["svd"].reshape(-1, 2), evaluate(ref, "svd", jamming="targeted").skr,
                               rtol=1e-10)
