"""One split implementation for every family (data/splits.py): stratified where samples have one label, a seeded
random carve-out where they do not (detection). The carve-out is pinned to the values detection used before it
moved there, so the shipped detection experiments keep their splits."""

import numpy as np

from visiontrain.data.splits import complete_splits


def _lists(splits):
    return {k: v.tolist() for k, v in splits.items()}


def test_the_random_carve_out_keeps_the_splits_detection_had():
    assert _lists(complete_splits(None, {}, 0.2, 0.1, 0, size=20)) == {
        "train": [0, 1, 3, 5, 7, 8, 9, 10, 11, 12, 14, 15, 17, 18], "test": [4, 19], "val": [2, 6, 13, 16]}


def test_the_random_carve_out_keeps_a_source_split_and_carves_only_what_is_missing():
    splits = complete_splits(None, {"train": np.arange(10), "val": np.arange(10, 13)}, 0.2, 0.2, 3)
    assert _lists(splits) == {"train": [0, 1, 2, 3, 4, 5, 7, 8], "val": [10, 11, 12], "test": [6, 9]}


def test_stratified_splits_keep_each_class_in_every_part():
    labels = np.repeat([0, 1], 20)
    splits = complete_splits(labels, {}, 0.25, 0.25, 0)
    assert sorted(np.concatenate(list(splits.values())).tolist()) == list(range(40))
    for part in splits.values():
        assert set(labels[part]) == {0, 1}
