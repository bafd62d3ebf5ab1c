"""Start-up checks of every sample (e.g. decoding each segmentation mask), with progress and a cache.

A large dataset's check can take minutes and showed nothing. Here it logs a progress line every ``every_s`` seconds,
and each sample's result is kept in a cache keyed by its files' paths, sizes and mtimes (and by what the check
depends on, e.g. the class count): the second run re-checks only new or changed files and starts at once.
The cache lives in ``$VT_CACHE_DIR`` (default ``~/.cache/visiontrain/checks``), not beside the data, which may be
read-only.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

log = logging.getLogger("visiontrain.data")


def cache_dir() -> Path:
    return Path(os.environ.get("VT_CACHE_DIR") or Path.home() / ".cache" / "visiontrain" / "checks")


def _stamp(paths: Sequence[str]) -> list | None:
    """[size, mtime_ns] of each file, or None when one is not a file (then the result is not cached)."""
    out = []
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            return None
        out += [st.st_size, st.st_mtime_ns]
    return out


def check_samples(files: Sequence[Sequence[str]], check: Callable[[int], str | None], what: str,
                  depends_on: Sequence = (), every_s: float = 10.0) -> list[str | None]:
    """``check(i)`` for every sample ``i`` (its files: ``files[i]``), reusing cached results of unchanged files."""
    keys = ["|".join(map(str, f)) for f in files]
    digest = hashlib.sha1(json.dumps([what, list(map(str, depends_on)), sorted(set(keys))[:1], len(keys)])
                          .encode()).hexdigest()[:16]
    path = cache_dir() / f"{what.replace(' ', '_')}-{digest}.json"
    try:
        cached = json.loads(path.read_text())
    except (OSError, ValueError):
        cached = {}
    results: list[str | None] = []
    fresh: dict[str, list] = {}
    start = last = time.monotonic()
    checked = 0
    for i, (key, sample_files) in enumerate(zip(keys, files)):
        stamp = _stamp(sample_files)
        entry = cached.get(key)
        if stamp is not None and entry is not None and entry[0] == stamp:
            result = entry[1]
        else:
            result = check(i)
            checked += 1
        if stamp is not None:
            fresh[key] = [stamp, result]
        results.append(result)
        now = time.monotonic()
        if now - last >= every_s:
            last = now
            rate = (i + 1) / (now - start)
            log.info(f"{what}: {i + 1}/{len(files)} ({rate:.0f}/s, ETA {(len(files) - i - 1) / rate:.0f} s)")
    took = time.monotonic() - start
    log.info(f"{what}: {len(files)} samples in {took:.1f} s ({checked} checked, {len(files) - checked} unchanged "
             "since the last run)")
    if checked or len(fresh) != len(cached):
        _write(path, fresh)
    return results


def _write(path: Path, entries: dict) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(entries))
        os.replace(tmp, path)  # DDP ranks and parallel jobs may write the same cache: never half a file
    except OSError as exc:  # a read-only home: checking again next time is all it costs
        log.debug(f"check cache not written ({exc})")
