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
# Debian's chromium for the test suite's headless check of the built book (never a browser downloaded from
# elsewhere: no `playwright install`). Only when missing; `apt-get update` only when the install needs it.
if [ ! -x /usr/bin/chromium ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    apt_log=$(mktemp)
    apt_install() {
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-liberation
    }
    if ! { apt_install || { $SUDO apt-get update -qq && apt_install; }; } >"$apt_log" 2>&1; then
        cat "$apt_log" >&2; rm -f "$apt_log"; echo "install.sh: could not install Debian's chromium" >&2; exit 1
    fi
    rm -f "$apt_log"
fi
.venv/bin/python -c "import torch, paperlib; print('torch', torch.__version__, '| paperlib', paperlib.__version__)"
