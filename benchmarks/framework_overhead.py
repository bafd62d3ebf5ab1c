"""Framework overhead: training steps/s of vt-train's classifier (the real config: model=classifier, its optimiser,
trainer=cpu defaults and default callbacks, logger=none) vs a hand-written PyTorch loop on the same model
architecture, data tensors, batch size and optimiser (target >= 0.99). ``--logging-cost`` then times the per-step
logging where it runs: ``log_train_loss`` (train/loss and its epoch mean, with the batch end that logs them) and the
train metrics' update."""

from __future__ import annotations

import sys
from pathlib import Path

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from _common import alternate, describe, median, now, paired_ratio, parser, sync

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import compose_cfg

p = parser(__doc__)
p.add_argument("--steps", type=int, default=60)
p.add_argument("--image-size", type=int, default=32)
p.add_argument("--batch", type=int, default=64)
p.add_argument("--logging-cost", action="store_true", help="then time the per-step logging calls")
args = p.parse_args()
torch.manual_seed(0)
N = args.batch * args.steps
X = torch.rand(N, 3, args.image_size, args.image_size)
Y = torch.randint(0, 10, (N,))
names = [str(i) for i in range(10)]
tmp = Path("/tmp/vt_bench_overhead")
cfg = compose_cfg(["logger=none", f"trainer.accelerator={'gpu' if args.device == 'cuda' else 'cpu'}",
                   "trainer.limit_val_batches=0", "trainer.max_epochs=1",
                   "+trainer.enable_checkpointing=false", "trainer.num_sanity_val_steps=0", "callbacks=none",
                   f"model.class_names=[{','.join(names)}]"], tmp)
loader = lambda: torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, Y), batch_size=args.batch, shuffle=True)
WARM = 5


LOGGING: list[float] = []


def _timed(call):
    def timed(*a, **k):
        start = now()
        out = call(*a, **k)
        LOGGING.append(now() - start)
        return out

    return timed


class StepTimes(pl.Callback):
    def __init__(self):
        self.t = []

    def on_train_batch_end(self, trainer, *a):
        sync(args.device)
        self.t.append(now())


def framework(time_logging: bool = False) -> float:
    from hydra.utils import instantiate

    model = instantiate(cfg.model)
    if time_logging:  # the per-step logging, timed where it runs: log_train_loss and the batch end that logs its
        # values, the train metrics' update (class_names are set, so the train metrics exist)
        for owner, name in ((model, "log_train_loss"), (model._train_loss_log, "batch_end"),
                            (model.train_metrics, "update")):
            setattr(owner, name, _timed(getattr(owner, name)))
    timer = StepTimes()
    trainer = instantiate(cfg.trainer, callbacks=[timer], logger=False, enable_progress_bar=False,
                          enable_model_summary=False)
    trainer.fit(model, train_dataloaders=loader())
    return (len(timer.t) - WARM) / (timer.t[-1] - timer.t[WARM - 1])


def plain() -> float:
    from hydra.utils import instantiate

    model = instantiate(cfg.model).to(args.device)
    opt = model.configure_optimizers()  # the same optimiser and parameter groups, built outside Lightning
    opt = opt["optimizer"] if isinstance(opt, dict) else (opt[0][0] if isinstance(opt, tuple) else opt)
    model.train()
    t = []
    for i, (x, y) in enumerate(loader()):
        x, y = x.to(args.device), y.to(args.device)
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sync(args.device)
        t.append(now())
    return (len(t) - WARM) / (t[-1] - t[WARM - 1])


print(f"device: {describe(args.device)}")
print("note: the framework side runs without a progress bar; ENV-NOTES: the Rich bar costs ~0.5 ms/step")
rates = alternate({"plain": plain, "framework": framework}, args.repeats)
a, b = median(rates["plain"]), median(rates["framework"])
print(f"{cfg.model.backbone} {args.image_size}px batch {args.batch}: plain {a:.2f} steps/s, framework {b:.2f} "
      f"steps/s · ratio {paired_ratio(rates, 'framework', 'plain'):.3f} (median of the rounds' ratios; ratio of "
      f"medians {b / a:.3f}; target >= 0.99)")
if args.logging_cost:
    per_round = []
    for _ in range(args.repeats):
        LOGGING.clear()
        framework(time_logging=True)
        per_round.append(sum(LOGGING) / args.steps)
    print(f"per-step logging (log_train_loss + train metrics update, timed inside those calls): "
          f"{1000 * median(per_round):.2f} ms/step (rounds {', '.join(f'{1000 * x:.2f}' for x in per_round)}), "
          f"{100 * median(per_round) * median(rates['framework']):.1f}% of a framework step")
