"""`vt-train`: seed → data, model, callbacks, loggers, trainer → fit → test on the best checkpoint → metrics."""

from __future__ import annotations

import os
import sys
from typing import Any, Mapping

import hydra
from omegaconf import DictConfig, OmegaConf

import visiontrain  # noqa: F401  (sets NO_ALBUMENTATIONS_UPDATE before anything imports albumentations)
from visiontrain.config.paths import CONFIG_DIR
from visiontrain.config.resolvers import register_resolvers
from visiontrain.config.sweep_check import check_sweep_argv, run_reporting_config_errors
from visiontrain.config.sweep_resolvers import register_sweep_resolvers
from visiontrain.run.ddp_sweep import rewrite_argv_for_ddp_rank
from visiontrain.run.resume import expand_resume_argv

register_resolvers()
register_sweep_resolvers()


def train(cfg: DictConfig) -> tuple[Mapping[str, Any], str | None]:
    import pytorch_lightning as pl
    from hydra.utils import instantiate

    from visiontrain.callbacks import CheckpointOnInterrupt, ConfigInCheckpoint
    from visiontrain.callbacks.resume_guard import ResumeGuard
    from visiontrain.run.instantiate import instantiate_collection, log_run_config
    from visiontrain.run.job import best_monitored
    from visiontrain.run.precision import report_precision
    from visiontrain.run.resume import checkpoint_to_resume
    from visiontrain.run.slurm import slurm_plugins
    from visiontrain.run.wandb_setup import pin_wandb_run

    if cfg.get("seed") is not None:
        pl.seed_everything(cfg.seed, workers=True)

    datamodule: pl.LightningDataModule = instantiate(cfg.data)
    model: pl.LightningModule = instantiate(cfg.model)
    ckpt_path = checkpoint_to_resume(cfg)
    pin_wandb_run(cfg.get("logger"), cfg.paths.output_dir)
    loggers = instantiate_collection(cfg.get("logger"))
    callbacks = instantiate_collection(cfg.get("callbacks"))
    if not loggers:  # LearningRateMonitor refuses to run without a logger; logger=none should just work
        callbacks = [c for c in callbacks if not isinstance(c, pl.callbacks.LearningRateMonitor)]
    if not cfg.trainer.get("enable_progress_bar", True):  # Lightning refuses a bar callback with the bar off
        callbacks = [c for c in callbacks if not isinstance(c, pl.callbacks.ProgressBar)]
    run_config = OmegaConf.to_container(cfg, resolve=True)
    callbacks.append(ConfigInCheckpoint(run_config))
    callbacks.append(ResumeGuard(run_config))  # resume: a longer horizon re-plans the LR schedule
    callbacks.append(CheckpointOnInterrupt(f"{cfg.paths.output_dir}/checkpoints/last.ckpt"))
    plugins = slurm_plugins(cfg)
    report_precision(cfg.trainer)
    trainer: pl.Trainer = instantiate(cfg.trainer, callbacks=callbacks, logger=loggers or False,
                                      **({"plugins": plugins} if plugins else {}))
    log_run_config(loggers, cfg)

    metrics: dict[str, Any] = {}
    if cfg.get("train", True):
        trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)
        metrics.update(trainer.callback_metrics)
        metrics.update(best_monitored(trainer))  # best/<optimized_metric>: what sweepers get (sweep_value=best)

    best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else ""
    if cfg.get("train", True) and trainer.is_global_zero:
        write_weights(trainer, type(model), best)
    if cfg.get("test", True):
        trainer.test(model, datamodule=datamodule, ckpt_path=best or None, weights_only=True)
        metrics.update(trainer.callback_metrics)
    return metrics, best or None


def write_weights(trainer: Any, module_cls: type, best: str) -> None:
    """``checkpoints/weights.pt`` from the checkpoint that is tested (best, else last): what predict, export and
    fine-tuning read (no optimizer state: a fraction of the size)."""
    import logging

    from visiontrain.weights.weights_file import write_weights_file

    source = best or (trainer.checkpoint_callback.last_model_path if trainer.checkpoint_callback else "")
    if source:
        out = write_weights_file(source, module_cls)
        logging.getLogger("visiontrain").info(f"weights: {out} ({out.stat().st_size / 2**20:.1f} MB, from "
                                              f"{os.path.basename(source)})")


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="train")
def _hydra_main(cfg: DictConfig) -> float | None:
    from visiontrain.run.job import run_job

    return run_job(cfg, train)


def main() -> None:
    rewrite_argv_for_ddp_rank()
    sys.argv = check_sweep_argv(sys.argv, CONFIG_DIR)  # -m: every combination validated before the first job
    sys.argv = expand_resume_argv(sys.argv)
    run_reporting_config_errors(_hydra_main)


if __name__ == "__main__":
    main()
