"""Hostile and extreme inputs of issue 18 (items 2-8): each defect found, and its fix."""

from __future__ import annotations

import http.server
import json
import math
import shutil
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import nfkg
from nfkg import randomness
from nfkg.protocol import quantization
from nfkg.cli import main
from nfkg.scale.sweep import (SweepConfig, SweepError, _chunk_identity, _chunk_path, _expand_pointwise, _write_rows,
                        parse_sweep, read_results, run_sweep)

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TWO = str(EXAMPLES / "two_users.toml")
MODELS = Path(nfkg.__file__).resolve().parent / "schemes" / "models"
BASE = {"antennas": 64, "pt_dbm": 20,
        "users": [{"r": 6.0, "psi": -0.3}, {"r": 7.0, "psi": 0.4}],
        "eves": [{"r": 5.98, "psi": -0.3}, {"r": 6.9, "psi": 0.4}]}


def one_error_line(capsys, code: int, *needles: str) -> str:
    """Exit 2 and exactly one ``nfkg: error:`` line naming every needle."""
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert code == 2, (out, err)
    assert len(lines) == 1 and lines[0].startswith("nfkg: error: "), err
    assert "internal error" not in err and "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# --------------------------------------------------------------------------- 2. sweep chunks carry their identity
def _sweep(pts=(0, 10, 20, 30), **kw):
    d = {"base": BASE, "schemes": ["ras", "svd"], "chunk": 2, "sweep": {"pt_dbm": list(pts)}}
    d.update(kw)
    return parse_sweep(d)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished sweep (4 points, 2 chunks) and its table."""
    out = tmp_path_factory.mktemp("sweep") / "whole"
    run_sweep(_sweep(), out)
    return out, read_results(out)


def test_chunk_from_another_sweep_is_recomputed(tmp_path, finished):
    whole, table = finished
    other = tmp_path / "other"
    run_sweep(_sweep(pts=(5, 15, 25, 35)), other)  # another sweep, same chunk layout
    out = tmp_path / "a"
    first = run_sweep(_sweep(), out, max_chunks=1)
    assert first["computed"] == 1
    shutil.copy(_chunk_path(other, 1), _chunk_path(out, 1))  # a foreign chunk under the missing chunk's name
    info = run_sweep(_sweep(), out)
    assert info["reused"] == 1 and info["replaced"] == 1 and info["computed"] == 1 and info["complete"]
    assert read_results(out).equals(table)


def test_chunk_overwritten_by_another_chunk_is_recomputed(tmp_path, finished):
    whole, table = finished
    out = tmp_path / "b"
    shutil.copytree(whole, out)
    (out / "results.parquet").unlink()
    shutil.copy(_chunk_path(out, 0), _chunk_path(out, 1))  # chunk 1 now holds chunk 0's rows
    info = run_sweep(_sweep(), out)
    assert info["replaced"] == 1 and info["computed"] == 1
    df = read_results(out)
    assert df.equals(table) and len(df) == 8 and sorted(set(zip(df.point, df.scheme))) == \
        sorted((p, s) for p in range(4) for s in ("ras", "svd"))


def test_chunk_with_right_label_but_wrong_rows_is_recomputed(tmp_path, finished):
    """A chunk whose metadata claims chunk 1 but holds chunk 0's rows (forged, or a bug): the
    rows are checked before the table is written."""
    import pyarrow.parquet as pq

    whole, table = finished
    out = tmp_path / "c"
    shutil.copytree(whole, out)
    sw = _sweep()
    rows = pq.read_table(_chunk_path(out, 0)).to_pylist()
    _write_rows(rows, _chunk_path(out, 1), _chunk_identity(sw, 1, sw.chunks()[1]))
    info = run_sweep(sw, out)
    assert info["reused"] == 2 and info["computed"] == 1  # found at the merge, computed again
    assert read_results(out).equals(table)


def test_chunk_without_identity_is_recomputed(tmp_path, finished):
    import pyarrow.parquet as pq

    whole, table = finished
    out = tmp_path / "d"
    shutil.copytree(whole, out)
    t = pq.read_table(_chunk_path(out, 1))
    pq.write_table(t.replace_schema_metadata(None), _chunk_path(out, 1))  # as nfkg wrote it before
    info = run_sweep(_sweep(), out)
    assert info["replaced"] == 1 and read_results(out).equals(table)


# --------------------------------------------------------------------------- 8. sweep validation in bulk
def test_bulk_validation_equals_point_by_point():
    one = ([{"r": 6.0, "psi": -0.3}], [{"r": 5.98, "psi": -0.3}])
    d = {"base": BASE, "schemes": ["svd", "mrc"], "seeds": [0, 7],
         "sweep": {"eves[0].psi": [0.1, -0.3], "users, eves": [list(one), [BASE["users"], BASE["eves"]]],
                   "pt_dbm": [0, 20.5], "antennas": [8, 64], "eves[0].r": [5.9, 5.98]}}
    sw = parse_sweep(d)
    ref = _expand_pointwise(sw.config, sw.base)
    assert len(sw.points) == len(ref) == 64
    for a, b in zip(sw.points, ref):
        assert (a.index, a.seed, a.values, a.config, a.key) == (b.index, b.seed, b.values, b.config, b.key)


@pytest.mark.parametrize("sweep, words", [
    ({"pt_dbm": [20, 20, 70]}, "point 2 (pt_dbm=70): pt_dbm: must be between"),
    ({"eves[0].r": [5.0, 0.0024982704833], "eves[0].psi": [0.3, math.pi / 2], "antennas": [4]},
     "point 3 (eves[0].r=0.0024982704833, eves[0].psi=1.5707963267948966, antennas=4): eves[0]: sits on an antenna"),
    ({"antennas": [64, 2]}, "point 1 (antennas=2): antennas: SVD precoding needs N >= 2K-1 = 3"),
    ({"users, eves": [[BASE["users"], BASE["eves"][:1]]]}, "eves: need exactly one Eve per user"),
])
def test_bulk_validation_names_the_first_bad_point(sweep, words):
    d = {"base": BASE, "schemes": ["svd"], "sweep": sweep}
    with pytest.raises(SweepError) as bulk:
        parse_sweep(d)
    with pytest.raises(SweepError) as ref:
        _expand_pointwise(SweepConfig.model_validate(d), BASE)
    assert str(bulk.value) == str(ref.value) and words in str(bulk.value)


def test_ten_thousand_points_validate_quickly():
    d = {"base": BASE, "schemes": ["svd", "svd-pa"],
         "sweep": {"pt_dbm": list(range(10)), "antennas": [8, 16, 32, 64, 128, 256, 512, 1024, 3, 4],
                   "eves[0].r": [5.0 + 0.1 * i for i in range(10)], "eves[1].r": [6.0 + 0.05 * i for i in range(10)]}}
    t0 = time.perf_counter()
    sw = parse_sweep(d)
    seconds = time.perf_counter() - t0
    assert len(sw.points) == 10_000 and seconds < 5.0  # about 0.15 s; point by point it took about 5 s
    p = sw.points[1234]
    assert p.config["eves"][1]["r"] == d["sweep"]["eves[1].r"][4] and p.config["antennas"] == 32


# --------------------------------------------------------------------------- 3. NIST verdicts of short keys
def test_random_keys_pass_at_about_the_nominal_rate():
    rng = np.random.default_rng(2026)
    verdicts = [randomness.key_verdict(rng.integers(0, 2, 1000, dtype=np.uint8))[0] for _ in range(30)]
    assert verdicts.count("failed") <= 3 and verdicts.count("not applicable") == 0


def test_key_verdict_details_and_bad_keys():
    v, d = randomness.key_verdict(np.zeros(5000, np.uint8))
    assert v == "failed" and "frequency" in d["failed"] and d["applicable"] == 8
    by_name = {t["name"]: t for t in d["tests"]}
    assert by_name["frequency"]["rule"] == "bonferroni" and by_name["frequency"]["threshold"] == pytest.approx(0.01 / 8)
    assert by_name["serial"]["threshold"] == pytest.approx(0.01 / 16)  # two P-values
    template = by_name["non_overlapping_template_matching"]
    assert template["verdict"] == "not applicable" and "mu = (M - m + 1)/2^m" in template["reason"]
    periodic = np.tile(np.array([0, 1, 1], np.uint8), 400)  # balanced enough for frequency, not for runs
    assert randomness.key_verdict(periodic)[0] == "failed"
    assert randomness.key_verdict(np.ones(20, np.uint8))[0] == "not applicable"


def test_non_overlapping_template_needs_enough_matches_per_block():
    x = np.random.default_rng(4).integers(0, 2, 82_000, dtype=np.uint8)
    assert randomness.non_overlapping_template_matching(x).applicable  # n >= 81,984 for m = 9, N = 8
    r = randomness.non_overlapping_template_matching(x[:81_000])
    assert not r.applicable and "n >= 81,984" in r.reason and "SP 800-22" in r.reason
    assert randomness.non_overlapping_template_matching(x[:1000], strict=False).applicable


# --------------------------------------------------------------------------- 4. NIST below 32 bits
def test_run_all_on_eight_bits_reports_every_test():
    bits = np.array([1, 0, 1, 1, 0, 0, 1, 0], np.uint8)
    for strict in (True, False):
        suite = randomness.run_all(bits, strict=strict)
        assert len(suite.results) == 15
        assert suite["serial"].reason.startswith("n = 8 < 32")
    assert len(randomness.run_all(bits).not_applicable) == 15


def test_nist_on_ten_bits_and_on_one_packed_byte(tmp_path, capsys):
    ten = tmp_path / "ten.txt"
    ten.write_text("0110100101\n")
    assert main(["nist", str(ten)]) == 0
    out = capsys.readouterr().out
    assert out.count(" not applicable: ") == 15 and "15 test(s) not applicable" in out
    assert "verdict: not applicable" in out
    one = tmp_path / "one.bin"
    one.write_bytes(b"\xa5")
    assert main(["nist", str(one), "--packed", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["n"] == 8 and res["verdict"] == "not applicable" and len(res["tests"]) == 15
    assert all(not t["applicable"] and t["reason"] for t in res["tests"])


def test_figure_t1_with_eight_rounds(tmp_path, capsys):
    code = main(["figure", "t1", "-p", "rounds=8", "-p", 'schemes=["svd"]', "--format", "png", "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert (tmp_path / "t1.csv").read_text().count("nan") >= 10  # 16 bits: every P-value not applicable


# --------------------------------------------------------------------------- 5. --scheduler that is not Dask
@pytest.fixture
def http_port():
    """An HTTP server on 127.0.0.1 (not Dask); it stops itself after 30 s at the latest."""
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    srv.RequestHandlerClass.log_message = lambda *a, **k: None
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    stop = threading.Timer(30.0, srv.shutdown)
    stop.daemon = True
    stop.start()
    yield srv.server_address[1]
    stop.cancel()
    srv.shutdown()
    srv.server_close()


@pytest.mark.parametrize("command", ["sweep", "map"])
def test_scheduler_that_is_not_dask_fails_in_time(tmp_path, capsys, http_port, command):
    f = tmp_path / "s.toml"
    f.write_text(f'base = "{TWO}"\nschemes = ["svd"]\n[sweep]\npt_dbm = [10]\n')
    address = f"tcp://127.0.0.1:{http_port}"
    args = (["sweep", str(f)] if command == "sweep" else ["map", TWO, "-s", "svd", "--grid", "4x4", "-q"])
    t0 = time.monotonic()
    code = main([*args, "--out", str(tmp_path / "o"), "--scheduler", address, "--connect-timeout", "1"])
    assert time.monotonic() - t0 < 20
    one_error_line(capsys, code, address, "no Dask scheduler answered", "within 1 s")


# --------------------------------------------------------------------------- 6. unbounded reads
@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
@pytest.mark.parametrize("args, words", [
    (["evaluate", "/dev/zero", "--scheme", "svd"], "larger than 16 MiB"),
    (["info", "/dev/zero"], "larger than 16 MiB"),
    (["sweep", "/dev/zero", "--out", "OUT"], "larger than 16 MiB"),
    (["nist", "--packed", "/dev/zero"], "more than 134,217,728 bits"),
    (["nist", "/dev/zero"], "not an ASCII 0/1 file"),
])
def test_endless_files_give_one_line_quickly(tmp_path, capsys, args, words):
    t0 = time.monotonic()
    code = main([str(tmp_path / "o") if a == "OUT" else a for a in args])
    assert time.monotonic() - t0 < 10
    one_error_line(capsys, code, "/dev/zero", words)


def test_ascii_bit_files_are_read_with_a_limit(tmp_path, capsys, monkeypatch):
    import nfkg.cli._nist as cli

    monkeypatch.setattr(cli, "NIST_MAX_BITS", 1000)
    f = tmp_path / "bits.txt"
    f.write_text("01\n" * 500)
    assert main(["nist", str(f)]) == 0
    capsys.readouterr()
    f.write_text("01\n" * 501)
    one_error_line(capsys, main(["nist", str(f)]), "more than 1,000 bits")


def test_scenario_file_size_limit(tmp_path):
    big = tmp_path / "big.toml"
    big.write_text('users = [{r = 12.2, psi = 0.2}]\neves = [{r = 12.0, psi = 0.2}]\n' + "#" * (16 * 2**20))
    with pytest.raises(nfkg.ScenarioError, match="larger than 16 MiB"):
        nfkg.load_scenario(big)


# --------------------------------------------------------------------------- 7. smaller ones
def test_model_with_nan_mean_is_bad_input(tmp_path, capsys):
    model = tmp_path / "k2"
    shutil.copytree(MODELS / "k2", model)
    meta = json.loads((model / "kgsvd-net.json").read_text())
    meta["mean"][3] = float("nan")
    (model / "kgsvd-net.json").write_text(json.dumps(meta))  # json writes NaN, and reads it back
    code = main(["evaluate", TWO, "--scheme", "svd-dlpa", "--model", str(model)])
    one_error_line(capsys, code, "kgsvd-net.json: mean[3]: must hold finite numbers (got nan)")


def test_sweep_takes_a_model(tmp_path, capsys):
    f = tmp_path / "s.toml"
    f.write_text(f'base = "{TWO}"\nschemes = ["svd-dlpa"]\n[sweep]\npt_dbm = [10, 20]\n')
    assert main(["sweep", str(f), "--out", str(tmp_path / "shipped"), "-q"]) == 0
    assert main(["sweep", str(f), "--out", str(tmp_path / "given"), "-q", "--model", str(MODELS / "k2")]) == 0
    capsys.readouterr()
    a, b = read_results(tmp_path / "shipped"), read_results(tmp_path / "given")
    assert a.equals(b)  # the shipped K = 2 model, given explicitly
    one_error_line(capsys, main(["sweep", str(f), "--out", str(tmp_path / "shipped"), "-q", "--model",
                                 str(MODELS / "k2")]), "different sweep")  # the model is part of the sweep
    one_error_line(capsys, main(["sweep", str(f), "--out", str(tmp_path / "k4"), "--model", str(MODELS / "k4")]),
                   "point 0 (pt_dbm=10): users: the model is trained for K = 4 users, the point has K = 2")
    f.write_text(f'base = "{TWO}"\nschemes = ["svd"]\n[sweep]\npt_dbm = [10]\n')
    one_error_line(capsys, main(["sweep", str(f), "--out", str(tmp_path / "x"), "--model", str(MODELS / "k2")]),
                   "'--model'", "svd-dlpa")


def test_reproduce_lists_every_figure_id(tmp_path, capsys):
    line = one_error_line(capsys, main(["reproduce", "--only", "zz", "--out", str(tmp_path)]), "'zz'")
    for fid in ("c3", "j9", "t1", "dlpa", "keyrate", "csi", "nlos", "beyond-j5", "fairness"):
        assert fid in line
    with pytest.raises(ValueError, match="t1, dlpa, keyrate"):
        nfkg.run_figure("zz")


def test_probe_takes_whole_rounds_only():
    from nfkg.protocol.probing import probe

    s = nfkg.load_scenario(TWO)
    for rounds in (1.5, "3", True):
        with pytest.raises(ValueError, match="rounds"):
            probe(s, "mrc", rounds=rounds)


def test_one_bit_refuses_nan():
    with pytest.raises(ValueError, match="nan"):
        quantization.one_bit(np.array([1 + 1j, complex(np.nan, 0.0), -1j]))
    with pytest.raises(ValueError, match="finite"):
        quantization.multi_bit(np.array([1 + 1j, complex(0.0, np.inf), -1j]))
    assert quantization.one_bit(np.array([1 - 1j])).tolist() == [1, 0]


def test_evaluate_names_a_missing_scenario():
    for bad in (None, TWO, {"users": []}):
        with pytest.raises(TypeError, match="^scenario: expected an nfkg.Scenario"):
            nfkg.evaluate(bad, "svd")


def test_info_shows_a_node_at_half_a_millimetre(tmp_path, capsys):
    f = tmp_path / "n.toml"
    f.write_text("users = [{r = 0.0005, psi = 0.0}]\neves = [{r = 12.0, psi = 0.3}]\n")
    assert main(["info", str(f)]) == 0
    user = [line for line in capsys.readouterr().out.splitlines() if line.startswith("user 1")][0]
    assert user.split()[2] == "0.0005" and user.split()[5] == "0.0005"  # r and y
