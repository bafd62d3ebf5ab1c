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
    kind: str = "train"               # train | eval | predict | export (hydra's job name)
    task: str = "?"                   # task_name
    family: str = "?"                 # visiontrain.models.<family>.…, else the model class name
    seed: str | None = None

    def epochs(self) -> list[dict[str, float]]:
        """The rows of ``results.csv`` (one per epoch); empty for runs from before it existed."""
        from visiontrain.results.table import read_rows

        return read_rows(self.path / "results.csv")

    def values(self, metric: str) -> list[float]:
        return [row[metric] for row in self.epochs() if metric in row]


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
    config = _yaml(path / ".hydra" / "config.yaml", yaml)  # unresolved: interpolations stay strings
    recorded = record if metrics_file.is_file() else {}
    run.optimized_metric = _text(config.get("optimized_metric")) or _text(recorded.get("optimized_metric"))
    run.optimized_mode = _text(config.get("optimized_mode")) or _text(recorded.get("optimized_mode"))
    run.task = _text(config.get("task_name")) or _text(recorded.get("task_name")) or "?"
    run.seed = _text(run.overrides.get("seed", config.get("seed")))
    target = str((config.get("model") or {}).get("_target_", "")) if isinstance(config.get("model"), dict) else ""
    parts = target.split(".")
    run.family = parts[2] if target.startswith("visiontrain.models.") and len(parts) > 2 else (parts[-1] or "?")
    job = ((_yaml(path / ".hydra" / "hydra.yaml", yaml).get("hydra") or {}).get("job") or {}).get("name")
    run.kind = str(job) if job in ("train", "eval", "predict", "export") else (
        run.task if run.task in ("eval", "predict", "export") else "train")
    return run


def _yaml(path: Path, yaml) -> dict:
    if not path.is_file():
        return {}
    try:
        loaded = yaml.safe_load(path.read_text())
    except yaml.YAMLError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _text(value) -> str | None:
    """A config value as text; an interpolation (the family's default metric, ``${vt_family_metric:…}``) is not
    known from the saved config: None (metrics.json records the resolved value)."""
    return None if value is None or str(value).startswith("${") else str(value)


def load_runs(paths: Sequence[str | Path]) -> list[Run]:
    return [read_run(p) for p in find_run_dirs(paths)]
