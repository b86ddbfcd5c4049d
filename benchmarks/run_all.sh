#!/usr/bin/env bash
# Run the three CPU benchmarks (benchmarks/bench_{loader,features,train}.py) with their default settings
# and keep their JSON beside the printed tables (`make bench` runs the same scripts).
#   benchmarks/run_all.sh [OUTDIR]        (default OUTDIR: benchmarks/out, not committed)
# Each bench runs its pipelines side by side in one process, so the ratios hold on a busy machine;
# still, run it when the CPU is otherwise idle (check `uptime`) for absolute rates worth quoting.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
OUT=${1:-benchmarks/out}
mkdir -p "$OUT"
export TQDM_DISABLE=1
{
  echo "# $(date -Is)  $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
  for bench in loader features train; do
    echo "\$ python benchmarks/bench_$bench.py"
    "$PY" "benchmarks/bench_$bench.py" --save "$OUT/$bench.json"
    echo
  done
} | tee "$OUT/tables.txt"
