"""The README's main command: plain `vt-train` runs the quickstart, W&B logs offline under the run dir without
credentials, and no process reaches the network."""

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent


class CountingListener:
    """A local TCP port standing in for the W&B server: counts every connection made to it."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            conn.close()


def test_plain_vt_train_runs_quickstart_offline(tmp_path):
    listener = CountingListener()
    net_log = tmp_path / "net.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}  # as on a fresh machine
    env.update(HOME=str(tmp_path), NO_ALBUMENTATIONS_UPDATE="1", WANDB_BASE_URL=f"http://127.0.0.1:{listener.port}",
               PYTHONPATH=str(TESTS_DIR / "netguard"), VT_NET_LOG=str(net_log))
    vt_train = Path(sys.executable).with_name("vt-train")
    proc = subprocess.run([str(vt_train)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]

    (run_dir,) = (tmp_path / "outputs" / "quickstart" / "runs").iterdir()
    record = json.loads((run_dir / "metrics.json").read_text())
    assert record["status"] == "finished"
    assert record["metrics"]["test/acc"] >= 0.95
    assert f"Run directory: {run_dir}" in out

    offline_runs = list((run_dir / "wandb").glob("offline-run-*"))
    assert len(offline_runs) == 1 and list(offline_runs[0].glob("run-*.wandb"))
    assert f"wandb sync {offline_runs[0]}" in out

    assert listener.connections == 0
    assert not net_log.exists() or net_log.read_text() == "", net_log.read_text()
