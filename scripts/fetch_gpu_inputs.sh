#!/usr/bin/env bash
# Here, before a device run: the verified data files into .gpu-data/ and the pinned wheels (paperlib/gpu/wheels.txt)
# into .whl/ (both git-ignored, carried by the device command: README, "On a GPU"), then the dry run's checks.
# Without network or ../shared, each step names the file to provide and where to put it.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}  # the project's .venv here when there is one; the image's python3 on the device
[ -z "${PYTHON:-}" ] && [ -x .venv/bin/python ] && PY=.venv/bin/python
PYTHONPATH="$PWD" "$PY" -m paperlib.gpu stage-data >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
platforms=()
for p in manylinux_2_28 manylinux_2_27 manylinux_2_26 manylinux_2_24 manylinux_2_17 manylinux2014 manylinux1; do
  platforms+=(--platform "${p}_x86_64")
done
if ! "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    "${platforms[@]}" -d "$tmp" -r paperlib/gpu/wheels.txt; then
  echo "fetch_gpu_inputs: pip could not download the wheels pinned in paperlib/gpu/wheels.txt (no package index?):" \
       "provide each as a wheel for CPython 3.12 on manylinux x86_64 (or py3-none-any) in .whl/, then run" \
       "\`bash scripts/paper_on_gpu.sh --dry-run\`, which names any still missing" >&2
  exit 1
fi
rm -rf .whl && mkdir .whl && mv "$tmp"/*.whl .whl/
du -sh .whl .gpu-data
exec bash scripts/paper_on_gpu.sh --dry-run
