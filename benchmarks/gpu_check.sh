#!/usr/bin/env bash
# The GPU rows of benchmarks/README.md in one run (under 10 minutes on one GPU): the three networks' images/s and
# peak memory (gpu_networks.py), then the framework against the hand-written loop on the GPU (framework_overhead.py,
# frcnn_step.py at 800 px). Ultralytics is not run here: add yolo_vs_ultralytics.py where it is installed.
# PYTHON: an interpreter with the project's dependencies (default: python); src/ goes on PYTHONPATH, so a machine
# that has torch, torchvision, Lightning and torchmetrics needs only hydra-core, omegaconf and antlr4-python3-runtime
# (pure Python) besides. Output also goes to ${OUT:-/tmp}/gpu_check.log.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export NO_ALBUMENTATIONS_UPDATE=1 WANDB_MODE=disabled
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  timeout 300 "$PY" benchmarks/gpu_networks.py --device cuda
  timeout 120 "$PY" benchmarks/framework_overhead.py --device cuda --repeats 5 --steps 200
  timeout 150 "$PY" benchmarks/frcnn_step.py --device cuda --size 800 --batch 4 --steps 10 --repeats 3
} 2>&1 | tee "${OUT:-/tmp}/gpu_check.log"
