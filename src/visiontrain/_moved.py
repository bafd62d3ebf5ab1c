"""Old import paths of modules that moved when ``utils/`` and the shared family code became packages.

User code and configs written before the move (``visiontrain.utils.predictions.PredictionWriter``, a Hydra
callback ``visiontrain.utils.writable…``) keep working: the old name is the new module, with a
DeprecationWarning that names the new path. Written here because the standard library has no module alias."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

MOVED = {
    "visiontrain.utils.config_paths": "visiontrain.config.paths",
    "visiontrain.utils.config_schema": "visiontrain.config.schema",
    "visiontrain.utils.validation": "visiontrain.config.validation",
    "visiontrain.utils.combinations": "visiontrain.config.combinations",
    "visiontrain.utils.quick_check": "visiontrain.config.quick_check",
    "visiontrain.utils.sweep_check": "visiontrain.config.sweep_check",
    "visiontrain.utils.resolvers": "visiontrain.config.resolvers",
    "visiontrain.utils.sweep_resolvers": "visiontrain.config.sweep_resolvers",
    "visiontrain.utils.job": "visiontrain.run.job",
    "visiontrain.utils.run_dir": "visiontrain.run.run_dir",
    "visiontrain.utils.resume": "visiontrain.run.resume",
    "visiontrain.utils.slurm": "visiontrain.run.slurm",
    "visiontrain.utils.slurm_run_dir": "visiontrain.run.slurm_run_dir",
    "visiontrain.utils.stop_reason": "visiontrain.run.stop_reason",
    "visiontrain.utils.writable": "visiontrain.run.writable",
    "visiontrain.utils.wandb_setup": "visiontrain.run.wandb_setup",
    "visiontrain.utils.instantiate": "visiontrain.run.instantiate",
    "visiontrain.utils.ranks": "visiontrain.run.ranks",
    "visiontrain.utils.ddp_sweep": "visiontrain.run.ddp_sweep",
    "visiontrain.utils.checkpoints": "visiontrain.weights.checkpoints",
    "visiontrain.utils.weights_file": "visiontrain.weights.weights_file",
    "visiontrain.utils.pretrained": "visiontrain.weights.pretrained",
    "visiontrain.utils.named_weights": "visiontrain.weights.named_weights",
    "visiontrain.utils.efficientnet_layout": "visiontrain.weights.efficientnet_layout",
    "visiontrain.utils.figures": "visiontrain.results.figures",
    "visiontrain.utils.predictions": "visiontrain.families.predictions",
    "visiontrain.runs": "visiontrain.results.runs",
    "visiontrain.compare_format": "visiontrain.results.compare_format",
    "visiontrain.compare_html": "visiontrain.results.compare_html",
    "visiontrain.compare_plot": "visiontrain.results.compare_plot",
    "visiontrain.data.formats.images": "visiontrain.imaging",
    "visiontrain.models.classification.backbones": "visiontrain.models.shared.backbones",
    "visiontrain.models.classification.weights_file": "visiontrain.models.shared.backbone_weights",
    "visiontrain.models.segmentation.unet": "visiontrain.models.shared.unet",
    "visiontrain.models.detection.metrics": "visiontrain.models.shared.detection_metrics",
    "visiontrain.models.detection.overlays": "visiontrain.models.shared.detection_overlays",
    "visiontrain.models.detection.predictions": "visiontrain.models.shared.detection_predictions",
    "visiontrain.models.detection.data_classes": "visiontrain.models.shared.category_ids",
    "visiontrain.models.classification.small_cnn": "visiontrain.models.shared.small_cnn",
}
_OLD_PACKAGES = {"visiontrain.utils"}  # packages that exist only as old paths


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path=None, target=None):
        if name in MOVED or name in _OLD_PACKAGES:
            return importlib.util.spec_from_loader(name, self, is_package=name in _OLD_PACKAGES)
        return None

    def create_module(self, spec):
        if spec.name in _OLD_PACKAGES:
            return None  # an empty package: its old submodules are found here
        warnings.warn(f"{spec.name} moved to {MOVED[spec.name]}; import it from there", DeprecationWarning,
                      stacklevel=2)
        return importlib.import_module(MOVED[spec.name])

    def exec_module(self, module) -> None:
        """The new module is imported already."""


def install() -> None:
    if not any(isinstance(f, _MovedModules) for f in sys.meta_path):
        sys.meta_path.append(_MovedModules())
