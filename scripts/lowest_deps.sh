#!/usr/bin/env bash
# Install every direct requirement of visiontrain[test] at its lowest allowed version (the ">=" floors in
# pyproject.toml) into a new venv, check it, and run the fast tests. Not run by CI (see docs/dependencies.md).
#   scripts/lowest_deps.sh              # torch/torchvision at their floors too (torch 2.4 from PyPI: ~2 GB + CUDA)
#   KEEP_TORCH=1 scripts/lowest_deps.sh # every other floor, with the torch already installable here
#   PYTEST_ARGS="tests/sweeps" scripts/lowest_deps.sh   # only some tests
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-/tmp/vt-lowest}
python3 -m venv --clear "$VENV"
# name==floor for each "name>=floor" requirement of the core and the extras that [test] pulls in
python3 - "${KEEP_TORCH:-0}" > "$VENV/lowest.txt" <<'PY'
import re, sys, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
reqs = list(project["dependencies"])
for extra in ("sweeps", "dashboard", "test"):
    reqs += project["optional-dependencies"][extra]
for req in reqs:
    m = re.match(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?\s*>=\s*([0-9][^,;\s]*)", req)
    if m and m.group(1) != "visiontrain" and not (sys.argv[1] == "1" and m.group(1) in ("torch", "torchvision")):
        print(f"{m.group(1)}=={m.group(2)}")
PY
echo "lowest versions:"; cat "$VENV/lowest.txt"
start=$(date +%s)
"$VENV/bin/pip" install -q -c "$VENV/lowest.txt" -e ".[test]"
"$VENV/bin/pip" check
echo "install: $(( $(date +%s) - start )) s"
NO_ALBUMENTATIONS_UPDATE=1 WANDB_MODE=offline # shellcheck disable=SC2086  # PYTEST_ARGS: several words
"$VENV/bin/python" -m pytest -q -x ${PYTEST_ARGS:-}
echo "install + fast tests: $(( $(date +%s) - start )) s"
