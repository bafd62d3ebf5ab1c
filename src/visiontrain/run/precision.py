"""bf16 only where it is fast. A CPU without bf16 instructions (AVX512-BF16, AMX) runs a bf16-mixed step many times
slower than fp32 (benchmarks/README.md: 12-15x for resnet18 and the U-Net on an AVX2 CPU), so the experiments
that want bf16 on CPU ask for ``${vt_bf16_where_fast:${trainer.accelerator}}``, and an explicit bf16 on such a CPU
is warned about. No torch import: the resolver runs while the config is checked, before the heavy imports."""

from __future__ import annotations

import functools
import logging
import platform
from typing import Any

log = logging.getLogger("visiontrain")

# x86 flags (as /proc/cpuinfo and torch.cpu.get_capabilities name them) of native bf16 matrix arithmetic
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")
CPU_ACCELERATORS = ("cpu", "auto")  # "auto" is counted as CPU: the answer must not need torch to find a GPU


@functools.lru_cache(maxsize=None)
def cpu_has_native_bf16(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """From the kernel's CPU flags on x86 Linux; False elsewhere (not measured there: fp32 is the safe answer)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.partition(":")[2].split())
                    return any(flag in flags for flag in NATIVE_BF16_FLAGS)
    except OSError:
        pass
    return False


def bf16_where_fast(accelerator: str) -> str:
    """The resolver ``vt_bf16_where_fast``: ``bf16-mixed``, except ``32-true`` on a CPU without native bf16."""
    return "32-true" if str(accelerator) in CPU_ACCELERATORS and not cpu_has_native_bf16() else "bf16-mixed"


def report_precision(node: Any) -> None:
    """One line in the run's log when the precision depends on this CPU: the resolver chose 32-true, or bf16 was
    asked for explicitly on a CPU that computes it slowly (the run goes on as asked). ``node``: the trainer
    config (or vt-predict's), with ``accelerator`` and ``precision``."""
    accelerator, precision = str(node.accelerator), str(node.precision)
    if accelerator not in CPU_ACCELERATORS or cpu_has_native_bf16():
        return
    if "vt_bf16_where_fast" in str(node._get_node("precision")._value()):
        log.info("trainer.precision: 32-true, not bf16-mixed: this CPU has no native bf16 (AVX512-BF16 or AMX), "
                 "where bf16 steps run many times slower (trainer.precision=bf16-mixed forces it)")
    elif precision.startswith("bf16"):
        log.warning(f"precision {precision} on a CPU without native bf16 (AVX512-BF16 or AMX): each step runs many "
                    "times slower than with 32-true here")
