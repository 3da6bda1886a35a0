"""Plots and their files (the report: test_report.py)."""

import csv
import subprocess
import sys

import numpy as np
import pytest

from nfkg.studies.experiments import FigureData, run_figure
from nfkg.studies.plotting import FIGSIZE, curve_style, plot_figure, save_figure


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


# --------------------------------------------------------------------------- dense curves, headroom, variants
def _brute_envelope(y, window):
    half = window // 2
    lo = np.array([y[max(0, i - half):i + half + 1].min() for i in range(y.size)])
    hi = np.array([y[max(0, i - half):i + half + 1].max() for i in range(y.size)])
    return lo, hi


def test_envelope_is_the_running_min_and_max():
    from nfkg.studies.plotting import envelope

    y = np.random.default_rng(3).normal(size=301)
    for window in (3, 7, 20):
        lo, hi, w = envelope(y, window)
        assert w == (window | 1)
        ref_lo, ref_hi = _brute_envelope(y, w)
        np.testing.assert_array_equal(lo, ref_lo)
        np.testing.assert_array_equal(hi, ref_hi)
    # default window: about three oscillations (a sine of period 20 points -> 60-61 points)
    x = np.arange(2000)
    assert envelope(np.sin(2 * np.pi * x / 20))[2] in (59, 61)


def test_dense_curve_drawn_as_envelope_with_headroom():
    """A curve with hundreds of sidelobes (C Fig. 5's MRC) becomes a band plus its lower envelope;
    a smooth curve stays a line; the y-axis leaves 10 % above the highest curve."""
    x = np.linspace(-1.5, 1.5, 3001)
    dense = 15 + 7 * np.abs(np.sin(400 * x))             # ~380 lobes
    smooth = 22.0 + 0.5 * np.cos(x)
    data = FigureData("c5", "t", "C Fig. 5", x, "psi_e_rad", "x", "SKR (bits/probing)",
                      {"MRC": dense, "SVD w/ PA": smooth})
    ax = plot_figure(data)
    lines = {ln.get_label(): ln for ln in ax.get_lines()}
    assert set(lines) == {"MRC (min-max envelope)", "SVD w/ PA"}
    lo, _, w = __import__("nfkg.studies.plotting", fromlist=["envelope"]).envelope(dense)
    ref_lo, ref_hi = _brute_envelope(dense, w)
    np.testing.assert_array_equal(lines["MRC (min-max envelope)"].get_ydata(), ref_lo)
    np.testing.assert_array_equal(lines["SVD w/ PA"].get_ydata(), smooth)
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.max() == pytest.approx(ref_hi.max()) and band.min() == pytest.approx(ref_lo.min())
    assert ax.get_ylim()[0] == 0 and ax.get_ylim()[1] >= 1.1 * max(dense.max(), smooth.max()) - 1e-9


def test_variant_legend_above_the_axes():
    """J Fig. 8: one legend entry per scheme and per K, above the plot (not inside it)."""
    data = run_figure("j8", {"pt_dbm": [0.0, 15.0, 30.0]})
    ax = plot_figure(data)
    legend = ax.get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    assert sorted(texts) == sorted(["RAS w/o P", "MRC", "SVD w/o PA", "SVD w/ PA", "SVD w/ DLPA", "K=4", "K=6"])
    renderer = ax.figure.canvas.get_renderer()
    assert legend.get_window_extent(renderer).y0 >= ax.get_window_extent(renderer).y1 - 1e-6
    # matplotlib fills columns first: the handles were reordered so that the legend reads by rows
    assert texts[0] == "RAS w/o P" and texts[2] == "MRC"


def test_labels_with_commas_are_not_variants():
    """'SVD MF (matched, targeted, exact)' is one scheme (its own style), not 'SVD MF (matched' in a
    variant; the literature's baselines have their own colours."""
    from nfkg.studies.plotting import _SCHEME_STYLE

    mf = "SVD MF (matched, targeted, exact)"
    assert curve_style(mf)["color"] == _SCHEME_STYLE[mf][0]
    assert curve_style(f"{mf}, K=6", ["K=4", "K=6"])["linestyle"] == "--"
    styles = {label: tuple(curve_style(label).values())[:2] for label in _SCHEME_STYLE}
    assert len(set(styles.values())) == len(styles)          # colour and marker differ between schemes
    x = np.array([0.0, 10.0, 20.0])
    data = FigureData("t", "t", "none", x, "pt_dbm", "x", "SKR (bits/probing)",
                      {mf: x + 1, "ZF (no AN)": x, "RBF (isotropic)": x / 2})
    ax = plot_figure(data)
    assert ax.get_legend().get_bbox_to_anchor() is not None
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(data.curves)  # no variant legend
