"""Run and output directories that cannot be written are found before any work, as one line.

As a Hydra callback (``hydra.callbacks``) it runs before Hydra creates the run dir, which would otherwise fail
with a traceback; ``unwritable`` is also called by every entry point for the dirs the run itself writes to."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

try:
    from hydra.experimental.callback import Callback
except ImportError:  # pragma: no cover
    Callback = object


def problem_with(path: str | Path, what: str) -> str | None:
    """Why ``path`` (a directory, created if missing) cannot hold files, or None. Creates nothing that is not
    needed anyway: missing parents are checked, not made."""
    path = Path(path).expanduser().absolute()
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return f"{what} {path} cannot be created: {existing} is a file, not a folder"
    if not os.access(existing, os.W_OK | os.X_OK):
        return f"{what} {path} cannot be written: no write permission in {existing}"
    if existing == path:
        try:  # os.access says yes for root, also on a read-only mount: try it
            with tempfile.TemporaryFile(dir=path):
                pass
        except OSError as exc:
            return f"{what} {path} cannot be written ({exc.strerror or type(exc).__name__})"
    return None


def unwritable(cfg: Any) -> str | None:
    """The first of the run's own output dirs (run dir, checkpoint dir) that cannot be written."""
    dirs = [("run directory", (cfg.get("paths") or {}).get("output_dir"))]
    checkpoint = ((cfg.get("callbacks") or {}).get("model_checkpoint") or {})
    dirs.append(("checkpoint directory", checkpoint.get("dirpath") if hasattr(checkpoint, "get") else None))
    for what, path in dirs:
        if path:
            found = problem_with(str(path), what)
            if found:
                return found
    return None


def _refuse(found: str) -> None:
    print(f"error: {found} (choose another with hydra.run.dir=… or paths.log_dir=…)", file=sys.stderr)
    raise SystemExit(1)


class CheckRunDirWritable(Callback):
    def on_run_start(self, config: Any, **kwargs: Any) -> None:
        found = problem_with(str(config.hydra.run.dir), "run directory")
        if found:
            _refuse(found)

    def on_multirun_start(self, config: Any, **kwargs: Any) -> None:
        found = problem_with(str(config.hydra.sweep.dir), "multirun directory")
        if found:
            _refuse(found)
