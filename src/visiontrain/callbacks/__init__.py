from visiontrain.callbacks.config_in_checkpoint import ConfigInCheckpoint
from visiontrain.callbacks.exact_resume import ExactResume
from visiontrain.callbacks.finite_loss import FiniteLossGuard
from visiontrain.callbacks.interrupt import CheckpointOnInterrupt
from visiontrain.callbacks.workers import WorkerStartMethod

__all__ = ["CheckpointOnInterrupt", "ConfigInCheckpoint", "ExactResume", "FiniteLossGuard", "WorkerStartMethod"]
