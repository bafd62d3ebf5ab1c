"""Finding and reading run directories (the run-dir contract) for vt-compare and vt-sync."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Run:
    path: Path
    status: str = "running"           # no metrics.json yet: still running, or killed hard
    metrics: dict[str, float] = field(default_factory=dict)
    overrides: dict[str, str] = field(default_factory=dict)
    duration_s: float | None = None
    error: str | None = None
    optimized_metric: str | None = None
    optimized_mode: str | None = None


def is_run_dir(path: Path) -> bool:
    return (path / "metrics.json").is_file() or (path / ".hydra" / "config.yaml").is_file()


def find_run_dirs(paths: Iterable[str | Path]) -> list[Path]:
    found: dict[Path, None] = {}
    for root in map(Path, paths):
        root = root.resolve()
        if is_run_dir(root):
            found[root] = None
            continue
        for marker in sorted([*root.rglob("metrics.json"), *root.rglob(".hydra/config.yaml")]):
            run = marker.parent if marker.name == "metrics.json" else marker.parent.parent
            if "wandb" not in run.parts and "checkpoints" not in run.parts:
                found[run] = None
    return list(found)


def read_run(path: Path) -> Run:
    import yaml

    run = Run(path)
    metrics_file = path / "metrics.json"
    if metrics_file.is_file():
        try:
            record = json.loads(metrics_file.read_text())
        except json.JSONDecodeError:
            record = {"status": "unreadable"}
        run.status = str(record.get("status", "unknown"))
        run.metrics = {k: float(v) for k, v in (record.get("metrics") or {}).items() if v is not None}
        run.duration_s = record.get("duration_s")
        run.error = record.get("error")
    overrides = path / ".hydra" / "overrides.yaml"
    if overrides.is_file():
        for item in yaml.safe_load(overrides.read_text()) or []:
            key, _, value = str(item).partition("=")
            run.overrides[key.lstrip("+~")] = value
    config = path / ".hydra" / "config.yaml"
    if config.is_file():
        # only two top-level keys are needed: a line scan avoids resolving interpolations
        for line in config.read_text().splitlines():
            value = line.split(":", 1)[1].strip().strip("'\"") if ":" in line else ""
            if value.startswith("${"):  # the model family's default (an interpolation): not known from here
                continue
            if line.startswith("optimized_metric:"):
                run.optimized_metric = value
            elif line.startswith("optimized_mode:"):
                run.optimized_mode = value
    return run


def load_runs(paths: Sequence[str | Path]) -> list[Run]:
    return [read_run(p) for p in find_run_dirs(paths)]
