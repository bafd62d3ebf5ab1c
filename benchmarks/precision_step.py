"""trainer.precision: seconds per forward+backward+optimiser step of a family's network in fp32 (``32-true``) vs
under bf16 autocast (what ``bf16-mixed`` does), alternating rounds in one process. Shows whether this CPU computes
bf16 natively (AVX512-BF16 or AMX), which ``${vt_bf16_where_fast:...}`` in the CPU experiments reads. Networks as in
compile_step.py (the shipped model configs).

    python benchmarks/precision_step.py --family classifier --size 128 --batch 16
    python benchmarks/precision_step.py --family unet --size 160 --batch 8
"""

from __future__ import annotations

import copy

import torch
from _common import alternate, describe, median, paired_ratio, seconds_per_call
from compile_step import loss_of, network, network_parser

from visiontrain.run.precision import cpu_has_native_bf16


def main() -> None:
    args = network_parser(__doc__, size=128, steps=2).parse_args()
    torch.manual_seed(0)
    print(describe(args.device), f"| native bf16: {cpu_has_native_bf16()} | {args.family} {args.size} px batch "
          f"{args.batch}", flush=True)
    nets = {"fp32": network(args.family).to(args.device).train()}
    nets["bf16"] = copy.deepcopy(nets["fp32"])
    images = torch.rand(args.batch, 3, args.size, args.size, device=args.device)
    optims = {name: torch.optim.AdamW(net.parameters(), lr=1e-4) for name, net in nets.items()}

    def step(name: str) -> None:
        optims[name].zero_grad(set_to_none=True)
        with torch.autocast(args.device, dtype=torch.bfloat16, enabled=name == "bf16"):
            out = nets[name](images)
        loss_of(out).backward()
        optims[name].step()

    step("fp32"), step("bf16")  # warm-up: kernels chosen, optimiser state made
    results = alternate({name: seconds_per_call(lambda name=name: step(name), args.steps, args.device)
                         for name in nets}, args.repeats)
    print(f"s/step fp32 {median(results['fp32']):.4f} bf16 {median(results['bf16']):.4f} | "
          f"bf16/fp32 (paired median) {paired_ratio(results, 'bf16', 'fp32'):.2f}", flush=True)


if __name__ == "__main__":
    main()
