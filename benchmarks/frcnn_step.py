"""Faster R-CNN step time: the framework's Detector (model=faster_rcnn config, its AdamW, Lightning Trainer) vs a
plain loop in the manner of torchvision's references/detection `train_one_epoch` (model(images, targets) → sum of
losses → backward → step), same architecture, images, targets and optimiser (target ratio <= 1.05)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytorch_lightning as pl
import torch
from _common import alternate, describe, median, now, parser, sync

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import compose_cfg

p = parser(__doc__)
p.add_argument("--steps", type=int, default=8)
p.add_argument("--size", type=int, default=320)
p.add_argument("--batch", type=int, default=2)
args = p.parse_args()
g = torch.Generator().manual_seed(0)
images = [torch.rand(3, args.size, args.size, generator=g) for _ in range(args.batch * args.steps)]
targets = []
for _ in images:
    xy = torch.rand(3, 2, generator=g) * args.size * 0.6
    targets.append({"boxes": torch.cat([xy, xy + args.size * 0.2], 1), "labels": torch.randint(0, 4, (3,), generator=g)})
cfg = compose_cfg(["model=faster_rcnn", "logger=none", "callbacks=none", "model.class_names=[a,b,c,d]",
                   f"model.min_size={args.size}", f"model.max_size={args.size}", "model.warmup_steps=0",
                   f"trainer.accelerator={'gpu' if args.device == 'cuda' else 'cpu'}",
                   "trainer.max_epochs=1", "trainer.limit_val_batches=0", "+trainer.enable_checkpointing=false"],
                  Path("/tmp/vt_bench_frcnn"))
batches = [(images[i:i + args.batch], targets[i:i + args.batch]) for i in range(0, len(images), args.batch)]
loader = lambda: torch.utils.data.DataLoader(batches, batch_size=None, collate_fn=lambda b: (list(b[0]), list(b[1])))
WARM = 2


def build():
    from hydra.utils import instantiate

    torch.manual_seed(0)
    return instantiate(cfg.model)


class StepTimes(pl.Callback):
    def __init__(self):
        self.t = []

    def on_train_batch_end(self, *a):
        sync(args.device)
        self.t.append(now())


def framework() -> float:
    from hydra.utils import instantiate

    model, timer = build(), StepTimes()
    trainer = instantiate(cfg.trainer, callbacks=[timer], logger=False, enable_progress_bar=False,
                          enable_model_summary=False)
    trainer.fit(model, train_dataloaders=loader())
    return (timer.t[-1] - timer.t[WARM - 1]) / (len(timer.t) - WARM)


def plain() -> float:
    module = build()
    model = module.model.to(args.device)  # the bare torchvision detector
    opt = module.configure_optimizers()
    opt = opt["optimizer"] if isinstance(opt, dict) else (opt[0][0] if isinstance(opt, tuple) else opt)
    model.train()
    t = []
    for ims, tgs in loader():
        ims = [im.to(args.device) for im in ims]
        tgs = [{"boxes": tg["boxes"].to(args.device), "labels": tg["labels"].to(args.device) + 1} for tg in tgs]
        losses = model(ims, tgs)
        loss = sum(losses.values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        sync(args.device)
        t.append(now())
    return (t[-1] - t[WARM - 1]) / (len(t) - WARM)


print(f"device: {describe(args.device)}")
times = alternate({"plain": plain, "framework": framework}, args.repeats)
a, b = median(times["plain"]), median(times["framework"])
print(f"{cfg.model.architecture} {args.size}px batch {args.batch}: plain {a:.3f} s/step, framework {b:.3f} s/step "
      f"· ratio {b / a:.3f} (target <= 1.05)")
