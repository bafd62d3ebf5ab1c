"""Seconds per LBFGS step: the StyleTransfer LightningModule under a Trainer vs a plain PyTorch loop written the
way the PyTorch neural-style tutorial writes it (loss modules inserted into a copied nn.Sequential, a closure that
clamps, runs the model and sums the losses). Same image size, layers, layer weights, loss weights, LBFGS settings
and feature weights (copied from the module). Runs alternate (plain, Lightning, plain, …) so that load from other
processes hits both; the ratio of the median step times is printed (target <= 1.0). The module's own speed-ups
(channels-last feature network, one-matmul Gram backward) are on as users get them; ``--contiguous`` turns the
first off to show its share.

    NO_ALBUMENTATIONS_UPDATE=1 WANDB_MODE=offline .venv/bin/python benchmarks/style_step.py --size 128 --steps 6
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F
from torch import nn

CONTENT = ["conv4_2"]
STYLE = ["conv1_1", "conv2_1", "conv3_1", "conv4_1", "conv5_1"]


# --- the tutorial's way ------------------------------------------------------------------------------------------
def gram_matrix(input):
    a, b, c, d = input.size()
    features = input.view(a * b, c * d)
    G = torch.mm(features, features.t())
    return G.div(a * b * c * d)


class ContentLoss(nn.Module):
    def __init__(self, target):
        super().__init__()
        self.target = target.detach()

    def forward(self, input):
        self.loss = F.mse_loss(input, self.target)
        return input


class StyleLoss(nn.Module):
    def __init__(self, target_feature):
        super().__init__()
        self.target = gram_matrix(target_feature).detach()

    def forward(self, input):
        self.loss = F.mse_loss(gram_matrix(input), self.target)
        return input


class Normalization(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.mean = torch.tensor(mean).view(-1, 1, 1)
        self.std = torch.tensor(std).view(-1, 1, 1)

    def forward(self, img):
        return (img - self.mean) / self.std


def get_style_model_and_losses(cnn, mean, std, style_img, content_img):
    normalization = Normalization(mean, std)
    content_losses, style_losses = [], []
    model = nn.Sequential(normalization)
    block, i = 1, 0
    for layer in cnn.children():
        if isinstance(layer, nn.Conv2d):
            i += 1
            name = f"conv{block}_{i}"
        elif isinstance(layer, nn.ReLU):
            name = f"relu{block}_{i}"
            layer = nn.ReLU(inplace=False)
        elif isinstance(layer, nn.MaxPool2d):
            name = f"pool{block}"
            block, i = block + 1, 0
        model.add_module(name, layer)
        if name in CONTENT:
            content_loss = ContentLoss(model(content_img).detach())
            model.add_module(f"content_loss_{name}", content_loss)
            content_losses.append(content_loss)
        if name in STYLE:
            style_loss = StyleLoss(model(style_img).detach())
            model.add_module(f"style_loss_{name}", style_loss)
            style_losses.append(style_loss)
    for i in range(len(model) - 1, -1, -1):
        if isinstance(model[i], (ContentLoss, StyleLoss)):
            break
    return model[: i + 1], style_losses, content_losses


def make_plain(cnn, content_img, style_img, args):
    """The tutorial's optimisation loop, one ``optimizer.step(closure)`` per call of the returned function."""
    from visiontrain.models.shared.backbones import IMAGENET_MEAN, IMAGENET_STD

    input_img = content_img.clone()
    model, style_losses, content_losses = get_style_model_and_losses(cnn, IMAGENET_MEAN, IMAGENET_STD, style_img,
                                                                     content_img)
    input_img.requires_grad_(True)
    model.eval()
    model.requires_grad_(False)
    optimizer = torch.optim.LBFGS([input_img], max_iter=args.max_iter, history_size=args.history)
    stats = {"closures": 0, "first": None}

    def closure():
        with torch.no_grad():
            input_img.clamp_(0, 1)
        optimizer.zero_grad()
        model(input_img)
        style_score = sum(sl.loss for sl in style_losses) * args.style_weight
        content_score = sum(cl.loss for cl in content_losses) * args.content_weight
        loss = style_score + content_score
        loss.backward()
        stats["closures"] += 1
        if stats["first"] is None:
            stats["first"] = float(loss)
        return style_score + content_score

    def step() -> float:
        start = time.perf_counter()
        optimizer.step(closure)
        return time.perf_counter() - start

    return step, stats


# --- through Lightning -------------------------------------------------------------------------------------------
def interleaved_run(pairs, steps, args, root):
    """A Lightning fit of ``steps`` steps with one step of the plain loop next to each, so both see the same load
    from other processes. Lightning's step time = from one batch start to the next, minus the plain steps run in
    between."""
    import pytorch_lightning as pl
    from pytorch_lightning.loggers import CSVLogger
    from torch.utils.data import DataLoader
    from torchvision.models.vgg import cfgs, make_layers

    from visiontrain.data.style import _Steps
    from visiontrain.models.style import StyleTransfer

    torch.manual_seed(0)
    module = StyleTransfer(content_weight=args.content_weight, style_weight=args.style_weight,
                           lbfgs_max_iter=args.max_iter, lbfgs_history_size=args.history,
                           line_search_fn=None,  # the tutorial's LBFGS takes fixed steps: compare like with like
                           channels_last=not args.contiguous)
    module.pairs = pairs
    cnn = make_layers(cfgs["E"])  # the module's (random, seeded) weights, copied layer by layer
    cnn.load_state_dict(module.features.net.state_dict(), strict=False)
    plain_step, plain_stats = make_plain(cnn, pairs[0].content[None], pairs[0].styles[0][None], args)

    stats = {"closures": 0, "first": None}
    forward, losses = module.features.forward, module._losses

    def counted(x):
        stats["closures"] += 1
        return forward(x)

    def recorded(i):
        terms = losses(i)
        if stats["first"] is None:
            stats["first"] = float(terms["total"])
        return terms

    module.features.forward, module._losses = counted, recorded
    starts, plain_log = [], []  # plain_log: (start time, duration) of each plain step

    def run_plain():
        plain_log.append((time.perf_counter(), plain_step()))

    class Interleave(pl.Callback):
        # the plain step goes after even Lightning steps and before odd ones, so neither always runs second
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            if batch_idx % 2:
                run_plain()
            starts.append(time.perf_counter())

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            if batch_idx % 2 == 0:
                run_plain()

        def on_train_end(self, trainer, *a):
            starts.append(time.perf_counter())

    # what users get from the experiment: a CSV logger writing every step, a progress bar, checkpointing
    trainer = pl.Trainer(max_steps=steps, accelerator="cpu", devices=1, logger=CSVLogger(root, name="csv"),
                         log_every_n_steps=1, default_root_dir=root, enable_model_summary=False,
                         callbacks=[Interleave(), pl.callbacks.ModelCheckpoint(dirpath=root, monitor="total/loss")])
    trainer.fit(module, train_dataloaders=DataLoader(_Steps(steps), batch_size=1))
    light_times = [b - a - sum(d for t, d in plain_log if a <= t < b) for a, b in zip(starts, starts[1:])]
    plain_times = [d for _, d in plain_log]
    stats["closures"] -= 2  # the target pass at the first step (content + style image)
    return light_times, plain_times, stats, plain_stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=8, help="timed LBFGS steps of each (after one warm-up)")
    parser.add_argument("--max-iter", type=int, default=10)
    parser.add_argument("--history", type=int, default=100)
    parser.add_argument("--style-weight", type=float, default=1e6)
    parser.add_argument("--content-weight", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--contiguous", action="store_true", help="the module's feature network in NCHW memory")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    import logging
    import warnings

    warnings.filterwarnings("ignore")
    logging.getLogger("pytorch_lightning").setLevel(logging.ERROR)
    logging.getLogger("visiontrain").setLevel(logging.ERROR)
    from visiontrain.data.style import StyleDataModule

    dm = StyleDataModule(content="skimage:astronaut", style="generated:painting", image_size=args.size)
    dm.setup()
    with tempfile.TemporaryDirectory() as root:
        light_times, plain_times, light, plain = interleaved_run(dm.pairs, args.steps + 1, args, root)
    light_times, plain_times = light_times[1:], plain_times[1:]  # the first step of each is a warm-up
    print(f"loss of the initial image (same math?): plain {plain['first']:.6g}, Lightning {light['first']:.6g}")
    print(f"image {args.size} px, vgg19 (random weights), LBFGS max_iter={args.max_iter}, {args.steps} timed steps "
          f"each (interleaved), torch threads {args.threads}, module channels-last {not args.contiguous}")
    print(f"loss evaluations: plain {plain['closures']}, Lightning {light['closures']}")
    p, q = statistics.median(plain_times), statistics.median(light_times)
    print(f"plain PyTorch loop : {p:.3f} s/step (median; min {min(plain_times):.3f})")
    print(f"Lightning module   : {q:.3f} s/step (median; min {min(light_times):.3f})")
    # each Lightning step and the plain step right after it share the machine's load: their ratio is the robust figure
    paired = statistics.median(a / b for a, b in zip(light_times, plain_times))
    print(f"ratio Lightning / plain: {paired:.3f} (median of adjacent-step ratios); {q / p:.3f} (ratio of medians), "
          f"{sum(light_times) / sum(plain_times):.3f} (ratio of totals)")


if __name__ == "__main__":
    main()
