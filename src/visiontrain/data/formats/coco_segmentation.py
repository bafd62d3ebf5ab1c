"""COCO ``segmentation`` values, checked when the file is read and rasterised with pycocotools when loaded.

Accepted: polygons (a list of flat ``[x1, y1, x2, y2, …]`` lists), a single flat polygon not wrapped in a list
(some exporters), uncompressed RLE (``counts`` a list of run lengths), compressed RLE (``counts`` a string), RLEs
wrapped in a list. Stopped with one line: a polygon with an odd number of coordinates or fewer than three points,
coordinates that are not finite numbers, an RLE whose ``size`` is not the image's or whose runs do not add up to it.
pycocotools itself would read an odd-length polygon as an empty mask and a 4-number polygon as a box.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import numpy as np

from visiontrain.errors import DataError

FLAT_POLYGON = "flat polygons not wrapped in a list (read as one polygon)"


def _number(v: Any) -> bool:
    return isinstance(v, Real) and not isinstance(v, bool) and math.isfinite(v)


def check_segmentation(seg: Any, h: int, w: int, where: str, notes=None) -> Any:
    """The segmentation in a form pycocotools decodes, or None when there is none; DataError naming ``where``."""
    if seg is None or (isinstance(seg, (list, dict)) and not seg):
        return None
    if isinstance(seg, dict):
        return _check_rle(seg, h, w, where)
    if not isinstance(seg, list):
        raise DataError(f"{where}: segmentation is a {type(seg).__name__}; expected polygons or an RLE")
    if all(_number(v) for v in seg):  # one polygon, not wrapped in a list
        if notes is not None:
            notes[FLAT_POLYGON] += 1
        seg = [seg]
    if all(isinstance(p, dict) for p in seg):
        return [_check_rle(p, h, w, where) for p in seg]
    for k, poly in enumerate(seg):
        if not isinstance(poly, list) or not all(_number(v) for v in poly):
            raise DataError(f"{where}: polygon {k} is not a list of finite numbers ({str(poly)[:60]})")
        if len(poly) % 2 or len(poly) < 6:
            raise DataError(f"{where}: polygon {k} has {len(poly)} coordinates; a polygon is x1, y1, x2, y2, … "
                            "with at least 3 points (an even count of 6 or more)")
    return seg


def _check_rle(rle: dict, h: int, w: int, where: str) -> dict:
    size, counts = rle.get("size"), rle.get("counts")
    if not (isinstance(size, list) and len(size) == 2 and all(_number(v) for v in size)) or counts is None:
        raise DataError(f"{where}: RLE needs 'size' [height, width] and 'counts' (got keys {sorted(rle)})")
    if [int(size[0]), int(size[1])] != [h, w]:
        raise DataError(f"{where}: RLE size {size} (height, width) but the image is {h}x{w} (height x width)")
    if isinstance(counts, list):
        if not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts):
            raise DataError(f"{where}: uncompressed RLE counts must be non-negative integers")
        if sum(counts) != h * w:
            raise DataError(f"{where}: uncompressed RLE counts add up to {sum(counts)} pixels, the image has "
                            f"{h * w} ({h}x{w})")
    elif not isinstance(counts, str):
        raise DataError(f"{where}: RLE counts is a {type(counts).__name__}; expected a list or a string")
    return {"size": [h, w], "counts": counts}


def to_mask(seg: Any, h: int, w: int, where: str) -> np.ndarray:
    """HxW uint8 {0, 1} from a value ``check_segmentation`` returned (pycocotools does the rasterising)."""
    from pycocotools import mask as mask_utils

    try:
        if isinstance(seg, dict):
            rles = [_to_rle(seg, h, w, mask_utils)]
        elif seg and isinstance(seg[0], dict):
            rles = [_to_rle(r, h, w, mask_utils) for r in seg]
        else:
            rles = mask_utils.frPyObjects(seg, h, w)
        return mask_utils.decode(mask_utils.merge(rles)).astype(np.uint8)
    except Exception as exc:  # noqa: BLE001  (pycocotools raises bare Exceptions on strings it cannot parse)
        raise DataError(f"{where}: segmentation cannot be decoded ({type(exc).__name__}: {exc})") from None


def _to_rle(rle: dict, h: int, w: int, mask_utils) -> dict:
    if isinstance(rle["counts"], list):
        return mask_utils.frPyObjects(rle, h, w)
    return {"size": [h, w], "counts": rle["counts"].encode("ascii")}
