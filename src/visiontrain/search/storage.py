"""Where a study lives, and how a job (in this process, a submitit worker or a DDP rank) finds its trial.

``storage`` is what ``optuna-dashboard`` accepts too: an RDB URL (``sqlite:///…``, ``postgresql://…``) or the path
of a journal file (Optuna's JournalFileBackend: an append-only log with a symlink lock, safe on NFS/Lustre where
SQLite's locks are not)."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Set in each trial's job through hydra.job.env_set, so they reach other processes (submitit workers) and are
# inherited by the DDP ranks Lightning starts.
STORAGE_ENV, STUDY_ENV, TRIAL_ENV = "VT_OPTUNA_STORAGE", "VT_OPTUNA_STUDY", "VT_OPTUNA_TRIAL"


def is_rdb_url(storage: str) -> bool:
    return "://" in storage


def normalize_storage(storage: str | None) -> str | None:
    """A journal path made absolute with its folder created (jobs may run elsewhere); URLs as they are."""
    if storage is None or is_rdb_url(str(storage)):
        return storage
    path = Path(str(storage)).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return str(path)


@functools.lru_cache(maxsize=8)
def open_storage(storage: str | None) -> Any:
    """An Optuna storage object for ``storage`` (None: in memory, this process only). Cached: opening an RDB
    storage checks its schema (~1 s), and with the basic launcher every job runs in the sweeper's process."""
    if storage is None:
        return None
    import optuna

    if is_rdb_url(storage):
        return optuna.storages.RDBStorage(storage)
    from optuna.storages.journal import JournalFileBackend

    return optuna.storages.JournalStorage(JournalFileBackend(str(normalize_storage(storage))))


@dataclass(frozen=True)
class TrialRef:
    """One trial of one study, as a job receives it."""

    storage: str
    study_name: str
    number: int

    def job_overrides(self) -> list[str]:
        return [f"++hydra.job.env_set.{name}={_quote(value)}" for name, value in
                ((STORAGE_ENV, self.storage), (STUDY_ENV, self.study_name), (TRIAL_ENV, str(self.number)))]

    @classmethod
    def from_env(cls) -> "TrialRef | None":
        if not all(os.environ.get(name) for name in (STORAGE_ENV, STUDY_ENV, TRIAL_ENV)):
            return None
        return cls(os.environ[STORAGE_ENV], os.environ[STUDY_ENV], int(os.environ[TRIAL_ENV]))

    def load(self, pruner: Any = None) -> Any:
        """The live ``optuna.Trial`` (report, should_prune) for this reference."""
        import optuna

        storage = open_storage(self.storage)
        study = optuna.load_study(study_name=self.study_name, storage=storage, pruner=pruner)
        trial_id = storage.get_trial_id_from_study_id_trial_number(
            storage.get_study_id_from_name(self.study_name), self.number)
        return optuna.trial.Trial(study, trial_id)


def _quote(value: str) -> str:
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"
