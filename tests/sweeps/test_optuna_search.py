"""`hparams_search=*` through the project's vt_optuna sweeper (Optuna >= 4): a classifier search whose pruner stops
bad trials (metrics.json `pruned`, last.ckpt kept), continued from its storage; the ask/launch/tell loop with failing
jobs, journal storage and Ctrl+C; the search-space syntax; optuna-dashboard reading a study."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from helpers import run_cli

optuna = pytest.importorskip("optuna")

from hydra.core.utils import JobReturn, JobStatus  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402
from optuna.trial import TrialState  # noqa: E402

from visiontrain.search.space import parse_search_space  # noqa: E402
from visiontrain.search.storage import TrialRef  # noqa: E402
from visiontrain.search.sweep import OptunaSearch  # noqa: E402

MAX_EPOCHS = 3
TRAIN_BATCHES = 2
# A tiny digits classifier: 2 steps an epoch, 3 epochs, no test stage; lr spans good and hopeless values, so the
# median pruner (after 2 complete trials, from epoch 0) has bad trials to stop.
SEARCH = ["hparams_search=classifier_optuna", "logger=none", f"trainer.max_epochs={MAX_EPOCHS}",
          f"trainer.limit_train_batches={TRAIN_BATCHES}", "trainer.limit_val_batches=1", "test=false",
          "trainer.num_sanity_val_steps=0", "trainer.enable_progress_bar=false", "callbacks.rich_progress_bar=null",
          "callbacks.early_stopping=null", "data.batch_size=32", "model.optimizer.lr=tag(log, interval(0.0003, 30.0))",
          "hydra.sweeper.sampler.seed=0", "hydra.sweeper.sampler.n_startup_trials=4"]
MEDIAN = ["hydra.sweeper.pruner.n_startup_trials=2", "hydra.sweeper.pruner.n_warmup_steps=0"]


def _study(tmp_path):
    return optuna.load_study(study_name="quickstart-classifier",
                             storage=f"sqlite:///{tmp_path}/outputs/quickstart/optuna.sqlite")


def test_classifier_search_prunes_bad_trials_and_continues_from_storage(tmp_path):
    proc = run_cli("train", [*SEARCH, *MEDIAN, "hydra.sweeper.n_trials=6"], cwd=tmp_path, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    first = _study(tmp_path).trials
    assert [t.number for t in first] == list(range(6))
    pruned = [t for t in first if t.state == TrialState.PRUNED]
    assert pruned, [(t.state.name, t.intermediate_values) for t in first]
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in first)

    (sweep,) = (tmp_path / "outputs" / "quickstart" / "multiruns").iterdir()
    for trial in first:  # job n of the sweep is trial n of the study
        job = sweep / str(trial.number)
        record = json.loads((job / "metrics.json").read_text())
        assert record["status"] == ("pruned" if trial.state == TrialState.PRUNED else "finished")
        assert (job / "checkpoints" / "last.ckpt").is_file()
        reported = sorted(trial.intermediate_values)
        if trial.state == TrialState.PRUNED:  # stopped after the epoch it was pruned at; its value is that epoch's
            assert reported[-1] < MAX_EPOCHS - 1 and trial.value == trial.intermediate_values[reported[-1]]
        else:
            assert reported == list(range(MAX_EPOCHS))
            assert trial.value == pytest.approx(record["metrics"]["val/acc"])
    saved = sum(MAX_EPOCHS - 1 - max(t.intermediate_values) for t in pruned)
    print(f"\npruned {len(pruned)}/6 trials: {saved} epochs ({saved * TRAIN_BATCHES} steps) not trained")

    proc = run_cli("train", [*SEARCH, *MEDIAN, "hydra.sweeper.n_trials=2", "hydra.sweeper.sampler.seed=1"],
                   cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    trials = _study(tmp_path).trials
    assert [t.number for t in trials] == list(range(8))
    assert [t.params for t in trials[:6]] == [t.params for t in first]  # the stored trials are untouched
    assert all(t.state.is_finished() and t.state != TrialState.FAIL for t in trials)
    assert any(t.state == TrialState.PRUNED for t in trials)
    assert len(list((tmp_path / "outputs" / "quickstart" / "multiruns").iterdir())) == 2


# The ask/launch/tell loop without training: a stand-in launcher runs each job as vt-train would, reaching its trial
# only through the overrides the sweeper gives it (storage + study + trial number), as a submitit worker does.
class _Launcher:
    def __init__(self, root: Path, behaviour):
        self.root, self.behaviour, self.launched = root, behaviour, []

    def launch(self, batch, initial_job_idx):
        returns = []
        for idx, overrides in enumerate(batch, start=initial_job_idx):
            env = {o.split("=", 1)[0].rsplit(".", 1)[1]: o.split("=", 1)[1].strip("'")
                   for o in overrides if o.startswith("++hydra.job.env_set.")}
            params = dict(o.split("=", 1) for o in overrides if not o.startswith("++"))
            self.launched.append(params)
            out = self.root / str(len(self.launched))
            out.mkdir(parents=True)
            ref = TrialRef(env["VT_OPTUNA_STORAGE"], env["VT_OPTUNA_STUDY"], int(env["VT_OPTUNA_TRIAL"]))
            status, value = self.behaviour(ref, float(params["x"]))
            (out / "metrics.json").write_text(json.dumps({"status": status, "metrics": {}}))
            ok = not isinstance(value, Exception)
            returns.append(JobReturn(overrides=list(overrides), hydra_cfg=OmegaConf.create(
                {"hydra": {"runtime": {"output_dir": str(out)}}}), status=JobStatus.COMPLETED if ok else
                JobStatus.FAILED, _return_value=value))
        return returns


def _search(storage, n_trials=4, n_jobs=1, pruner=None):
    return OptunaSearch(sampler=optuna.samplers.RandomSampler(seed=0), pruner=pruner, direction="minimize",
                        storage=storage, study_name="s", n_trials=n_trials, n_jobs=n_jobs,
                        params=OmegaConf.create({"x": "interval(0.0, 1.0)"}))


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_failed_jobs_are_failed_trials_and_the_study_goes_on_and_continues(tmp_path, kind):
    storage = f"sqlite:///{tmp_path}/s.sqlite" if kind == "sqlite" else str(tmp_path / "nfs" / "s.journal")

    def behaviour(ref, x):
        trial = ref.load(optuna.pruners.ThresholdPruner(upper=0.6))
        trial.report(x, step=0)
        if ref.number == 1:
            return "failed", -1e9  # what run_job returns for a failed job in a sweep (on_failure=continue)
        if ref.number == 2:
            return "finished", RuntimeError("crashed")  # an exception out of the job
        return ("pruned", x) if trial.should_prune() else ("finished", x)

    launcher = _Launcher(tmp_path / "jobs", behaviour)
    _search(storage, n_trials=4, n_jobs=2).run(launcher, [], str(tmp_path / "sweep"))
    _search(storage, n_trials=2).run(launcher, [], str(tmp_path / "sweep2"))  # the same command again
    study = optuna.load_study(study_name="s", storage=_search(storage).storage if kind == "sqlite" else
                              optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(storage)))
    states = [t.state for t in study.trials]
    assert [t.number for t in study.trials] == list(range(6))
    assert states[1] == states[2] == TrialState.FAIL  # not COMPLETE with -1e9: the sampler must not learn from it
    for trial in study.trials[3:] + study.trials[:1]:
        x = trial.params["x"]
        assert trial.state == (TrialState.PRUNED if x > 0.6 else TrialState.COMPLETE), (x, trial.state)
        assert trial.value == pytest.approx(x)
    assert (tmp_path / "sweep" / "optimization_results.yaml").is_file()


def test_an_interrupted_batch_leaves_no_trial_running(tmp_path):
    def behaviour(ref, x):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _search(f"sqlite:///{tmp_path}/s.sqlite", n_jobs=2).run(_Launcher(tmp_path, behaviour), [], str(tmp_path))
    study = optuna.load_study(study_name="s", storage=f"sqlite:///{tmp_path}/s.sqlite")
    assert [t.state for t in study.trials] == [TrialState.FAIL, TrialState.FAIL]


def test_search_space_syntax_becomes_optuna_distributions():
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    space, fixed = parse_search_space(["lr=tag(log, interval(0.0001, 0.1))", "wd=interval(0.0, 1.0)",
                                       "depth=range(2, 8, 2)", "bs=choice(32, 64)", "n=tag(int, log, interval(1, 64))",
                                       "seed=3"])
    assert space["lr"] == FloatDistribution(0.0001, 0.1, log=True)
    assert space["wd"] == FloatDistribution(0.0, 1.0)
    assert space["depth"] == IntDistribution(2, 6, step=2)  # range's stop is excluded
    assert space["bs"] == CategoricalDistribution([32, 64])
    assert space["n"] == IntDistribution(1, 64, log=True)
    assert fixed == {"seed": "3"}


def test_the_sweeper_plugin_ships_as_part_of_the_hydra_plugins_namespace():
    import tomllib

    from hydra.core.plugins import Plugins

    repo = Path(__file__).resolve().parents[2]
    packages = tomllib.loads((repo / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert "src/hydra_plugins" in packages["packages"]  # in the wheel, not only in an editable install
    assert not (repo / "src" / "hydra_plugins" / "__init__.py").exists()  # a namespace shared with other plugins
    name = "hydra_plugins.visiontrain_optuna_sweeper.optuna_sweeper.OptunaSweeper"
    assert name in Plugins.instance().class_name_to_class


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_optuna_dashboard_opens_the_stored_study(tmp_path, kind):
    exe = Path(sys.executable).parent / "optuna-dashboard"
    if not exe.exists():
        pytest.skip("optuna-dashboard is not installed (pip install -e '.[dashboard]')")
    storage = f"sqlite:///{tmp_path}/s.sqlite" if kind == "sqlite" else str(tmp_path / "s.journal")
    _search(storage, n_trials=3).run(_Launcher(tmp_path / "jobs", lambda ref, x: ("finished", x)), [],
                                     str(tmp_path))
    port = _free_port()
    server = subprocess.Popen([str(exe), storage, "--host", "127.0.0.1", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline, studies = time.monotonic() + 60, None
        while studies is None and time.monotonic() < deadline:
            assert server.poll() is None, server.stderr.read()[-2000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies", timeout=5) as response:
                    studies = json.load(response)["study_summaries"]
            except OSError:
                time.sleep(0.3)
        assert [s["study_name"] for s in studies] == ["s"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/studies/{studies[0]['study_id']}") as response:
            assert len(json.load(response)["trials"]) == 3
    finally:
        server.terminate()
        server.wait(timeout=30)


# A pruner that stops every trial after its first epoch (val/acc < 2 always): the outcome does not depend on luck.
ALWAYS_PRUNE = ["pruner=none", "hydra.sweeper.pruner._target_=optuna.pruners.ThresholdPruner",
                "+hydra.sweeper.pruner.lower=2.0", "hydra.sweeper.n_trials=2"]


def _assert_pruned_after_one_epoch(tmp_path):
    import torch

    trials = _study(tmp_path).trials
    assert [t.state for t in trials] == [TrialState.PRUNED] * 2, [t.state for t in trials]
    assert all(list(t.intermediate_values) == [0] for t in trials)
    (sweep,) = (tmp_path / "outputs" / "quickstart" / "multiruns").iterdir()
    for job in ("0", "1"):
        assert json.loads((sweep / job / "metrics.json").read_text())["status"] == "pruned"
        last = torch.load(sweep / job / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
        assert last["epoch"] == 0  # every rank stopped after epoch 0 (a rank that went on would hang the others)


@pytest.mark.slow
def test_ddp_trials_are_pruned_by_rank_zero_and_every_rank_stops(tmp_path):
    proc = run_cli("train", [*SEARCH, *ALWAYS_PRUNE, "trainer=ddp_cpu"], cwd=tmp_path, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    _assert_pruned_after_one_epoch(tmp_path)


@pytest.mark.slow
def test_submitit_trials_reach_their_trial_through_storage(tmp_path):
    pytest.importorskip("hydra_plugins.hydra_submitit_launcher")
    proc = run_cli("train", [*SEARCH, *ALWAYS_PRUNE, "launcher=submitit_local", "hydra.sweeper.n_jobs=2"],
                   cwd=tmp_path, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    _assert_pruned_after_one_epoch(tmp_path)


def test_a_ddp_rank_of_a_search_job_runs_that_job_not_a_second_search(monkeypatch):
    from visiontrain.run.ddp_sweep import ENV_VAR, rewrite_argv_for_ddp_rank

    monkeypatch.setenv(ENV_VAR, json.dumps(["hparams_search=classifier_optuna", "model.optimizer.lr=0.01"]))
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setattr(sys, "argv", ["vt-train", "hparams_search=classifier_optuna", "model.optimizer.lr=tag(…)"])
    rewrite_argv_for_ddp_rank()
    assert "model.optimizer.lr=0.01" in sys.argv and "model.optimizer.lr=tag(…)" not in sys.argv
    assert "hydra.mode=RUN" in sys.argv  # hparams_search sets MULTIRUN: the rank would run the sweeper itself
