"""Test callback: resident memory (this process plus its DataLoader workers, from /proc) at every train epoch end,
and the worker start method, written to ``<out>``."""

import json
import multiprocessing
import os
from pathlib import Path

import pytorch_lightning as pl


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


class RssPerEpoch(pl.Callback):
    def __init__(self, out: str) -> None:
        self.out = Path(out)
        self.records: list[dict] = []

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        workers = _children(os.getpid())
        self.records.append({"epoch": trainer.current_epoch, "main_kib": _rss_kib(os.getpid()),
                             "workers_kib": sum(_rss_kib(p) for p in workers if Path(f"/proc/{p}").exists()),
                             "workers": len(workers), "start_method": multiprocessing.get_start_method()})
        self.out.write_text(json.dumps(self.records))
