"""nfkg figure keyrate: the whole protocol over P_t, the default against one-bit direct."""

from __future__ import annotations

import csv

import pytest

from nfkg.studies.keyrate import run_keyrate, save_keyrate


@pytest.fixture(scope="module")
def j5():
    return run_keyrate({"pt_dbm": [20.0], "rounds": 4000, "schemes": ["svd-opt"], "eve_offsets_m": [0.02]})


def test_j5_default_keeps_a_key_where_one_bit_direct_keeps_none(j5):
    rows = {r["config"]: r for r in j5.rows}
    assert set(rows) == {"default", "one-bit direct"}
    d, o = rows["default"], rows["one-bit direct"]
    assert d["directions"] == "user/user" and o["directions"] == "bs/bs"
    assert o["achieved"] == 0.0 and o["one_way_bs"] < 0.01
    assert 0 < d["achieved"] <= d["asymptotic"] <= d["bound"] <= d["one_way_user"] + 1e-9 <= d["skr"] + 1e-6
    assert d["fraction_of_skr"] == pytest.approx(d["achieved"] / d["skr"])
    assert all(r["keys_match"] for r in j5.rows)
    assert all(c.holds for c in j5.claims)
    assert "keeps" in j5.text and "one-bit direct" in j5.text


def test_keyrate_files(j5, tmp_path):
    files = save_keyrate(j5, tmp_path)
    assert {f.suffix for f in files} >= {".png", ".pdf", ".csv"}
    with open(tmp_path / "keyrate.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 and {"fraction_of_skr", "one_way_user", "one_way_bs", "achieved_aep"} <= set(rows[0])


def test_parts_merge_into_the_whole_run(tmp_path):
    """keyrate_parts / merge_keyrate (reproduce's workers) give exactly the rows, params and claims of one run,
    and reproduce with jobs=2 spreads the parts, merges them and writes the figure once."""
    from nfkg.studies.keyrate import keyrate_parts, merge_keyrate
    from nfkg.studies.report import reproduce

    ov = {"rounds": 400, "pt_dbm": [10.0, 30.0], "schemes": ["svd-pa"]}
    whole = run_keyrate(ov)
    parts = keyrate_parts(ov)
    assert [(p["eve_offsets_m"], p["schemes"]) for p in parts] == [([0.02], ["svd-pa"]), ([0.5], ["svd-pa"])]
    assert len(keyrate_parts({"schemes": ["svd-pa", "svd-mf"]})) == 4
    merged = merge_keyrate([run_keyrate(p) for p in parts], ov)
    assert merged.rows == whole.rows and merged.params == whole.params and merged.claims == whole.claims
    reproduce(tmp_path, ids=["keyrate"], overrides={"keyrate": ov}, jobs=2, progress=False)
    with open(tmp_path / "keyrate.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(whole.rows)
    for r, w in zip(rows, whole.rows):       # worker BLAS on one thread: floats to the last digits
        assert (r["geometry"], r["scheme"], r["config"]) == (w["geometry"], w["scheme"], w["config"])
        assert float(r["achieved"]) == pytest.approx(w["achieved"], rel=1e-12)
        assert float(r["bound"]) == pytest.approx(w["bound"], rel=1e-12)
    assert (tmp_path / "keyrate.png").is_file()
