#!/usr/bin/env bash
# make dist-check: build the sdist and the wheel with `python -m build` (the wheel is built from
# the sdist, so a file missing from the sdist fails here), check what each ships, install the
# wheel into a fresh virtual environment and run it from there.
# Usage: scripts/dist_check.sh [PYTHON]   (default .venv/bin/python; DIST_DIR: default build/dist-check)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${1:-.venv/bin/python}
WORK=${DIST_DIR:-build/dist-check}
rm -rf "$WORK"
mkdir -p "$WORK"

# --no-isolation: build with this environment's setuptools (no download); isolated otherwise.
if "$PY" -c 'import setuptools, sys; sys.exit(int(setuptools.__version__.split(".")[0]) < 77)' 2>/dev/null; then
    iso=--no-isolation
else
    iso=
fi
"$PY" -m build $iso --outdir "$WORK/dist" . >"$WORK/build.log" 2>&1 || { tail -20 "$WORK/build.log"; exit 1; }
sdist=$(ls "$WORK"/dist/nfkg-*.tar.gz)
wheel=$(ls "$WORK"/dist/nfkg-*.whl)
echo "dist-check: built $(basename "$sdist") ($(du -k "$sdist" | cut -f1) KiB), $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB)"

"$PY" - "$sdist" "$wheel" <<'PYEOF'
import sys, tarfile, zipfile
sdist, wheel = sys.argv[1:]
names = [n.split("/", 1)[1] for n in tarfile.open(sdist).getnames() if "/" in n]
need = ["README.md", "LICENSE", "CHANGELOG.md", "CITATION.cff", "BENCHMARKS.md", "pyproject.toml",
        "docs/conf.py", "docs/index.md", "docs/model.md", "docs/_ext/nfkg_api.py",
        "examples/two_users.toml", "examples/sweep.toml", "examples/tutorials/README.rst",
        "src/nfkg/__init__.py"]
missing = [n for n in need if n not in names]
stray = [n for n in names if n.startswith(("docs/_build/", "docs/tutorials/", ".venv/"))
         or (n.startswith("docs/api/nfkg") and n.endswith(".rst"))]
tutorials = [n for n in names if n.startswith("examples/tutorials/plot_")]
if missing or stray or len(tutorials) < 4:
    sys.exit(f"dist-check: sdist missing {missing}, stray {stray[:5]}, {len(tutorials)} tutorials")
w = zipfile.ZipFile(wheel).namelist()
for n in ("nfkg/__init__.py", "nfkg/py.typed", "nfkg/data/rt_street.npz"):
    if n not in w:
        sys.exit(f"dist-check: wheel lacks {n}")
meta = zipfile.ZipFile(wheel).read(next(n for n in w if n.endswith("METADATA"))).decode()
for field in ("Version: ", "Author", "Classifier: ", "License-Expression: MIT"):
    if field not in meta:
        sys.exit(f"dist-check: wheel METADATA lacks {field!r}")
print(f"dist-check: sdist has {len(names)} files (docs, examples, {len(tutorials)} tutorials); "
      f"wheel has {len(w)} files and its metadata")
PYEOF

WORK=$(cd "$WORK" && pwd)
venv="$WORK/venv"
"$PY" -m venv "$venv"
"$venv/bin/python" -m pip install -q "$wheel" 2>&1 | { grep -v "^WARNING: Location" || true; }
cd "$WORK"   # away from src/: the installed wheel must be what runs
"$venv/bin/python" - <<'PYEOF'
import importlib.metadata, sys
import nfkg
if "site-packages" not in nfkg.__file__:
    sys.exit(f"dist-check: nfkg imported from {nfkg.__file__}, not the installed wheel")
assert nfkg.__version__ == importlib.metadata.version("nfkg"), nfkg.__version__
s = nfkg.Scenario.from_dbm(nfkg.ULA(256, 30e9), users=[(12.2, 0.2)], eves=[(12.0, 0.2)], pt_dbm=30)
skr = float(nfkg.evaluate(s, "svd-pa").sum_skr)
assert 7.3 < skr < 7.5, skr   # C Fig. 3 at 30 dBm: SVD w/ PA gives 7.41 bits (docs tutorial 1)
print(f"dist-check: nfkg {nfkg.__version__} from the wheel: svd-pa SKR {skr:.3f} bits at 30 dBm")
PYEOF
"$venv/bin/nfkg" evaluate "$ROOT/examples/two_users.toml" --scheme svd --json >/dev/null
"$venv/bin/nfkg" --help >/dev/null
echo "dist-check: passed (fresh venv $(du -sm "$venv" | cut -f1) MB)"
