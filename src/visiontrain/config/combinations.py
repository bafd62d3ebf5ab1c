"""Settings that are each valid but make no sense together, rejected before any data is touched, with the reason.

Called by ``validate_config`` after every key, type and choice has been checked.
"""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig, OmegaConf

from visiontrain.errors import ConfigError


def check_combinations(cfg: DictConfig) -> None:
    from visiontrain.families.config import check_optimized_metric, check_trusted_classes

    check_trusted_classes(cfg)
    check_model_fits_data(cfg)
    check_optimized_metric(cfg)
    check_devices_exist(cfg)
    check_batch_split(cfg)


def _target(cfg: DictConfig, key: str) -> Any:
    from hydra.utils import get_object

    node = OmegaConf.select(cfg, key, default=None)
    if not isinstance(node, DictConfig) or "_target_" not in node:
        return None
    try:
        return get_object(str(node._target_))
    except Exception:  # an unimportable target was reported by validation already
        return None


def check_model_fits_data(cfg: DictConfig) -> None:
    from visiontrain.families.registry import check_fits

    model, data = _target(cfg, "model"), _target(cfg, "data")
    if model is None or data is None or not all(isinstance(x, type) for x in (model, data)):
        return
    check_fits(model, data)  # the model family's datamodule (registry), the most specific family first
    arch = str(OmegaConf.select(cfg, "model.architecture", default="") or "")
    if arch.startswith("maskrcnn") and OmegaConf.select(cfg, "data.with_masks", default=True) is False:
        raise ConfigError(f"data.with_masks: model.architecture={arch} trains on instance masks; set "
                          "data.with_masks=true (or choose a box-only architecture)")


def _devices_per_node(cfg: DictConfig) -> int | None:
    """The number of devices the trainer asks for on one node; None where Lightning decides ("auto", -1)."""
    devices = OmegaConf.select(cfg, "trainer.devices", default=None)
    if isinstance(devices, bool):
        return None
    if isinstance(devices, int):
        return devices if devices > 0 else None
    if isinstance(devices, str) and devices.strip().isdigit():
        return int(devices)
    if OmegaConf.is_list(devices):
        return len(devices)
    if isinstance(devices, str) and "," in devices:
        return len([d for d in devices.split(",") if d.strip()])
    return None


def check_devices_exist(cfg: DictConfig) -> None:
    accelerator = str(OmegaConf.select(cfg, "trainer.accelerator", default="auto"))
    if accelerator not in ("gpu", "cuda"):
        return
    import torch

    have = torch.cuda.device_count()
    wanted = _devices_per_node(cfg)
    if have == 0:
        raise ConfigError(f"trainer.accelerator={accelerator}: this machine has no GPU that PyTorch can use "
                          "(trainer=cpu runs on the CPU)")
    if wanted is not None and wanted > have:
        raise ConfigError(f"trainer.devices={wanted}: this machine has {have} GPU{'s' if have > 1 else ''} "
                          f"(set trainer.devices={have} or less, or auto)")


def check_batch_split(cfg: DictConfig) -> None:
    """A datamodule that takes a ``global_batch_size`` splits it over all processes: it must divide evenly."""
    total = OmegaConf.select(cfg, "data.global_batch_size", default=None)
    per_node = _devices_per_node(cfg)
    if not isinstance(total, int) or per_node is None:
        return
    processes = per_node * int(OmegaConf.select(cfg, "trainer.num_nodes", default=1) or 1)
    if total % processes:
        raise ConfigError(f"data.global_batch_size={total} does not split evenly over {processes} devices "
                          f"(trainer.devices x trainer.num_nodes); use a multiple of {processes}")
