#!/usr/bin/env bash
# The short check for a lent GPU machine (one H100 or H200, 16 cores, no network): about 5-6 minutes.
#   OUT=DIR benchmarks/gpu_check.sh            (default OUT: ./gpu-out; run from anywhere in the repo)
# 1. installs the package without its dependencies (`pip install -e . --no-deps`, no build isolation: no
#    network there), and any wheels carried in .whl/ (simplejpeg, say) into /tmp/site;
# 2. checks the imports and prints what is missing (without simplejpeg the cpu_workers path decodes with
#    Pillow, images.decode's fallback: a little slower per image than the course's usual CPU path);
# 3. python -m pytest tests/test_gpu_input.py -q -rs     (its CUDA tests run where gpu_input.available);
# 4. benchmarks/bench_gpu.py at small settings, both input paths, all 5 variants (~4 minutes on an H100),
#    JSON in $OUT/gpu-<UTC date>.json and the tables in $OUT/gpu-<UTC date>.txt.
# Everything printed also goes to $OUT/gpu_check.log. After the run, copy the JSON to
# benchmarks/results/gpu-<date>.json and commit it. Knobs: PY (python), TEST_TIMEOUT (s, default 120),
# BENCH_TIMEOUT (s, default 400), BENCH_ARGS (extra bench flags, e.g. "--variants resnet18_gap").
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export PYTHONUNBUFFERED=1 TQDM_DISABLE=1
OUT=${OUT:-./gpu-out}
mkdir -p "$OUT" || exit 1
PY=${PY:-$(command -v python || command -v python3)}
DATE=$(date -u +%F)
JSON="$OUT/gpu-$DATE.json"

{
  status=0
  echo "# gpu_check.sh  $(date -u -Is)  $(nproc) cores  python: $PY  commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 || echo "nvidia-smi: not found"

  echo; echo "## install"
  if compgen -G ".whl/*.whl" >/dev/null; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
      && export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH} && echo "installed into /tmp/site: $(ls .whl)"
  fi
  "$PY" -m pip install -q -e . --no-deps --no-build-isolation \
    || echo "pip install -e . failed: importing wikiart_utils from the repository root instead"
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

  echo; echo "## imports"
  "$PY" - <<'EOF' || exit 1
import importlib
needed = ["torch", "torchvision", "numpy", "pandas", "PIL", "sklearn", "tqdm", "pytest", "wikiart_utils",
          "wikiart_utils.gpu_input"]
optional = ["simplejpeg", "matplotlib", "seaborn"]
missing = {}
for name in needed + optional:
    try:
        importlib.import_module(name)
    except Exception as exc:
        missing[name] = f"{type(exc).__name__}: {exc}"
for name, why in missing.items():
    print(f"missing: {name} ({why})" + (" (optional)" if name in optional else ""))
if "simplejpeg" in missing:
    print("  -> the cpu_workers path decodes with Pillow here (a little slower): carry a simplejpeg wheel in .whl/")
if set(missing) & set(needed):
    raise SystemExit("cannot run the check without: " + ", ".join(sorted(set(missing) & set(needed))))
import torch, torchvision
from wikiart_utils import gpu_input
print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, CUDA {torch.version.cuda}, "
      f"cuda available {torch.cuda.is_available()}, "
      f"{torch.cuda.get_device_name() if torch.cuda.is_available() else 'no GPU'}; "
      f"gpu_input.available('cuda') = {gpu_input.available('cuda')}")
print("all imports found" if not missing else "the needed imports are found")
EOF

  echo; echo "## python -m pytest tests/test_gpu_input.py -q -rs"
  timeout "${TEST_TIMEOUT:-120}" "$PY" -m pytest tests/test_gpu_input.py -q -rs || { status=1; echo "tests: FAILED or timed out"; }

  echo; echo "## bench_gpu.py"
  # ~4 min on an H100 for the 5 variants: model only 4 configs x >= 1 s each; loader only 2 paths x 2 dirs x
  # 2 worker counts; end to end the same 8 runs per variant (15 workers: 16 + 120 batches; 2 workers: 3 + 24)
  # shellcheck disable=SC2086  # BENCH_ARGS is split on purpose
  timeout "${BENCH_TIMEOUT:-400}" "$PY" benchmarks/bench_gpu.py --image-size 224 --batch-size 64 --steps 10 \
    --n 256 --loader-batches 24 --save "$JSON" ${BENCH_ARGS:-} || { status=1; echo "bench: FAILED or timed out"; }
  if [ -s "$JSON" ]; then
    "$PY" -c "import json, sys; from benchmarks import bench_gpu; print(bench_gpu.format_gpu(json.load(open(sys.argv[1]))))" \
      "$JSON" > "$OUT/gpu-$DATE.txt" || status=1
    echo; echo "saved: $JSON, $OUT/gpu-$DATE.txt (copy the JSON to benchmarks/results/gpu-$DATE.json and commit it)"
  fi
  echo "# gpu_check.sh done $(date -u -Is), status $status"
  exit $status
} 2>&1 | tee "$OUT/gpu_check.log"
exit "${PIPESTATUS[0]}"
