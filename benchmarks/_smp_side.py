"""The peer side of ``unet_vs_smp.py --mode run``, run in the smp benchmark venv: the recipe of ``model=unet_resnet``
written by hand with segmentation_models_pytorch (network, Dice loss) and plain PyTorch (loop, AdamW, cosine
schedule, validation every epoch, the best weights kept and tested). The images come through this project's
datamodule (the same files, reader, Albumentations pipeline and loader settings as our side), and both sides are
scored by the same metric (this project's mIoU), so the loop and the network are what differ.

    _smp_side.py OUT_JSON THREADS EPOCHS [data overrides…]
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main() -> None:
    out, threads, epochs, overrides = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
    import segmentation_models_pytorch as smp
    import torch
    import torch.nn.functional as F
    from hydra import compose, initialize_config_dir
    from hydra.utils import instantiate

    from visiontrain.models.segmentation.metrics import SegmentationMetrics
    from visiontrain.config.paths import CONFIG_DIR
    from visiontrain.config.resolvers import register_resolvers

    torch.set_num_threads(threads)
    register_resolvers()
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose("train", overrides=["model=unet_resnet", *overrides])
    torch.manual_seed(int(cfg.seed))
    dm = instantiate(cfg.data)
    dm.setup("fit")
    names, ignore = list(dm.class_names), int(dm.ignore_index)
    net = smp.Unet("resnet18", encoder_weights=None, classes=len(names))
    dice = smp.losses.DiceLoss("multiclass", ignore_index=ignore)
    opt = torch.optim.AdamW(net.parameters(), lr=float(cfg.model.optimizer.lr),
                            weight_decay=float(cfg.model.optimizer.weight_decay))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)  # the encoder's ImageNet statistics, as ours uses
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

    def miou(loader) -> float:
        metric = SegmentationMetrics(names, ignore)
        net.eval()
        with torch.no_grad():
            for images, masks in loader:
                metric.update(net((images - mean) / std).argmax(1), masks)
        return float(metric.compute("m")["m/miou"])

    best, best_state = -1.0, None
    train_loader, val_loader = dm.train_dataloader(), dm.val_dataloader()
    for _ in range(epochs):
        net.train()
        for images, masks in train_loader:
            logits = net((images - mean) / std)
            loss = F.cross_entropy(logits, masks, ignore_index=ignore) + dice(logits, masks)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        sched.step()
        val = miou(val_loader)
        if val > best:
            best, best_state = val, copy.deepcopy(net.state_dict())
    net.load_state_dict(best_state)
    dm.setup("test")
    Path(out).write_text(json.dumps({"val_miou": best, "test_miou": miou(dm.test_dataloader())}))


if __name__ == "__main__":
    main()
