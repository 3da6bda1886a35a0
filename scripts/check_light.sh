#!/usr/bin/env bash
# The light install, checked for real: for each Python version given (default 3.11 3.12 3.13),
# a fresh venv, `pip install` of nfkg's wheel WITHOUT extras, then
#   - torch, Dask, distributed, xarray and pyarrow must not be importable;
#   - `nfkg evaluate` with svd-dlpa (the shipped KGSVD-Net, in NumPy) must run;
#   - the quick tests (QUICK below) must pass against the installed package (not src/).
# Prints each venv's size (light), and with FULL=1 also that of a venv with every extra.
# Usage: scripts/check_light.sh [VERSION ...]   (LIGHT_DIR: where the venvs go, default build/light)
set -euo pipefail
cd "$(dirname "$0")/.."

VERSIONS=("$@")
[ ${#VERSIONS[@]} -gt 0 ] || VERSIONS=(3.11 3.12 3.13)
WORK=${LIGHT_DIR:-build/light}
QUICK=(tests/test_light_install.py tests/test_dlpa.py tests/test_api.py tests/test_scenario_file.py
       tests/test_precoding.py tests/test_reduced.py tests/test_secrecy.py tests/test_sweep.py)

pip_quiet() {  # pip install -q, without the warnings of this machine's local package folders
    local py=$1; shift
    "$py" -m pip install -q "$@" 2> >(grep -v "^WARNING: Location 'file://" >&2)
}

find_python() {  # python$v on PATH, else a pyenv or /usr/local install of that version
    local v=$1 c
    for c in "python$v" "$(pyenv root 2>/dev/null || echo /nonexistent)"/versions/"$v"*/bin/python"$v" \
             /usr/local/bin/python"$v" /usr/bin/python"$v"; do
        if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys' >/dev/null 2>&1; then
            command -v "$c"; return 0
        fi
    done
    return 1
}

mkdir -p "$WORK"
rm -rf "$WORK/dist"
builder=$(find_python "${VERSIONS[0]}") || { echo "check-light: no Python ${VERSIONS[0]} found"; exit 2; }
"$builder" -m pip wheel -q --no-deps -w "$WORK/dist" . >/dev/null
wheel=$(ls "$WORK"/dist/nfkg-*.whl)
echo "check-light: built $(basename "$wheel") ($(du -k "$wheel" | cut -f1) KiB)"

for v in "${VERSIONS[@]}"; do
    py=$(find_python "$v") || { echo "check-light: no Python $v found"; exit 2; }
    venv="$WORK/py$v"
    rm -rf "$venv"
    "$py" -m venv "$venv"
    t0=$(date +%s)
    pip_quiet "$venv/bin/python" "$wheel"
    size=$(du -sm "$venv" | cut -f1)
    "$venv/bin/python" - <<'EOF'
import importlib.util, sys
import nfkg
found = [m for m in ("torch", "dask", "distributed", "xarray", "pyarrow") if importlib.util.find_spec(m)]
if found:
    sys.exit(f"check-light: the light install has {', '.join(found)}")
if "site-packages" not in nfkg.__file__:
    sys.exit(f"check-light: nfkg imported from {nfkg.__file__}, not the installed wheel")
EOF
    "$venv/bin/nfkg" evaluate examples/two_users.toml --scheme svd-dlpa >/dev/null
    pip_quiet "$venv/bin/python" pytest mpmath
    echo "check-light: Python $("$venv/bin/python" -c 'import platform; print(platform.python_version())')," \
         "light venv ${size} MB (install $(( $(date +%s) - t0 )) s); no torch, no Dask; quick tests:"
    "$venv/bin/python" -m pytest -p no:cacheprovider "${QUICK[@]}"
done

if [ "${FULL:-0}" = 1 ]; then  # a venv with every extra, for the size beside the light one
    py=$(find_python 3.11)
    venv="$WORK/full3.11"
    rm -rf "$venv"
    "$py" -m venv "$venv"
    pip_quiet "$venv/bin/python" -c constraints.txt "$wheel[all]"
    echo "check-light: full venv (nfkg[all], Python 3.11) $(du -sm "$venv" | cut -f1) MB"
fi
