"""Neural style transfer (Gatys et al.) as a LightningModule: the images being made are its parameters.

One training step is one optimiser step (LBFGS: up to ``lbfgs_max_iter`` loss evaluations). Several content/style
pairs are optimised side by side, one image each, their graphs built and freed one after the other so memory
grows with the largest image, not with the number of pairs. Coarse-to-fine (``scales``): the images start small
and are upsampled at the scale boundaries; the optimiser is rebuilt then, so no state of a coarser scale is kept.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Literal

import pytorch_lightning as pl
import torch
import torch.nn.functional as F
from torch import nn

from visiontrain.errors import ConfigError
from visiontrain.models.style import color
from visiontrain.models.style.features import Pooling, build_feature_extractor
from visiontrain.models.style.losses import content_loss, gram, style_loss, tv_loss
from visiontrain.models.style.outputs import save_and_log

log = logging.getLogger(__name__)

DEFAULT_CONTENT_LAYERS = {"conv4_2": 1.0}
DEFAULT_STYLE_LAYERS = {"conv1_1": 1.0, "conv2_1": 1.0, "conv3_1": 1.0, "conv4_1": 1.0, "conv5_1": 1.0}
METRICS = {"style": "style/loss", "content": "content/loss", "tv": "tv/loss", "total": "total/loss"}


@dataclass
class _Targets:
    content: torch.Tensor  # 1xCxhxw source at this scale (C = 1 for luminance transfer)
    content_features: dict[str, torch.Tensor]
    grams: dict[str, torch.Tensor]
    mask: torch.Tensor | None


class StyleTransfer(pl.LightningModule):
    def __init__(
        self,
        network: str = "vgg19",
        weights: str | None = None,
        weights_path: str | None = None,
        pooling: Pooling = "max",
        content_layers: dict[str, float] | None = None,
        style_layers: dict[str, float] | None = None,
        content_weight: float = 1.0,
        style_weight: float = 1e6,
        tv_weight: float = 0.0,
        init: Literal["content", "style", "noise"] = "content",
        preserve_color: Literal["none", "luminance", "histogram"] = "none",
        optimizer: Literal["lbfgs", "adam"] = "lbfgs",
        lr: float | None = None,
        lbfgs_max_iter: int = 10,
        lbfgs_history_size: int = 20,
        line_search_fn: Literal["strong_wolfe"] | None = "strong_wolfe",
        scales: list[float] | None = None,
        steps_per_scale: int | None = None,
        clamp: bool = True,
        snapshot_every: int = 0,
        channels_last: bool = True,
    ) -> None:
        super().__init__()
        self.automatic_optimization = False  # LBFGS needs its closure
        self.strict_loading = False  # the frozen feature network is rebuilt from the config, not stored
        # plain containers: checkpoints are read with weights_only=True, which refuses OmegaConf objects
        content_layers, style_layers, scales = _plain(content_layers), _plain(style_layers), _plain(scales)
        self.save_hyperparameters()
        # weight 0 drops a layer: Hydra merges dict overrides, so `model.style_layers.conv5_1=0` is how users remove one
        self.content_layers = {k: float(w) for k, w in (DEFAULT_CONTENT_LAYERS if content_layers is None
                                                        else content_layers).items() if w}
        self.style_layers = {k: float(w) for k, w in (DEFAULT_STYLE_LAYERS if style_layers is None
                                                      else style_layers).items() if w}
        self.scales = list(scales or [1.0])
        if any(not 0 < s <= 4 for s in self.scales):
            raise ConfigError(f"model.scales: fractions of data.image_size in (0, 4], got {self.scales}")
        if lbfgs_max_iter < 1 or lbfgs_history_size < 1:
            raise ConfigError("model.lbfgs_max_iter / model.lbfgs_history_size: must be >= 1")
        self.features = build_feature_extractor(
            network, {"model.content_layers": self.content_layers, "model.style_layers": self.style_layers},
            weights, weights_path, pooling).use_channels_last(channels_last)
        self.images = nn.ParameterList()
        self.pairs = None  # list[StylePair], from the datamodule at setup (or set directly)
        self._sources: list[tuple[torch.Tensor, list[torch.Tensor], torch.Tensor | None]] = []
        self._targets: list[_Targets] | None = None
        self._scale_index = 0

    # --- images --------------------------------------------------------------------------------------------------
    def setup(self, stage: str) -> None:
        if self.pairs is None:
            dm = getattr(self.trainer, "datamodule", None)
            self.pairs = getattr(dm, "pairs", None)
            if not self.pairs:
                raise ConfigError("data: style transfer needs content/style images from its datamodule "
                                  "(data=style, or a datamodule with a `pairs` list)")
        if not self._sources:
            self._sources = [self._prepare_sources(p) for p in self.pairs]
        if len(self.images) == 0:
            for i in range(len(self.pairs)):
                self.images.append(nn.Parameter(self._initial_image(i)[None]))

    @property
    def _luminance(self) -> bool:
        return self.hparams.preserve_color == "luminance"

    def _prepare_sources(self, pair):
        """Content, styles and mask at full size after colour preservation (done once, on the CPU)."""
        content, styles = pair.content, list(pair.styles)
        if self.hparams.preserve_color == "histogram":
            styles = [color.match_histogram(s, content) for s in styles]
        elif self._luminance:
            content_y = color.luminance(content)
            styles = [color.match_luminance(color.luminance(s), content_y) for s in styles]
            content = content_y
        return content, styles, pair.mask

    def _size(self, i: int, scale_index: int) -> tuple[int, int]:
        h, w = self._sources[i][0].shape[-2:]
        s = self.scales[scale_index]
        return max(8, round(h * s)), max(8, round(w * s))

    def _initial_image(self, i: int) -> torch.Tensor:
        content, styles, _ = self._sources[i]
        size = self._size(i, self._scale_index)
        if self.hparams.init == "noise":
            return torch.rand(content.shape[0], *size)
        source = content if self.hparams.init == "content" else styles[0]
        return _resize(source, size)

    # --- losses --------------------------------------------------------------------------------------------------
    def _rgb(self, x: torch.Tensor) -> torch.Tensor:
        return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x

    @torch.no_grad()
    def _build_targets(self, scale_index: int) -> list[_Targets]:
        targets = []
        for i, (content, styles, mask) in enumerate(self._sources):
            size = self._size(i, scale_index)
            c = _resize(content, size)[None].to(self.device)
            feats = self.features(self._rgb(c))
            grams = {n: 0.0 for n in self.style_layers}
            weights = self.pairs[i].style_weights
            for style, w in zip(styles, weights):
                s = self.scales[scale_index]
                s_size = (max(8, round(style.shape[-2] * s)), max(8, round(style.shape[-1] * s)))
                sf = self.features(self._rgb(_resize(style, s_size)[None].to(self.device)))
                for n in self.style_layers:
                    grams[n] = grams[n] + w * gram(sf[n])
            m = _resize(mask, size)[None].to(self.device) if mask is not None else None
            targets.append(_Targets(c, {n: feats[n].float() for n in self.content_layers}, grams, m))
        return targets

    def _composite(self, i: int) -> torch.Tensor:
        """The image the losses see: outside the mask it is the content itself."""
        x, t = self.images[i], self._targets[i]
        return x if t.mask is None else t.mask * x + (1 - t.mask) * t.content

    def _losses(self, i: int) -> dict[str, torch.Tensor]:
        hp, t = self.hparams, self._targets[i]
        x = self._composite(i)
        feats = self.features(self._rgb(x))
        terms = {
            "content": hp.content_weight * content_loss(feats, t.content_features, self.content_layers)
            if self.content_layers else x.new_zeros(()),
            "style": hp.style_weight * style_loss(feats, t.grams, self.style_layers, t.mask)
            if self.style_layers else x.new_zeros(()),
            "tv": hp.tv_weight * tv_loss(x) if hp.tv_weight else x.new_zeros(()),
        }
        terms["total"] = terms["content"] + terms["style"] + terms["tv"]
        return terms

    # --- scales --------------------------------------------------------------------------------------------------
    def _scale_for_step(self, step: int) -> int:
        if len(self.scales) == 1:
            return 0
        per = self.hparams.steps_per_scale
        if not per:
            total = self.trainer.max_steps if self.trainer.max_steps > 0 else self.trainer.estimated_stepping_batches
            per = max(1, math.ceil(total / len(self.scales)))
        return min(step // per, len(self.scales) - 1)

    def _use_scale(self, index: int) -> None:
        if index != self._scale_index:
            for i, p in enumerate(self.images):
                p.data = _resize(p.data[0], self._size(i, index))[None]
                p.grad = None
            self._scale_index = index
            self._targets = None
            if self._trainer is not None and self.trainer.training:
                self.trainer.optimizers = [self.configure_optimizers()]  # LBFGS history is tied to the old size
            log.info(f"style: scale {index + 1}/{len(self.scales)}, images {[tuple(p.shape[-2:]) for p in self.images]}")
        if self._targets is None:
            self._targets = self._build_targets(index)

    # --- steps ---------------------------------------------------------------------------------------------------
    def training_step(self, batch, batch_idx: int) -> None:
        self._use_scale(self._scale_for_step(self.global_step))
        opt = self.optimizers()
        # the losses of the image this step starts from (its first evaluation): later evaluations may be trial
        # points of the line search, not the image that the step ends with
        first: dict[str, torch.Tensor] = {}

        def closure() -> torch.Tensor:
            opt.zero_grad()
            if self.hparams.clamp:
                self._clamp()
            sums = None
            for i in range(len(self.images)):
                terms = self._losses(i)
                self.manual_backward(terms["total"])  # frees this image's graph before the next one is built
                detached = {k: v.detach() for k, v in terms.items()}
                sums = detached if sums is None else {k: sums[k] + detached[k] for k in sums}
            if not first:
                first.update(sums)
            return sums["total"]

        opt.step(closure=closure)
        self._log_terms(first, on_step=True)
        every = self.hparams.snapshot_every
        if every and self.global_step % every == 0:
            self._save_images("snapshots", suffix=f"_step{self.global_step:05d}")

    def test_step(self, batch, batch_idx: int) -> None:
        """The losses of the tested (best) image, recomputed; its PNG is the run's final image."""
        self._use_scale(self._scale_index)
        if self.hparams.clamp:  # LBFGS's last update is not clamped yet; the saved image (and each closure) is
            self._clamp()
        with torch.no_grad():
            terms = [self._losses(i) for i in range(len(self.images))]
        self._log_terms({k: sum(t[k] for t in terms) for k in terms[0]}, on_step=False)

    def _log_terms(self, sums: dict[str, torch.Tensor], on_step: bool) -> None:
        n = len(self.images)  # metrics are per image, so runs with different numbers of pairs compare
        for key, value in sums.items():
            self.log(METRICS[key], value / n, on_step=on_step, on_epoch=not on_step, batch_size=1,
                     prog_bar=key == "total")

    @torch.no_grad()
    def _clamp(self) -> None:
        for p in self.images:
            p.clamp_(0, 1)

    def on_train_end(self) -> None:
        self._save_images(".", prefix="final_")

    def on_test_end(self) -> None:
        self._save_images(".", prefix="final_")

    # --- outputs -------------------------------------------------------------------------------------------------
    @torch.no_grad()
    def output_images(self) -> dict[str, torch.Tensor]:
        """Pair name → 3xHxW RGB in [0, 1] on the CPU: mask composite and content colours applied."""
        if self._targets is None:
            self._targets = self._build_targets(self._scale_index)
        out = {}
        for i, pair in enumerate(self.pairs):
            x = self._composite(i)[0].clamp(0, 1).float().cpu()
            if self._luminance:
                x = color.with_content_colours(x, _resize(pair.content, tuple(x.shape[-2:])))
            out[pair.name] = x
        return out

    def write_stored_predictions(self, out_dir, stored_config: dict) -> dict:
        """What `vt-predict` writes for this module: the images the checkpoint holds (models/style/predictions.py)."""
        from visiontrain.models.style.predictions import write_stored_images

        return write_stored_images(self, out_dir, stored_config)

    def _save_images(self, folder: str, prefix: str = "", suffix: str = "") -> None:
        if self._trainer is None or not self.trainer.is_global_zero or not self.images:
            return
        save_and_log(self.trainer, self.output_images(), folder, prefix, suffix)

    # --- optimisation and checkpoints ----------------------------------------------------------------------------
    def configure_optimizers(self):
        hp = self.hparams
        params = list(self.images.parameters())
        if hp.optimizer == "lbfgs":
            # strong Wolfe: the loss falls at every step; without a line search (the PyTorch tutorial's lr=1) it can rise
            return torch.optim.LBFGS(params, lr=hp.lr or 1.0, max_iter=hp.lbfgs_max_iter,
                                     history_size=hp.lbfgs_history_size, line_search_fn=hp.line_search_fn)
        return torch.optim.Adam(params, lr=hp.lr or 0.02)

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["state_dict"] = {k: v for k, v in checkpoint["state_dict"].items() if not k.startswith("features.")}
        checkpoint["style_scale_index"] = self._scale_index

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        """Images take the stored sizes (a multi-scale run may have stopped at any scale)."""
        state = checkpoint["state_dict"]
        shapes = [state[k].shape for k in sorted((k for k in state if k.startswith("images.")),
                                                 key=lambda k: int(k.split(".")[1]))]
        while len(self.images) < len(shapes):
            self.images.append(nn.Parameter(torch.zeros(shapes[len(self.images)])))
        for p, shape in zip(self.images, shapes):
            if p.shape != shape:
                p.data = p.data.new_zeros(shape)
        self._scale_index = int(checkpoint.get("style_scale_index", 0))
        self._targets = None


def _plain(value):
    from omegaconf import DictConfig, ListConfig, OmegaConf

    return OmegaConf.to_container(value, resolve=True) if isinstance(value, (DictConfig, ListConfig)) else value


def _resize(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """CxHxW → Cxhxw; antialiased when shrinking, so coarse scales see the picture, not aliasing."""
    if tuple(image.shape[-2:]) == tuple(size):
        return image.clone(memory_format=torch.contiguous_format)
    return F.interpolate(image[None].float(), size=size, mode="bilinear", align_corners=False,
                         antialias=True)[0].clamp(0, 1).contiguous()
