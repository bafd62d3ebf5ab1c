"""Checking an exported detector against PyTorch: sample images and an order-free comparison of detections."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn


def sample_images(model: nn.Module) -> list[Tensor]:
    """Two images the detector's resize maps exactly: s x s (scale 1) and s/2 x s/2 (scale 2), s = its working size.
    torchvision's scripted/ONNX resize computes the scale in float32 and eager PyTorch does not, so for other sizes
    the resized image can come out one pixel apart (pytorch/vision#3654): a real, small difference, not an export
    error, that would make a strict comparison fail."""
    t = model.transform
    if t.fixed_size is not None:  # SSDlite: every image is resized to fixed_size
        s = int(min(t.fixed_size))
    else:
        s = int(min(t.min_size[-1], t.max_size))
    s -= s % 2
    g = torch.Generator().manual_seed(0)
    # smooth blobs plus noise: structure gives the heads distinct scores (flat noise gives many exact ties)
    images = []
    for size in (s, s // 2):
        coarse = torch.rand(1, 3, 6, 6, generator=g)
        smooth = torch.nn.functional.interpolate(coarse, size=(size, size), mode="bilinear", align_corners=False)[0]
        images.append((0.8 * smooth + 0.2 * torch.rand(3, size, size, generator=g)).clamp(0, 1))
    return images


def compare(got: list[dict], want: list[dict], atol: float = 1e-4, rtol: float = 1e-3) -> dict[str, float]:
    """Match every exported detection to an unused PyTorch detection of the same label whose box and score are
    within ``atol + rtol * |pytorch|`` (masks: mean absolute difference within ``atol + rtol``). Order-free, and
    unmatched detections whose score ties (within the same tolerance) with another are counted apart
    (``unmatched_tied``): the runtimes
    order equal scores differently, so top-k and NMS can keep other boxes among them (seen with SSDlite in
    onnxruntime); that is no export error, while an ``unmatched`` detection without a tie is.

    Returns detections (exported), unmatched, unmatched_tied, count_mismatch (images whose numbers of detections
    differ) and the largest box / score / mask differences among matched pairs."""
    result = {"detections": 0.0, "unmatched": 0.0, "unmatched_tied": 0.0, "count_mismatch": 0.0, "max_box_diff": 0.0,
              "max_score_diff": 0.0, "max_mask_diff": 0.0}
    for g, w in zip(got, want):
        gb, gs, gl = (g[k].detach().double().numpy() for k in ("boxes", "scores", "labels"))
        wb, ws, wl = (w[k].detach().double().numpy() for k in ("boxes", "scores", "labels"))
        result["detections"] += len(gs)
        result["count_mismatch"] += float(len(gs) != len(ws))
        used = np.zeros(len(ws), dtype=bool)
        for i in np.argsort(-gs, kind="stable"):
            box_err = np.abs(wb - gb[i])
            score_err = np.abs(ws - gs[i])
            ok = (~used & (wl == gl[i]) & (score_err <= atol + rtol * np.abs(ws))
                  & (box_err <= atol + rtol * np.abs(wb)).all(axis=1))
            if "masks" in g:
                mask_err = np.array([float((g["masks"][i] - m).abs().mean()) for m in w["masks"]]) if len(ws) else ws
                ok &= mask_err <= atol + rtol
            if not ok.any():
                tol = atol + rtol * abs(gs[i])
                # another detection on either side with an equal score (any label: the per-level top-k and the
                # detections-per-image cut rank all classes together)
                ties = int((np.abs(gs - gs[i]) <= tol).sum()) - 1 + int((np.abs(ws - gs[i]) <= tol).sum())
                result["unmatched_tied" if ties else "unmatched"] += 1
                continue
            candidates = np.flatnonzero(ok)
            j = candidates[np.argmin(box_err[candidates].max(axis=1) + score_err[candidates])]
            used[j] = True
            result["max_box_diff"] = max(result["max_box_diff"], float(box_err[j].max()))
            result["max_score_diff"] = max(result["max_score_diff"], float(score_err[j]))
            if "masks" in g:
                result["max_mask_diff"] = max(result["max_mask_diff"], float(mask_err[j]))
    return result


def passed(result: dict[str, float]) -> bool:
    """No unexplained difference: every detection matched or tied, and counts differ only where ties are."""
    return not result["unmatched"] and (not result["count_mismatch"] or result["unmatched_tied"] > 0)
