"""Shared by the benchmarks: device choice, alternating timing, one printed line per figure."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
os.environ.setdefault("WANDB_MODE", "offline")


def parser(doc: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--repeats", type=int, default=3, help="alternating rounds (A, B, A, B, ...)")
    return p


def describe(device: str) -> str:
    import torch

    if device == "cuda":
        return f"cuda: {torch.cuda.get_device_name(0)}, torch {torch.__version__}"
    return f"cpu: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), " \
           f"{torch.get_num_threads()} threads, torch {torch.__version__}, load avg {os.getloadavg()[0]:.1f}"


def alternate(sides: dict, repeats: int) -> dict[str, list[float]]:
    """Run each side's callable (returning a rate or a time) in turn, ``repeats`` rounds: load drifts hit both.
    The order flips every round (A B, B A, A B, ...) so that neither side always runs first."""
    out: dict[str, list[float]] = {k: [] for k in sides}
    for r in range(repeats):
        for name in (list(sides) if r % 2 == 0 else list(sides)[::-1]):
            out[name].append(sides[name]())
            print(f"  round {r}: {name} = {out[name][-1]:.4g}", flush=True)
    return out


def paired_ratio(results: dict[str, list[float]], num: str, den: str) -> float:
    """Median over rounds of num/den measured in the same round: robust to load that changes between rounds."""
    return statistics.median(a / b for a, b in zip(results[num], results[den]))


def median(xs):
    return statistics.median(xs)


def seconds_per_call(fn, calls: int, device: str):
    """A side for ``alternate``: ``fn()`` called ``calls`` times, seconds per call (the device synchronised)."""
    def run() -> float:
        sync(device)
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        sync(device)
        return (time.perf_counter() - start) / calls
    return run


def sync(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


now = time.perf_counter
