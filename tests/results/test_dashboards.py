"""TensorBoard's HParams session (once, best and final optimized_metric) and W&B summaries/config, read back from
the files they write offline."""

import json

import pytest
import yaml

from helpers import FAST, compose_cfg
from visiontrain.results.dashboards import summary_of
from visiontrain.results.table import read_rows


@pytest.fixture(scope="module")
def many_run(tmp_path_factory):
    from visiontrain.train import train
    from visiontrain.run.job import run_job

    tmp = tmp_path_factory.mktemp("dash")
    cfg = compose_cfg([*FAST, "logger=many", "trainer.max_epochs=3", "model.optimizer.lr=0.003"], tmp, tmp / "data")
    run = tmp / "run"
    (run / ".hydra").mkdir(parents=True, exist_ok=True)  # what Hydra writes for a real run
    (run / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(["model.optimizer.lr=0.003", "seed=7"]))
    run_job(cfg, train)
    return run


def _events(run):
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader

    for path in sorted((run / "tensorboard").rglob("events.out.tfevents.*")):
        yield from EventFileLoader(str(path)).Load()


def test_tensorboard_hparams_session_written_once_with_best_and_final(many_run):
    from tensorboard.plugins.hparams import metadata
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

    sessions, scalars = [], {}
    for event in _events(many_run):
        for value in event.summary.value:
            if value.metadata.plugin_data.plugin_name == metadata.PLUGIN_NAME:
                data = HParamsPluginData.FromString(value.metadata.plugin_data.content)
                if data.HasField("session_start_info"):
                    sessions.append(data.session_start_info)
            elif value.tag.startswith("hparams/"):
                scalars[value.tag] = value.tensor.float_val[0] if value.HasField("tensor") else value.simple_value
    assert len(sessions) == 1
    hparams = sessions[0].hparams
    assert hparams["model.optimizer.lr"].number_value == pytest.approx(0.003)
    assert hparams["seed"].number_value == 7
    accs = [row["val/acc"] for row in read_rows(many_run / "results.csv")]
    assert len(accs) == 3
    assert scalars["hparams/best_val/acc"] == pytest.approx(max(accs))
    assert scalars["hparams/final_val/acc"] == pytest.approx(accs[-1])


def test_wandb_summary_is_the_best_and_config_is_logged_once(many_run):
    from wandb_records import records

    (path,) = (many_run / "wandb").glob("offline-run-*/run-*.wandb")  # offline W&B keeps everything in here
    summary, configs = {}, []
    for record in records(path):
        kind = record.WhichOneof("record_type")
        if kind == "summary":
            summary.update({u.key or "/".join(u.nested_key): json.loads(u.value_json) for u in record.summary.update})
        elif kind == "config":
            configs.append({u.key or "/".join(u.nested_key) for u in record.config.update})
    rows = read_rows(many_run / "results.csv")
    assert summary["val/acc"] == {"max": pytest.approx(max(r["val/acc"] for r in rows))}
    assert summary["val/loss"] == {"min": pytest.approx(min(r["val/loss"] for r in rows))}
    keys = set().union(*configs)
    assert "model/optimizer/lr" in keys
    assert "backbone" not in keys and "class_names" not in keys  # Lightning's second copy of the module's


def test_summary_kinds():
    assert summary_of("val/loss") == "min" and summary_of("train/loss_box") == "min"
    assert summary_of("val/map_50") == "max" and summary_of("val/ap/circle") == "max"
    assert summary_of("lr/head") is None


@pytest.fixture(scope="module")
def tensorboard_sweep(tmp_path_factory):
    """Two runs of a sweep over ``seed`` (as ``vt-train -m seed=1,2`` leaves them), TensorBoard only."""
    from visiontrain.train import train
    from visiontrain.run.job import run_job

    root = tmp_path_factory.mktemp("tbsweep")
    for seed in (1, 2):
        overrides = ["logger=tensorboard", "trainer.max_epochs=2", "data.image_size=16", f"seed={seed}"]
        cfg = compose_cfg([*FAST, *overrides], root / str(seed), root / "data")
        run = root / str(seed) / "run"
        (run / ".hydra").mkdir(parents=True, exist_ok=True)
        (run / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
        run_job(cfg, train)
    return root


def _tensorboard_experiment(logdir) -> dict:
    """What TensorBoard's HParams tab asks its server for: the experiment (hyperparameters, in the tab's order)."""
    import sys
    import urllib.request
    from pathlib import Path

    from servers import free_port, started, wait_until

    port = free_port()
    exe = Path(sys.executable).with_name("tensorboard")
    base = f"http://127.0.0.1:{port}/data/plugin/hparams"

    def ask(route: str, body: dict) -> dict:
        request = urllib.request.Request(f"{base}/{route}", data=json.dumps(body).encode(), headers={
            "Content-Type": "application/json", "X-TensorBoard-Feature-Flags": "{}"})
        with urllib.request.urlopen(request, timeout=5) as r:
            return json.loads(r.read())

    statuses = ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"]

    def experiment() -> dict | None:  # both runs' sessions read (TensorBoard loads runs one by one), then it
        groups = ask("session_groups", {"experimentName": "", "allowedStatuses": statuses, "startIndex": 0,
                                        "sliceSize": 10})
        return ask("experiment", {"experimentName": "", "includeMetrics": True}) if groups.get("totalSize") == 2 \
            else None

    with started([str(exe), "--logdir", str(logdir), "--host", "127.0.0.1", "--port", str(port), "--load_fast",
                  "false", "--reload_interval", "1"]) as proc:
        return wait_until(proc, experiment, "tensorboard did not answer", timeout=300, interval=1)


def test_tensorboard_hparams_tab_puts_the_swept_hyperparameter_first(tensorboard_sweep):
    """TensorBoard shows the first few hyperparameters of its experiment; a per-run experiment summary (what
    ``log_hyperparams`` writes) made it one run's, alphabetical, with ``seed`` unticked. Built from both runs'
    sessions, the one that differs comes first, its range spans both runs, and both best values are metrics."""
    experiment = _tensorboard_experiment(tensorboard_sweep)
    infos = experiment["hparamInfos"]
    assert infos[0]["name"] == "seed" and infos[0].get("differs") is True, infos
    assert infos[0]["domainInterval"] == {"minValue": 1, "maxValue": 2}
    assert not any(info.get("differs") for info in infos[1:])
    metrics = {m["name"]["tag"] for m in experiment["metricInfos"]}
    assert {"hparams/best_val/acc", "hparams/final_val/acc"} <= metrics
