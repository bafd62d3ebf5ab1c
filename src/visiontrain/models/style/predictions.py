"""Style-transfer "predictions": the images a checkpoint holds.

Gatys style transfer has no network that maps a new photo to a stylised one: the optimised image *is* the result,
stored in the checkpoint (``images.<i>``, one per content/style pair). So ``vt-predict`` on a style checkpoint
writes those images, finished as the run's ``final_<pair>.png`` are (the mask composite and, with
``preserve_color=luminance``, the content's colours applied), to ``<out_dir>/<content>__<style>.png``, plus
``predictions.json``. The content/style pairs (names, content colours, mask) are rebuilt from the checkpoint's
stored ``data`` config, so files it names must still be where the run read them. Stylising other photos is a new
optimisation: ``vt-train experiment=style_transfer data.content=[PHOTO]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from visiontrain.errors import ConfigError, DataError
from visiontrain.families.predictions import save_png, write_json


def write_stored_images(module, out_dir: str | Path, stored_config: dict[str, Any]) -> dict[str, Any]:
    from hydra.utils import instantiate

    from visiontrain.imaging import to_uint8

    data = dict(stored_config.get("data") or {})  # its targets were checked by vt-predict (trusted code only)
    if not data:
        raise ConfigError("ckpt_path: the checkpoint stores no data config, so its content/style pairs are unknown")
    datamodule = instantiate(data)
    datamodule.setup("predict")
    pairs = list(getattr(datamodule, "pairs", None) or [])
    if len(pairs) != len(module.images):
        raise DataError(f"data: the checkpoint holds {len(module.images)} image(s) but its data config now gives "
                        f"{len(pairs)} content/style pair(s) ({', '.join(p.name for p in pairs)}): the content or "
                        "style files changed since the run")
    module.pairs = pairs
    module.setup("predict")  # content/style sources (colour preservation) for the pairs set above
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scale = module.scales[module._scale_index]
    records, files = [], []
    for name, image in module.output_images().items():
        path = out_dir / f"{name}.png"
        save_png(path, to_uint8(image))
        files.append(path)
        records.append({"name": name, "file": path.name, "width": int(image.shape[-1]),
                        "height": int(image.shape[-2]), "scale": scale})
    files.insert(0, write_json(out_dir / "predictions.json", records))
    return {"files": files, "images": len(records)}
