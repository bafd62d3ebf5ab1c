"""Under load: DataLoader workers over many epochs keep memory bounded, and both worker start methods work."""

import json
import subprocess
import sys

import pytest
from test_interrupt_resume import _env

ARGS = ["logger=none", "trainer.num_sanity_val_steps=0", "trainer.enable_progress_bar=false",
        "callbacks.rich_progress_bar=null", "callbacks.early_stopping=null", "trainer.limit_val_batches=2",
        "trainer.limit_test_batches=1", "data.num_workers=2", "+callbacks.rss._target_=rss_callback.RssPerEpoch",
        "+callbacks.rss.out=${paths.output_dir}/rss.json"]


def _run(tmp_path, *extra):
    run_dir = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-m", "visiontrain.train", *ARGS, *extra, f"hydra.run.dir={run_dir}",
                           f"paths.data_dir={tmp_path}/data"], cwd=tmp_path, env=_env(), capture_output=True,
                          text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads((run_dir / "rss.json").read_text())


@pytest.mark.slow
def test_rss_does_not_grow_over_epochs_with_persistent_workers(tmp_path):
    records = _run(tmp_path, "trainer.max_epochs=8", "trainer.limit_train_batches=5", "data.persistent_workers=true")
    workers = [r["workers"] for r in records]
    assert len(records) == 8 and workers[0] >= 2 and len(set(workers)) == 1  # train (+ val) workers stay alive
    total = [r["main_kib"] + r["workers_kib"] for r in records]
    settled = total[2]  # after two epochs every buffer and cache has been allocated once
    growth = max(total[2:]) - settled
    assert growth < max(32 * 1024, settled // 20), f"RSS grew by {growth} KiB over epochs 2-7: {total}"


@pytest.mark.slow
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_workers_start_with_fork_and_spawn(tmp_path, method):
    records = _run(tmp_path, "trainer.max_epochs=2", "trainer.limit_train_batches=3",
                   f"callbacks.worker_start_method.method={method}")
    assert [r["start_method"] for r in records] == [method, method]  # both epochs trained through workers
