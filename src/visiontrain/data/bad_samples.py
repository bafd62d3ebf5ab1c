"""One policy for unusable samples, whatever the reader (``data.on_bad_sample``).

``error`` (default): the first bad sample stops the run with one line naming its file and the problem.
``skip``: the sample is left out and counted. Problems found while indexing (missing or unreadable image headers,
bad label lines, NaN or outside boxes, unknown classes, wrong mask sizes) are summarised when training starts and
listed in ``<run dir>/bad_samples.txt``; pixels that only fail when decoded (a truncated JPEG) are skipped when
loaded, logged with the file name and appended to the same list (from DataLoader workers too).
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from pathlib import Path
from collections.abc import Callable
from typing import Any

from visiontrain.errors import ConfigError, DataError

log = logging.getLogger(__name__)

POLICIES = ("error", "skip")
LIST_FILE = "bad_samples.txt"
HINT = "data.on_bad_sample=skip leaves such samples out"


def check_policy(value: str) -> str:
    value = "error" if value == "raise" else value  # the segmentation configs' older spelling
    if value not in POLICIES:
        raise ConfigError(f"data.on_bad_sample: '{value}' is not a valid choice; valid choices: {', '.join(POLICIES)}")
    return value


class BadSamples:
    """Raises or counts bad samples; ``lines`` are one-line problems naming the file."""

    def __init__(self, policy: str = "error") -> None:
        self.policy = check_policy(policy)
        self.counts: Counter = Counter()  # reason → number of samples left out while indexing
        self.lines: list[str] = []
        self.run_dir: str | None = None  # where load-time skips are appended (set by ``report``)
        self._seen_at_load: set[str] = set()  # per process: each file is logged once

    @property
    def skip(self) -> bool:
        return self.policy == "skip"

    def add(self, problem: str, reason: str) -> None:
        """One bad sample found while indexing: raise (error) or count it (skip)."""
        if not self.skip:
            raise DataError(f"{problem} ({HINT})")
        self.counts[reason] += 1
        self.lines.append(problem)

    def guard(self, reason: str, fn: Callable[..., Any], *args: Any) -> Any:
        """``fn(*args)``, or None when it raised a DataError and the policy is skip."""
        try:
            return fn(*args)
        except DataError as exc:
            self.add(str(exc), reason)
            return None

    def summary(self) -> str:
        return ", ".join(f"{n} {reason}" for reason, n in sorted(self.counts.items()))

    def report(self, trainer: Any = None) -> None:
        """Log the summary and write the list to the run dir (the trainer's ``default_root_dir``), on rank zero."""
        if trainer is not None:
            if self.run_dir == str(trainer.default_root_dir):
                return  # setup runs again for test/predict: the list already holds what workers appended since
            self.run_dir = str(trainer.default_root_dir)
        if not self.counts or (trainer is not None and not trainer.is_global_zero):
            return
        where = ""
        if self.run_dir:
            path = Path(self.run_dir) / LIST_FILE
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(f"{line}\n" for line in self.lines), encoding="utf-8")
            where = f"; all listed in {path}"
        log.warning(f"skipped {len(self.lines)} unusable samples (data.on_bad_sample=skip): {self.summary()}; "
                    f"first: {self.lines[0]}{where}")

    def skipped_at_load(self, problem: str) -> None:
        """A sample whose pixels failed to decode was replaced (skip); runs in DataLoader workers too."""
        if problem in self._seen_at_load:
            return
        self._seen_at_load.add(problem)
        log.warning(f"skipped while loading (data.on_bad_sample=skip): {problem}")
        if self.run_dir:
            Path(self.run_dir).mkdir(parents=True, exist_ok=True)
            # one O_APPEND write per line: lines from several worker processes do not interleave
            fd = os.open(Path(self.run_dir) / LIST_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, f"{problem}\n".encode())
            finally:
                os.close(fd)


def load_or_skip(n: int, i: int, load: Callable[[int], Any], bad: BadSamples) -> Any:
    """``load(i)``; with skip, an item that fails to decode is replaced by the next one that loads."""
    for attempt in range(max(n, 1)):
        try:
            return load((i + attempt) % n)
        except DataError as exc:
            if not bad.skip:
                raise
            bad.skipped_at_load(str(exc))
    raise DataError(f"all {n} samples of this split failed to load (see the warnings above)")


def require_nonempty(splits: dict, source: Any, bad: BadSamples) -> None:
    """An empty split stops the run at setup, not later as a metric that never appears."""
    for name, idx in splits.items():
        if len(idx) == 0:
            left_out = f" after {len(bad.lines)} bad samples were skipped" if bad.lines else ""
            raise DataError(f"{describe_source(source)}: the '{name}' split has no samples{left_out}")


def describe_source(source: Any) -> str:
    for attr in ("root", "data_yaml", "annotation_file"):
        if getattr(source, attr, None) is not None:
            return str(getattr(source, attr))
    return type(source).__name__
