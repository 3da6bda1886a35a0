"""The report of ``nfkg reproduce``: files, claims under both scorings, templates, progress, workers."""

import re
import struct
import zlib
from types import SimpleNamespace

import numpy as np
import pytest

from nfkg.studies.claims import check_claims
from nfkg.studies.experiments import run_figure
from nfkg.studies.report import reproduce
from nfkg.studies.report_pages import MAX_TABLE_ROWS, _claims_view, _png_size, _png_width, _table_view

# A few points per figure, so that the module runs in seconds.
_TINY = {"c3": {"pt_dbm": [0, 20, 40]}, "j4": {"dpsi": [-0.05, 0.0, 0.05]}, "j5": {"pt_dbm": [0, 30]}}
_SIX = "| claim | paper | measured (general) | holds (general) | measured (per-user) | holds (per-user) |"
_ONE = "| claim | paper | measured (both scorings) | holds |"


@pytest.fixture(scope="module")
def tiny_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    index = reproduce(out, ids=list(_TINY), progress=False, overrides=_TINY, jobs=1)
    return out, index


def _md(out):
    return (out / "index.md").read_text(encoding="utf-8")


def test_report_files_and_both_conventions(tiny_report):
    out, index = tiny_report
    assert index == out / "index.html"
    for fid in _TINY:
        for ext in ("png", "pdf", "csv"):
            assert (out / f"{fid}.{ext}").stat().st_size > 0
    md, page = _md(out), index.read_text(encoding="utf-8")
    # c3's claims agree under both scorings (one column); j4's and j5's do not (both columns)
    assert md.count(_ONE) == 1 and md.count(_SIX) == 2
    assert "<th>measured (per-user)</th>" in page and "<th>holds (general)</th>" in page
    assert "<th>measured (both scorings)</th>" in page
    for text in (md, page):
        assert "counts their leakage through the shared non-orthogonal pilot" in text
        assert "for the SVD schemes both agree" in text and "free jamming on Eve" in text
        assert "SPEC" not in text
    assert "| scoring | holds | fails | not checked | total |" in md
    # the summary counts every claim of both conventions, recomputed here
    counts = {}
    for line in md.splitlines():
        for sc in ("general", "per-user"):
            if line.startswith(f"| {sc} | "):
                counts[sc] = [int(v) for v in line.strip("| ").split(" | ")[1:]]
    expected = {sc: sum(len(check_claims(run_figure(f, o, scoring=sc))) for f, o in _TINY.items())
                for sc in ("general", "per-user")}
    assert set(counts) == {"general", "per-user"}
    for sc, (held, failed, unchecked, total) in counts.items():
        assert held + failed + unchecked == total == expected[sc]
        assert unchecked == 0  # every scheme the claims name is registered (SVD w/ DLPA included)


def test_report_rows_differ_where_the_conventions_differ(tiny_report):
    md = _md(tiny_report[0])
    row = next(line for line in md.splitlines() if line.startswith("| SVD w/o PA >= MRC at every point (where"))
    cells = [c.strip() for c in row.strip("|").split(" | ")]
    assert cells[3] == "no" and cells[5] == "yes"  # J4: MRC jams Eve for free in the general engine
    # a row of a two-column table whose verdict and numbers agree says so instead of repeating them
    row = next(line for line in md.splitlines() if line.startswith("| SVD w/o PA has its minimum at dpsi = 0"))
    assert row.endswith("| yes | same | same |")
    row = next(line for line in md.splitlines() if line.startswith("| SVD w/ DLPA rises with P_t"))
    assert row.count("| not checked |") == 0


def test_claims_view_merges_only_identical_verdicts():
    from nfkg.studies.claims import Claim

    a, b = Claim("x rises", "rises", "1 -> 2", True), Claim("y rises", "rises", "3 -> 2", False)
    view = _claims_view({"general": [a, b], "per-user": [a, b]})
    assert view["merged"] and [r["agree"] for r in view["rows"]] == [True, True]
    b2 = Claim("y rises", "rises", "3 -> 4", True)
    view = _claims_view({"general": [a, b], "per-user": [a, b2]})
    assert not view["merged"] and [r["agree"] for r in view["rows"]] == [True, False]
    assert [c["word"] for c in view["rows"][1]["cells"]] == ["no", "yes"]
    # the same verdict with other numbers is not merged either
    b3 = Claim("y rises", "rises", "3 -> 1", False)
    assert not _claims_view({"general": [b], "per-user": [b3]})["merged"]
    # a claim under one convention only
    view = _claims_view({"general": [a, b], "per-user": [a]})
    assert not view["merged"] and view["rows"][1]["cells"][1]["measured"] == "-"


def test_contents_list_every_figure_and_table_and_no_empty_header(tmp_path, capsys):
    ids = ["c3", "j9", "t1"]
    over = {"c3": {"pt_dbm": [0, 40]}, "j9": {"pt_dbm": [0.0, 20.0], "rounds": 500, "schemes": ["mrc", "svd"]},
            "t1": {"schemes": ["svd"]}}
    index = reproduce(tmp_path, ids=ids, overrides=over, jobs=1)
    page, md = index.read_text(encoding="utf-8"), _md(tmp_path)
    nav = page[page.index("<nav>"):page.index("</nav>")]
    toc = md[md.index("## Contents"):md.index('<a id="c3">')]
    for fid in ids:
        assert f'href="#{fid}"' in nav and f'<section id="{fid}">' in page
        assert f"](#{fid})" in toc and f'<a id="{fid}"></a>' in md
    head, md_head = page[:page.index('<h2 id="claims">')], md[:md.index("## Claims")]
    assert "<th></th>" not in head and "|" not in md_head  # the metadata: no table without a header
    assert '<th scope="row">nfkg version</th>' in page and "- **nfkg version**: " in md
    # images link to themselves (full size), all at one scale: 40 em for a 3.5 in figure
    for name in ("c3.png", "t1.png"):
        width, dpi = _png_size(tmp_path / name)
        em = round(width / dpi * 40 / 3.5, 1)
        tag = (f'<a href="{name}" title="full size"><img class="wide" src="{name}"' if em >= 64 else
               f'<a href="{name}" title="full size"><img src="{name}" alt="{{}}" style="width: {em}em">')
        assert tag.split('alt="{}"')[0] in page and (em >= 64 or f'style="width: {em}em"' in page)
    assert _png_size(tmp_path / "c3.png")[1] == pytest.approx(300, abs=0.1)
    assert "[![C Fig. 3](c3.png)](c3.png)" in md
    assert 'href="c3.csv"' in page and 'href="c3.pdf"' in page and 'href="t1.csv"' in page
    assert "http" not in page  # no external resources
    # progress: one line per item, counted over figures and tables together
    err = capsys.readouterr().err
    assert [int(m) for m in re.findall(r"^\[(\d+)/3\] ", err, flags=re.M)] == [1, 2, 3]
    assert "[1/3] c3: " in err and "[3/3] t1: " in err and "done in" in err


def test_png_width_reads_the_header(tmp_path):
    def png(width, height):
        ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        chunk = b"IHDR" + ihdr
        return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))

    (tmp_path / "a.png").write_bytes(png(2301, 768))
    (tmp_path / "b.pdf").write_bytes(b"%PDF-1.4")
    assert _png_width(tmp_path / "a.png") == 2301 and _png_width(tmp_path / "b.pdf") == 0
    assert _png_size(tmp_path / "a.png") == (2301, None)   # no pHYs chunk
    phys = b"pHYs" + struct.pack(">IIB", 7874, 7874, 1)    # 7874 px/m = 200 dpi
    data = png(2301, 768) + struct.pack(">I", 9) + phys + struct.pack(">I", zlib.crc32(phys))
    (tmp_path / "c.png").write_bytes(data)
    assert _png_size(tmp_path / "c.png")[1] == pytest.approx(200.0, abs=0.01)


def test_long_tables_are_cut_or_summarised():
    rows = [[str(i), f"{i / 3:.4g}"] for i in range(MAX_TABLE_ROWS + 7)]
    long = SimpleNamespace(header=["i", "v"], formatted_rows=lambda: rows)
    view = _table_view(long, "x.csv")
    assert view["rows"] == rows[:MAX_TABLE_ROWS]
    assert view["note"].startswith(f"The first {MAX_TABLE_ROWS} of {MAX_TABLE_ROWS + 7} rows")
    short = SimpleNamespace(header=["i", "v"], formatted_rows=lambda: rows[:3])
    assert _table_view(short, "x.csv")["note"] == "" and _table_view(short, "x.csv")["rows"] == rows[:3]


def test_robustness_summary_is_the_pivot_of_the_rows():
    from nfkg.studies.robustness_figures import RobustnessData

    rng = np.random.default_rng(1)
    data = RobustnessData("nlos", {})
    truth = {}
    for rho in (0.0, 1.0):
        for curve in ("MRC", "SVD w/ PA"):
            nominal = float(rng.uniform(1, 5))
            for k in (-10.0, 0.0, 10.0, float("inf")):
                mean = float(rng.uniform(0, 5))
                truth[rho, curve, k] = mean
                data.rows.append({"curve": curve, "eve_correlation": rho, "rician_db": k, "mean": mean,
                                  "p10": mean / 2, "nominal": nominal})
    header, rows, note = data.summary_table()
    assert header == ["rho", "curve", "nominal (LoS)", "-10 dB", "0 dB", "10 dB", "LoS"]
    assert len(rows) == 4 and "16 rows" in note
    for row in rows:
        rho, curve = float(row[0]), row[1]
        assert [float(v) for v in row[3:]] == pytest.approx([truth[rho, curve, k] for k in (-10, 0, 10, np.inf)],
                                                            rel=1e-3)


def test_report_saves_the_chosen_scoring(tmp_path):
    over = {"j4": {"dpsi": [0.0, 0.05]}}
    reproduce(tmp_path, ids=["j4"], progress=False, scoring="per-user", overrides=over, jobs=1)
    ref = run_figure("j4", over["j4"], scoring="per-user")
    rows = np.loadtxt(tmp_path / "j4.csv", delimiter=",", skiprows=1)
    np.testing.assert_allclose(rows[:, 1:], np.column_stack(list(ref.curves.values())), rtol=1e-12)
    assert "Scored with the per-user convention" in _md(tmp_path)
    with pytest.raises(ValueError, match="scoring"):
        reproduce(tmp_path, ids=["c3"], progress=False, scoring="jointly")


@pytest.mark.parametrize("jobs", [0, -1, 1.5, True, "2"])
def test_bad_jobs(tmp_path, jobs):
    with pytest.raises(ValueError, match="^jobs: "):
        reproduce(tmp_path, ids=["c3"], progress=False, jobs=jobs)


def test_reproduce_rejects_unknown_id(tmp_path):
    with pytest.raises(ValueError, match="c9"):
        reproduce(tmp_path, ids=["c9"], progress=False)


def test_worker_processes_write_the_same_files(tmp_path, capsys):
    """jobs=2 (worker processes, longest first) gives the files of jobs=1, byte for byte."""
    ids = ["c3", "j9", "t1"]
    over = {"c3": {"pt_dbm": [0, 20, 40]}, "j9": {"pt_dbm": [0.0, 30.0], "rounds": 700}, "t1": {"schemes": ["svd"]}}
    one, two = tmp_path / "one", tmp_path / "two"
    reproduce(one, ids=ids, overrides=over, jobs=1, progress=False)
    reproduce(two, ids=ids, overrides=over, jobs=2)
    for fid in ids:
        assert (one / f"{fid}.csv").read_bytes() == (two / f"{fid}.csv").read_bytes(), fid
    assert (two / "index.html").is_file() and "with 2 processes" in _md(two)
    err = capsys.readouterr().err
    assert sorted(int(m) for m in re.findall(r"^\[(\d+)/3\] ", err, flags=re.M)) == [1, 2, 3]


def test_a_bad_override_fails_in_a_worker_with_its_one_line(tmp_path):
    with pytest.raises(ValueError, match="^overrides: unknown key"):
        reproduce(tmp_path, ids=["dlpa", "c3"], overrides={"dlpa": {"bogus": 1}}, jobs=2, progress=False)


def test_pool_results_errors_and_callbacks():
    """run_jobs: results by key, on_done once per job, a ValueError comes back as itself (one line),
    anything else as WorkerError carrying the worker's traceback."""
    from nfkg.studies.pool import WorkerError, default_jobs, run_jobs

    seen = []
    out = run_jobs([("a", "math:sqrt", (16.0,)), ("b", "math:hypot", (3.0, 4.0)), ("c", "operator:add", (2, 3))],
                   2, on_done=lambda key, value: seen.append(key))
    assert out == {"a": 4.0, "b": 5.0, "c": 5} and sorted(seen) == ["a", "b", "c"]
    assert run_jobs([], 2) == {}
    with pytest.raises(ValueError, match="math domain error"):
        run_jobs([("x", "math:sqrt", (-1.0,))], 1)
    with pytest.raises(WorkerError, match="ZeroDivisionError") as info:
        run_jobs([("y", "operator:truediv", (1, 0))], 1)
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    assert 1 <= default_jobs(10) <= 4 and default_jobs(1) == 1
