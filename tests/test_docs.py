"""The documentation site, checked from its sources without building it (``make docs`` builds it).

- The API reference covers every public module (found by walking ``src/nfkg`` on disk) and
  every name of each module's ``__all__`` (read from the source with :mod:`ast`, not from the
  generator) and of ``nfkg.__all__``.
- The site, README and packaging metadata are self-contained and consistent: no page cites a
  file outside the repository, every relative link of README resolves, the changelog and
  CITATION.cff carry the package's version, at least four tutorials exist.
"""

from __future__ import annotations

import ast
import importlib
import re
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SRC = ROOT / "src" / "nfkg"
sys.path.insert(0, str(DOCS / "_ext"))

import nfkg_api  # noqa: E402


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    return nfkg_api.pages()


def _module_files() -> list[str]:
    """Every public module of the package, from the files on disk."""
    out = []
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(p.startswith("_") for p in parts) or parts[-1] == "__main__" or len(parts) < 2:
            continue
        out.append(".".join(parts))
    return out


def _all_from_source(modname: str) -> list[str] | None:
    """``__all__`` as written in the module's source (``None`` when it is computed)."""
    rel = Path(*modname.split("."))
    path = SRC.parent / rel.with_suffix(".py")
    if not path.exists():
        path = SRC.parent / rel / "__init__.py"
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
            try:
                return list(ast.literal_eval(node.value))
            except ValueError:  # e.g. [*TEST_NAMES, ...]: computed
                return None
    return []


def test_every_module_has_a_page(pages):
    """A module on disk without an API page (or without ``__all__``) fails here."""
    missing = [m for m in _module_files() if f"{m}.rst" not in pages]
    assert not missing, f"modules without an API page (do they define __all__?): {missing}"
    for sub, _ in nfkg_api.SUBPACKAGES:
        assert f"nfkg.{sub}.rst" in pages
    index = (DOCS / "api" / "index.md").read_text(encoding="utf-8")
    import nfkg

    for sub in nfkg._SUBMODULES:
        assert f"\nnfkg.{sub}\n" in index, f"api/index.md does not list nfkg.{sub}"


def test_every_public_name_is_documented(pages):
    """Each name of each module's ``__all__`` gets an autodoc directive on its home page, or a
    target of its own where it is re-exported."""
    problems = []
    for modname in _module_files():
        names = _all_from_source(modname)
        if names is None:
            names = list(importlib.import_module(modname).__all__)
        page = pages[f"{modname}.rst"]
        for name in names:
            if f"{modname}.{name}.rst" in pages:  # a submodule listed in a package's __all__
                continue
            here = re.search(rf"^\.\. (auto\w+|py:\w+):: ({re.escape(modname)}\.)?{re.escape(name)}\b", page, re.M)
            if not here:
                problems.append(f"{modname}.{name}")
                continue
            if here.group(1).startswith("py:"):  # re-export: its home must document it
                home = re.search(r"Re-exported from :mod:`([\w.]+)`", page[here.end():]).group(1)
                if not re.search(rf"^\.\. auto\w+:: {re.escape(home)}\.{re.escape(name)}$", pages[f"{home}.rst"], re.M):
                    problems.append(f"{modname}.{name} (home {home})")
    assert not problems, f"public names missing from the API reference: {problems}"


def test_top_level_names(pages):
    tree = ast.parse((SRC / "__init__.py").read_text(encoding="utf-8"))
    api = next(n.value for n in tree.body if isinstance(n, ast.AnnAssign) and getattr(n.target, "id", "") == "_API")
    names = [*ast.literal_eval(api), "__version__"]
    import nfkg

    assert sorted(names) == sorted(nfkg.__all__)
    page = pages["nfkg.rst"]
    for name in names:
        assert re.search(rf"^\.\. py:\w+:: {re.escape(name)}\b", page, re.M), name
        assert f":obj:`nfkg.{name}`" in page or f":data:`nfkg.{name}`" in page, name


def _site_sources() -> list[Path]:
    own = [p for p in DOCS.rglob("*.md") if "_build" not in p.parts and "tutorials" not in p.parts]
    return [*own, *sorted((ROOT / "examples" / "tutorials").glob("*.py")), ROOT / "README.md"]


def test_site_is_self_contained():
    """No page cites the specification or a file outside the repository."""
    for path in _site_sources():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bSPEC\b|SPEC\.md|/work/|shared/papers", text), path
        for target in re.findall(r"\]\((?!https?://|#|mailto:)([^)#\s]+)", text):
            resolved = (path.parent / target).resolve()
            assert resolved.is_relative_to(ROOT), f"{path}: link {target} leaves the repository"


def test_docstrings_cite_nothing_outside_the_repository():
    """The API reference is rendered from the docstrings: they must not cite the specification."""
    hits = [f"{p.relative_to(ROOT)}:{i}" for p in sorted(SRC.rglob("*.py"))
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if re.search(r"\bSPEC\b|SPEC\.md", line)]
    assert not hits, hits


def test_pages_named_by_the_package_exist():
    """``nfkg --help`` and the docstrings point at documentation pages: they must be there."""
    named = {m for p in SRC.rglob("*.py") for m in re.findall(r"docs/[\w/.-]+\.md", p.read_text(encoding="utf-8"))}
    assert named, "the CLI help names its documentation pages"
    missing = sorted(n for n in named if not (ROOT / n).exists())
    assert not missing, missing


def test_readme_links_resolve():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\((?!https?://)([^)#\s]+)", readme)
    assert len(targets) >= 8
    for target in targets:
        assert (ROOT / target).exists(), target


def test_tutorials():
    tutorials = sorted((ROOT / "examples" / "tutorials").glob("plot_*.py"))
    assert len(tutorials) >= 4
    for path in tutorials:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        doc = ast.get_docstring(tree)
        assert doc and "=" * 5 in doc, f"{path.name}: sphinx-gallery needs a titled docstring"


def test_version_changelog_citation():
    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## \[{re.escape(version)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", changelog, re.M)
    cff = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    assert re.search(rf"^version: {re.escape(version)}$", cff, re.M)
    assert cff.count("  - type: ") == 2 and "GLOBECOM" in cff  # the two papers
