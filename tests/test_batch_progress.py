"""Progress in batch logs: with stdout piped, epoch-0 progress lines (every N steps, then the epoch's line with the
monitored metric) arrive while the run is still going (main: the Rich bar printed one line after fit), and are in
train.log too."""

import os
import re
import subprocess
import sys

ARGS = ["logger=csv", "trainer.max_epochs=4", "trainer.limit_train_batches=6", "trainer.limit_val_batches=1",
        "trainer.limit_test_batches=1", "trainer.num_sanity_val_steps=0", "callbacks.early_stopping=null",
        "callbacks.rich_progress_bar.every_n_steps=3"]


def test_piped_run_prints_epoch_progress_before_it_ends(tmp_path):
    env = {**os.environ, "WANDB_MODE": "offline", "NO_ALBUMENTATIONS_UPDATE": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "visiontrain.train", *ARGS], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen, alive_at_epoch_end = [], None
    try:
        for line in proc.stdout:
            seen.append(line)
            if "epoch 0/4 batch 6/6" in line and "epoch done" in line:
                alive_at_epoch_end = proc.poll() is None
                break
        rest, _ = proc.communicate(timeout=600)
    finally:
        proc.kill()
    out = "".join(seen) + (rest or "")
    assert proc.returncode == 0, out[-3000:]
    assert alive_at_epoch_end, out[-3000:]  # printed while epochs 1-3 were still to come
    step_line = next(ln for ln in seen if "epoch 0/4 batch 3/6" in ln)
    assert re.search(r"step 3 \| [\d.]+ it/s \| ETA epoch \d+:\d\d fit \d+:\d\d \| train/loss [\d.]+", step_line)
    assert re.search(r"epoch done in \d+:\d\d \| val/acc [\d.]+", seen[-1]), seen[-1]
    (run_dir,) = (tmp_path / "outputs" / "quickstart" / "runs").iterdir()
    log = (run_dir / "train.log").read_text()
    assert "epoch 0/4 batch 3/6" in log and log.count("epoch done") == 4
