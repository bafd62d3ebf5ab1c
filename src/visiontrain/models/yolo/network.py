"""YOLOv8-style network: CSP backbone (C2f + SPPF), PAN/FPN neck, anchor-free decoupled head with DFL.

Sizes n / s / m scale the depth (bottlenecks per C2f) and width (channels) of one base design, as YOLOv8 does.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

from visiontrain.errors import ConfigError
from visiontrain.models.yolo.blocks import SPPF, C2f, Conv, dfl_decode

Scale = Literal["n", "s", "m"]
# depth multiple, width multiple, max channels (YOLOv8's yolov8.yaml)
SCALES: dict[str, tuple[float, float, int]] = {"n": (0.33, 0.25, 1024), "s": (0.33, 0.50, 1024),
                                               "m": (0.67, 0.75, 768)}
STRIDES = (8, 16, 32)


def _width(c: int, w: float, max_c: int) -> int:
    return int(math.ceil(min(c, max_c) * w / 8) * 8)


def _depth(n: int, d: float) -> int:
    return max(round(n * d), 1)


class Backbone(nn.Module):
    def __init__(self, d: float, w: float, mc: int) -> None:
        super().__init__()
        c = [_width(x, w, mc) for x in (64, 128, 256, 512, 1024)]
        self.stem = nn.Sequential(Conv(3, c[0], 3, 2), Conv(c[0], c[1], 3, 2), C2f(c[1], c[1], _depth(3, d), True))
        self.p3 = nn.Sequential(Conv(c[1], c[2], 3, 2), C2f(c[2], c[2], _depth(6, d), True))
        self.p4 = nn.Sequential(Conv(c[2], c[3], 3, 2), C2f(c[3], c[3], _depth(6, d), True))
        self.p5 = nn.Sequential(Conv(c[3], c[4], 3, 2), C2f(c[4], c[4], _depth(3, d), True), SPPF(c[4], c[4]))
        self.channels = (c[2], c[3], c[4])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        p3 = self.p3(self.stem(x))
        p4 = self.p4(p3)
        return p3, p4, self.p5(p4)


class PAN(nn.Module):
    """Top-down (FPN) then bottom-up (PAN) paths over P3-P5."""

    def __init__(self, ch: tuple[int, int, int], d: float) -> None:
        super().__init__()
        c3, c4, c5 = ch
        n = _depth(3, d)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.td4 = C2f(c5 + c4, c4, n)
        self.td3 = C2f(c4 + c3, c3, n)
        self.down3, self.bu4 = Conv(c3, c3, 3, 2), C2f(c3 + c4, c4, n)
        self.down4, self.bu5 = Conv(c4, c4, 3, 2), C2f(c4 + c5, c5, n)

    def forward(self, feats: tuple[torch.Tensor, ...]) -> list[torch.Tensor]:
        p3, p4, p5 = feats
        t4 = self.td4(torch.cat([self.up(p5), p4], 1))
        n3 = self.td3(torch.cat([self.up(t4), p3], 1))
        n4 = self.bu4(torch.cat([self.down3(n3), t4], 1))
        n5 = self.bu5(torch.cat([self.down4(n4), p5], 1))
        return [n3, n4, n5]


class DetectHead(nn.Module):
    """Decoupled per level: a box branch (4 x reg_max DFL logits) and a class branch (K logits)."""

    def __init__(self, num_classes: int, ch: tuple[int, ...], reg_max: int = 16) -> None:
        super().__init__()
        self.nc, self.reg_max = num_classes, reg_max
        c2, c3 = max(16, ch[0] // 4, reg_max * 4), max(ch[0], min(num_classes, 100))
        self.box = nn.ModuleList(nn.Sequential(Conv(c, c2, 3), Conv(c2, c2, 3), nn.Conv2d(c2, 4 * reg_max, 1))
                                 for c in ch)
        self.cls = nn.ModuleList(nn.Sequential(Conv(c, c3, 3), Conv(c3, c3, 3), nn.Conv2d(c3, num_classes, 1))
                                 for c in ch)

    def init_bias(self, img_size: int = 640) -> None:
        # YOLOv8's priors: box logits start flat-ish, class logits at ~5 objects per 640 px image
        for b, c, s in zip(self.box, self.cls, STRIDES):
            nn.init.constant_(b[-1].bias, 1.0)
            nn.init.constant_(c[-1].bias, math.log(5 / self.nc / (img_size / s) ** 2))

    def forward(self, feats: list[torch.Tensor]) -> list[torch.Tensor]:
        return [torch.cat([b(x), c(x)], 1) for x, b, c in zip(feats, self.box, self.cls)]


def make_anchors(shapes: list[tuple[int, int]], device, dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """Cell centres in grid units (A, 2) and each anchor's stride (A, 1), level by level."""
    points, strides = [], []
    for (h, w), s in zip(shapes, STRIDES):
        y, x = torch.meshgrid(torch.arange(h, device=device, dtype=dtype) + 0.5,
                              torch.arange(w, device=device, dtype=dtype) + 0.5, indexing="ij")
        points.append(torch.stack([x, y], -1).view(-1, 2))
        strides.append(torch.full((h * w, 1), float(s), device=device, dtype=dtype))
    return torch.cat(points), torch.cat(strides)


class YOLONet(nn.Module):
    """``forward`` returns the raw per-level maps (B, 4*reg_max + K, H, W); ``decode`` turns them into
    (B, 4 + K, A): xyxy boxes in input pixels and class probabilities, the pre-NMS output that is exported."""

    def __init__(self, num_classes: int, scale: Scale = "n", reg_max: int = 16) -> None:
        super().__init__()
        if num_classes < 1:
            raise ConfigError(f"model: a YOLO detector needs at least one class, got {num_classes}")
        if scale not in SCALES:
            raise ConfigError(f"model.scale: {scale!r} is not a valid choice; valid choices: {', '.join(SCALES)}")
        d, w, mc = SCALES[scale]
        self.num_classes, self.reg_max = num_classes, reg_max
        self.backbone = Backbone(d, w, mc)
        self.neck = PAN(self.backbone.channels, d)
        self.head = DetectHead(num_classes, self.backbone.channels, reg_max)
        self.head.init_bias()

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.head(self.neck(self.backbone(x)))

    def fused(self) -> YOLONet:
        """An eval-mode copy with each BatchNorm folded into its convolution (fewer ops at inference, same
        outputs to float precision), as Ultralytics does before predicting/exporting."""
        import copy

        from torch.nn.utils.fusion import fuse_conv_bn_eval

        net = copy.deepcopy(self).eval()
        for module in net.modules():
            if isinstance(module, Conv) and isinstance(module[1], nn.BatchNorm2d):
                module[0] = fuse_conv_bn_eval(module[0], module[1])
                module[1] = nn.Identity()
        return net.requires_grad_(False)

    def flatten(self, maps: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, A, 4*reg_max) box logits and (B, A, K) class logits."""
        if maps[0].dim() == 4 and maps[0].is_contiguous(memory_format=torch.channels_last) and maps[0].shape[1] > 1:
            # channels-last maps (predict's layout): (B, H, W, C) is a free view, one copy in the cat
            b = maps[0].shape[0]
            out = torch.cat([m.permute(0, 2, 3, 1).reshape(b, -1, m.shape[1]) for m in maps], 1)
        else:
            out = torch.cat([m.flatten(2) for m in maps], 2).transpose(1, 2)
        return out.split((4 * self.reg_max, self.num_classes), 2)

    def anchors(self, maps: list[torch.Tensor], dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """``make_anchors`` for these maps, cached per (sizes, device, dtype): predict calls it once per image."""
        key = (tuple(tuple(m.shape[2:]) for m in maps), maps[0].device, dtype)
        if torch.jit.is_tracing() or torch.is_inference_mode_enabled():  # constants in a trace / inference tensors
            return make_anchors(list(key[0]), key[1], dtype)
        cache = self.__dict__.setdefault("_anchor_cache", {})
        if key not in cache:
            if len(cache) >= 8:
                cache.clear()
            cache[key] = make_anchors(list(key[0]), key[1], dtype)
        return cache[key]

    def decode(self, maps: list[torch.Tensor]) -> torch.Tensor:
        box_logits, cls_logits = self.flatten(maps)
        points, strides = self.anchors(maps, box_logits.dtype)
        dist = dfl_decode(box_logits, self.reg_max)
        boxes = torch.cat([points - dist[..., :2], points + dist[..., 2:]], -1) * strides
        return torch.cat([boxes, cls_logits.sigmoid()], -1).transpose(1, 2)
