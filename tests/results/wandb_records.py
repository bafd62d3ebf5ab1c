"""Records of an offline W&B run (``run-<id>.wandb``) for tests. wandb 0.31 dropped its Python reader; the file is
LevelDB's log format (32 KiB blocks of checksum/length/type-framed chunks) after a 7-byte ``:W&B`` header."""

from __future__ import annotations

import struct
from pathlib import Path

BLOCK = 32768
FULL, FIRST, MIDDLE, LAST = 1, 2, 3, 4


def records(path: Path):
    from wandb.proto import wandb_internal_pb2 as pb

    data = Path(path).read_bytes()
    assert data[:4] == b":W&B", "not a W&B run file"
    pos, pending = 7, b""
    while pos + 7 <= len(data):
        left = BLOCK - pos % BLOCK
        if left < 7:  # a block's tail too short for a header is padding
            pos += left
            continue
        _, length, kind = struct.unpack("<IHB", data[pos:pos + 7])
        chunk = data[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind == 0 and length == 0:
            continue
        pending = chunk if kind in (FULL, FIRST) else pending + chunk
        if kind in (FULL, LAST):
            record = pb.Record()
            record.ParseFromString(pending)
            yield record
            pending = b""


def summary_and_config(path: Path) -> tuple[dict[str, dict], dict[str, str], dict[str, int]]:
    """(metric name → its define_metric summary flags, config key → JSON value, record kind → count)."""
    import json

    metrics: dict[str, dict] = {}
    config: dict[str, str] = {}
    kinds: dict[str, int] = {}
    for record in records(path):
        kind = record.WhichOneof("record_type")
        kinds[kind] = kinds.get(kind, 0) + 1
        if kind == "metric" and record.metric.name:
            s = record.metric.summary
            metrics[record.metric.name] = {"min": s.min, "max": s.max, "last": s.last}
        elif kind == "config":
            for item in record.config.update:
                config[item.key or "/".join(item.nested_key)] = json.loads(item.value_json)
    return metrics, config, kinds
