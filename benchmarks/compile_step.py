"""model.compile: seconds per forward+backward+optimiser step of a family's network, plain vs ``nn.Module.compile()``
(what ``model.compile=true`` does at fit), alternating rounds in one process; the compile time (the first compiled
steps) is reported apart. Networks come from the shipped model configs: the classifier (resnet18), the U-Net
(model=unet_resnet) and YOLO-n, built for 4 classes.

    python benchmarks/compile_step.py --family classifier --size 64 --batch 32
    python benchmarks/compile_step.py --family unet --size 160 --batch 8 --repeats 5
"""

from __future__ import annotations

import copy
import sys
import time
from pathlib import Path

import torch
from _common import alternate, describe, median, paired_ratio, parser, seconds_per_call, sync

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import compose_cfg

CLASSES = ["a", "b", "c", "d"]
MODELS = {"classifier": ["model.backbone=resnet18"], "unet": ["model=unet_resnet", "data=shapes_seg"],
          "yolo": ["model=yolo", "data=shapes_det_yolo"]}


def network(family: str) -> torch.nn.Module:
    from hydra.utils import instantiate

    cfg = compose_cfg([*MODELS[family], f"model.class_names=[{','.join(CLASSES)}]"], Path("/tmp/vt_bench_compile"))
    module = instantiate(cfg.model)
    if family == "classifier":
        return torch.nn.Sequential(module.backbone, module.head)
    return module.net


def loss_of(out) -> torch.Tensor:
    outs = out if isinstance(out, (list, tuple)) else [out]
    return sum(o.float().pow(2).mean() for o in outs)


def network_parser(doc: str, size: int, steps: int):
    """The options of a benchmark that times one family's network: --family, --size, --batch, --steps."""
    p = parser(doc)
    p.add_argument("--family", choices=list(MODELS), default="classifier")
    p.add_argument("--size", type=int, default=size)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--steps", type=int, default=steps, help="timed steps per round")
    return p


def main() -> None:
    args = network_parser(__doc__, size=64, steps=10).parse_args()
    torch.manual_seed(0)
    print(describe(args.device), f"| {args.family} {args.size} px batch {args.batch}", flush=True)
    plain = network(args.family).to(args.device).train()
    compiled = copy.deepcopy(plain)
    compiled.compile()
    images = torch.rand(args.batch, 3, args.size, args.size, device=args.device)
    if args.family == "yolo":  # the project's YOLO trains channels-last (model.channels_last)
        images = images.contiguous(memory_format=torch.channels_last)
    optims = {name: torch.optim.AdamW(net.parameters(), lr=1e-4) for name, net in (("plain", plain),
                                                                                   ("compiled", compiled))}

    def step(name: str, net: torch.nn.Module) -> None:
        optims[name].zero_grad(set_to_none=True)
        loss_of(net(images)).backward()
        optims[name].step()

    start = time.perf_counter()
    for _ in range(2):  # forward + backward graphs, and a recompile for the optimiser's first step if any
        step("compiled", compiled)
    sync(args.device)
    print(f"compile (first 2 compiled steps): {time.perf_counter() - start:.1f} s", flush=True)
    step("plain", plain)

    results = alternate({name: seconds_per_call(lambda name=name, net=net: step(name, net), args.steps, args.device)
                         for name, net in (("plain", plain), ("compiled", compiled))}, args.repeats)
    print(f"s/step plain {median(results['plain']):.4f} compiled {median(results['compiled']):.4f} | "
          f"compiled/plain (paired median) {paired_ratio(results, 'compiled', 'plain'):.3f}", flush=True)


if __name__ == "__main__":
    main()
