"""One picture of a style-transfer sweep: the final image of every job of a multirun, labelled with its overrides.

    python scripts/style_grid.py outputs/style_transfer/multiruns/<timestamp> [--out grid.png]

Rows are the images a job makes (content x style), columns the jobs in order; each label shows what the job
changed (the overrides not shared by all jobs) and its total/loss from metrics.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def job_dirs(multirun: Path) -> list[Path]:
    jobs = [d for d in multirun.iterdir() if d.is_dir() and d.name.isdigit()]
    if not jobs:
        raise SystemExit(f"error: {multirun}: no job folders (0/, 1/, …); is this a multirun dir?")
    return sorted(jobs, key=lambda d: int(d.name))


def overrides(job: Path) -> list[str]:
    path = job / ".hydra" / "overrides.yaml"
    return [ln.lstrip("- ").strip() for ln in path.read_text().splitlines()] if path.is_file() else []


def label(job: Path, common: set[str]) -> str:
    """What this job changed (overrides not shared by every job) and its total/loss."""
    shown = [o for o in overrides(job) if o not in common]
    metrics_file = job / "metrics.json"
    if metrics_file.is_file():
        total = json.loads(metrics_file.read_text()).get("metrics", {}).get("total/loss")
        if total is not None:
            shown.append(f"total/loss={total:.3g}")
    return "\n".join(shown) or job.name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("multirun", type=Path)
    parser.add_argument("--out", type=Path, default=None, help="default: <multirun>/grid.png")
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from PIL import Image

    jobs = job_dirs(args.multirun)
    common = set.intersection(*(set(overrides(j)) for j in jobs)) if len(jobs) > 1 else set()
    names = sorted({p.name for job in jobs for p in job.glob("final_*.png")})
    if not names:
        raise SystemExit(f"error: {args.multirun}: no final_*.png in any job (did the runs finish?)")
    fig, axes = plt.subplots(len(names), len(jobs), figsize=(3 * len(jobs), 3.4 * len(names)), squeeze=False)
    for col, job in enumerate(jobs):
        for row, name in enumerate(names):
            ax = axes[row][col]
            ax.axis("off")
            path = job / name
            if path.is_file():
                ax.imshow(Image.open(path))
            if row == 0:
                ax.set_title(label(job, common), fontsize=9)
            if col == 0:
                ax.text(-0.03, 0.5, name[len("final_"):-len(".png")], transform=ax.transAxes, rotation=90,
                        ha="right", va="center", fontsize=8)
    fig.tight_layout()
    out = args.out or args.multirun / "grid.png"
    fig.savefig(out, dpi=100)
    print(f"grid of {len(jobs)} jobs x {len(names)} images: {out}")


if __name__ == "__main__":
    main()
