"""The family contract, for every registered family and for the user family of docs/extending.md: a few training
steps → metrics.json with the family's metric names → the checkpoint reloads → vt-eval → vt-predict (an EXIF-rotated
file predicts as its upright copy) → vt-export matches PyTorch. A new family gets all of it by adding a case."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers import FAST, compose_cfg, run_cli
from visiontrain.families import families, family_of_module, get_family
from visiontrain.run.job import run_job

ROOT = Path(__file__).resolve().parents[1]
RESTORE_SMALL = ("data.source.names=[astronaut,coffee,chelsea,brick]", "data.source.shapes_count=8",
                 "data.crop_size=32", "data.eval_crops_per_image=1", "data.batch_size=8", "model.log_images=0")
SHAPES_DET_SMALL = ("data.source.num_train=8", "data.source.num_val=4", "data.source.num_test=4",
                    "data.source.image_size=96", "data.source.min_size=0.25")
slow = pytest.mark.slow

CASES = {
    "classification": ["data=digits", "data.image_size=16"],
    "localization": ["experiment=localize_shapes", "data.source.count=60", "data.batch_size=8"],
    "segmentation": ["experiment=seg_shapes_unet", "data.source.count=24", "data.image_size=32",
                     "data.source.image_size=32", "model.unet.base_width=8", "model.log_images=0"],
    "restoration": ["experiment=restore_denoise", *RESTORE_SMALL, "model.unet.base_width=8"],
    "detection": ["experiment=det_shapes_frcnn", *SHAPES_DET_SMALL, "trainer.limit_train_batches=2",
                  "trainer.limit_val_batches=1", "trainer.limit_test_batches=1"],
    # any detection data config: the YOLO family adopts it (its input pipeline, because of the model)
    "yolo": ["model=yolo", "data=shapes_det", *SHAPES_DET_SMALL, "model.img_size=64", "data.batch_size=4",
             "model.log_images=0", "trainer.limit_train_batches=2"],
    "style": ["experiment=style_transfer", "data.image_size=32", "data.steps_per_epoch=2", "model.lbfgs_max_iter=2",
              "model.snapshot_every=0", "model.network=vgg11"],
}
HEAVY = {"restoration", "detection", "yolo", "style"}  # over ~20 s on 2 CPU cores: -m slow


def test_every_registered_family_has_a_case():
    assert {f.name for f in families()} - {"tiny"} == set(CASES)  # tiny: the user family of docs/extending.md


def _rotated_copy(folder: Path, image: np.ndarray) -> Path:
    """The same picture stored turned on its side with EXIF orientation 6 (as phones write it)."""
    folder.mkdir(parents=True)
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(np.ascontiguousarray(np.rot90(image, 1))).save(folder / "img.png", exif=exif)
    return folder


def _same_outputs(a: Path, b: Path) -> None:
    files = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    assert files and files == sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    for rel in files:
        if rel.suffix == ".json":
            assert json.loads((a / rel).read_text()) == json.loads((b / rel).read_text()), rel
        elif rel.suffix == ".png":
            assert np.array_equal(np.asarray(Image.open(a / rel)), np.asarray(Image.open(b / rel))), rel
        else:
            assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel


def check_contract(run: Path, tmp_path: Path, trusted: list[str] | None = None) -> None:
    """Everything after training, from the run dir ``run`` (metrics.json, checkpoints/)."""
    from hydra.utils import get_class

    from visiontrain.eval import evaluate
    from visiontrain.export import export
    from visiontrain.predict import predict
    from visiontrain.weights.checkpoints import load_module, read_stored_config

    record = json.loads((run / "metrics.json").read_text())
    assert record["status"] == "finished", record.get("error")
    ckpt = Path(record["best_model_path"] or run / "checkpoints" / "last.ckpt")
    weights = run / "checkpoints" / "weights.pt"  # what predict and export read: no optimizer state, fp16
    assert weights.stat().st_size < ckpt.stat().st_size
    stored = read_stored_config(ckpt)
    family = family_of_module(get_class(stored["model"]["_target_"]))
    names = [k for k in record["metrics"] if "/" in k and not k.startswith("lr")]
    assert family.metric in names and all(family.logs(n) for n in names), (family.name, names)

    module = load_module(ckpt, stored, trusted)
    assert type(module) is get_class(stored["model"]["_target_"])  # (a target may name a package's re-export)
    extra = [f"trusted_modules=[{','.join(trusted)}]"] if trusted else []

    cfg = compose_cfg([f"ckpt_path={weights}", "logger=none", "trainer.limit_test_batches=2",
                       "trainer.enable_progress_bar=false", *extra], tmp_path / "eval", config_name="eval")
    run_job(cfg, evaluate)
    tested = json.loads((tmp_path / "eval" / "run" / "metrics.json").read_text())
    # test/<name>; style's names carry no stage (DESIGN: style/loss, content/loss, total/loss)
    test_names = [k for k in tested["metrics"] if k.startswith("test/") or "{stage}" not in family.metrics[0]
                  and family.logs(k)]
    assert tested["status"] == "finished" and test_names and all(family.logs(n) for n in test_names), tested

    if family.predict == "files":
        image = np.random.default_rng(0).integers(0, 255, (48, 64, 3), dtype=np.uint8)
        upright = tmp_path / "upright"
        upright.mkdir()
        Image.fromarray(image).save(upright / "img.png")
        outs = []
        for name, folder in (("a", upright), ("b", _rotated_copy(tmp_path / "rotated", image))):
            cfg = compose_cfg([f"ckpt_path={weights}", f"input={folder}", f"out_dir={tmp_path / name}",
                               "progress_bar=false", *extra], tmp_path / f"predict_{name}", config_name="predict")
            run_job(cfg, predict)
            outs.append(tmp_path / name)
        _same_outputs(*outs)
    elif family.predict == "stored":
        cfg = compose_cfg([f"ckpt_path={weights}", f"out_dir={tmp_path / 'stored'}", "progress_bar=false", *extra],
                          tmp_path / "predict", config_name="predict")
        run_job(cfg, predict)
        assert (tmp_path / "stored" / "predictions.json").is_file()

    if family.export != "none":
        cfg = compose_cfg([f"ckpt_path={weights}", "format=onnx", f"output={tmp_path / 'model.onnx'}", *extra],
                          tmp_path / "export", config_name="export")
        run_job(cfg, export)
        exported = json.loads((tmp_path / "export" / "run" / "metrics.json").read_text())
        assert exported["status"] == "finished", exported.get("error")
        assert (tmp_path / "model.onnx").is_file()


@pytest.mark.parametrize("name", [pytest.param(n, marks=slow) if n in HEAVY else n for n in CASES])
def test_family_contract(name, tmp_path, data_dir):
    from hydra.utils import get_class

    from visiontrain.train import train

    cfg = compose_cfg([*FAST, *CASES[name]], tmp_path / "train", data_dir)
    assert get_family(name) is family_of_module(get_class(cfg.model._target_))
    run_job(cfg, train)
    check_contract(tmp_path / "train" / "run", tmp_path)


def _doc_files(root: Path) -> None:
    """Write the code blocks of docs/extending.md whose first line is '# <path>' to ``root``/<path>."""
    text = (ROOT / "docs" / "extending.md").read_text()
    blocks = re.findall(r"```(?:python|yaml)\n# (\S+)\n(.*?)```", text, flags=re.S)
    assert {p for p, _ in blocks} == {"mypkg/__init__.py", "mypkg/tiny.py", "myconf/model/tiny.yaml"}
    for path, body in blocks:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(body)


def test_user_family_from_the_docs(tmp_path, monkeypatch):
    """A researcher's own module, outside the package, through all four entry points (trusted by environment)."""
    user = tmp_path / "user"
    _doc_files(user)
    env = {"PYTHONPATH": str(user), "VT_TRUSTED_MODULES": "mypkg"}
    proc = run_cli("train", ["--config-dir", str(user / "myconf"), "model=tiny", "data=digits", "task_name=tiny",
                             *FAST, "data.image_size=16", f"paths.data_dir={tmp_path}/data"], cwd=user, env=env,
                   timeout=400)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (run,) = (user / "outputs" / "tiny" / "runs").iterdir()
    assert json.loads((run / "metrics.json").read_text())["metrics"]["val/acc"] >= 0  # the family default monitored

    monkeypatch.syspath_prepend(str(user))
    with pytest.raises(Exception, match=r"trusted_modules=\[mypkg\]"):  # a checkpoint alone does not decide
        check_contract(run, tmp_path / "untrusted")
    check_contract(run, tmp_path, trusted=["mypkg"])
    from omegaconf import OmegaConf

    from visiontrain.errors import ConfigError
    from visiontrain.families.config import check_optimized_metric

    cfg = OmegaConf.create({"model": {"_target_": "mypkg.tiny.TinyClassifier"}, "optimized_metric": "val/f1"})
    with pytest.raises(ConfigError, match="optimized_metric: tiny models never log 'val/f1'"):
        check_optimized_metric(cfg)  # what the user registered feeds validation like a shipped family's
