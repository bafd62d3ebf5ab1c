"""Sweeps and DDP together.

Lightning starts DDP ranks > 0 by re-running the command line. Under ``-m`` that command line is the whole sweep:
rank 1 would start its own multirun (and under Optuna sample other hyperparameters). So each sweep job publishes
its own overrides and run dir in the environment before training; a rank > 0 started from it replaces the sweep
command line with exactly that one job.
"""

from __future__ import annotations

import json
import os
import sys
import threading

ENV_VAR = "VT_DDP_JOB_ARGS"
# Variables Lightning's launcher sets in the parent process; those that a cluster (Slurm, torchrun) set before we
# started are theirs and stay.
_LAUNCHER_VARS = ("MASTER_ADDR", "MASTER_PORT", "NODE_RANK", "LOCAL_RANK", "WORLD_SIZE")
_SET_AT_START = {name for name in _LAUNCHER_VARS if name in os.environ}


def publish_job_for_ddp_ranks() -> None:
    """In a multirun job: tell the DDP ranks Lightning is about to start which single job to run."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    hc = HydraConfig.get()
    if hc.mode != RunMode.MULTIRUN:
        os.environ.pop(ENV_VAR, None)
        return
    args = [*hc.overrides.task, f"hydra.run.dir={_quote(hc.runtime.output_dir)}"]
    os.environ[ENV_VAR] = json.dumps(args)


def rewrite_argv_for_ddp_rank() -> None:
    """In a DDP rank > 0 launched from a sweep job: run that job alone, not the sweep."""
    args = os.environ.get(ENV_VAR)
    rank = int(os.environ.get("LOCAL_RANK", "0") or 0)
    if not args or rank == 0:
        return
    # hydra.mode=RUN: an hparams_search config sets MULTIRUN, which would start a second search in this rank
    sys.argv = [sys.argv[0], *json.loads(args), "hydra.mode=RUN", "hydra.output_subdir=null",
                f"hydra.job.name=train_ddp_process_{rank}"]


def started_for_sweep_job() -> bool:
    """True in a DDP rank > 0 that runs one job of a sweep (see ``rewrite_argv_for_ddp_rank``)."""
    return bool(os.environ.get(ENV_VAR)) and int(os.environ.get("LOCAL_RANK", "0") or 0) > 0


def end_process_group(wait_for_peers: bool = False) -> None:
    """After a sweep job: close its process group and forget the launcher's variables, so that the next job's DDP
    launches its own ranks on a fresh port instead of waiting for the dead ones.

    ``wait_for_peers`` (a job that finished on every rank): all ranks meet at a barrier before any closes its
    connections, and rank 0 waits until Lightning has seen its child ranks exit. Without this a rank still shutting
    down could lose its peer, exit non-zero, and Lightning's watcher of that job would SIGKILL the whole sweep
    while the next job trains."""
    if "torch" in sys.modules:
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            if wait_for_peers and dist.get_world_size() > 1:
                dist.barrier()
            dist.destroy_process_group()
    if wait_for_peers:
        _wait_for_child_ranks()
    for name in _LAUNCHER_VARS:
        if name not in _SET_AT_START:
            os.environ.pop(name, None)


def _wait_for_child_ranks(timeout_s: float = 60.0) -> None:
    # Lightning's launcher watches the ranks it started in a thread of this name; it ends once they all exit 0.
    for thread in threading.enumerate():
        if thread.name == "child-process-observer":
            thread.join(timeout_s)


def _quote(value: str) -> str:
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"
