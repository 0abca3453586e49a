#!/usr/bin/env bash
# Create .venv with the pinned CPU torch first (an unpinned torch would pull GBs of CUDA wheels),
# then the package with its book and test extras. Idempotent: reruns only fill in what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q "torch==2.13.0"
.venv/bin/python -m pip install -q -e ".[book,test]"
.venv/bin/python -c "import torch, paperlib; print('torch', torch.__version__, '| paperlib', paperlib.__version__)"
