"""Training images/s and peak memory of three networks as the shipped configs build them, for the GPU rows of
benchmarks/README.md: the classifier on ResNet-50 at 224 px (bf16 autocast, channels-last, ``torch.compile`` off and
on), YOLO-n at 640 px (bf16, channels-last, as ``model=yolo`` trains) and Faster R-CNN R50-FPN at 800 px (bf16).

A step is forward, loss, backward and the config's optimiser step (fused AdamW for YOLO, whose optimiser and
schedule are built from a trainer's step count) on one fixed batch; the classifier's loss is cross-entropy, Faster
R-CNN's its own losses on generated boxes, and YOLO's a stand-in (the mean square of its outputs: the same network
computation without the target assignment). Each case is timed over ``--steps`` steps after ``--warmup`` steps
(compile happens in the warm-up); peak memory is ``torch.cuda.max_memory_allocated`` of that case.
The framework-vs-hand-written-loop figures on a GPU come from ``framework_overhead.py --device cuda`` and
``frcnn_step.py --device cuda`` (``gpu_check.sh`` runs all three).

    python benchmarks/gpu_networks.py --device cuda
    python benchmarks/gpu_networks.py --device cpu --small   # the plumbing on a CPU: tiny sizes, fp32 only
"""

from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

import torch
from _common import describe, parser, sync

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from helpers import compose_cfg

CLASSES = ["a", "b", "c", "d"]


def build(overrides: list[str]):
    from hydra.utils import instantiate

    cfg = compose_cfg([*overrides, f"model.class_names=[{','.join(CLASSES)}]"], Path("/tmp/vt_bench_gpu"))
    return instantiate(cfg.model)


def optimiser(module) -> torch.optim.Optimizer:
    opt = module.configure_optimizers()
    return opt["optimizer"] if isinstance(opt, dict) else (opt[0][0] if isinstance(opt, tuple) else opt)


def classifier_case(args, size: int, compiled: bool):
    module = build(["model.backbone=resnet50"]).to(args.device)
    net = torch.nn.Sequential(module.backbone, module.head).to(memory_format=torch.channels_last).train()
    if compiled:
        net.compile()
    images = torch.rand(args.batch, 3, size, size, device=args.device).contiguous(memory_format=torch.channels_last)
    labels = torch.randint(0, len(CLASSES), (args.batch,), device=args.device)
    return net, lambda: torch.nn.functional.cross_entropy(net(images), labels), optimiser(module), args.batch


def yolo_case(args, size: int):
    module = build(["model=yolo", "data=shapes_det_yolo"]).to(args.device)
    net = module.net.to(memory_format=torch.channels_last).train()
    images = torch.rand(args.batch, 3, size, size, device=args.device).contiguous(memory_format=torch.channels_last)
    outputs = lambda out: out if isinstance(out, (list, tuple)) else [out]
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, fused=True)  # its configure_optimizers needs a trainer
    return net, lambda: sum(o.float().pow(2).mean() for o in outputs(net(images))), opt, args.batch


def frcnn_case(args, size: int):
    module = build(["model=faster_rcnn", f"model.min_size={size}", f"model.max_size={size}",
                    "model.warmup_steps=0"]).to(args.device)
    net, batch = module.model.train(), max(1, args.batch // 8)
    g = torch.Generator().manual_seed(0)
    images = [torch.rand(3, size, size, generator=g).to(args.device) for _ in range(batch)]
    targets = []
    for _ in images:
        xy = torch.rand(3, 2, generator=g) * size * 0.6
        targets.append({"boxes": torch.cat([xy, xy + size * 0.2], 1).to(args.device),
                        "labels": torch.randint(1, len(CLASSES) + 1, (3,), generator=g).to(args.device)})
    return net, lambda: sum(net(images, targets).values()), optimiser(module), batch


def measure(args, name: str, make) -> None:
    if args.device == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    _, loss_fn, opt, batch = make()
    bf16 = args.device == "cuda" and not args.small
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        with autocast:
            loss = loss_fn()
        loss.backward()
        opt.step()

    start = time.perf_counter()
    for _ in range(args.warmup):
        step()
    sync(args.device)
    warm = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    sync(args.device)
    per_step = (time.perf_counter() - start) / args.steps
    peak = f"{torch.cuda.max_memory_allocated() / 2**30:.2f} GiB" if args.device == "cuda" else "n/a on CPU"
    print(f"{name}: batch {batch}, {'bf16 autocast' if bf16 else 'fp32'}: {per_step * 1000:.1f} ms/step, "
          f"{batch / per_step:.1f} images/s, peak memory {peak} (warm-up {args.warmup} steps {warm:.1f} s)",
          flush=True)


def main() -> None:
    p = parser(__doc__)
    p.add_argument("--batch", type=int, default=64, help="classifier and YOLO; Faster R-CNN takes batch / 8")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--small", action="store_true", help="tiny sizes and fp32: check the script itself on a CPU")
    args = p.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("gpu_networks.py: --device cuda, but torch sees no GPU here (--device cpu --small checks the script)")
    if args.device == "cuda":
        torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    cls, yolo, det = (64, 64, 128) if args.small else (224, 640, 800)
    print(f"device: {describe(args.device)}", flush=True)
    measure(args, f"classifier resnet50 {cls} px, channels-last", lambda: classifier_case(args, cls, False))
    if not args.small:  # compiling on a CPU takes minutes
        measure(args, f"classifier resnet50 {cls} px, channels-last, compiled",
                lambda: classifier_case(args, cls, True))
    measure(args, f"YOLO-n {yolo} px, channels-last", lambda: yolo_case(args, yolo))
    measure(args, f"Faster R-CNN R50-FPN {det} px", lambda: frcnn_case(args, det))


if __name__ == "__main__":
    main()
