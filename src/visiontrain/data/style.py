"""Style transfer data: content and style images from files, folders, scikit-image's bundled pictures or a
generated painting; combined as pairs, all combinations, or each content with all styles blended.

Each entry of ``content`` / ``style`` is one of: a file, a folder (all its images, sorted), ``skimage:<name>``
(bundled with scikit-image, offline) or ``generated:painting[:seed]``. The training "dataset" is just a step
counter: the images themselves go to the model once (``pairs``), as they do not change between steps.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader, Dataset

from visiontrain.data.bad_samples import BadSamples
from visiontrain.data.resumable_loader import resumable_for
from visiontrain.errors import ConfigError, DataError
from visiontrain.imaging import is_image_file, read_rgb

log = logging.getLogger(__name__)

# scikit-image images that ship in its wheel (no pooch download needed)
BUNDLED = ("astronaut", "brick", "camera", "chelsea", "coffee", "coins", "colorwheel", "grass", "gravel",
           "hubble_deep_field", "immunohistochemistry", "logo", "moon", "retina", "rocket")


@dataclass
class StylePair:
    """One image to make: a content image (3xHxW, [0, 1]) and the style images whose Gram matrices are blended."""

    name: str
    content: torch.Tensor
    styles: list[torch.Tensor]
    style_weights: list[float]
    mask: torch.Tensor | None = None  # 1xHxW in [0, 1]: where the style goes (1) and where the content stays (0)


class _Steps(Dataset):
    """``n`` step indices: one optimiser step of the image per item."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> int:
        return i


class StyleDataModule(pl.LightningDataModule):
    def __init__(
        self,
        content: str | list[str] = "skimage:astronaut",
        style: str | list[str] = "generated:painting",
        pairing: Literal["pairs", "combinations", "blend"] = "combinations",
        style_weights: list[float] | None = None,
        image_size: int = 256,
        style_size: int | None = None,
        mask: str | None = None,
        steps_per_epoch: int = 10,
        on_bad_sample: Literal["error", "skip"] = "error",  # see visiontrain.data.bad_samples
        exact_resume: bool = False,
    ) -> None:
        super().__init__()
        self.content = [content] if isinstance(content, str) else list(content)
        self.style = [style] if isinstance(style, str) else list(style)
        self.pairing, self.style_weights = pairing, style_weights
        self.image_size, self.style_size = image_size, style_size or image_size
        self.mask, self.steps_per_epoch = mask, steps_per_epoch
        if not self.content or not self.style:
            raise ConfigError(f"data.{'content' if not self.content else 'style'}: needs at least one image")
        if image_size < 16 or self.style_size < 16:
            raise ConfigError(f"data.image_size / data.style_size: at least 16 px, got {image_size} / {style_size}")
        if steps_per_epoch < 1:
            raise ConfigError(f"data.steps_per_epoch: at least 1, got {steps_per_epoch}")
        self.pairs: list[StylePair] | None = None
        self.bad = BadSamples(on_bad_sample)
        self.exact_resume = exact_resume

    def setup(self, stage: str | None = None) -> None:
        if self.pairs is None:
            self.pairs = self._build_pairs()
            self.bad.report(getattr(self, "trainer", None))
            log.info(f"style data: {len(self.pairs)} image(s) to make: {', '.join(p.name for p in self.pairs)}")

    def _build_pairs(self) -> list[StylePair]:
        contents = [(n, _to_tensor(_fit(a, self.image_size)))
                    for n, a in _expand(self.content, "data.content", self.bad)]
        styles = [(n, _to_tensor(_fit(a, self.style_size))) for n, a in _expand(self.style, "data.style", self.bad)]
        mask = read_mask(self.mask) if self.mask else None
        if self.pairing == "pairs":
            if len(contents) != len(styles):
                raise ConfigError(f"data.pairing: 'pairs' needs as many content as style images, got "
                                  f"{len(contents)} and {len(styles)}; use pairing=combinations or blend")
            combos = [((cn, c), [(sn, s)]) for (cn, c), (sn, s) in zip(contents, styles)]
        elif self.pairing == "combinations":
            combos = [((cn, c), [(sn, s)]) for cn, c in contents for sn, s in styles]
        else:
            combos = [((cn, c), styles) for cn, c in contents]
        weights = self._blend_weights(len(styles))
        pairs, seen = [], set()
        for (cname, c), group in combos:
            name = f"{cname}__{'blend' if self.pairing == 'blend' else group[0][0]}"
            if name in seen:
                name = f"{name}_{len(pairs)}"
            seen.add(name)
            pair_mask = _resize_mask(mask, c.shape[1:]) if mask is not None else None
            pairs.append(StylePair(name, c, [s for _, s in group],
                                   weights if self.pairing == "blend" else [1.0], pair_mask))
        return pairs

    def _blend_weights(self, n: int) -> list[float]:
        if self.style_weights is None:
            return [1.0 / n] * n
        if self.pairing != "blend" or len(self.style_weights) != n:
            raise ConfigError(f"data.style_weights: one weight per style image with pairing=blend "
                              f"({n} style images, {len(self.style_weights)} weights, pairing={self.pairing})")
        total = float(sum(self.style_weights))
        if total <= 0 or any(w < 0 for w in self.style_weights):
            raise ConfigError(f"data.style_weights: must be >= 0 with a positive sum, got {self.style_weights}")
        return [w / total for w in self.style_weights]

    def train_dataloader(self) -> DataLoader:
        return resumable_for(self, DataLoader(_Steps(self.steps_per_epoch), batch_size=1))

    def test_dataloader(self) -> DataLoader:
        return DataLoader(_Steps(1), batch_size=1)


def _expand(entries: list[str], key: str, bad: BadSamples | None = None) -> list[tuple[str, np.ndarray]]:
    """(name, HxWx3 uint8) for every image the entries name; unreadable files stop or (skip) are left out."""
    bad = bad or BadSamples()
    out: list[tuple[str, np.ndarray]] = []
    for entry in entries:
        entry = str(entry)
        if entry.startswith("skimage:"):
            out.append((entry.split(":", 1)[1], _bundled(entry.split(":", 1)[1], key)))
        elif entry.startswith("generated:"):
            out.append(_generated(entry, key))
        else:
            path = Path(entry).expanduser()
            if path.is_dir():
                files = sorted(p for p in path.iterdir() if p.is_file() and is_image_file(p))
                if not files:
                    raise DataError(f"{path}: no image files in this folder ({key})")
                out += [(p.stem, image) for p in files
                        if (image := bad.guard("unreadable images skipped", read_rgb, p)) is not None]
            elif path.exists():
                image = bad.guard("unreadable images skipped", read_rgb, path)
                out += [] if image is None else [(path.stem, image)]
            else:
                raise DataError(f"{path}: no such file or folder ({key}; or use skimage:<name>, generated:painting)")
    if not out:
        raise DataError(f"{key}: none of {', '.join(map(str, entries))} could be read ({bad.summary()})")
    return out


def _bundled(name: str, key: str) -> np.ndarray:
    if name not in BUNDLED:
        raise ConfigError(f"{key}: 'skimage:{name}' is not a bundled image; valid names: {', '.join(BUNDLED)}")
    import skimage.data

    image = getattr(skimage.data, name)()
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    return np.ascontiguousarray(image[..., :3]).astype(np.uint8)


def _generated(entry: str, key: str) -> tuple[str, np.ndarray]:
    parts = entry.split(":")
    if parts[1] != "painting" or len(parts) > 3 or (len(parts) == 3 and not parts[2].isdigit()):
        raise ConfigError(f"{key}: '{entry}' is not a generator; valid: generated:painting or generated:painting:<seed>")
    from visiontrain.data.synthetic.painting import painting

    seed = int(parts[2]) if len(parts) == 3 else 0
    return (f"painting{seed}" if seed else "painting"), painting(seed=seed)


def _fit(image: np.ndarray, long_side: int) -> np.ndarray:
    """Resize so that the longer side is ``long_side`` (up or down), keeping the aspect ratio."""
    from PIL import Image, ImageOps

    return np.array(ImageOps.contain(Image.fromarray(image), (long_side, long_side), Image.LANCZOS))


def _to_tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1).float().div(255.0).contiguous()


def read_mask(path: str) -> torch.Tensor:
    """A mask image (any mode) as 1xHxW in [0, 1]: white = stylise, black = keep the content."""
    rgb = read_rgb(path)
    return torch.from_numpy(rgb.astype(np.float32).mean(axis=-1) / 255.0)[None]


def _resize_mask(mask: torch.Tensor, size) -> torch.Tensor:
    import torch.nn.functional as F

    return F.interpolate(mask[None], size=tuple(size), mode="bilinear", align_corners=False)[0].clamp(0, 1)
