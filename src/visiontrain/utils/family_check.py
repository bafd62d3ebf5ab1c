"""vt-eval: the checkpoint's model family must be the datamodule's, checked before any data is read.

Until the family registry lands this compares the datamodule class the checkpoint was trained with (its stored
config) with the one ``data=…`` gives: each family has its own datamodule, so another class means another family
(a detector's batches are lists of images and targets, a classifier's one tensor and labels).
"""

from __future__ import annotations

from typing import Any, Mapping

from visiontrain.errors import ConfigError


def _short(target: str) -> str:
    return target.rsplit(".", 1)[-1]


def check_checkpoint_fits_data(ckpt_path: str, stored: Mapping[str, Any], data_cfg: Mapping[str, Any]) -> None:
    model = str((stored.get("model") or {}).get("_target_", ""))
    trained_on = str((stored.get("data") or {}).get("_target_", ""))
    given = str((data_cfg or {}).get("_target_", ""))
    if not (model and trained_on and given) or trained_on == given:
        return
    raise ConfigError(f"data: {ckpt_path} is a {_short(model)} checkpoint trained with {_short(trained_on)}, but "
                      f"this data config gives {_short(given)} ({given}); choose a data config of the same task")
