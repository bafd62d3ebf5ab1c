"""Seeded, stratified train/val/test splits, and per-class subsets for few-label experiments."""

from __future__ import annotations

import numpy as np

from visiontrain.errors import ConfigError


def stratified_split(labels: np.ndarray, val_fraction: float, test_fraction: float, seed: int) -> dict[str, np.ndarray]:
    from sklearn.model_selection import train_test_split

    if not 0 <= val_fraction < 1 or not 0 <= test_fraction < 1 or val_fraction + test_fraction >= 1:
        raise ConfigError(f"data.val_fraction + data.test_fraction must be in [0, 1); got {val_fraction} + {test_fraction}")
    indices = np.arange(len(labels))
    splits: dict[str, np.ndarray] = {}
    rest = indices
    if test_fraction > 0:
        rest, splits["test"] = train_test_split(indices, test_size=test_fraction, stratify=labels, random_state=seed)
    if val_fraction > 0:
        rest, splits["val"] = train_test_split(
            rest, test_size=val_fraction / (1 - test_fraction), stratify=labels[rest], random_state=seed + 1
        )
    splits["train"] = rest
    return {k: np.sort(v) for k, v in splits.items()}


def complete_splits(labels: np.ndarray | None, predefined: dict[str, np.ndarray], val_fraction: float,
                    test_fraction: float, seed: int, size: int | None = None) -> dict[str, np.ndarray]:
    """Use the source's own splits where it has them; carve what is missing (val, test) out of train: stratified
    by ``labels``, or, for samples without one label (detection images), a seeded random carve-out of ``size``."""
    if labels is None:
        return _random_carve_out(predefined or {"train": np.arange(size or 0)}, val_fraction, test_fraction, seed)
    if not predefined:
        return stratified_split(labels, val_fraction, test_fraction, seed)
    splits = dict(predefined)
    train = splits["train"]
    missing_val, missing_test = "val" not in splits, "test" not in splits
    if missing_val or missing_test:
        part = stratified_split(labels[train], val_fraction if missing_val else 0.0,
                                test_fraction if missing_test else 0.0, seed)
        for name, idx in part.items():
            splits[name] = train[idx]
    return splits


def _random_carve_out(predefined: dict[str, np.ndarray], val_fraction: float, test_fraction: float,
                      seed: int) -> dict[str, np.ndarray]:
    splits = dict(predefined)
    train = np.random.default_rng(seed).permutation(splits["train"])
    pool = len(train)
    for name, fraction in (("test", test_fraction), ("val", val_fraction)):
        if name not in splits and fraction > 0 and pool > 2:
            take = max(1, round(fraction * pool))
            splits[name], train = np.sort(train[:take]), train[take:]
    splits["train"] = np.sort(train)
    return splits


def per_class_subset(indices: np.ndarray, labels: np.ndarray, per_class: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(labels[indices]):
        members = indices[labels[indices] == label]
        chosen.append(rng.permutation(members)[:per_class])
    return np.sort(np.concatenate(chosen))
