from visiontrain.callbacks.config_in_checkpoint import ConfigInCheckpoint
from visiontrain.callbacks.finite_loss import FiniteLossGuard
from visiontrain.callbacks.interrupt import CheckpointOnInterrupt

__all__ = ["CheckpointOnInterrupt", "ConfigInCheckpoint", "FiniteLossGuard"]
