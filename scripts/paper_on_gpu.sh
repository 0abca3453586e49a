#!/usr/bin/env bash
# The paper profile on one GPU, in priority order and resumable across commands (README, "On a GPU").
#   bash scripts/paper_on_gpu.sh --dry-run [--mfu F | --throughput FILE]   the plan, predicted minutes, checks (CPU)
#   bash scripts/paper_on_gpu.sh --minutes N [--stages 1,4]   on the device: run the stages (all, or those named)
#                                               until N minutes are nearly spent, then pack gpu-run/ into $OUT (at
#                                               most 8 files of 16 MiB)
#   bash scripts/paper_on_gpu.sh --unpack DIR   here: a returned pack into gpu-carry/, which the next command carries
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}  # the project's .venv here when there is one; the image's python3 on the device
[ -z "${PYTHON:-}" ] && [ -x .venv/bin/python ] && PY=.venv/bin/python
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
case "${1:-}" in
  --dry-run) shift; exec "$PY" -m paperlib.gpu dry-run "$@" ;;
  --unpack) shift; exec "$PY" -m paperlib.gpu unpack "$@" ;;
  --minutes) minutes=${2:-}; shift; shift ;;
  *) echo "usage: $0 --dry-run [options] | --minutes N [--stages LIST] | --unpack DIR" >&2; exit 2 ;;
esac
if ! [[ $minutes =~ ^[0-9]+$ ]] || (( minutes < 3 )); then
  echo "paper_on_gpu: --minutes needs a whole number of minutes, at least 3 (got '$minutes')" >&2; exit 2
fi
: "${OUT:?paper_on_gpu: OUT must name the folder that comes back from the device}"
start=$(date +%s)
stop=$((start + minutes * 60 - 40))  # the runs stop here; the last 40 s pack
# The carried wheels, installed offline when the image lacks papermill (seconds; kept in TMPDIR while warm).
site="${TMPDIR:-/tmp}/paperlib-site"
if ! PYTHONPATH="$PYTHONPATH:$site" "$PY" -c "import papermill, ipykernel, myst_nb" 2>/dev/null; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" .whl/*.whl \
    || exit 1
fi
export PYTHONPATH="$PYTHONPATH:$site"
# The carried files (the log among them) go into gpu-run/ before this command appends to its log: history kept.
mkdir -p gpu-run
seeded=$("$PY" -m paperlib.gpu seed) || exit 1
{
  echo "paper_on_gpu: ready after $(( $(date +%s) - start )) s; the runs stop by $(date -u -d "@$stop" +%H:%M:%S) UTC"
  echo "$seeded"
  timeout -k 15 $((stop - $(date +%s))) "$PY" -m paperlib.gpu run --until "$stop" "$@"
} 2>&1 | tee -a gpu-run/log.txt
rc=${PIPESTATUS[0]}
"$PY" -m paperlib.gpu pack --to "$OUT"
exit "$rc"
