"""Restoration predictions: ``restored/<file>.png`` per input image, at the image's own size (the networks are fully
convolutional: the crops of training and validation are a way to sample data, not a preprocessing step), and
``predictions.json``.

The input files are the degraded images (noisy photos for denoise, any image for compress). Inpainting also needs
the holes: ``options.masks=FOLDER`` holds one mask image per input at the same relative path (``.png``; white =
missing). With ``options.corrupt=true`` the files are taken as clean instead and degraded first by the
checkpoint's own ``data.corruption`` / ``data.holes`` pipelines, seeded per file as validation does; the degraded
input is written to ``inputs/`` and PSNR of input and output against the clean file goes to the JSON.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from visiontrain.errors import ConfigError, DataError
from visiontrain.families.predictions import PredictionWriter, read_rgb, save_png, write_json
from visiontrain.imaging import to_uint8

SAFE_TARGETS = ("albumentations.", "visiontrain.data.")  # what a checkpoint's config may instantiate here


def _pipeline(steps: list | None, key: str):
    import albumentations as A
    from hydra.utils import instantiate

    for i, step in enumerate(steps or []):
        target = str(step.get("_target_", "")) if isinstance(step, dict) else ""
        if not target.startswith(SAFE_TARGETS):
            raise ConfigError(f"{key}[{i}]: '{target}' is neither an Albumentations nor a visiontrain transform; "
                              "refusing to instantiate it from a checkpoint")
    return A.Compose([instantiate(step) for step in steps or []])


def _tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.array(image)).permute(2, 0, 1).float().div(255.0)




def read_hole_mask(path: Path, size: tuple[int, int]) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            mask = np.asarray(im.convert("L")) > 127
    except (UnidentifiedImageError, OSError) as exc:
        raise DataError(f"{path}: cannot read the mask image ({type(exc).__name__})") from None
    if mask.shape != size:
        raise DataError(f"{path}: mask is {mask.shape[1]}x{mask.shape[0]}, its image {size[1]}x{size[0]}")
    return mask


class RestoreImages(Dataset):
    """({"input", "mask"[, "clean"]}, index) per file: float [0, 1] tensors at the file's own size."""

    def __init__(self, writer: RestorationPredictionWriter, stored_config: dict[str, Any]) -> None:
        self.writer = writer
        data = stored_config.get("data") or {}
        self.corrupt = bool(writer.options.get("corrupt", False))
        self.seed = int(writer.options.get("seed", 0))
        if self.corrupt:
            self.corruption = _pipeline(data.get("corruption"), "data.corruption")
            self.holes = _pipeline(data.get("holes"), "data.holes")
        masks = writer.options.get("masks")
        self.masks = Path(masks) if masks else None
        if writer.task == "inpaint" and not self.corrupt:
            if self.masks is None:
                raise ConfigError("options.masks: an inpainting checkpoint needs the holes: options.masks=FOLDER (a "
                                  "mask PNG per image at the same relative path, white = missing) or "
                                  "options.corrupt=true (holes from the checkpoint's data.holes)")
            if not self.masks.is_dir():
                raise ConfigError(f"options.masks={self.masks}: no such folder")

    def __len__(self) -> int:
        return len(self.writer.files)

    def _mask_file(self, file: Path) -> Path:
        path = self.masks / Path(self.writer.relative(file)).with_suffix(".png")
        if not path.is_file():
            raise DataError(f"{path}: no hole mask for {file} (options.masks holds one PNG per image)")
        return path

    def __getitem__(self, i: int) -> tuple[dict[str, torch.Tensor], int]:
        file = self.writer.files[i]
        image = read_rgb(file)
        empty = np.zeros(image.shape[:2], dtype=np.uint8)
        if self.corrupt:  # as validation does: the same corruption of file i every time
            self.corruption.set_random_seed(self.seed + i)
            self.holes.set_random_seed(self.seed + i)
            degraded = self.corruption(image=image)["image"]
            mask = self.holes(image=degraded, mask=empty)["mask"] > 0
            item = {"input": _tensor(degraded), "clean": _tensor(image)}
        else:
            mask = read_hole_mask(self._mask_file(file), image.shape[:2]) if self.writer.task == "inpaint" else empty
            item = {"input": _tensor(image)}
        item["mask"] = torch.from_numpy(np.asarray(mask, dtype=np.float32))[None]
        return item, i


def collate(batch):
    """Images of any size: a list of items, not a stacked tensor."""
    return [b[0] for b in batch], torch.tensor([b[1] for b in batch])


class RestorationPredictionWriter(PredictionWriter):
    stack = False

    def __init__(self, out_dir, files, root, options, task: str, compression_ratio: float | None) -> None:
        super().__init__(out_dir, files, root, options)
        self.task, self.compression_ratio, self.records = task, compression_ratio, []
        self.collate = collate

    def dataset(self, stored_config: dict[str, Any]) -> Dataset:
        return RestoreImages(self, stored_config)

    def write(self, files: list[Path], items: list[dict], outputs: list[torch.Tensor]) -> None:
        from torchmetrics.functional.image import peak_signal_noise_ratio as psnr

        from visiontrain.models.restoration.module import mean_fill

        for file, item, out in zip(files, items, outputs):
            out = out.detach().float().cpu()
            path = self.output_path(file, "restored", ".png")
            save_png(path, to_uint8(out))
            record = {"file": self.relative(file), "output": path.relative_to(self.out_dir).as_posix(),
                      "width": int(out.shape[-1]), "height": int(out.shape[-2])}
            inp = item["input"].float().cpu()
            if self.task == "inpaint":  # what the network starts from: holes filled with the mean colour
                inp = mean_fill(inp[None], item["mask"].float().cpu()[None])[0]
            clean = item["clean"].float().cpu() if "clean" in item else inp if self.task == "compress" else None
            if "clean" in item:
                in_path = self.output_path(file, "inputs", ".png")
                save_png(in_path, to_uint8(inp))
                record["input"] = in_path.relative_to(self.out_dir).as_posix()
                if self.task != "compress":
                    record["psnr_input"] = float(psnr(inp[None], clean[None], data_range=1.0))
            if clean is not None:  # PSNR of the float output, before rounding to 8 bits
                record["psnr"] = float(psnr(out[None], clean[None], data_range=1.0))
            if self.compression_ratio is not None:
                record["compression_ratio"] = self.compression_ratio
            self.records.append(record)

    def finish(self) -> dict:
        path = write_json(self.out_dir / "predictions.json", self.records)
        return {"files": [path, self.out_dir / "restored"]}
