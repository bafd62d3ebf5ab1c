"""Cost of the results figures and tables per validation epoch: a small detection run (det_shapes_frcnn) and a small
segmentation run (seg_shapes_unet) through the real config, each timed with the outputs on (confusion matrix,
PR/F1 curves, labelled mosaics/panels, W&B tables) and off (those functions and the confusion accumulation replaced
by no-ops, model.log_images=0), alternating. Reported: the median validation-epoch time of each side (from the
epoch's start to the end of every epoch-end hook, sanity check excluded) and their paired difference. The training
step is not touched by either side.

    python benchmarks/figure_cost.py                       # both families, logger=wandb (offline), 3 rounds
    python benchmarks/figure_cost.py --family det --logger many --repeats 5
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import time
from pathlib import Path
from unittest import mock

import pytorch_lightning as pl
from _common import alternate, describe, median, parser

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import compose_cfg

RUNS = {
    "det": ["experiment=det_shapes_frcnn", "data.source.num_train=16", "data.source.num_val=16",
            "data.source.num_test=4", "model.warmup_steps=0"],
    "seg": ["experiment=seg_shapes_unet", "data.source.count=64", "data.batch_size=8"],
}
OFF = (  # what "off" replaces: every new per-validation output
    "visiontrain.results.detection_figures.log_detection_curves",
    "visiontrain.results.detection_confusion.log_detection_confusion",
    "visiontrain.results.detection_confusion.DetectionConfusion.update",
    "visiontrain.results.class_tables.log_class_table",
    "visiontrain.models.segmentation.module.log_segmentation_figures",
)


class ValTimer(pl.Callback):
    """Seconds per validation epoch, from its start to ``on_validation_end`` (after the module's epoch-end hook,
    where the figures are drawn)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self._t = 0.0

    def on_validation_epoch_start(self, trainer, pl_module) -> None:
        self._t = time.perf_counter()

    def on_validation_end(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            self.times.append(time.perf_counter() - self._t)


def run_once(family: str, figures: bool, args, n: list[int]) -> float:
    from visiontrain.run.job import run_job

    n[0] += 1
    tmp = Path(args.out) / f"{family}_{'on' if figures else 'off'}_{n[0]}"
    overrides = [*RUNS[family], f"logger={args.logger}", "trainer=cpu" if args.device == "cpu" else "trainer=gpu",
                 f"trainer.max_epochs={args.epochs}", f"trainer.limit_train_batches={args.train_batches}",
                 f"trainer.limit_val_batches={args.val_batches}", "trainer.limit_test_batches=1",
                 "trainer.num_sanity_val_steps=0", "trainer.enable_progress_bar=false", "callbacks.early_stopping=null",
                 *([] if figures else ["model.log_images=0"])]
    cfg = compose_cfg(overrides, tmp, Path(args.out) / "data")
    timer = ValTimer()
    with contextlib.ExitStack() as stack:
        if not figures:
            for target in OFF:
                stack.enter_context(mock.patch(target, lambda *a, **k: []))
        stack.enter_context(mock.patch.object(pl.Trainer, "__init__", _trainer_init(timer)))
        run_job(cfg, _train())
    times = timer.times[1:] or timer.times  # the first validation pays one-off costs (imports, fonts)
    return statistics.median(times)


def _train():
    from visiontrain.train import train

    return train


def _trainer_init(timer):
    """The entry point builds the Trainer from the config: the timer joins its callbacks there."""
    original = pl.Trainer.__init__

    def init(self, *args, callbacks=None, **kwargs):
        given = [callbacks] if isinstance(callbacks, pl.Callback) else list(callbacks or [])
        original(self, *args, callbacks=[*given, timer], **kwargs)

    return init


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--family", choices=["det", "seg", "both"], default="both")
    p.add_argument("--logger", default="wandb", help="logger config group: wandb (offline), many, tensorboard, none")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--train-batches", type=int, default=2)
    p.add_argument("--val-batches", type=int, default=4)
    p.add_argument("--out", default="/tmp/vt_bench_figure_cost")
    args = p.parse_args()
    print(describe(args.device))
    families = ["det", "seg"] if args.family == "both" else [args.family]
    counter = [0]
    for family in families:
        print(f"{family}: {RUNS[family][0]}, {args.epochs} epochs, {args.val_batches} val batches, "
              f"logger={args.logger}", flush=True)
        results = alternate({"on": lambda f=family: run_once(f, True, args, counter),
                             "off": lambda f=family: run_once(f, False, args, counter)}, args.repeats)
        diff = statistics.median(a - b for a, b in zip(results["on"], results["off"]))
        print(f"{family}: validation epoch {median(results['on']):.3f} s with figures and tables, "
              f"{median(results['off']):.3f} s without: +{diff:.3f} s per validation epoch (paired median)")


if __name__ == "__main__":
    main()
