"""Property: a COCO file, valid or mutated as exporters and merges leave it, is read as exactly its objects (masks
decoded too) or refused with one line naming a file. See hypothesis_corpus for the rule and the profiles."""

from __future__ import annotations

import copy
import json

import numpy as np
from exporter_corpus import H, W, coco_reader, uncompressed_rle, write_coco
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis_corpus import ERROR, SAME, check, outcome, scratch

CATEGORIES = {1: 0, 3: 1}  # sparse ids → labels


def _rle(x, y, bw, bh, compressed: bool) -> dict:
    from pycocotools import mask as mask_utils

    m = np.zeros((H, W), np.uint8)
    m[y:y + bh, x:x + bw] = 1
    if compressed:
        rle = mask_utils.encode(np.asfortranarray(m))
        return {"size": [H, W], "counts": rle["counts"].decode("ascii")}
    return uncompressed_rle(m)


@st.composite
def coco_dataset(draw) -> dict:
    n = draw(st.integers(1, 4))
    images = [{"id": k, "file_name": f"img{k}.png", "width": W, "height": H} for k in range(1, n + 1)]
    anns = []
    for img in images:
        for _ in range(draw(st.integers(0, 3))):
            x, y = draw(st.integers(0, W - 3)), draw(st.integers(0, H - 3))
            bw, bh = draw(st.integers(2, W - x)), draw(st.integers(2, H - y))
            kind = draw(st.sampled_from(["polygon", "flat", "rle", "uncompressed"]))
            poly = [x, y, x + bw, y, x + bw, y + bh, x, y + bh]
            seg = {"polygon": [poly], "flat": poly, "rle": None, "uncompressed": None}[kind] or \
                _rle(x, y, bw, bh, kind == "rle")
            anns.append({"id": len(anns) + 1, "image_id": img["id"], "category_id": draw(st.sampled_from([1, 3])),
                         "bbox": [x, y, bw, bh], "area": float(bw * bh), "iscrowd": 0, "segmentation": seg})
    return {"images": images, "annotations": anns, "categories": [{"id": 3, "name": "dog"}, {"id": 1, "name": "cat"}]}


def objects_in(data: dict) -> list:
    files = {img["id"]: img["file_name"] for img in data["images"]}
    return sorted((files[a["image_id"]], CATEGORIES[a["category_id"]],
                   (a["bbox"][0], a["bbox"][1], a["bbox"][0] + a["bbox"][2], a["bbox"][1] + a["bbox"][3]))
                  for a in data["annotations"])


def objects_read(index) -> list:
    return sorted((r.path.name, int(label), tuple(float(v) for v in box))
                  for r in index.records for label, box in zip(r.labels, r.boxes))


MUTATIONS = ["none", "shuffle", "ids_str", "ids_float", "ids_text", "dup_ann", "dup_image", "drop_section",
             "drop_key", "retype_bbox", "retype_category", "retype_size", "clash_ids", "cut_json", "delete_image",
             "delete_image_skip", "move_folder", "odd_polygon", "rle_size", "unknown_category", "unknown_image"]


def mutate(data: dict, name: str, draw, root) -> tuple[str, dict, str, list]:
    """(expectation, data to write, policy, objects expected) after mutation ``name``."""
    d = copy.deepcopy(data)
    expected, policy = objects_in(data), "error"
    anns, images = d["annotations"], d["images"]
    pick = lambda seq: seq[draw(st.integers(0, len(seq) - 1))]
    if name == "none":
        return SAME, d, policy, expected
    if name == "shuffle":
        for key in ("images", "annotations", "categories"):
            d[key] = draw(st.permutations(d[key]))
        return SAME, d, policy, expected
    if name in ("ids_str", "ids_float", "ids_text"):
        to = {"ids_str": str, "ids_float": float, "ids_text": lambda i: f"im-{i}"}[name]
        for img in images:
            img["id"] = to(img["id"])
        for a in anns:
            a["image_id"] = to(a["image_id"])
        return SAME, d, policy, expected
    if name == "dup_ann" and anns:
        anns.append(copy.deepcopy(pick(anns)))
        return SAME, d, policy, expected
    if name == "dup_image":
        images.append(copy.deepcopy(pick(images)))
        return SAME, d, policy, expected
    if name == "drop_section":
        del d[draw(st.sampled_from(["images", "annotations", "categories"]))]
        return ERROR, d, policy, expected
    if name == "drop_key":
        section = draw(st.sampled_from(["images", "categories"] + (["annotations"] if anns else [])))
        keys = {"images": ["id", "file_name"], "categories": ["id", "name"],
                "annotations": ["image_id", "category_id", "bbox"]}[section]
        del pick(d[section])[draw(st.sampled_from(keys))]
        return ERROR, d, policy, expected
    if name == "retype_bbox" and anns:
        pick(anns)["bbox"] = draw(st.sampled_from(["1,2,3,4", None, {"x": 1}, [1, 2, 3]]))
        return ERROR, d, policy, expected
    if name == "retype_category" and anns:
        pick(anns)["category_id"] = draw(st.sampled_from([[1], None, "cat", 2.5]))
        return ERROR, d, policy, expected
    if name == "retype_size":
        pick(images)["width"] = draw(st.sampled_from(["wide", None, 0, -3]))
        return SAME, d, policy, expected
    if name == "clash_ids" and len(images) > 1:
        images[1]["id"] = images[0]["id"]
        return ERROR, d, policy, expected
    if name in ("delete_image", "delete_image_skip"):
        gone = pick(images)["file_name"]
        (root / "images" / gone).unlink()
        if name == "delete_image":
            return ERROR, d, policy, expected
        return SAME, d, "skip", [o for o in expected if o[0] != gone]  # left out and counted (checked below)
    if name == "move_folder":
        (root / "images").rename(root / "pictures")
        return ERROR, d, policy, expected
    polygons = [a for a in anns if isinstance(a["segmentation"], list)]
    if name == "odd_polygon" and polygons:
        a = pick(polygons)
        poly = a["segmentation"][0] if isinstance(a["segmentation"][0], list) else a["segmentation"]
        poly.pop()
        return ERROR, d, policy, expected
    rles = [a for a in anns if isinstance(a["segmentation"], dict)]
    if name == "rle_size" and rles:
        pick(rles)["segmentation"]["size"] = [H + 1, W]
        return ERROR, d, policy, expected
    if name == "unknown_category" and anns:
        pick(anns)["category_id"] = 99
        return ERROR, d, policy, expected
    if name == "unknown_image" and anns:
        pick(anns)["image_id"] = 999
        return ERROR, d, policy, expected
    return SAME, d, policy, expected  # the mutation does not apply to this dataset


def read(root, policy):
    index = coco_reader(root).load_index(policy)
    for r in index.records:
        r.masks()  # polygons and RLEs decode, or fail as one line
    return index


@given(coco_dataset(), st.sampled_from(MUTATIONS), st.data())
@example(data={"images": [{"id": 1, "file_name": "img1.png", "width": W, "height": H}],
               "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 4, 4],
                                "segmentation": [[0, 0, 4, 0, 4]]}],
               "categories": [{"id": 1, "name": "cat"}, {"id": 3, "name": "dog"}]},
         mutation="none_odd", draw=None)
def test_coco_reads_exactly_the_valid_objects_or_names_the_file(data, mutation, draw):
    with scratch() as root:
        if mutation == "none_odd":  # regression: pycocotools reads an odd polygon as an empty mask, silently
            write_coco(root, data)
            got = outcome(lambda: read(root, "error"), root)
            return check("coco", ERROR, got, None, objects_read)
        write_coco(root, data)
        expect, mutated, policy, expected = mutate(data, mutation, draw.draw, root)
        text = json.dumps(mutated)
        if mutation == "cut_json":
            text, expect = text[:draw.draw(st.integers(0, len(text) - 2))], ERROR
        (root / "ann.json").write_text(text)
        got = outcome(lambda: read(root, policy), root)
        check("coco", expect, got, expected, objects_read)
        if policy == "skip" and got[0] == "ok":
            assert got[1].skipped_images, "an image was left out without being counted"
