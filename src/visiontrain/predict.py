"""`vt-predict ckpt_path=… input=FILE_OR_FOLDER`: predictions on image files with the checkpoint's own validation
preprocessing. What gets written is the model family's business: the module's ``prediction_writer()``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import hydra
from omegaconf import DictConfig, OmegaConf

import visiontrain  # noqa: F401  (sets NO_ALBUMENTATIONS_UPDATE before anything imports albumentations)
from visiontrain.config.paths import CONFIG_DIR
from visiontrain.config.resolvers import register_resolvers

register_resolvers()


def predict(cfg: DictConfig) -> tuple[Mapping[str, Any], str | None]:
    import logging

    import pytorch_lightning as pl
    from torch.utils.data import DataLoader

    from visiontrain.errors import ConfigError
    from visiontrain.families.predictions import PredictImages, collate, eval_pipeline, list_images
    from visiontrain.families.protocols import prediction_kind
    from visiontrain.run.precision import report_precision
    from visiontrain.weights.checkpoints import check_stored_targets, load_module, read_stored_config

    log = logging.getLogger("visiontrain")
    has_input = not OmegaConf.is_missing(cfg, "input") and cfg.input not in (None, "")
    files, root = list_images(cfg.input) if has_input else ([], None)  # a bad path fails before the checkpoint
    ckpt_path = str(cfg.ckpt_path)
    stored = read_stored_config(ckpt_path)
    trusted = cfg.get("trusted_modules")
    module = load_module(ckpt_path, stored, trusted)
    name = type(module).__name__
    options = OmegaConf.to_container(cfg.options, resolve=True) if cfg.get("options") else {}
    if prediction_kind(module) == "stored":  # the result is in the checkpoint itself (style transfer)
        if has_input:
            raise ConfigError(f"input: a {name} checkpoint holds its result and makes nothing from new images; "
                              "leave input out (see docs/predict_export.md)")
        if stored.get("data"):  # the module rebuilds its data from it: trusted code only, as vt-eval checks
            check_stored_targets(ckpt_path, stored["data"], trusted, "data")
        summary = module.write_stored_predictions(cfg.out_dir, stored)
        log.info(f"{summary['images']} stored image(s) of {name} written to {cfg.out_dir}")
        return {"predict/images": float(summary["images"])}, None
    if not has_input:
        raise ConfigError("input: required: an image file or a folder (searched recursively)")
    writer = module.prediction_writer(cfg.out_dir, files, root, options)
    # a writer may read the files itself (restoration: masks, corruption) and batch images of any size
    dataset = writer.dataset(stored) or PredictImages(files, eval_pipeline(stored, trusted))
    loader = DataLoader(dataset, batch_size=cfg.batch_size, num_workers=cfg.num_workers,
                        collate_fn=writer.collate or collate(writer.stack))
    report_precision(cfg)
    trainer = pl.Trainer(accelerator=cfg.accelerator, devices=1, precision=cfg.precision, logger=False,
                         callbacks=[writer], enable_progress_bar=cfg.progress_bar, enable_model_summary=False)
    trainer.predict(module, dataloaders=loader, return_predictions=False)
    summary = writer.finish()
    log.info(f"Predictions for {len(files)} image(s) in {cfg.out_dir}: {', '.join(map(str, summary.get('files', [])))}")
    return {"predict/images": float(len(files))}, None


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="predict")
def main(cfg: DictConfig) -> None:
    from visiontrain.run.job import run_job

    run_job(cfg, predict)


if __name__ == "__main__":
    main()
