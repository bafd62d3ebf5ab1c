"""What the dashboards need beyond the logged numbers:

- the run config logged once: entry points log the resolved config flat (``log_run_config``); Lightning would log
  the module's and datamodule's hyperparameters again under other names, so that is switched off here;
- W&B: ``define_metric`` so each metric's summary is its best (max mAP, min loss), not its last value;
- MLflow: ``best/<optimized_metric>`` logged at the end of training (its tables show each metric's last value);
- TensorBoard: the HParams tab, written once at the end of training with the best and final ``optimized_metric``
  and the run's overrides (what differs between a sweep's runs). Each run writes its session only, not an
  experiment summary: TensorBoard takes the first experiment summary it finds as the whole experiment (one run's
  hyperparameters and values, none marked as differing, so the swept one was left unticked among the first five in
  alphabetical order); without one it builds the experiment from all runs' sessions, differing hyperparameters first.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytorch_lightning as pl

log = logging.getLogger(__name__)

# DESIGN.md's metric names, by what "best" means for them
LOWER_IS_BETTER = ("loss",)
HIGHER_IS_BETTER = ("acc", "f1", "iou", "map", "map_50", "map_75", "map_segm", "miou", "dice", "psnr", "ssim")


def summary_of(name: str) -> str | None:
    """``min`` for losses, ``max`` for accuracy-like metrics, None for the rest (learning rates, counts)."""
    last = name.rsplit("/", 1)[-1]
    if last.endswith("loss") or last.startswith("loss"):
        return "min"
    if last in HIGHER_IS_BETTER or name.split("/")[1:2] in (["ap"], ["ap_segm"], ["iou"]):
        return "max"
    return None


def read_overrides(run_dir: Path) -> dict[str, str]:
    import yaml

    path = run_dir / ".hydra" / "overrides.yaml"
    if not path.is_file():
        return {}
    items = yaml.safe_load(path.read_text()) or []
    pairs = (str(item).partition("=") for item in items)
    return {key.lstrip("+~"): value for key, _, value in pairs if not key.startswith("hydra")}


class Dashboards(pl.Callback):
    def __init__(self, optimized_metric: str | None = None, optimized_mode: str = "max",
                 run_dir: str | None = None, log_module_hparams: bool = False) -> None:
        self.metric, self.mode = optimized_metric, optimized_mode
        self.run_dir = run_dir
        self.log_module_hparams = log_module_hparams
        self._defined: set[str] = set()
        self._values: list[float] = []

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if not self.log_module_hparams:  # the entry point logged the whole config already
            pl_module._log_hyperparams = False
            if getattr(trainer, "datamodule", None) is not None:
                trainer.datamodule._log_hyperparams = False

    # --- W&B summaries -------------------------------------------------------------------------------------------
    def _wandb(self, trainer: pl.Trainer):
        from pytorch_lightning.loggers import WandbLogger

        return [lg for lg in trainer.loggers if isinstance(lg, WandbLogger)] if trainer.is_global_zero else []

    def _define(self, trainer: pl.Trainer, names) -> None:
        loggers = self._wandb(trainer)
        new = [n for n in names if n not in self._defined]
        if not loggers or not new:
            return
        for name in new:
            self._defined.add(name)
            summary = ({"max": "max", "min": "min"}[self.mode] if name == self.metric else summary_of(name))
            if summary:
                for lg in loggers:
                    lg.experiment.define_metric(name, summary=summary)

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        known = [f"{stage}/{m}" for stage in ("train", "val", "test") for m in (*LOWER_IS_BETTER, *HIGHER_IS_BETTER)]
        self._define(trainer, [*([self.metric] if self.metric else []), *known])

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._define(trainer, list(trainer.callback_metrics))  # per-class ones (val/ap/<class>, …) as they come

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._record(trainer)  # the previous epoch's value, every module hook done (see ResultsWriter)

    # --- TensorBoard HParams -------------------------------------------------------------------------------------
    def _record(self, trainer: pl.Trainer) -> None:
        value = trainer.callback_metrics.get(self.metric) if self.metric else None
        if value is not None and trainer.current_epoch > len(self._values):
            self._values.append(float(value))

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        from pytorch_lightning.loggers import MLFlowLogger, TensorBoardLogger

        self._record(trainer)
        if not trainer.is_global_zero or not self._values or not self.metric:
            return
        best = max(self._values) if self.mode == "max" else min(self._values)
        for lg in trainer.loggers:  # MLflow's runs table and compare page show last values: the best as a metric
            if isinstance(lg, MLFlowLogger):
                lg.log_metrics({f"best/{self.metric}": best}, step=trainer.global_step)
        loggers = [lg for lg in trainer.loggers if isinstance(lg, TensorBoardLogger)]
        if not loggers:
            return
        metrics = {f"hparams/best_{self.metric}": best, f"hparams/final_{self.metric}": self._values[-1]}
        params = read_overrides(Path(self.run_dir or trainer.default_root_dir)) or {"run": Path(
            trainer.default_root_dir).name}
        params = {k: _scalar(v) for k, v in params.items()}
        for lg in loggers:
            write_hparams_session(lg, params, metrics)


def write_hparams_session(logger, params: dict, metrics: dict[str, float]) -> None:
    """The HParams session of one run (start info with ``params``, end info) and ``metrics`` as scalars at step 0,
    without the per-run experiment summary that ``TensorBoardLogger.log_hyperparams`` also writes (see above)."""
    from torch.utils.tensorboard.summary import hparams

    logger.log_metrics(metrics, 0)
    _experiment, start, end = hparams(params, metrics)
    writer = logger.experiment._get_file_writer()
    writer.add_summary(start, 0)
    writer.add_summary(end, 0)
    logger.hparams.update(params)  # hparams.yaml beside the events, as log_hyperparams keeps it
    writer.flush()


def _scalar(text: str):
    """TensorBoard filters numbers as numbers: "0.01" → 0.01; other values stay text."""
    try:
        number = float(text)
    except (TypeError, ValueError):
        return str(text)
    return int(number) if number.is_integer() and "." not in str(text) and "e" not in str(text).lower() else number
