"""Every logger names the run after its run dir, so no two runs share a name (main: W&B `quickstart-<job num>`,
the same in every sweep; MLflow a name drawn from the seeded RNG, the same for every seed-42 run)."""

from helpers import compose_cfg
from omegaconf import open_dict

RUNS = ["outputs/quickstart/runs/2026-12-01_10-00-00_000001", "outputs/quickstart/runs/2026-12-01_10-00-00_000002",
        "outputs/quickstart/runs/slurm-777-1", "outputs/quickstart/multiruns/2026-12-01_11-00-00_000001/0",
        "outputs/quickstart/multiruns/2026-12-01_12-00-00_000001/0"]


def _names(tmp_path, logger: str, key: str) -> list[str]:
    cfg = compose_cfg([f"logger={logger}", "seed=42"], tmp_path)
    names = []
    for run in RUNS:
        with open_dict(cfg):
            cfg.paths.output_dir = str(tmp_path / run)
        names.append(cfg.logger[logger][key])
    return names


def test_wandb_and_mlflow_name_each_run_after_its_run_dir(tmp_path):
    for logger, key in (("wandb", "name"), ("mlflow", "run_name")):
        names = _names(tmp_path, logger, key)
        assert names == ["quickstart-2026-12-01_10-00-00_000001", "quickstart-2026-12-01_10-00-00_000002",
                         "quickstart-slurm-777-1", "quickstart-2026-12-01_11-00-00_000001-0",
                         "quickstart-2026-12-01_12-00-00_000001-0"], (logger, names)


def test_tensorboard_and_csv_write_inside_the_run_dir(tmp_path):
    from hydra.utils import instantiate

    cfg = compose_cfg(["logger=many"], tmp_path)
    for key in ("tensorboard", "csv"):
        assert instantiate(cfg.logger[key]).log_dir.startswith(str(tmp_path / "run"))
