"""``hydra/sweeper: vt_optuna``: Optuna ≥ 4 search with pruning through ``vt-train -m``.

Kept import-light: Hydra imports every module of ``hydra_plugins`` at start-up, so Optuna loads only when a sweep
runs. No ``from __future__ import annotations``: Hydra execs this module outside sys.modules, where
dataclasses cannot resolve string annotations."""

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from hydra.core.config_store import ConfigStore
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig


@dataclass
class OptunaSweeperConf:
    _target_: str = "hydra_plugins.visiontrain_optuna_sweeper.optuna_sweeper.OptunaSweeper"
    sampler: Any = field(default_factory=lambda: {"_target_": "optuna.samplers.TPESampler", "seed": None})
    # MedianPruner, SuccessiveHalvingPruner, HyperbandPruner, … (a _target_ node); null: no pruning
    pruner: Any = None
    direction: str = "minimize"
    # RDB URL (sqlite:///…) or a journal file path (shared file systems); null: in memory, nothing pruned
    storage: Optional[str] = None
    study_name: Optional[str] = None
    n_trials: int = 20  # per invocation: running the command again adds n_trials more to the stored study
    n_jobs: int = 1  # trials launched together (one launcher batch)
    params: Optional[Dict[str, str]] = None  # key: Hydra sweep syntax (interval, tag(log, …), range, choice)


ConfigStore.instance().store(group="hydra/sweeper", name="vt_optuna", node=OptunaSweeperConf, provider="visiontrain")


class OptunaSweeper(Sweeper):
    def __init__(self, sampler: Any, pruner: Any, direction: str, storage: Optional[str],
                 study_name: Optional[str], n_trials: int, n_jobs: int, params: Optional[DictConfig]) -> None:
        from visiontrain.search.sweep import OptunaSearch

        self.search = OptunaSearch(sampler=sampler, pruner=pruner, direction=direction, storage=storage,
                                   study_name=study_name, n_trials=n_trials, n_jobs=n_jobs, params=params)
        self.launcher: Any = None
        self.sweep_dir = ""

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        from hydra.core.plugins import Plugins

        self.launcher = Plugins.instance().instantiate_launcher(
            config=config, hydra_context=hydra_context, task_function=task_function)
        self.sweep_dir = config.hydra.sweep.dir

    def sweep(self, arguments: List[str]) -> Any:
        return self.search.run(self.launcher, arguments, self.sweep_dir)
