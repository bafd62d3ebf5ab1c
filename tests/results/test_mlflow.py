"""logger=mlflow with current MLflow: a local SQLite store under outputs/, read back through `mlflow server`'s
REST API and its UI in headless Chromium."""

import json
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from helpers import FAST, compose_cfg
from servers import free_port, started, wait_until

pytest.importorskip("mlflow")

RUN_NAME = "vt-mlflow-check"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from visiontrain.train import train
    from visiontrain.run.job import run_job

    tmp = tmp_path_factory.mktemp("mlflow")
    cfg = compose_cfg([*FAST, "logger=mlflow", f"logger.mlflow.run_name={RUN_NAME}", "trainer.max_epochs=2",
                       "trainer.log_every_n_steps=1"], tmp, tmp / "data")
    run_job(cfg, train)
    db = tmp / "outputs" / "mlflow" / "mlflow.db"
    assert db.is_file(), "the SQLite store lives under outputs/mlflow/"
    return tmp, db


@pytest.fixture(scope="module")
def server(trained):
    tmp, db = trained
    port = free_port()
    exe = Path(sys.executable).with_name("mlflow")
    url = f"http://127.0.0.1:{port}"

    def healthy() -> bool | None:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
            return True if r.status == 200 else None

    with started([str(exe), "server", "--backend-store-uri", f"sqlite:///{db}", "--host", "127.0.0.1", "--port",
                  str(port), "--workers", "1"], cwd=tmp) as proc:
        wait_until(proc, healthy, "mlflow server did not start", timeout=400)
        yield url


def test_the_store_is_sqlite_under_outputs_with_params_step_metrics_and_artifacts(trained):
    from mlflow.tracking import MlflowClient

    tmp, db = trained
    client = MlflowClient(f"sqlite:///{db}")
    (run,) = client.search_runs([client.get_experiment_by_name("quickstart").experiment_id])
    assert run.info.run_name == RUN_NAME and run.info.status == "FINISHED"
    assert run.data.params["optimized_metric"] == "val/acc"
    assert len(client.get_metric_history(run.info.run_id, "train/loss_step")) == 6
    accs = [m.value for m in client.get_metric_history(run.info.run_id, "val/acc")]
    assert len(accs) == 2 and run.data.metrics["best/val/acc"] == pytest.approx(max(accs))  # MLflow shows last values
    assert run.info.artifact_uri.startswith((tmp / "outputs" / "mlflow" / "artifacts").as_uri())
    names = {Path(f.path).name for f in client.list_artifacts(run.info.run_id, "results")}
    assert {"results.csv", "results.png", "test_confusion_matrix.png"} <= names


def _get(url: str, endpoint: str, **query) -> dict:
    with urllib.request.urlopen(f"{url}{endpoint}?{urllib.parse.urlencode(query)}", timeout=30) as r:
        return json.loads(r.read())


def _post(url: str, path: str, body: dict) -> dict:
    request = urllib.request.Request(f"{url}{path}", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.loads(r.read())


def _the_run(url: str) -> dict:
    experiment = _get(url, "/api/2.0/mlflow/experiments/get-by-name", experiment_name="quickstart")["experiment"]
    runs = _post(url, "/api/2.0/mlflow/runs/search", {"experiment_ids": [experiment["experiment_id"]]})["runs"]
    assert len(runs) == 1
    return runs[0]


@pytest.mark.slow  # `mlflow server` starts in ~15 s on a quiet machine, minutes on a loaded one
def test_the_run_reads_back_over_rest(server):
    run = _the_run(server)
    assert run["info"]["run_name"] == RUN_NAME
    params = {p["key"]: p["value"] for p in run["data"]["params"]}
    assert params["optimized_metric"] == "val/acc" and "model/optimizer/lr" in params
    metrics = {m["key"] for m in run["data"]["metrics"]}
    assert {"val/acc", "val/loss", "train/loss_epoch", "test/acc"} <= metrics
    history = _get(server, "/api/2.0/mlflow/metrics/get-history", run_id=run["info"]["run_id"],
                   metric_key="train/loss_step")["metrics"]
    assert sorted(m["step"] for m in history) == [0, 1, 2, 3, 4, 5]  # every step, not a summary
    artifacts = _get(server, "/api/2.0/mlflow/artifacts/list", run_id=run["info"]["run_id"], path="results")
    names = {Path(f["path"]).name for f in artifacts.get("files", [])}
    assert {"results.csv", "results.png", "test_confusion_matrix.png"} <= names
    top = _get(server, "/api/2.0/mlflow/artifacts/list", run_id=run["info"]["run_id"])
    checkpoints = [f["path"] for f in top["files"] if f["is_dir"] and "results" not in f["path"]]
    assert checkpoints, f"no checkpoint artifact in {top}"


@pytest.mark.slow
def test_the_ui_shows_the_run_and_its_metrics(server):
    from browser import dump_dom

    run = _the_run(server)
    page = f"{server}/#/experiments/{run['info']['experiment_id']}/runs/{run['info']['run_id']}"
    dom = dump_dom(page, wait_ms=30000, timeout=180)
    assert RUN_NAME in dom
    assert "val/acc" in dom
