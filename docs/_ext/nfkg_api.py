"""Write the API reference pages of nfkg from the package itself, and check them.

Run by ``conf.py`` before every build (the pages are regenerated, never edited by hand),
and by ``tests/test_docs.py`` without Sphinx. For each subpackage it writes one page
(``api/nfkg.<sub>.rst``: the subpackage docstring and a table of its modules) and one page
per module (``api/nfkg.<sub>.<module>.rst``): the module docstring, a summary table of
every name of the module's ``__all__``, then each name documented where it is defined.
A name that a module re-exports from another documented module is listed in the table
and linked to its home, not documented twice.

After a build, :func:`check_inventory` (connected to Sphinx's ``build-finished`` event)
warns for every public name that did not end up in the site's object inventory, so
``make docs`` (warnings are errors) fails when a name is missing.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

#: The subpackages in reading order (the layer each builds on comes first), with a title.
SUBPACKAGES: tuple[tuple[str, str], ...] = (
    ("model", "Model: units, limits, arrays, channels, scenarios"),
    ("engine", "Engine: reduced coordinates, subspaces, the secret key rate"),
    ("schemes", "Schemes: precoders, power allocation, KGSVD-Net"),
    ("protocol", "Protocol: from probing to a key"),
    ("randomness", "Randomness: NIST SP 800-22"),
    ("studies", "Studies: figures, claims, report, beyond the papers"),
    ("scale", "Scale: maps, sweeps, executors"),
    ("cli", "Command line"),
)


def modules_of(sub: str) -> list[str]:
    """Return the documented modules of ``nfkg.<sub>``: the package itself when it has an
    ``__all__``, then every public submodule (sorted), recursively."""
    pkg = importlib.import_module(f"nfkg.{sub}")
    out = [pkg.__name__] if hasattr(pkg, "__all__") else []
    if hasattr(pkg, "__path__"):
        for info in sorted(pkgutil.walk_packages(pkg.__path__, prefix=f"{pkg.__name__}."),
                           key=lambda i: i.name):
            if any(part.startswith("_") for part in info.name.split(".")):
                continue
            mod = importlib.import_module(info.name)
            if hasattr(mod, "__all__"):
                out.append(info.name)
    return out


def public_names(modname: str) -> list[str]:
    """Return the module's ``__all__`` (without duplicates, in order)."""
    mod = importlib.import_module(modname)
    return list(dict.fromkeys(mod.__all__))


def home_of(modname: str, name: str, documented: dict[str, list[str]]) -> str:
    """Return the module where ``modname.name`` is documented: ``modname`` itself unless the
    object is defined in (and exported by) another documented module."""
    obj = getattr(importlib.import_module(modname), name)
    owner = getattr(obj, "__module__", None) if (inspect.isclass(obj) or inspect.isroutine(obj)) else None
    if owner and owner != modname and name in documented.get(owner, ()):
        return owner
    # Constants re-exported by a package from one of its submodules.
    for other, names in documented.items():
        if other != modname and other.startswith(modname + ".") and name in names:
            if getattr(importlib.import_module(other), name, None) is obj:
                return other
    return modname


def _directive(obj: object) -> tuple[str, list[str]]:
    if inspect.isclass(obj) and issubclass(obj, BaseException):
        return "autoexception", []
    if inspect.isclass(obj):
        return "autoclass", [":members:", ":show-inheritance:"]
    if inspect.isroutine(obj) or callable(obj) and hasattr(obj, "__wrapped__"):
        return "autofunction", []
    if inspect.ismodule(obj):
        return "", []
    return "autodata", [":no-value:"]


def _plain_signature(obj: object) -> str:
    """The call signature without annotations (defaults kept), ``''`` where there is none."""
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return ""
    params = [p.replace(annotation=inspect.Parameter.empty) for p in sig.parameters.values()]
    return str(sig.replace(parameters=params, return_annotation=inspect.Signature.empty))


def _title(text: str, char: str = "=") -> str:
    return f"{text}\n{char * len(text)}\n"


def _summary(obj: object) -> str:
    doc = inspect.getdoc(obj) if not isinstance(obj, (int, float, str, tuple, list, dict)) else None
    if not doc:
        return ""
    first = doc.strip().split("\n\n")[0]  # the summary paragraph, on one line
    return " ".join(line.strip() for line in first.splitlines())


def pages() -> dict[str, str]:
    """Return ``{file name: reST text}`` for every API page (no Sphinx needed)."""
    documented = {m: public_names(m) for sub, _ in SUBPACKAGES for m in modules_of(sub)}
    out: dict[str, str] = {}
    top = importlib.import_module("nfkg")
    lines = [_title("The ``nfkg`` namespace"),
             ".. automodule:: nfkg\n   :no-members:\n",
             "Every name of ``nfkg.__all__``, loaded on first use from the module given:\n",
             ".. list-table::\n   :header-rows: 1\n   :widths: 25 40 35\n",
             "   * - name\n     - defined in\n     - summary"]
    for name in top.__all__:
        if name == "__version__":
            lines.append("   * - :data:`nfkg.__version__`\n     - ``importlib.metadata``\n"
                         "     - The installed version (``'unknown'`` from a bare source tree).")
            continue
        obj = getattr(top, name)
        lines.append(f"   * - :obj:`nfkg.{name}`\n     - :mod:`{obj.__module__}`\n     - {_summary(obj)}")
    lines.append("")
    for name in top.__all__:
        if name == "__version__":
            lines.append(".. py:data:: __version__\n\n   The installed version of nfkg, a string.\n")
            continue
        obj = getattr(top, name)
        kind = ("exception" if inspect.isclass(obj) and issubclass(obj, BaseException)
                else "class" if inspect.isclass(obj) else "function")
        sig = _plain_signature(obj) if kind == "function" else ""
        lines.append(f".. py:{kind}:: {name}{sig}\n\n   {_summary(obj)}\n"
                     f"   Defined in :mod:`{obj.__module__}`: see :{'func' if kind == 'function' else 'class'}:"
                     f"`{obj.__module__}.{name}`.\n")
    out["nfkg.rst"] = "\n".join(lines) + "\n"

    for sub, title in SUBPACKAGES:
        pkgname = f"nfkg.{sub}"
        mods = [m for m in documented if m == pkgname or m.startswith(pkgname + ".")]
        body = [_title(f"``{pkgname}``: {title}"),
                f".. automodule:: {pkgname}\n   :no-members:\n"]
        children = [m for m in mods if m != pkgname]
        if pkgname in documented:
            body.append(_module_body(pkgname, documented, heading=False))
        if children:
            body.append(".. list-table::\n   :widths: 35 65\n")
            body.extend(f"   * - :mod:`{m}`\n     - {_summary(importlib.import_module(m))}" for m in children)
            body.append("\n.. toctree::\n   :hidden:\n")
            body.extend(f"   {m}" for m in children)
        out[f"{pkgname}.rst"] = "\n".join(body) + "\n"
        for m in children:
            out[f"{m}.rst"] = _module_body(m, documented, heading=True)
    return out


def _module_body(modname: str, documented: dict[str, list[str]], heading: bool) -> str:
    mod = importlib.import_module(modname)
    parts = []
    if heading:
        parts += [_title(f"``{modname}``"), f".. automodule:: {modname}\n   :no-members:\n"]
    # Submodules listed in a package's __all__ have pages of their own.
    names = [n for n in documented[modname] if not inspect.ismodule(getattr(mod, n))]
    parts.append(f".. currentmodule:: {modname}\n")
    if not names:
        return "\n".join(parts) + "\n"
    if not re.search(r"^Contents\n-+$", inspect.getdoc(mod) or "", re.M):  # else the docstring has one
        parts.append(".. rubric:: Public names\n")
        parts.append(".. list-table::\n   :widths: 35 65\n")
        for name in names:
            home = home_of(modname, name, documented)
            parts.append(f"   * - :obj:`~{home}.{name}`\n     - {_summary(getattr(mod, name))}")
        parts.append("")
    for name in names:
        home = home_of(modname, name, documented)
        if home != modname:  # a re-export: a target of its own, pointing to its home
            obj = getattr(mod, name)
            kind = ("exception" if inspect.isclass(obj) and issubclass(obj, BaseException)
                    else "class" if inspect.isclass(obj) else "function" if callable(obj) else "data")
            parts.append(f".. py:{kind}:: {name}\n   :no-contents-entry:\n\n"
                         f"   Re-exported from :mod:`{home}`: see :obj:`{home}.{name}`.\n")
            continue
        directive, opts = _directive(getattr(mod, name))
        if not directive:
            continue
        parts.append(f".. {directive}:: {modname}.{name}")
        parts.extend(f"   {o}" for o in opts)
        parts.append("")
    return "\n".join(parts) + "\n"


def write(outdir: Path) -> list[Path]:
    """Write :func:`pages` into ``outdir`` (only files whose text changed) and remove stale
    pages; return the paths written."""
    outdir.mkdir(parents=True, exist_ok=True)
    texts = pages()
    written = []
    for fname, text in texts.items():
        path = outdir / fname
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            written.append(path)
    for old in outdir.glob("nfkg*.rst"):
        if old.name not in texts:
            old.unlink()
    return written


def all_public() -> dict[str, list[str]]:
    """Every documented module's ``__all__``, and ``nfkg``'s own."""
    out = {"nfkg": [n for n in importlib.import_module("nfkg").__all__ if n != "__version__"]}
    for sub, _ in SUBPACKAGES:
        for m in modules_of(sub):
            out[m] = public_names(m)
    return out


def check_inventory(app, exc) -> None:  # pragma: no cover - runs inside Sphinx
    """Warn for every public name that has no entry in the built site's Python domain."""
    if exc is not None or app.builder.format != "html":
        return
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    objects = {o[0] for o in app.env.get_domain("py").get_objects()}
    documented = {m: public_names(m) for sub, _ in SUBPACKAGES for m in modules_of(sub)}
    missing = []
    for mod, names in documented.items():
        for name in names:
            home = home_of(mod, name, documented)
            if f"{home}.{name}" not in objects:
                missing.append(f"{mod}.{name}")
    for name in missing:
        logger.warning("API reference: public name %s is not documented", name)


_CITATION = re.compile(r"^(\s*)\.\. \[([A-Za-z][\w-]*)\] ")
_CITE = re.compile(r"\[([A-Za-z][\w-]*)\]_")
_REFERENCES: dict[str, list[str]] = {}


def _references() -> dict[str, list[str]]:
    """Every named citation of the package's docstrings: ``{label: its definition lines}``."""
    if not _REFERENCES:
        for sub, _ in SUBPACKAGES:
            for m in modules_of(sub):
                mod = importlib.import_module(m)
                for obj in [mod, *(getattr(mod, n) for n in public_names(m))]:
                    lines = (inspect.getdoc(obj) or "").splitlines() if not inspect.ismodule(obj) or obj is mod else []
                    for i, line in enumerate(lines):
                        hit = _CITATION.match(line)
                        if hit and hit.group(2) not in _REFERENCES:
                            block = [line.strip()]
                            for cont in lines[i + 1:]:
                                if not cont.strip() or _CITATION.match(cont):
                                    break
                                block.append("   " + cont.strip())
                            _REFERENCES[hit.group(2)] = block
    return _REFERENCES


def add_cited_references(app, what, name, obj, options, lines) -> None:  # pragma: no cover
    """Copy into a docstring the references it cites but lists elsewhere (in its module's
    docstring): numpydoc makes citations local to each docstring."""
    text = "\n".join(lines)
    defined = {m.group(2) for line in lines if (m := _CITATION.match(line))}
    missing = [c for c in dict.fromkeys(_CITE.findall(text)) if c not in defined and c in _references()]
    if not missing:
        return
    extra = [line for c in missing for line in _references()[c]]
    for i, line in enumerate(lines[:-1]):
        if line.strip() == "References" and set(lines[i + 1].strip()) == {"-"}:
            lines[i + 2:i + 2] = extra
            return
    lines.extend(["", "References", "----------", *extra])


def setup(app):  # pragma: no cover - runs inside Sphinx
    app.connect("autodoc-process-docstring", add_cited_references, priority=100)
    app.connect("build-finished", check_inventory)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
