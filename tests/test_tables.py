"""The report's tables (J Table I, KGSVD-Net held-out) and `nfkg nist`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nfkg import randomness
from nfkg.cli import main
from nfkg.studies.tables import T1_TESTS, run_table, save_table, table_ids


@pytest.fixture(scope="module")
def t1_small():
    return run_table("t1", {"rounds": 2000})


def test_table_ids():
    assert table_ids()[:3] == ["t1", "dlpa", "keyrate"]  # then the registered figures beyond the papers
    assert {"beyond-j5", "fairness"} <= set(table_ids())
    with pytest.raises(ValueError, match="unknown table"):
        run_table("t9")


def test_t1_structure_and_claim(t1_small):
    d = t1_small
    assert d.header[0] == "test" and d.header[1] == "SVD w/o PA, user 1" and d.header[-1] == "paper: SVD w/ DLPA"
    assert len(d.rows) == len(T1_TESTS) + 1 and d.rows[-1][0] == "KDR (BS-user)"
    p = np.array([row[1:7] for row in d.rows[:-1]], dtype=float)
    assert p.shape == (10, 6) and np.all((p >= 0) & (p <= 1))
    assert len(d.claims) == 1 and d.claims[0].paper_value == "all p > 0.01"
    assert "failures are expected" in d.claims[0].measured
    assert d.params["rounds"] == 2000 and d.params["pt_dbm"] == 15.0


def test_t1_column_against_sp800_22_closed_forms(t1_small):
    """Column 1 (SVD w/o PA, user 1) against SP 800-22's closed forms computed here from the probed
    samples (signs of Re and Im, J(45)): frequency 2.1, runs 2.3, cumulative sums 2.13 (forward);
    the KDR row is the share of BS and user bits that differ."""
    from scipy.special import erfc
    from scipy.stats import norm

    from nfkg.studies.experiments import _point_seed, _scenario, resolve_params
    from nfkg.protocol.probing import probe
    from nfkg.model.scenario import Scenario

    params = resolve_params("j9", {"pt_dbm": [15.0], "rounds": 2000})
    s = _scenario(params, "pt_dbm", np.array([15.0]), 256)
    one = Scenario(s.ula, s.r_b[0], s.psi_b[0], s.r_e[0], s.psi_e[0], s.p_max[0], s.p_b[0], s.sigma2_a,
                   s.sigma2_b, s.sigma2_e, 1)
    p = probe(one, "svd", rounds=2000, seed=_point_seed(0, "svd", 15.0))
    sign = lambda z: np.concatenate([z.real, z.imag])[:, 0] > 0  # noqa: E731
    bits, user = sign(p.z_a), sign(p.z_b)
    n = bits.size
    assert n == 4000
    x = 2.0 * bits - 1.0
    p_freq = erfc(abs(x.sum()) / np.sqrt(2 * n))
    pi = bits.mean()
    runs = 1 + np.count_nonzero(bits[1:] != bits[:-1])
    p_runs = erfc(abs(runs - 2 * n * pi * (1 - pi)) / (2 * np.sqrt(2 * n) * pi * (1 - pi)))
    z = np.abs(np.cumsum(x)).max()
    k1 = np.arange(int(np.floor((-n / z + 1) / 4)), int(np.floor((n / z - 1) / 4)) + 1)
    k2 = np.arange(int(np.floor((-n / z - 3) / 4)), int(np.floor((n / z - 1) / 4)) + 1)
    r = np.sqrt(n)
    p_cusum = (1 - np.sum(norm.cdf((4 * k1 + 1) * z / r) - norm.cdf((4 * k1 - 1) * z / r))
               + np.sum(norm.cdf((4 * k2 + 3) * z / r) - norm.cdf((4 * k2 + 1) * z / r)))
    col = {row[0]: row[1] for row in t1_small.rows}
    assert col["Frequency"] == pytest.approx(p_freq, rel=1e-9)
    assert col["Runs"] == pytest.approx(p_runs, rel=1e-9)
    assert col["Cumulative sums (Fwd)"] == pytest.approx(p_cusum, rel=1e-6)
    assert col["KDR (BS-user)"] == pytest.approx(np.mean(bits != user), abs=1e-15)


def test_save_table(t1_small, tmp_path):
    paths = save_table(t1_small, tmp_path)
    assert [p.name for p in paths] == ["t1.png", "t1.pdf", "t1.csv"]
    rows = (tmp_path / "t1.csv").read_text().splitlines()
    assert rows[0].startswith('test,"SVD w/o PA, user 1"') and len(rows) == 12
    assert all(p.stat().st_size > 0 for p in paths)


def test_dlpa_table_small(tmp_path):
    d = run_table("dlpa", {"scenarios": 8, "users": [2]})
    assert [r[1] for r in d.rows] == ["close Eves (1-5 cm)", "training mixture"]
    for r in d.rows:
        pa, dl, fp, opt = r[3:7]
        assert dl <= fp + 1e-9 and fp <= opt + 1e-9 and pa <= fp + 1e-9
    assert "gap closed" in d.text
    with pytest.raises(ValueError, match="unknown key"):
        run_table("dlpa", {"bogus": 1})


def test_figure_command_writes_tables(tmp_path, capsys):
    assert main(["figure", "t1", "--out", str(tmp_path), "-p", "rounds=1000", "--format", "png"]) == 0
    assert capsys.readouterr().out.split() == [str(tmp_path / "t1.png"), str(tmp_path / "t1.csv")]


def test_report_includes_t1_and_counts_its_claim(tmp_path):
    from nfkg.studies.report import reproduce

    reproduce(tmp_path, ids=["t1"], progress=False, overrides={"t1": {"rounds": 1000}})
    md = (tmp_path / "index.md").read_text()
    assert "## t1: J Table I, Randomness test results (NIST SP 800-22)" in md
    assert "Every P-value of Table I passes (> 0.01)" in md
    general = next(line for line in md.splitlines() if line.startswith("| general |"))
    assert general.rstrip(" |").endswith("| 1")  # one claim in total: t1's
    assert (tmp_path / "t1.png").exists() and (tmp_path / "t1.csv").exists()


# --------------------------------------------------------------------------- nfkg nist
@pytest.fixture(scope="module")
def bit_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bits")
    b = np.random.default_rng(7).integers(0, 2, 50_000, dtype=np.uint8)
    text = "".join(map(str, b))
    (d / "bits.txt").write_text("\n".join(text[i:i + 64] for i in range(0, len(text), 64)) + "\n")
    (d / "bits.bin").write_bytes(np.packbits(b).tobytes())
    return d, b


def test_nist_ascii_and_packed_agree_with_run_all(bit_files, capsys):
    d, b = bit_files
    assert main(["nist", str(d / "bits.txt"), "--json"]) == 0
    a = json.loads(capsys.readouterr().out)
    assert main(["nist", str(d / "bits.bin"), "--packed", "--json"]) == 0
    p = json.loads(capsys.readouterr().out)
    assert a["n"] == p["n"] == 50_000 and a["tests"] == p["tests"]
    suite = randomness.run_all(b)
    for t, r in zip(a["tests"], suite.results):
        assert t["name"] == r.name and t["applicable"] == r.applicable
        assert [v["p_value"] for v in t["p_values"]] == list(r.p_values)
    assert len(a["tests"]) == 15


def test_nist_table_six_decimals(bit_files, capsys):
    d, _ = bit_files
    assert main(["nist", str(d / "bits.txt")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("NIST SP 800-22 Rev. 1a on 50,000 bits")
    freq = next(line for line in out if line.startswith("frequency "))
    value = freq.split()[1]
    assert len(value.split(".")[1]) == 6 and freq.split()[2] in ("PASS", "FAIL")
    assert any("not applicable:" in line for line in out)


@pytest.mark.parametrize("content, packed, needle", [
    (b"", False, "holds no bits"),
    (b"  \n\t", False, "holds no bits"),
    (b"0101x0101", False, "not an ASCII 0/1 file: byte b'x' after 4 bits"),
    (b"", True, "is empty"),
])
def test_nist_bad_files(tmp_path, capsys, content, packed, needle):
    f = tmp_path / "f"
    f.write_bytes(content)
    assert main(["nist", str(f), *(["--packed"] if packed else [])]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0]


def test_nist_unreadable(tmp_path, capsys):
    assert main(["nist", str(tmp_path / "missing")]) == 2
    assert main(["nist", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "cannot read" in err[0] and "is a directory" in err[1]


# --------------------------------------------------------------------------- csi: the error levels in one batch
@pytest.mark.parametrize("scheme,shaping", [("svd-pa", "isotropic"), ("mrc", None), ("svd-opt", "isotropic")])
def test_csi_errors_batch_equals_one_call_per_level(scheme, shaping):
    """The csi figure designs every error level of a scheme in one batch: the same draws and the same
    numbers (to 1e-12) as one csi_error per level; the zero level is the nominal value exactly."""
    from nfkg.model.channel import ULA
    from nfkg.model.scenario import Scenario
    from nfkg.studies.eve_csi import csi_error, csi_errors

    s = Scenario.from_dbm(ULA(64, 30e9), users=[(12.0, -0.6), (13.0, 0.6)], eves=[(11.98, -0.6), (12.98, 0.6)],
                          pt_dbm=20.0)
    levels = [0.0, 0.001, 0.01]
    psi = [np.asarray(v) / s.r_e for v in levels]
    batch = csi_errors(s, scheme, levels, psi, draws=4, seed=3, shaping=shaping)
    for lev, ps, res in zip(levels, psi, batch):
        one = csi_error(s, scheme, lev, ps, draws=4, seed=3, shaping=shaping)
        np.testing.assert_array_equal(res.r_hat, one.r_hat)
        np.testing.assert_array_equal(res.psi_hat, one.psi_hat)
        np.testing.assert_allclose(res.skr, one.skr, rtol=1e-12, atol=1e-12)
        assert res.nominal == one.nominal
    assert np.all(batch[0].sum_skr == batch[0].nominal)
    # a 1 cm error changes the SVD designs (they null and jam Eve); MRC's does not depend on Eve
    assert np.allclose(batch[2].sum_skr, batch[2].nominal) == (scheme == "mrc")
    with pytest.raises(ValueError, match="^sigma_psi: "):
        csi_errors(s, scheme, levels, psi[:2])
