"""Sphinx configuration of the nfkg documentation site (``make docs``)."""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("MPLBACKEND", "Agg")

import nfkg  # noqa: E402
import nfkg_api  # noqa: E402

# The API pages are written from the package before every build (never edited by hand).
nfkg_api.write(HERE / "api")

project = "nfkg"
author = "The nfkg developers"
copyright = "2025-2026, the nfkg developers"  # noqa: A001
release = nfkg.__version__ if nfkg.__version__ != "unknown" else "0.2.0"
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax shipped with the site: the equations render offline
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "sphinx_click",
    "sphinx_design",
    "nfkg_api",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints", "tutorials/*.py", "tutorials/*.ipynb",
                    "tutorials/*.zip", "tutorials/*.md5", "tutorials/*.json"]
templates_path = ["_templates"]
html_static_path = ["_static"]

# Markdown (MyST): $...$ and $$...$$ maths, ::: fences, heading anchors for in-page links.
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# Docstrings: NumPy style (numpydoc), members in source order, type hints in the signature.
autodoc_member_order = "bysource"
autodoc_typehints = "none"
autodoc_preserve_defaults = True
autosummary_generate = False
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()
numpydoc_xref_param_type = False
# A module's docstring may list references that only its functions cite (nfkg_api copies each
# cited reference into the citing docstring): "not referenced" there is expected.
suppress_warnings = ["myst.header", "ref.citation"]

# Cross-references: every reference must resolve (nitpicky), except type names that
# appear in signatures but have no page of their own.
nitpicky = True
nitpick_ignore_regex = [
    # Other projects' objects: no inventory is fetched (the build runs offline).
    (r"py:.*", r"(numpy|np|npt|scipy|matplotlib|torch|xarray|pandas|pyarrow|distributed|dask|click|"
               r"pydantic|sionna|ldpc|tomllib|csv|dataclasses|typing|types|collections|os|pathlib|"
               r"concurrent|threadpoolctl|mpmath|importlib|json|tqdm)(\..*)?"),
    # Private helpers named in docstrings for developers: they have no pages.
    (r"py:.*", r"(.*\.)?_[A-Za-z]\w*(\..*)?"),
    # Type words of numpydoc "Parameters" sections.
    ("py:class", r"(ArrayLike|NDArray|Any|Callable|Iterable|Iterator|Sequence|Mapping|Path|PathLike|"
                 r"Literal|Self|optional|default.*|array.*|array_like|scalar|callable|sequence.*|iterable)"),
]

# Executed tutorials: examples/tutorials/*.py, run during the build (small sizes: seconds each).
sphinx_gallery_conf = {
    "examples_dirs": [str(ROOT / "examples" / "tutorials")],
    "gallery_dirs": ["tutorials"],
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "only_warn_on_example_error": False,
    "matplotlib_animations": False,
    "show_memory": False,
    "plot_gallery": "True",
    "capture_repr": ("_repr_html_", "__repr__"),
    "reset_modules": ("matplotlib",),
    "show_signature": False,
}
warnings.filterwarnings("ignore", category=UserWarning,
                        message="Matplotlib is currently using agg, which is a non-GUI backend")

html_theme = "pydata_sphinx_theme"
html_title = f"nfkg {release}"
html_theme_options = {
    "navbar_align": "left",
    "header_links_before_dropdown": 7,
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_context = {"default_mode": "light"}
html_sidebars = {page: [] for page in ("index", "getting-started", "model", "cli", "about", "changelog", "citing")}
html_show_sourcelink = False
html_css_files = ["nfkg.css"]
