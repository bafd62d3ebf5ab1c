"""trainer.num_nodes=2 for real without a cluster: two network namespaces joined by a veth pair, one process per
"node", gloo over the veth addresses, Lightning's cluster environment from torchrun-style variables (MASTER_ADDR,
MASTER_PORT, NODE_RANK, LOCAL_RANK, WORLD_SIZE). One run dir; metrics equal to a 1-node 2-process run, same seed.
An exact resume after one node is killed mid-epoch: both nodes continue from the mid-epoch checkpoint to the metrics
of a run that was never stopped. Slow (DDP runs); needs root and iproute2 (skipped otherwise). Namespaces are
created and removed here."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ARGS = ["logger=csv", "trainer.max_epochs=1", "trainer.limit_train_batches=4", "trainer.limit_val_batches=2",
        "trainer.limit_test_batches=2", "trainer.num_sanity_val_steps=0", "trainer.enable_progress_bar=false",
        "callbacks.early_stopping=null", "data.num_workers=0", "seed=7"]
ENV = {**os.environ, "WANDB_MODE": "offline", "NO_ALBUMENTATIONS_UPDATE": "1", "OMP_NUM_THREADS": "1"}
STALL = Path(__file__).resolve().parents[1] / "reliability"  # stall_callback.py: holds a run at a known step
RESUMABLE = ["trainer.max_epochs=2", "trainer.limit_train_batches=6", "trainer.deterministic=true",
             "callbacks.mid_epoch_checkpoint.every_n_train_steps=2",
             "+callbacks.stall._target_=stall_callback.StallAtStep", "+callbacks.stall.run_dir=${paths.output_dir}"]


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


def _two_nodes(hosts, cwd, args, port=29531, **extra_env):
    """One vt-train per namespace, each in a session of its own (a kill of its group takes the whole "node")."""
    procs = []
    for node, (ns, dev, _) in enumerate(hosts):
        env = {**ENV, "MASTER_ADDR": hosts[0][2], "MASTER_PORT": str(port), "NODE_RANK": str(node), "RANK": str(node),
               "LOCAL_RANK": "0", "WORLD_SIZE": "2", "GLOO_SOCKET_IFNAME": dev, **extra_env}  # as torchrun sets
        procs.append(subprocess.Popen(
            ["ip", "netns", "exec", ns, sys.executable, "-m", "visiontrain.train", "trainer=ddp_cpu", *args,
             "trainer.devices=1", "trainer.num_nodes=2"],
            cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True))
    return procs


def _communicate(procs) -> None:
    outs = [p.communicate(timeout=900)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], "\n-----\n".join(o[-3000:] for o in outs)


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
    _communicate(_two_nodes(two_hosts, tmp_path, [*ARGS, f"hydra.run.dir={run_dir}"]))
    two, one = _metrics(run_dir), _metrics(single)
    for key in ("val/acc", "val/loss", "test/acc", "train/loss_epoch"):
        assert two[key] == pytest.approx(one[key], rel=1e-5, abs=1e-6), (key, two, one)
    assert len(list(run_dir.glob("checkpoints/*.ckpt"))) >= 1 and not list(tmp_path.glob("outputs"))


def test_one_node_killed_mid_epoch_both_resume_to_the_uninterrupted_metrics(two_hosts, tmp_path):
    env = {"PYTHONPATH": str(STALL)}
    longer = {a.split("=", 1)[0] for a in RESUMABLE}
    args = [*(a for a in ARGS if a.split("=", 1)[0] not in longer), *RESUMABLE, f"paths.data_dir={tmp_path}/data"]
    straight = tmp_path / "straight"
    _communicate(_two_nodes(two_hosts, tmp_path, [*args, f"hydra.run.dir={straight}"], **env))

    run_dir = tmp_path / "killed"
    procs = _two_nodes(two_hosts, tmp_path, [*args, f"hydra.run.dir={run_dir}"], port=29532,
                       VT_STALL_AT_STEP="3", **env)
    while not (run_dir / "stalled").exists():  # both nodes hold at step 3; the step-2 checkpoint is written
        assert all(p.poll() is None for p in procs), [p.stdout.read()[-3000:] for p in procs]
        time.sleep(0.5)
    os.killpg(procs[1].pid, signal.SIGKILL)  # node 1 dies
    procs[1].communicate(timeout=60)
    (run_dir / "release").touch()  # node 0 goes on into the next collective with a dead peer
    try:
        procs[0].communicate(timeout=120)
    except subprocess.TimeoutExpired:  # blocked on the dead peer: the scheduler would end the job step
        os.killpg(procs[0].pid, signal.SIGKILL)
        procs[0].communicate(timeout=60)
    assert procs[0].returncode != 0
    (run_dir / "release").unlink()
    assert _step_of(run_dir / "checkpoints" / "last-step.ckpt") == {"global_step": 2, "ranks": 2}

    _communicate(_two_nodes(two_hosts, tmp_path, ["resume=auto", f"hydra.run.dir={run_dir}"], port=29533, **env))
    assert "Resuming from" in (run_dir / "train.log").read_text()
    assert _metrics(run_dir) == _metrics(straight)  # exact: same batches, augmentations and steps on both nodes


def _step_of(ckpt):
    import torch

    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    return {"global_step": state["global_step"], "ranks": len(state["visiontrain_rng"]["ranks"])}
