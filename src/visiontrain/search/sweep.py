"""The search loop: ask ``n_jobs`` trials, launch them as one batch of Hydra jobs, tell each its outcome.

A job's outcome comes from its run directory's ``metrics.json`` (the project's contract): ``finished`` → COMPLETE with
the value the job returned, ``pruned`` → PRUNED (Optuna keeps its last reported value), anything else → FAIL, and
the study goes on."""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any, Sequence

from omegaconf import DictConfig, OmegaConf

from visiontrain.search.space import parse_search_space
from visiontrain.search.storage import TrialRef, normalize_storage, open_storage

log = logging.getLogger("visiontrain")


def trial_outcome(job_return: Any) -> tuple[Any, float | None, str]:
    """(TrialState, value or None, why) for one Hydra JobReturn."""
    from hydra.core.utils import JobStatus
    from optuna.trial import TrialState

    if job_return.status != JobStatus.COMPLETED:
        return TrialState.FAIL, None, f"the job raised {job_return._return_value!r}"
    status = _metrics_status(job_return)
    if status == "pruned":
        return TrialState.PRUNED, None, "pruned"
    if status not in (None, "finished"):
        return TrialState.FAIL, None, f"metrics.json status {status!r}"
    try:
        value = float(job_return.return_value)
    except (TypeError, ValueError):
        return TrialState.FAIL, None, f"the job returned {job_return.return_value!r}, not a number"
    if not math.isfinite(value):
        return TrialState.FAIL, None, f"the job returned {value}"
    return TrialState.COMPLETE, value, "finished"


def _metrics_status(job_return: Any) -> str | None:
    from visiontrain.run.run_dir import read_metrics_json

    output_dir = OmegaConf.select(job_return.hydra_cfg, "hydra.runtime.output_dir") if job_return.hydra_cfg else None
    try:
        return read_metrics_json(output_dir).get("status") if output_dir else None
    except (OSError, ValueError):
        return None


class OptunaSearch:
    def __init__(self, *, sampler: Any, pruner: Any, direction: str, storage: str | None, study_name: str | None,
                 n_trials: int, n_jobs: int, params: DictConfig | None) -> None:
        self.sampler, self.pruner, self.direction = sampler, pruner, direction
        self.storage = normalize_storage(None if storage is None else str(storage))
        self.study_name, self.n_trials, self.n_jobs = study_name, int(n_trials), max(1, int(n_jobs))
        self.params = params

    def run(self, launcher: Any, arguments: Sequence[str], sweep_dir: str) -> Any:
        import optuna

        space, fixed = parse_search_space([f"{k}={v}" for k, v in (self.params or {}).items()] + list(arguments))
        for key in fixed:
            space.pop(key, None)  # a command-line value wins over the config's search space
        study = optuna.create_study(study_name=self.study_name, storage=open_storage(self.storage),
                                    sampler=self.sampler, pruner=self.pruner, direction=self.direction,
                                    load_if_exists=True)
        done = len(study.trials)
        log.info(f"Study {study.study_name!r} in {self.storage or 'memory'}: {done} trials stored, "
                 f"{self.n_trials} more; sampler {type(self.sampler).__name__}, pruner {type(self.pruner).__name__}")
        if self.storage is None and self.pruner is not None:
            log.warning("hydra.sweeper.storage is null: jobs cannot report to their trial, so nothing is pruned")
        job_idx = 0
        while job_idx < self.n_trials:
            trials = [study.ask(space) for _ in range(min(self.n_jobs, self.n_trials - job_idx))]
            batch = [self._overrides(trial, fixed, study.study_name) for trial in trials]
            try:
                returns = launcher.launch(batch, initial_job_idx=job_idx)
            except BaseException:  # Ctrl+C, SIGTERM, a launcher error: the batch's trials must not stay RUNNING
                for trial in trials:
                    study.tell(trial, state=optuna.trial.TrialState.FAIL, skip_if_finished=True)
                raise
            for trial, job_return in zip(trials, returns):
                state, value, why = trial_outcome(job_return)
                study.tell(trial, value, state=state, skip_if_finished=True)
                if state != optuna.trial.TrialState.COMPLETE:
                    log.info(f"Trial {trial.number}: " + (why if why == "pruned" else f"failed ({why})"))
            job_idx += len(returns)
        self._write_results(study, sweep_dir)
        return study

    def _overrides(self, trial: Any, fixed: dict[str, str], study_name: str) -> list[str]:
        chosen = [f"{name}={value}" for name, value in trial.params.items()]
        chosen += [f"{name}={value}" for name, value in fixed.items()]
        if self.storage is not None:
            chosen += TrialRef(self.storage, study_name, trial.number).job_overrides()
        return chosen

    def _write_results(self, study: Any, sweep_dir: str) -> None:
        from optuna.trial import TrialState

        if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
            log.warning("No trial completed: no best parameters yet")
            return
        best = study.best_trial
        log.info(f"Best trial {best.number}: value {best.value}, parameters {best.params}")
        Path(sweep_dir).mkdir(parents=True, exist_ok=True)
        OmegaConf.save(OmegaConf.create({"name": "optuna", "study_name": study.study_name, "storage": self.storage,
                                         "best_trial": best.number, "best_params": best.params,
                                         "best_value": best.value}),
                       Path(sweep_dir) / "optimization_results.yaml")
