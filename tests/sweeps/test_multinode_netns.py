"""trainer.num_nodes=2 for real without a cluster: two network namespaces joined by a veth pair, one process per
"node", gloo over the veth addresses, Lightning's cluster environment from torchrun-style variables (MASTER_ADDR,
MASTER_PORT, NODE_RANK, LOCAL_RANK, WORLD_SIZE). One run dir; metrics equal to a 1-node 2-process run, same seed.
Slow (two DDP runs); needs root and iproute2 (skipped otherwise). Namespaces are created and removed here."""

import json
import os
import shutil
import subprocess
import sys
import uuid

import pytest

pytestmark = pytest.mark.slow

ARGS = ["logger=csv", "trainer.max_epochs=1", "trainer.limit_train_batches=4", "trainer.limit_val_batches=2",
        "trainer.limit_test_batches=2", "trainer.num_sanity_val_steps=0", "trainer.enable_progress_bar=false",
        "callbacks.early_stopping=null", "data.num_workers=0", "seed=7"]
ENV = {**os.environ, "WANDB_MODE": "offline", "NO_ALBUMENTATIONS_UPDATE": "1", "OMP_NUM_THREADS": "1"}


def _ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True)


@pytest.fixture
def two_hosts():
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 (ip netns)")
    tag = uuid.uuid4().hex[:6]
    hosts = [(f"vt{tag}a", f"vt{tag}0", "10.231.7.1"), (f"vt{tag}b", f"vt{tag}1", "10.231.7.2")]
    try:
        for ns, _, _ in hosts:
            _ip("netns", "add", ns)
        _ip("link", "add", hosts[0][1], "type", "veth", "peer", "name", hosts[1][1])
        for ns, dev, addr in hosts:
            _ip("link", "set", dev, "netns", ns)
            _ip("-n", ns, "addr", "add", f"{addr}/24", "dev", dev)
            _ip("-n", ns, "link", "set", dev, "up")
            _ip("-n", ns, "link", "set", "lo", "up")
        yield hosts
    finally:
        for ns, _, _ in hosts:
            subprocess.run(["ip", "netns", "delete", ns], check=False, capture_output=True)


def _metrics(run_dir):
    record = json.loads((run_dir / "metrics.json").read_text())
    assert record["status"] == "finished", record
    return record["metrics"]


def test_two_nodes_in_two_namespaces_match_one_node_with_two_processes(two_hosts, tmp_path):
    single = tmp_path / "single"
    proc = subprocess.run([sys.executable, "-m", "visiontrain.train", "trainer=ddp_cpu", *ARGS,
                           f"hydra.run.dir={single}"], cwd=tmp_path, env=ENV, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]

    run_dir = tmp_path / "two_nodes"
    master = two_hosts[0][2]
    procs = []
    for node, (ns, dev, _) in enumerate(two_hosts):
        env = {**ENV, "MASTER_ADDR": master, "MASTER_PORT": "29531", "NODE_RANK": str(node), "RANK": str(node),
               "LOCAL_RANK": "0", "WORLD_SIZE": "2", "GLOO_SOCKET_IFNAME": dev}  # what torchrun sets per node
        procs.append(subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, "-m", "visiontrain.train", "trainer=ddp_cpu", *ARGS,
             "trainer.devices=1", "trainer.num_nodes=2", f"hydra.run.dir={run_dir}"],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outs = [p.communicate(timeout=900)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], "\n-----\n".join(o[-3000:] for o in outs)
    two, one = _metrics(run_dir), _metrics(single)
    for key in ("val/acc", "val/loss", "test/acc", "train/loss_epoch"):
        assert two[key] == pytest.approx(one[key], rel=1e-5, abs=1e-6), (key, two, one)
    assert len(list(run_dir.glob("checkpoints/*.ckpt"))) >= 1 and not list(tmp_path.glob("outputs"))
