"""What every entry point does around its task: validate, run, write metrics.json, end W&B, report one-line errors."""

from __future__ import annotations

import logging
import math
import sys
import time
from typing import Any, Callable, Mapping

from omegaconf import DictConfig

from visiontrain.config.quick_check import quick_check
from visiontrain.config.validation import validate_config
from visiontrain.errors import find_user_error, one_line
from visiontrain.families.config import apply_family_defaults
from visiontrain.run.ddp_sweep import end_process_group, publish_job_for_ddp_ranks, started_for_sweep_job
from visiontrain.run.ranks import is_rank_zero
from visiontrain.run.run_dir import to_float_metrics, write_metrics_json
from visiontrain.run.stop_reason import metrics_so_far, stop_signal
from visiontrain.run.wandb_setup import choose_wandb_mode, report_and_finish
from visiontrain.run.writable import unwritable

log = logging.getLogger("visiontrain")

TaskResult = tuple[Mapping[str, Any], "str | None"]


def uses_wandb(cfg: DictConfig) -> bool:
    loggers = cfg.get("logger") or {}
    return any("Wandb" in str(node.get("_target_", "")) for node in loggers.values()
               if isinstance(node, DictConfig) and not node._is_none())


def in_multirun() -> bool:
    try:
        from hydra.core.hydra_config import HydraConfig
        from hydra.types import RunMode

        return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN
    except Exception:  # HydraConfig set without a mode (tests composing configs)
        return False


def failure_value(cfg: DictConfig) -> float:
    """What a failed sweep job reports: ``failure_value``, else the worst finite value for ``optimized_mode``."""
    if cfg.get("failure_value") is not None:
        return float(cfg.failure_value)
    return -1.0e9 if cfg.get("optimized_mode", "max") == "max" else 1.0e9


def best_monitored(trainer: Any) -> dict[str, float]:
    """``{"best/<metric>": score}`` from the checkpoint callback that monitors a metric, if it has a score."""
    ckpt = getattr(trainer, "checkpoint_callback", None)
    score = getattr(ckpt, "best_model_score", None)
    return {f"best/{ckpt.monitor}": float(score)} if ckpt is not None and ckpt.monitor and score is not None else {}


def sweep_value(cfg: DictConfig, metrics: Mapping[str, float]) -> float | None:
    """What a sweeper gets: ``optimized_metric`` at its best epoch (``sweep_value=best``, from the checkpoint
    callback monitoring it) or at the last one (``sweep_value=last``)."""
    name = str(cfg.get("optimized_metric"))
    if cfg.get("sweep_value", "best") == "best" and f"best/{name}" in metrics:
        return metrics[f"best/{name}"]
    return metrics.get(name)


def run_job(cfg: DictConfig, task: Callable[[DictConfig], TaskResult]) -> float | None:
    """Run ``task(cfg)`` and honour the run-directory contract. Returns ``cfg.optimized_metric`` for sweepers;
    in a sweep a failed job reports ``failure_value`` and the sweep goes on, unless ``on_failure=raise``."""
    start = time.monotonic()
    run_dir = cfg.paths.output_dir
    metrics: Mapping[str, Any] = {}
    best: str | None = None
    sweeping = in_multirun()
    unwritable_dir = unwritable(cfg)
    if unwritable_dir:  # before any work, and before the failure handler tries to write metrics.json there
        print(f"error: {unwritable_dir}", file=sys.stderr)
        raise SystemExit(1)
    try:
        apply_family_defaults(cfg)  # the model family's metric/mode for null, its datamodule for data it adopts
        quick_check(cfg)  # a typo answered before torch is imported; full validation follows
        validate_config(cfg)
        if sweeping:
            publish_job_for_ddp_ranks()
        if uses_wandb(cfg):
            choose_wandb_mode()
        if is_rank_zero():
            log.info(f"Run directory: {run_dir}")
        metrics, best = task(cfg)
        value = sweep_value(cfg, to_float_metrics(metrics))
        if sweeping and value is not None and not math.isfinite(value):
            raise FloatingPointError(f"{cfg.optimized_metric} is {value}")
    except BaseException as exc:  # KeyboardInterrupt and SystemExit too: a failed run still gets its metrics.json
        user_error = find_user_error(exc)
        stopped_by = stop_signal(exc)  # SIGTERM: Lightning's SystemExit(None), exit code 0; SIGINT: SystemExit(1)
        interrupted = stopped_by is not None
        message = f"stopped by {stopped_by} (last.ckpt saved; resume=auto continues)" if interrupted else one_line(
            user_error or exc)
        if is_rank_zero():
            write_metrics_json(run_dir, "interrupted" if interrupted else "failed", metrics or metrics_so_far(exc),
                               best, time.monotonic() - start, error=message, optimized=_optimized(cfg))
        _finish_wandb()
        if sweeping:
            end_process_group()
        if interrupted:  # preempted or cancelled: the whole job (sweep included) ends, non-zero so Slurm sees it
            print(f"error: {message}", file=sys.stderr)
            raise SystemExit(143 if stopped_by == "SIGTERM" else 130) from None
        if sweeping and cfg.get("on_failure", "continue") == "continue" and isinstance(exc, Exception):
            log.error(f"Job failed: {message} (reported {failure_value(cfg)}; on_failure=raise stops the sweep)")
            return failure_value(cfg)
        if user_error is not None or sweeping:  # in a sweep, SystemExit stops it at once (Hydra goes on otherwise)
            print(f"error: {message}", file=sys.stderr)
            raise SystemExit(1) from None
        raise
    from visiontrain.callbacks.optuna_pruning import (
        take_pruned_epoch,  # (Lightning: loaded by the task by now)
    )

    pruned_at = take_pruned_epoch()  # a search's pruner stopped it early: the sweeper reads this status
    if is_rank_zero():
        path = write_metrics_json(run_dir, "finished" if pruned_at is None else "pruned", metrics, best,
                                  time.monotonic() - start, optimized=_optimized(cfg))
        shown = ", ".join(f"{k}={v:.4f}" for k, v in to_float_metrics(metrics).items() if "/" in k)
        log.info(f"Metrics: {shown}")
        log.info(f"Run directory: {run_dir} (metrics in {path.name})")
    _finish_wandb()
    if sweeping or started_for_sweep_job():
        end_process_group(wait_for_peers=True)
    return value


def _optimized(cfg: DictConfig) -> dict[str, str]:
    """``optimized_metric`` / ``optimized_mode`` / ``task_name`` as this run resolved them (for vt-compare: the saved
    config holds the family defaults' interpolations), where they resolve."""
    out = {}
    for key in ("optimized_metric", "optimized_mode", "task_name"):
        try:
            value = cfg.get(key)
        except Exception:  # an interpolation that cannot resolve (a model of no family): the config error says so
            continue
        if isinstance(value, str):
            out[key] = value
    return out


def _finish_wandb() -> None:
    message = report_and_finish()
    if message and is_rank_zero():
        log.info(message)

