"""The package's layout: module sizes, the direction of imports between subpackages, ``__all__``.

Read from the source with :mod:`ast` (nothing is imported but for the ``__all__`` check):

- no module over :data:`MAX_LINES` lines, except those of :data:`LONG_MODULES`;
- imports run one way, ``cli > scale > studies > protocol > schemes > model > engine``: a module
  imports only from its own subpackage and those below it (module-level and function-level
  imports, relative and absolute, and ``importlib.import_module`` of a constant name);
  ``randomness`` is a leaf that every layer may use and that imports no other subpackage; the
  top-level package (``nfkg``, ``nfkg._extras``) may be imported from anywhere;
- every subpackage declares ``__all__`` and every module lists its ``__all__``, whose names exist.
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest

import nfkg

ROOT = Path(nfkg.__file__).resolve().parent

#: Most lines a module may have.
MAX_LINES = 500

#: Modules over MAX_LINES not split yet (path under src/nfkg -> why). Remove an entry once its
#: module is split; do not add one for a new module.
LONG_MODULES = {
}

#: Subpackages from the bottom layer to the top; each imports only from itself and those before it.
LAYERS = ("engine", "model", "schemes", "protocol", "studies", "scale", "cli")

#: Subpackages every layer may import; they import no other subpackage.
LEAVES = ("randomness",)

#: Entry-point scripts, not imported by anything (``python -m nfkg.cli``): no ``__all__`` needed.
SCRIPTS = ("cli/__main__.py",)


def _modules() -> list[Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "__pycache__" not in p.parts)


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _dotted(path: Path) -> str:
    """``nfkg.schemes.optimize`` for ``schemes/optimize.py``, ``nfkg.schemes`` for its ``__init__``."""
    parts = ["nfkg", *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _subpackage(dotted: str) -> str | None:
    """The subpackage of an ``nfkg`` module name (None for the top-level package and its modules)."""
    parts = dotted.split(".")
    if parts[0] != "nfkg" or len(parts) < 2 or parts[1] not in (*LAYERS, *LEAVES):
        return None
    return parts[1]


def _imports(path: Path) -> list[tuple[int, str]]:
    """Every ``nfkg`` module a file imports, with its line: ``from a import b`` gives ``a.b``
    (``b`` may be a submodule) and ``a``; relative imports are resolved against the file's package."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = _dotted(path) if path.name == "__init__.py" else _dotted(path).rpartition(".")[0]
    out: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            out.append((node.lineno, target))
            out += [(node.lineno, f"{target}.{a.name}") for a in node.names if a.name != "*"]
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "import_module" and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            out.append((node.lineno, node.args[0].value))
    return [(line, name) for line, name in out if name == "nfkg" or name.startswith("nfkg.")]


def _allowed(source: str | None, target: str | None) -> bool:
    """May a module of subpackage ``source`` import from subpackage ``target``?"""
    if target is None or source == target:  # the top-level package, or within a subpackage
        return True
    if target in LEAVES:
        return True
    if source is None:  # the top-level package (lazy loader) sits above every layer
        return True
    if source in LEAVES:
        return False
    return LAYERS.index(target) < LAYERS.index(source)


# --------------------------------------------------------------------------- the checks of the helpers
def test_relative_imports_resolve_against_the_package():
    assert _dotted(ROOT / "schemes" / "optimize.py") == "nfkg.schemes.optimize"
    assert _dotted(ROOT / "schemes" / "__init__.py") == "nfkg.schemes"
    found = dict((name, line) for line, name in _imports(ROOT / "schemes" / "optimize.py"))
    assert "nfkg.engine.secrecy" in found and "nfkg.schemes._dinkelbach" in found


def test_the_direction_rule_on_known_cases():
    assert _allowed("studies", "schemes") and _allowed("cli", "engine") and _allowed("scale", "studies")
    assert not _allowed("engine", "model") and not _allowed("schemes", "protocol")
    assert _allowed("engine", "randomness") and not _allowed("randomness", "engine")
    assert _allowed("model", None) and _allowed(None, "cli")


def test_an_upward_import_is_caught(tmp_path, monkeypatch):
    fake = tmp_path / "nfkg"
    (fake / "engine").mkdir(parents=True)
    (fake / "engine" / "x.py").write_text("def f():\n    from ..studies import claims\n    return claims\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", fake)
    [(line, name), *_] = [(ln, n) for ln, n in _imports(fake / "engine" / "x.py") if _subpackage(n) == "studies"]
    assert line == 2 and not _allowed("engine", _subpackage(name))


# --------------------------------------------------------------------------- the layout
def test_every_subpackage_is_a_layer_or_a_leaf():
    subs = {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()}
    assert subs == set(LAYERS) | set(LEAVES)


@pytest.mark.parametrize("path", _modules(), ids=_rel)
def test_no_module_over_the_line_limit(path):
    n = len(path.read_text().splitlines())
    if _rel(path) in LONG_MODULES:
        return
    assert n <= MAX_LINES, f"{_rel(path)}: {n} lines > {MAX_LINES}; split it by job (see LONG_MODULES)"


def test_the_allow_list_names_existing_modules():
    missing = [m for m in LONG_MODULES if not (ROOT / m).is_file()]
    assert not missing, f"LONG_MODULES names modules that do not exist: {missing}"


@pytest.mark.parametrize("path", _modules(), ids=_rel)
def test_imports_run_one_way(path):
    source = _subpackage(_dotted(path))
    bad = [f"line {line}: {name}" for line, name in _imports(path) if not _allowed(source, _subpackage(name))]
    assert not bad, (f"{_rel(path)} ({source}) imports upward (order {' < '.join(LAYERS)}; "
                     f"{', '.join(LEAVES)} a leaf): " + "; ".join(bad))


@pytest.mark.parametrize("path", [p for p in _modules() if _rel(p) not in SCRIPTS], ids=_rel)
def test_every_module_lists_all(path):
    tree = ast.parse(path.read_text())
    names = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] \
            if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else []
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
    assert "__all__" in names, f"{_rel(path)} does not define __all__"


@pytest.mark.parametrize("path", [p for p in _modules() if _rel(p) not in SCRIPTS], ids=_rel)
def test_every_name_of_all_exists(path):
    name = _dotted(path)
    try:
        mod = importlib.import_module(name)
    except ImportError as e:  # an optional extra that is not installed
        pytest.skip(f"{name}: {e}")
    assert isinstance(mod.__all__, (list, tuple)), f"{name}.__all__ is not a list"
    if path.name == "__init__.py":
        assert mod.__all__, f"{name}.__all__ is empty"
    missing = []
    for attr in mod.__all__:
        if hasattr(mod, attr):
            continue
        try:  # a subpackage lists its modules
            importlib.import_module(f"{name}.{attr}")
        except ModuleNotFoundError:
            missing.append(attr)
    assert not missing, f"{name}.__all__ names what it does not define: {missing}"
