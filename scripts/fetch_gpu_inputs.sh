#!/usr/bin/env bash
# Here, before a device run: the pinned wheels (paperlib/gpu/wheels.txt) into .whl/ and the verified data files into
# .gpu-data/ (both git-ignored, carried by the device command: README, "On a GPU"), then the dry run's checks.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}  # the project's .venv here when there is one; the image's python3 on the device
[ -z "${PYTHON:-}" ] && [ -x .venv/bin/python ] && PY=.venv/bin/python
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
platforms=()
for p in manylinux_2_28 manylinux_2_27 manylinux_2_26 manylinux_2_24 manylinux_2_17 manylinux2014 manylinux1; do
  platforms+=(--platform "${p}_x86_64")
done
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp "${platforms[@]}" \
  -d "$tmp" -r paperlib/gpu/wheels.txt
rm -rf .whl && mkdir .whl && mv "$tmp"/*.whl .whl/
PYTHONPATH="$PWD" "$PY" -m paperlib.gpu stage-data >/dev/null
du -sh .whl .gpu-data
exec bash scripts/paper_on_gpu.sh --dry-run
