"""Warm-up transfer: the backbone is bit-identical while frozen (BatchNorm statistics included), trains after
unfreezing, and a resumed run continues in the right phase with the same param groups."""

import json

import pytest

from helpers import FAST, compose_cfg
from visiontrain.train import train
from visiontrain.run.job import run_job

WARMUP = [
    "model.transfer.mode=warmup",
    "model.transfer.warmup_epochs=1",
    "model.transfer.backbone_lr_ratio=0.1",
    "trainer.max_epochs=2",
    "callbacks.early_stopping=null",
    "callbacks.model_checkpoint.save_top_k=0",
    "test=false",
]


@pytest.fixture(scope="module")
def pretrained_ckpt(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pretrain")
    run_job(compose_cfg([*FAST, "test=false"], tmp), train)
    return tmp / "run" / "checkpoints" / "last.ckpt"


def _snapshots(run_dir, rank=0):
    return json.loads((run_dir / "snapshots" / f"snapshots_rank{rank}.json").read_text())


def _run(tmp_path, pretrained_ckpt, *overrides):
    cfg = compose_cfg([*FAST, *WARMUP, f"model.weights_path={pretrained_ckpt}",
                       "+callbacks.snapshots._target_=snapshot_callback.BackboneSnapshots",
                       f"+callbacks.snapshots.out_dir={tmp_path}/run/snapshots", *overrides], tmp_path)
    run_job(cfg, train)
    return _snapshots(tmp_path / "run")


def test_frozen_phase_keeps_backbone_bit_identical_then_unfreezes(tmp_path, pretrained_ckpt):
    s = _run(tmp_path, pretrained_ckpt)
    e0_start, e0_end, e1_start, e1_end = s
    assert (e0_start["epoch"], e1_start["epoch"]) == (0, 1)
    assert e0_start["backbone"] == e0_end["backbone"]  # params and BN running stats untouched
    assert e0_start["head"] != e0_end["head"]  # the head trains during warm-up
    assert not e0_end["requires_grad"] and e1_end["requires_grad"]  # (callbacks see epoch start before the model)
    assert e1_start["backbone"] != e1_end["backbone"]  # fine-tuning everything after warm-up
    names = [g["name"] for g in e0_start["groups"]]
    assert names == ["backbone", "head"]
    backbone_lr, head_lr = (g["lr"] for g in e1_start["groups"])
    assert backbone_lr == pytest.approx(0.1 * head_lr)


def test_resume_mid_warmup_continues_in_the_right_phase(tmp_path, pretrained_ckpt):
    # the first run stops after epoch 0 of a 2-epoch warm-up; the second resumes from its last.ckpt
    first = tmp_path / "first"
    _run(first, pretrained_ckpt, "model.transfer.warmup_epochs=2", "trainer.max_epochs=3",
         "+callbacks.stop._target_=snapshot_callback.StopAfterEpoch", "+callbacks.stop.epoch=0")
    ckpt = first / "run" / "checkpoints" / "last.ckpt"
    before = _snapshots(first / "run")
    second = tmp_path / "second"
    resumed = _run(second, pretrained_ckpt, "model.transfer.warmup_epochs=2", "trainer.max_epochs=3",
                   f"ckpt_path={ckpt}")
    e1_start, e1_end, e2_start, e2_end = resumed
    assert e1_start["epoch"] == 1
    assert e1_start["backbone"] == before[-1]["backbone"]  # resumed from the checkpointed weights
    assert not e1_end["requires_grad"] and e1_start["backbone"] == e1_end["backbone"]  # still warming up
    assert e1_start["head"] != e1_end["head"]
    assert e2_end["requires_grad"] and e2_start["backbone"] != e2_end["backbone"]  # then unfrozen
    assert [g["name"] for g in e1_start["groups"]] == ["backbone", "head"]
    assert [g["n"] for g in e1_start["groups"]] == [g["n"] for g in before[0]["groups"]]


def test_frozen_mode_never_moves_the_backbone(tmp_path, pretrained_ckpt):
    s = _run(tmp_path, pretrained_ckpt, "model.transfer.mode=frozen")
    assert len({r["backbone"] for r in s}) == 1
    assert s[0]["head"] != s[-1]["head"]
