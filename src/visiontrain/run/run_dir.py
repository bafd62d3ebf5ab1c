"""The run directory contract: ``metrics.json`` at the end of every run, failed ones included."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Mapping


def to_float_metrics(metrics: Mapping[str, Any]) -> dict[str, float]:
    """Flat name → float; tensors become numbers, non-scalars are left out."""
    out: dict[str, float] = {}
    for name, value in metrics.items():
        try:
            number = float(value.item() if hasattr(value, "item") else value)
        except (TypeError, ValueError, RuntimeError):
            continue
        out[str(name)] = number
    return dict(sorted(out.items()))


def write_metrics_json(
    run_dir: str | Path,
    status: str,
    metrics: Mapping[str, Any],
    best_model_path: str | None,
    duration_s: float,
    error: str | None = None,
    optimized: Mapping[str, str] | None = None,
) -> Path:
    record: dict[str, Any] = {
        "status": status,
        "metrics": {k: (v if math.isfinite(v) else None) for k, v in to_float_metrics(metrics).items()},
        "best_model_path": best_model_path or None,
        "duration_s": round(duration_s, 3),
    }
    if error is not None:
        record["error"] = error
    record.update(optimized or {})  # optimized_metric/mode as resolved: the saved config may hold the family default
    path = Path(run_dir) / "metrics.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=2) + "\n")
    os.replace(tmp, path)  # readers (vt-compare, sweepers) never see a half-written file
    return path


def read_metrics_json(run_dir: str | Path) -> dict[str, Any]:
    return json.loads((Path(run_dir) / "metrics.json").read_text())
