from visiontrain.callbacks.config_in_checkpoint import ConfigInCheckpoint

__all__ = ["ConfigInCheckpoint"]
