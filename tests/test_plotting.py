"""Plots, files and the HTML/Markdown report."""

import csv
import subprocess
import sys

import numpy as np
import pytest

from nfkg.studies.experiments import FigureData, run_figure
from nfkg.studies.plotting import FIGSIZE, curve_style, plot_figure, save_figure
from nfkg.studies.report import reproduce


@pytest.fixture(scope="module")
def c3_small():
    return run_figure("c3", {"pt_dbm": np.arange(0.0, 41.0, 5.0)})


def _read_csv(path):
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], np.array(rows[1:], dtype=float)


def test_save_figure_writes_png_pdf_csv(tmp_path, c3_small):
    paths = save_figure(c3_small, tmp_path / "out")
    assert [p.name for p in paths] == ["c3.png", "c3.pdf", "c3.csv"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    assert paths[0].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pdf = paths[1].read_bytes()
    assert pdf[:5] == b"%PDF-"
    assert b"/FontFile2" in pdf or b"TrueType" in pdf  # Type 42 (TrueType) fonts embedded
    assert b"/Type3" not in pdf


def test_csv_header_and_round_trip(tmp_path, c3_small):
    path = tmp_path / "c3.csv"
    c3_small.to_csv(path)
    header, values = _read_csv(path)
    assert header == [c3_small.x_name, *c3_small.curves]
    np.testing.assert_array_equal(values[:, 0], c3_small.x)
    for j, y in enumerate(c3_small.curves.values(), start=1):
        np.testing.assert_array_equal(values[:, j], y)


def test_csv_quotes_labels_with_commas(tmp_path):
    data = run_figure("j8", {"pt_dbm": [10.0]})
    data.to_csv(tmp_path / "j8.csv")
    header, values = _read_csv(tmp_path / "j8.csv")
    assert header[0] == "pt_dbm" and "SVD w/ PA, K=6" in header
    assert values.shape == (1, 11)


def test_plot_figure_style(c3_small):
    import matplotlib as mpl

    backend, size = mpl.get_backend(), mpl.rcParams["font.size"]
    ax = plot_figure(c3_small)
    assert mpl.get_backend() == backend and mpl.rcParams["font.size"] == size  # no global change
    assert tuple(ax.figure.get_size_inches()) == pytest.approx(FIGSIZE)
    lines = ax.get_lines()
    assert [ln.get_label() for ln in lines] == list(c3_small.curves)
    assert len({ln.get_marker() for ln in lines}) == len(lines)
    assert len({str(ln.get_linestyle()) for ln in lines}) == len(lines)
    assert ax.get_xlabel() and "(dBm)" in ax.get_xlabel() and ax.get_ylabel() == c3_small.y_label
    assert ax.get_title() == "" and ax.get_legend() is not None
    assert ax.xaxis.label.get_fontsize() == 8


def test_plot_on_given_axes_and_dense_markevery():
    from matplotlib.figure import Figure

    x = np.linspace(0, 1, 1001)
    data = FigureData("t", "test", "none", x, "x", "x (m)", "SKR (bits/probing)",
                      {"MRC": x, "SVD w/ PA": 2 * x})
    ax = Figure().add_subplot()
    assert plot_figure(data, ax) is ax
    me = [ln.get_markevery() for ln in ax.get_lines()]
    assert all(m is not None for m in me) and me[0] != me[1]  # few, staggered markers


def test_curve_style_variants():
    assert curve_style("SVD w/ PA, K=4", ["K=4", "K=6"])["linestyle"] == "-"
    assert curve_style("SVD w/ PA, K=6", ["K=4", "K=6"])["linestyle"] == "--"
    assert curve_style("MRC")["marker"] != curve_style("SVD w/o PA")["marker"]
    assert curve_style("some new scheme")["marker"]


def test_reproduce_one_cheap_figure(tmp_path, capsys):
    index = reproduce(tmp_path, ids=["c3"], overrides={"c3": {"pt_dbm": [0, 20, 40]}})
    assert index == tmp_path / "index.html"
    for name in ("index.html", "index.md", "c3.png", "c3.pdf", "c3.csv"):
        assert (tmp_path / name).is_file(), name
    page = index.read_text(encoding="utf-8")
    assert '<img src="c3.png"' in page and 'href="c3.csv"' in page and 'href="c3.pdf"' in page
    assert "nfkg version" in page and "total run time" in page and "measured (general)" in page
    assert "http" not in page.replace("http-equiv", "")  # no external resources
    md = (tmp_path / "index.md").read_text(encoding="utf-8")
    assert "![C Fig. 3](c3.png)" in md and "| claim | paper | measured (general) | holds (general) | measured (per-user) | holds (per-user) |" in md
    assert "[1/1] c3 ..." in capsys.readouterr().err


def test_reproduce_rejects_unknown_id(tmp_path):
    with pytest.raises(ValueError, match="c9"):
        reproduce(tmp_path, ids=["c9"], progress=False)


def test_importing_stays_light():
    code = ("import sys, nfkg.studies.experiments, nfkg.studies.plotting, nfkg.studies.report; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_save_figure_formats(tmp_path, c3_small):
    paths = save_figure(c3_small, tmp_path, formats=["svg"])
    assert [p.name for p in paths] == ["c3.svg", "c3.csv"]
    assert b"<svg" in paths[0].read_bytes()
    with pytest.raises(ValueError, match="formats"):
        save_figure(c3_small, tmp_path, formats=["bmpx"])
